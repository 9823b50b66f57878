"""What every wrapper of a deployed contract shares: the client, the web3 contract bound to its
artifact's ABI, `at(address)`, deployment with constructor arguments, and the address."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Self

from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from pnyx.chain.artifacts import load_artifact
from pnyx.chain.client import ChainClient
from pnyx.domain._hex import to_address
from pnyx.types import Address


@dataclass
class ContractBinding:
    """Subclasses name their artifact (`ARTIFACT`) and add the contract's functions."""

    ARTIFACT: ClassVar[str]

    client: ChainClient
    contract: Contract

    @classmethod
    def at(cls, client: ChainClient, address: str) -> Self:
        return cls(client, client.contract(address, load_artifact(cls.ARTIFACT).abi))

    @classmethod
    def _deploy(cls, client: ChainClient, deployer: LocalAccount, *args: Any) -> Self:
        artifact = load_artifact(cls.ARTIFACT)
        return cls(client, client.contract(client.deploy(deployer, artifact, *args), artifact.abi))

    @property
    def address(self) -> Address:
        return to_address(str(self.contract.address))
