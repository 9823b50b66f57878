"""Deploying the test-only contracts of contracts/test-contracts (artifacts in tests/artifacts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from pnyx.chain.artifacts import load_artifact
from pnyx.chain.client import ChainClient

TEST_ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def deploy_test_contract(
    client: ChainClient, deployer: LocalAccount, name: str, *args: Any
) -> Contract:
    artifact = load_artifact(name, TEST_ARTIFACTS)
    address = client.deploy(deployer, artifact, *args)
    return client.contract(address, artifact.abi)
