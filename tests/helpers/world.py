"""A deployed protocol with its cast: providers with registered assets, a funded requester, a
scheduler and workers. Built once per test session; each test runs in an anvil snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from eth_account.signers.local import LocalAccount

from pnyx.chain.client import ChainClient
from pnyx.chain.deploy import Deployment, deploy_protocol
from pnyx.chain.node import DEV_MNEMONIC
from pnyx.chain.protocol import MatchedDeal, Protocol
from pnyx.chain.signing import dev_account
from pnyx.domain.orders import AppOrder, DatasetOrder, RequestOrder, WorkerpoolOrder
from pnyx.domain.task import digest_of_file
from pnyx.sdk import Provider, Requester, Scheduler, Worker
from pnyx.types import NANO_PER_TOKEN, Address

TOKEN = NANO_PER_TOKEN
APP_PRICE = 1 * TOKEN
DATASET_PRICE = 2 * TOKEN
WORKERPOOL_PRICE = 10 * TOKEN
FUNDS = 10_000 * TOKEN
DEPOSIT = 1_000 * TOKEN
PARAMS = '{"args": "--input iexec_in/data.csv --threshold 0.5 --format json --seed 42 --mode fast"}'
RESULTS = b"/ipfs/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"
DIGEST = digest_of_file(b"the deterministic output of the app")
WORKER_COUNT = 10


@dataclass
class World:
    client: ChainClient
    protocol: Protocol
    deployment: Deployment
    owner: LocalAccount
    app_provider: Provider
    dataset_provider: Provider
    scheduler: Scheduler
    requester: Requester
    workers: list[Worker]
    stranger: LocalAccount
    app: Address
    dataset: Address
    workerpool: Address
    extra: dict[str, Any] = field(default_factory=dict)

    # ─── Order builders: compatible by default, any field overridable ───
    def app_order(self, **fields: Any) -> AppOrder:
        order = self.app_provider.app_order(self.app, APP_PRICE, volume=fields.pop("volume", 1))
        return self.app_provider.sign(replace(order, **fields)) if fields else order

    def dataset_order(self, **fields: Any) -> DatasetOrder:
        order = self.dataset_provider.dataset_order(
            self.dataset, DATASET_PRICE, volume=fields.pop("volume", 1)
        )
        return self.dataset_provider.sign(replace(order, **fields)) if fields else order

    def workerpool_order(self, **fields: Any) -> WorkerpoolOrder:
        order = self.scheduler_provider.workerpool_order(
            self.workerpool,
            WORKERPOOL_PRICE,
            volume=fields.pop("volume", 1),
            trust=fields.pop("trust", 1),
        )
        return self.scheduler_provider.sign(replace(order, **fields)) if fields else order

    def request_order(self, **fields: Any) -> RequestOrder:
        order = self.requester.request_order(
            self.app,
            app_max_price=APP_PRICE,
            dataset=self.dataset,
            dataset_max_price=DATASET_PRICE,
            workerpool_max_price=WORKERPOOL_PRICE,
            volume=fields.pop("volume", 1),
            trust=fields.pop("trust", 1),
            params=PARAMS,
        )
        return self.requester_sign(replace(order, **fields)) if fields else order

    @property
    def scheduler_provider(self) -> Provider:
        return Provider(self.protocol, self.scheduler.account)

    def requester_sign(self, order: RequestOrder) -> RequestOrder:
        return Provider(self.protocol, self.requester.account).sign(order)

    def orders(
        self, *, trust: int = 1, volume: int = 1
    ) -> tuple[AppOrder, DatasetOrder, WorkerpoolOrder, RequestOrder]:
        return (
            self.app_order(volume=volume),
            self.dataset_order(volume=volume),
            self.workerpool_order(trust=trust, volume=volume),
            self.request_order(trust=trust, volume=volume),
        )

    def match(self, *, trust: int = 1, volume: int = 1, **request_fields: Any) -> MatchedDeal:
        app, dataset, pool, _ = self.orders(trust=trust, volume=volume)
        request = self.request_order(trust=trust, volume=volume, **request_fields)
        deal, _ = self.protocol.match_orders(self.requester.account, app, dataset, pool, request)
        return deal

    def started_task(self, *, trust: int = 1, **request_fields: Any) -> tuple[MatchedDeal, str]:
        """A matched one-task deal whose task is initialized."""
        deal = self.match(trust=trust, **request_fields)
        return deal, self.scheduler.initialize(deal.deal_id, deal.deal.bot_first)

    def contribute(
        self, worker: Worker, task_id: str, matched: MatchedDeal, digest: str = DIGEST
    ) -> None:
        worker.contribute(
            task_id, matched.deal, digest, self.scheduler.authorize(worker.address, task_id)
        )


def build_world(client: ChainClient) -> World:
    accounts = [dev_account(i, DEV_MNEMONIC) for i in range(6 + WORKER_COUNT)]
    owner, app_dev, dataset_owner, scheduler, requester, stranger, *workers = accounts
    deployment = deploy_protocol(client, owner)
    protocol = Protocol(client, deployment)
    for account in (app_dev, dataset_owner, scheduler, requester, stranger, *workers):
        protocol.transfer_tokens(owner, account.address, FUNDS)
        protocol.approve(account, 2**255)
        protocol.deposit(account, DEPOSIT)
    app_provider = Provider(protocol, app_dev)
    dataset_provider = Provider(protocol, dataset_owner)
    scheduler_provider = Provider(protocol, scheduler)
    return World(
        client=client,
        protocol=protocol,
        deployment=deployment,
        owner=owner,
        app_provider=app_provider,
        dataset_provider=dataset_provider,
        scheduler=Scheduler(protocol, scheduler),
        requester=Requester(protocol, requester),
        workers=[Worker(protocol, w) for w in workers],
        stranger=stranger,
        app=app_provider.register_app("hello-wasm", "file:///apps/hello.wasm", "0x" + "11" * 32),
        dataset=dataset_provider.register_dataset(
            "cities", "file:///data/cities.csv", "0x" + "22" * 32
        ),
        workerpool=scheduler_provider.register_workerpool("the test pool"),
    )
