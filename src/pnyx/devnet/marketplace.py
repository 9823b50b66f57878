"""The whole local marketplace: the chain (see `network`), example assets and their orders, and
the services as separate processes — market, result store, SMS, one workerpool's scheduler and
its workers — talking over HTTP and the chain, exactly as they would on many machines.

TEE: a simulated attestation service certifies the platform of the last `tee_workers` workers
(SIMULATED enclaves, see docs/tee.md); the SMS trusts that service. A TEE app (the statistics app,
registered with its enclave measurement), a dataset encrypted at start-up (its key pushed to the
SMS by its owner) and TEE orders are published, and the requester's result-encryption key is
generated and pushed, so `pnyx run STATS_TEE --dataset CONFIDENTIAL --tag tee --decrypt` works."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from eth_account.signers.local import LocalAccount

from pnyx.chain.node import free_port
from pnyx.clients.market import MarketClient
from pnyx.clients.sms import SmsClient
from pnyx.config import REPO_DIR
from pnyx.devnet.network import Devnet, start_devnet
from pnyx.devnet.processes import ServiceProcess
from pnyx.domain.attestation import SimulatedAttestationService, measure
from pnyx.sdk import Provider, Requester
from pnyx.sdk.confidential import (
    EncryptedDataset,
    encrypt_dataset,
    push_dataset_secret,
    push_result_key,
    result_keygen,
)
from pnyx.services.worker.enclave import write_platform
from pnyx.types import NANO_PER_TOKEN, Address

APPS_DIR = REPO_DIR / "apps"
WASM_APP = APPS_DIR / "wordcount-wasm" / "wordcount.wasm"
PYTHON_APP = APPS_DIR / "stats-python" / "app.py"
DATASET = APPS_DIR / "datasets" / "numbers.csv"
# Sold only to enclaves: encrypted at start-up, its key released by the SMS to attested enclaves.
CONFIDENTIAL_DATASET = APPS_DIR / "datasets" / "confidential.csv"
CONFIDENTIAL_MARKER = b"PNYX-CONFIDENTIAL-7f3a9c"
APP_PRICE = NANO_PER_TOKEN // 10
DATASET_PRICE = NANO_PER_TOKEN // 10
WORKERPOOL_PRICE = 1 * NANO_PER_TOKEN
# Dearer than standard execution, so a standard request never buys (and is never tagged) TEE.
WORKERPOOL_TEE_PRICE = 3 * NANO_PER_TOKEN // 2
ORDER_VOLUME = 10_000
MAX_TRUST = 64
# Dev accounts: 0 deploys, 1 app developer, 2 dataset owner, 3 scheduler, 4 requester, 5+ workers.
FIRST_WORKER_ACCOUNT = 5
TEST_CATEGORY_TIME_REF_S = 6


@dataclass
class Marketplace:
    devnet: Devnet
    home: Path
    services: dict[str, ServiceProcess]
    urls: dict[str, str]
    assets: dict[str, Address]
    workers: list[ServiceProcess] = field(default_factory=list)
    worker_env: dict[str, str] = field(default_factory=dict)
    attestation: SimulatedAttestationService = field(default_factory=SimulatedAttestationService)

    @property
    def requester(self) -> LocalAccount:
        return self.devnet.accounts[4]

    @property
    def scheduler_account(self) -> LocalAccount:
        return self.devnet.accounts[3]

    def info(self) -> dict[str, object]:
        return {
            "chain": self.devnet.node.url,
            "chain_id": self.devnet.client.chain_id,
            **{f"{name}_url": url for name, url in self.urls.items()},
            "deployment_file": str(self.home / "deployment.json"),
            "assets": self.assets,
            "requester": self.requester.address,
            "scheduler": self.scheduler_account.address,
            "workers": [
                self.devnet.accounts[FIRST_WORKER_ACCOUNT + i].address
                for i in range(len(self.workers))
            ],
            "logs": str(self.home / "logs"),
        }

    def add_worker(self, *, byzantine: str | None = None, tee: bool = False) -> ServiceProcess:
        index = FIRST_WORKER_ACCOUNT + len(self.workers)
        key = self.devnet.accounts[index]
        name = f"worker{len(self.workers) + 1}"
        env = {
            **self.worker_env,
            "PNYX_WORKER_PRIVATE_KEY": "0x" + bytes(key.key).hex(),
            "PNYX_WORKER_NAME": name,
            "PNYX_WORKER_DIR": str(self.home / "workers" / name),
        }
        if byzantine:
            env["PNYX_WORKER_BYZANTINE"] = byzantine
        if tee:  # SIMULATED platform, certified by this devnet's simulated attestation service
            platform = self.home / "tee" / f"platform-{name}.json"
            write_platform(platform, self.attestation, f"devnet-{name}")
            env["PNYX_WORKER_TEE_PLATFORM"] = str(platform)
        worker = ServiceProcess(
            name, "pnyx.services.worker", env, self.home / "logs" / f"{name}.log"
        ).start()
        self.workers.append(worker)
        self.services[name] = worker
        return worker

    def restart(self, name: str) -> ServiceProcess:
        old = self.services[name]
        old.stop()
        new = ServiceProcess(old.name, old.module, old.env, old.log_file, old.health_url).start()
        new.wait_healthy()
        self.services[name] = new
        if old in self.workers:
            self.workers[self.workers.index(old)] = new
        return new

    def stop(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()
        self.devnet.stop()

    def __enter__(self) -> Marketplace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_marketplace(
    home: Path,
    *,
    workers: int = 3,
    block_time_s: float | None = None,
    heartbeat_s: float = 2.0,
    byzantine_workers: int = 0,
    tee_workers: int = 1,
    port: int | None = None,
    scheduler_policy: str | None = None,
    social_graph: Path | None = None,
) -> Marketplace:
    """Starts everything; the caller stops it (`with start_marketplace(...) as market:`).

    `scheduler_policy` names the scheduler's selection policy (PNYX_SCHEDULER_POLICY, default
    least-loaded); `social_graph` is the edge-list file the social-distance policy reads."""
    home.mkdir(parents=True, exist_ok=True)
    devnet = start_devnet(
        port=port,
        block_time_s=block_time_s,
        deployment_file=home / "deployment.json",
        accounts=FIRST_WORKER_ACCOUNT + 12,
    )
    services: dict[str, ServiceProcess] = {}
    market = Marketplace(devnet=devnet, home=home, services=services, urls={}, assets={})
    try:
        _fund(devnet)
        ports = {name: free_port() for name in ("market", "results", "scheduler", "sms")}
        urls = {name: f"http://127.0.0.1:{p}" for name, p in ports.items()}
        market.urls = urls
        encrypted = encrypt_dataset(CONFIDENTIAL_DATASET, home / "tee" / "confidential.csv.enc")
        market.assets = _register_assets(devnet, urls["scheduler"], encrypted)
        common = {
            "PNYX_HOME": str(home),
            "PNYX_CHAIN_URL": devnet.node.url,
            "PNYX_CHAIN_DEPLOYMENT": str(home / "deployment.json"),
        }
        logs = home / "logs"
        services["sms"] = ServiceProcess(
            "sms",
            "pnyx.services.sms",
            {
                **common,
                "PNYX_SMS_PORT": str(ports["sms"]),
                "PNYX_SMS_DIR": str(home / "sms"),
                "PNYX_SMS_TRUSTED_ISSUERS": "0x" + market.attestation.public_key.hex(),
            },
            logs / "sms.log",
            f"{urls['sms']}/v1/health",
        ).start()
        services["results"] = ServiceProcess(
            "results",
            "pnyx.services.results",
            {
                **common,
                "PNYX_RESULTS_PORT": str(ports["results"]),
                "PNYX_RESULTS_DIR": str(home / "results"),
                "PNYX_RESULTS_SMS_URL": urls["sms"],
            },
            logs / "results.log",
            f"{urls['results']}/v1/health",
        ).start()
        services["market"] = ServiceProcess(
            "market",
            "pnyx.services.market",
            {
                **common,
                "PNYX_MARKET_PORT": str(ports["market"]),
                "PNYX_MARKET_DATABASE_URL": f"sqlite:///{home / 'market.db'}",
            },
            logs / "market.log",
            f"{urls['market']}/v1/health",
        ).start()
        services["scheduler"] = ServiceProcess(
            "scheduler",
            "pnyx.services.scheduler",
            {
                **common,
                "PNYX_SCHEDULER_PORT": str(ports["scheduler"]),
                "PNYX_SCHEDULER_WORKERPOOL": market.assets["workerpool"],
                "PNYX_SCHEDULER_PRIVATE_KEY": "0x" + bytes(devnet.accounts[3].key).hex(),
                "PNYX_SCHEDULER_RESULT_STORE_URL": urls["results"],
                "PNYX_SCHEDULER_DIR": str(home / "scheduler"),
                "PNYX_SCHEDULER_HEARTBEAT_S": str(heartbeat_s),
                "PNYX_SCHEDULER_SMS_URL": urls["sms"],
                **_policy_env(scheduler_policy, social_graph),
            },
            logs / "scheduler.log",
            f"{urls['scheduler']}/v1/health",
        ).start()
        for service in services.values():
            service.wait_healthy()
        market.worker_env = {
            **common,
            "PNYX_WORKER_SCHEDULER_URL": urls["scheduler"],
            "PNYX_WORKER_POLL_INTERVAL_S": "0.2",
        }
        for i in range(workers):
            market.add_worker(
                byzantine="wrong-result" if i < byzantine_workers else None,
                tee=i >= workers - tee_workers,
            )
        _publish_orders(devnet, market)
        _share_secrets(devnet, market, encrypted.key)
    except BaseException:
        market.stop()
        raise
    return market


def _policy_env(policy: str | None, social_graph: Path | None) -> dict[str, str]:
    env = {}
    if policy:
        env["PNYX_SCHEDULER_POLICY"] = policy
    if social_graph is not None:
        env["PNYX_SCHEDULER_SOCIAL_GRAPH"] = str(social_graph.resolve())
    return env


def _fund(devnet: Devnet) -> None:
    """Escrow deposits: the scheduler's stake for its orders, the workers' stakes, the requester."""
    protocol = devnet.protocol
    deposits = {3: 20_000, 4: 20_000, **{FIRST_WORKER_ACCOUNT + i: 1_000 for i in range(12)}}
    for index, tokens in deposits.items():
        key = devnet.accounts[index]
        if protocol.token_balance(key.address) < tokens * NANO_PER_TOKEN:
            protocol.transfer_tokens(devnet.accounts[0], key.address, tokens * NANO_PER_TOKEN)
        Requester(protocol, key).deposit(tokens * NANO_PER_TOKEN)


def _register_assets(
    devnet: Devnet, scheduler_url: str, encrypted: EncryptedDataset
) -> dict[str, Address]:
    protocol = devnet.protocol
    app_dev = Provider(protocol, devnet.accounts[1])
    owner = Provider(protocol, devnet.accounts[2])
    pool = Provider(protocol, devnet.accounts[3])
    description = json.dumps({"name": "devnet pool", "scheduler": scheduler_url})
    # A short category for tests that wait for deadlines (final deadline = 10 × its time reference).
    protocol.client.transact(
        devnet.accounts[0],
        protocol.hub.functions.createCategory(
            "TEST", "devnet tests: short deadlines", TEST_CATEGORY_TIME_REF_S
        ),
    )
    return {
        "wasm_app": app_dev.register_app(
            "wordcount", WASM_APP.as_uri(), _sha256(WASM_APP), app_type="WASM"
        ),
        "python_app": app_dev.register_app(
            "stats", PYTHON_APP.as_uri(), _sha256(PYTHON_APP), app_type="PYTHON"
        ),
        "dataset": owner.register_dataset("numbers", DATASET.as_uri(), _sha256(DATASET)),
        "workerpool": pool.register_workerpool(description),
        "tee_app": app_dev.register_app(
            "stats-tee",
            PYTHON_APP.as_uri(),
            _sha256(PYTHON_APP),
            app_type="PYTHON",
            mrenclave=measure(PYTHON_APP.read_bytes()),
        ),
        "confidential_dataset": owner.register_dataset(
            "confidential", encrypted.path.as_uri(), encrypted.checksum
        ),
    }


def _publish_orders(devnet: Devnet, market: Marketplace) -> None:
    protocol, assets = devnet.protocol, market.assets
    client = MarketClient(market.urls["market"])
    try:
        app_dev = Provider(protocol, devnet.accounts[1])
        for app in ("wasm_app", "python_app"):
            client.publish(app_dev.app_order(assets[app], APP_PRICE, volume=ORDER_VOLUME))
        owner = Provider(protocol, devnet.accounts[2])
        client.publish(owner.dataset_order(assets["dataset"], DATASET_PRICE, volume=ORDER_VOLUME))
        pool = Provider(protocol, devnet.accounts[3])
        for category in range(6):
            order = pool.workerpool_order(
                assets["workerpool"],
                WORKERPOOL_PRICE,
                volume=ORDER_VOLUME // 10,
                trust=MAX_TRUST,
                category=category,
            )
            client.publish(order)
            tee_order = pool.workerpool_order(
                assets["workerpool"],
                WORKERPOOL_TEE_PRICE,
                volume=ORDER_VOLUME // 10,
                trust=MAX_TRUST,
                category=category,
                tags=("tee",),
            )
            client.publish(tee_order)
        client.publish(
            app_dev.app_order(assets["tee_app"], APP_PRICE, volume=ORDER_VOLUME, tags=("tee",))
        )
        client.publish(
            owner.dataset_order(
                assets["confidential_dataset"],
                DATASET_PRICE,
                volume=ORDER_VOLUME,
                tags=("tee",),
                app_restrict=assets["tee_app"],  # the owner's policy: only this measured app
            )
        )
    finally:
        client.close()


def _share_secrets(devnet: Devnet, market: Marketplace, dataset_key: bytes) -> None:
    """The dataset owner pushes the confidential dataset's key; the requester makes and pushes
    its result-encryption key (kept in PNYX_HOME, where `pnyx result get --decrypt` finds it)."""
    sms = SmsClient(market.urls["sms"])
    try:
        dataset = market.assets["confidential_dataset"]
        push_dataset_secret(sms, devnet.accounts[2], dataset, dataset_key)
        _, public = result_keygen(market.home, market.requester.address, force=True)
        push_result_key(sms, market.requester, public, replace=True)
    finally:
        sms.close()


def _sha256(path: Path) -> str:
    return "0x" + hashlib.sha256(path.read_bytes()).hexdigest()
