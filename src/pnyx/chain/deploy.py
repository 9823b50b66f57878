"""One-call deployment of the whole protocol: token, three registries, the hub and its extension
(the hub's constructor creates the default categories XS…XL)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from pnyx.chain.artifacts import load_artifact
from pnyx.chain.client import ChainClient
from pnyx.errors import ConfigError
from pnyx.types import NANO_PER_TOKEN, Address

DEFAULT_SUPPLY = 1_000_000_000 * NANO_PER_TOKEN


@dataclass(frozen=True)
class Deployment:
    """Where the protocol lives on one chain."""

    chain_id: int
    token: Address
    app_registry: Address
    dataset_registry: Address
    workerpool_registry: Address
    hub: Address
    hub_extension: Address
    owner: Address

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Deployment:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise ConfigError(
                f"no deployment file {path}: start a chain with `pnyx chain up`"
            ) from exc
        return cls(**data)


def deploy_protocol(
    client: ChainClient,
    owner: LocalAccount,
    *,
    supply: int = DEFAULT_SUPPLY,
    token: str | None = None,
) -> Deployment:
    """Deploys every contract with `owner` as the protocol owner and token holder (or on an existing
    ERC-20 `token`)."""
    token = token or client.deploy(owner, load_artifact("PnyxToken"), owner.address, supply)
    apps = client.deploy(owner, load_artifact("AppRegistry"))
    datasets = client.deploy(owner, load_artifact("DatasetRegistry"))
    pools = client.deploy(owner, load_artifact("WorkerpoolRegistry"))
    args = (owner.address, token, apps, datasets, pools)
    extension = client.deploy(owner, load_artifact("PnyxHubExtension"), *args)
    hub = client.deploy(owner, load_artifact("PnyxHub"), *args, extension)
    for name, registry in (
        ("AppRegistry", apps),
        ("DatasetRegistry", datasets),
        ("WorkerpoolRegistry", pools),
    ):
        contract = client.contract(registry, load_artifact(name).abi)
        client.transact(owner, contract.functions.bindHub(hub))
    return Deployment(
        chain_id=client.chain_id,
        token=Address(token),
        app_registry=Address(apps),
        dataset_registry=Address(datasets),
        workerpool_registry=Address(pools),
        hub=Address(hub),
        hub_extension=Address(extension),
        owner=Address(owner.address),
    )
