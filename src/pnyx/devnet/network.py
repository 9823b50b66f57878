"""A local development chain: anvil, the deployed protocol and funded development accounts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from eth_account.signers.local import LocalAccount

from pnyx.chain.client import ChainClient
from pnyx.chain.deploy import Deployment, deploy_protocol
from pnyx.chain.node import DEV_MNEMONIC, AnvilNode
from pnyx.chain.protocol import Protocol
from pnyx.chain.signing import dev_account
from pnyx.types import NANO_PER_TOKEN

DEV_ACCOUNT_COUNT = 10
DEV_TOKENS = 100_000 * NANO_PER_TOKEN


@dataclass
class Devnet:
    """A running local chain with the protocol deployed. Stop it with `stop` or a `with` block."""

    node: AnvilNode
    client: ChainClient
    protocol: Protocol
    accounts: list[LocalAccount]

    @property
    def deployment(self) -> Deployment:
        return self.protocol.deployment

    def stop(self) -> None:
        self.node.stop()

    def __enter__(self) -> Devnet:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_devnet(
    *,
    port: int | None = None,
    block_time_s: float | None = None,
    deployment_file: Path | None = None,
    accounts: int = DEV_ACCOUNT_COUNT,
) -> Devnet:
    """Starts anvil, deploys the protocol with dev account 0 as owner and gives every dev account
    tokens. Writes the deployment to `deployment_file` when given."""
    node = AnvilNode(port=port, block_time_s=block_time_s, accounts=accounts).start()
    try:
        client = ChainClient(node.url)
        keys = [dev_account(i, DEV_MNEMONIC) for i in range(accounts)]
        deployment = deploy_protocol(client, keys[0])
        protocol = Protocol(client, deployment)
        for key in keys[1:]:
            protocol.transfer_tokens(keys[0], key.address, DEV_TOKENS)
        if deployment_file is not None:
            deployment.save(deployment_file)
    except BaseException:
        node.stop()
        raise
    return Devnet(node=node, client=client, protocol=protocol, accounts=keys)
