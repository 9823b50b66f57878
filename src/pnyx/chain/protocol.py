"""Typed access to the deployed protocol: one method per contract function, taking and returning
domain objects. Senders are local accounts; every revert surfaces as a named ContractRevert."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.contract import Contract
from web3.types import TxReceipt

from pnyx.chain.artifacts import hub_abi, load_artifact
from pnyx.chain.client import ChainClient, PreparedTransaction
from pnyx.chain.deploy import Deployment
from pnyx.domain._hex import to_address, to_bytes, to_hex32
from pnyx.domain.deal import Deal
from pnyx.domain.orders import (
    AppOrder,
    DatasetOrder,
    Eip712Domain,
    Order,
    OrderOperation,
    RequestOrder,
    WorkerpoolOrder,
)
from pnyx.domain.views import (
    AccountView,
    ContributionStatus,
    ContributionView,
    TaskStatus,
    TaskView,
)
from pnyx.errors import ChainError, NotFoundError
from pnyx.types import ZERO_ADDRESS, Address, DealId, TaskId

# Gas limits for transactions sent without estimating (pipelined by services). They cover the
# worst case measured by `make bench-gas` with a wide margin; unused gas is not charged.
GAS_LIMITS = {
    "initialize": 150_000,
    "initializeBatch.perTask": 60_000,
    "finalize": 700_000,
    "reopen": 400_000,
    "claim": 500_000,
    "initializeAndClaimBatch.perTask": 300_000,
}

_MANAGE_FUNCTIONS = {
    AppOrder: "manageAppOrder",
    DatasetOrder: "manageDatasetOrder",
    WorkerpoolOrder: "manageWorkerpoolOrder",
    RequestOrder: "manageRequestOrder",
}


@dataclass(frozen=True)
class MatchedDeal:
    """A deal as `DealCreated` announced it."""

    deal_id: DealId
    deal: Deal
    params: str
    volume: int
    block_number: int

    @property
    def task_ids(self) -> list[TaskId]:
        return self.deal.task_ids(self.deal_id)


class Protocol:
    """The deployed contracts on one chain."""

    def __init__(self, client: ChainClient, deployment: Deployment) -> None:
        if deployment.chain_id != client.chain_id:
            raise ChainError(
                f"deployment is for chain {deployment.chain_id} "
                f"but the node is chain {client.chain_id}"
            )
        self.client = client
        self.deployment = deployment
        self.token: Contract = client.contract(deployment.token, load_artifact("PnyxToken").abi)
        self.apps: Contract = client.contract(
            deployment.app_registry, load_artifact("AppRegistry").abi
        )
        self.datasets: Contract = client.contract(
            deployment.dataset_registry, load_artifact("DatasetRegistry").abi
        )
        self.workerpools: Contract = client.contract(
            deployment.workerpool_registry, load_artifact("WorkerpoolRegistry").abi
        )
        self.hub: Contract = client.contract(deployment.hub, hub_abi())
        self.domain = Eip712Domain(chain_id=client.chain_id, verifying_contract=deployment.hub)

    # ─── Token and escrow ───
    def token_balance(self, account: str) -> int:
        return int(self.token.functions.balanceOf(account).call())

    def transfer_tokens(self, sender: LocalAccount, to: str, amount: int) -> TxReceipt:
        return self.client.transact(sender, self.token.functions.transfer(to, amount))

    def approve(
        self, sender: LocalAccount, amount: int, *, spender: str | None = None
    ) -> TxReceipt:
        """Lets `spender` (the hub by default) draw `amount` tokens from the sender."""
        return self.client.transact(
            sender, self.token.functions.approve(spender or self.deployment.hub, amount)
        )

    def deposit(
        self, sender: LocalAccount, amount: int, *, beneficiary: str | None = None
    ) -> TxReceipt:
        fn = (
            self.hub.functions.depositFor(beneficiary, amount)
            if beneficiary
            else self.hub.functions.deposit(amount)
        )
        return self.client.transact(sender, fn)

    def withdraw(self, sender: LocalAccount, amount: int, *, to: str | None = None) -> TxReceipt:
        fn = (
            self.hub.functions.withdrawTo(to, amount) if to else self.hub.functions.withdraw(amount)
        )
        return self.client.transact(sender, fn)

    def account(self, account: str) -> AccountView:
        free, locked, score = self.client.call(self.hub.functions.getAccount(account))
        return AccountView(free=int(free), locked=int(locked), score=int(score))

    def kitty_address(self) -> Address:
        return to_address(self.client.call(self.hub.functions.getKitty()))

    # ─── Registries ───
    def create_app(
        self,
        sender: LocalAccount,
        *,
        name: str,
        app_type: str,
        multiaddr: str,
        checksum: str,
        mrenclave: bytes = b"",
        owner: str | None = None,
    ) -> Address:
        args = (
            owner or sender.address,
            name,
            app_type,
            multiaddr.encode(),
            to_bytes(checksum, length=32),
            mrenclave,
        )
        receipt = self.client.transact(sender, self.apps.functions.createApp(*args))
        return to_address(self.client.events(self.apps, "AppCreated", receipt)[0]["args"]["app"])

    def create_dataset(
        self,
        sender: LocalAccount,
        *,
        name: str,
        multiaddr: str,
        checksum: str,
        owner: str | None = None,
    ) -> Address:
        args = (owner or sender.address, name, multiaddr.encode(), to_bytes(checksum, length=32))
        receipt = self.client.transact(sender, self.datasets.functions.createDataset(*args))
        return to_address(
            self.client.events(self.datasets, "DatasetCreated", receipt)[0]["args"]["dataset"]
        )

    def create_workerpool(
        self, sender: LocalAccount, *, description: str, owner: str | None = None
    ) -> Address:
        fn = self.workerpools.functions.createWorkerpool(owner or sender.address, description)
        receipt = self.client.transact(sender, fn)
        return to_address(
            self.client.events(self.workerpools, "WorkerpoolCreated", receipt)[0]["args"][
                "workerpool"
            ]
        )

    def change_policy(
        self,
        sender: LocalAccount,
        workerpool: str,
        worker_stake_ratio: int,
        scheduler_reward_ratio: int,
    ) -> TxReceipt:
        fn = self.workerpools.functions.changePolicy(
            workerpool, worker_stake_ratio, scheduler_reward_ratio
        )
        return self.client.transact(sender, fn)

    def asset_owner(self, registry: Contract, asset: str) -> Address:
        return to_address(self.client.call(registry.functions.getOwner(asset)))

    def app(self, app: str) -> dict[str, Any]:
        name, app_type, multiaddr, checksum, mrenclave = self.client.call(
            self.apps.functions.getApp(app)
        )
        return {
            "address": to_address(app),
            "owner": self.asset_owner(self.apps, app),
            "name": name,
            "type": app_type,
            "multiaddr": bytes(multiaddr).decode(errors="replace"),
            "checksum": to_hex32(bytes(checksum)),
            "mrenclave": "0x" + bytes(mrenclave).hex(),
        }

    def dataset(self, dataset: str) -> dict[str, Any]:
        name, multiaddr, checksum = self.client.call(self.datasets.functions.getDataset(dataset))
        return {
            "address": to_address(dataset),
            "owner": self.asset_owner(self.datasets, dataset),
            "name": name,
            "multiaddr": bytes(multiaddr).decode(errors="replace"),
            "checksum": to_hex32(bytes(checksum)),
        }

    def workerpool(self, workerpool: str) -> dict[str, Any]:
        description, stake_ratio, reward_ratio = self.client.call(
            self.workerpools.functions.getWorkerpool(workerpool)
        )
        return {
            "address": to_address(workerpool),
            "owner": self.asset_owner(self.workerpools, workerpool),
            "description": description,
            "worker_stake_ratio": int(stake_ratio),
            "scheduler_reward_ratio": int(reward_ratio),
        }

    # ─── Orders ───
    def manage_order(
        self, sender: LocalAccount, order: Order, operation: OrderOperation, *, sign: bytes = b""
    ) -> TxReceipt:
        fn = getattr(self.hub.functions, _MANAGE_FUNCTIONS[type(order)])
        return self.client.transact(sender, fn((order.as_abi(), int(operation), sign)))

    def consumed(self, order_hash: str) -> int:
        return int(
            self.client.call(self.hub.functions.getConsumed(to_bytes(order_hash, length=32)))
        )

    def presigner(self, order_hash: str) -> Address:
        return to_address(
            self.client.call(self.hub.functions.getPresigner(to_bytes(order_hash, length=32)))
        )

    def match_orders(
        self,
        sender: LocalAccount,
        app_order: AppOrder,
        dataset_order: DatasetOrder | None,
        workerpool_order: WorkerpoolOrder,
        request_order: RequestOrder,
        *,
        gas: int | None = None,
    ) -> tuple[MatchedDeal, TxReceipt]:
        orders = _order_args(app_order, dataset_order, workerpool_order, request_order)
        receipt = self.client.transact(sender, self.hub.functions.matchOrders(*orders), gas=gas)
        return self._matched_deal(receipt), receipt

    def deposit_and_match_orders(
        self,
        sender: LocalAccount,
        amount: int,
        permit: tuple[int, int, bytes, bytes],
        app_order: AppOrder,
        dataset_order: DatasetOrder | None,
        workerpool_order: WorkerpoolOrder,
        request_order: RequestOrder,
    ) -> tuple[MatchedDeal, TxReceipt]:
        orders = _order_args(app_order, dataset_order, workerpool_order, request_order)
        fn = self.hub.functions.depositAndMatchOrders(amount, permit, *orders)
        receipt = self.client.transact(sender, fn)
        return self._matched_deal(receipt), receipt

    def _matched_deal(self, receipt: TxReceipt) -> MatchedDeal:
        created = self.client.events(self.hub, "DealCreated", receipt)[0]["args"]
        matched = self.client.events(self.hub, "OrdersMatched", receipt)[0]["args"]
        return MatchedDeal(
            deal_id=DealId(to_hex32(bytes(created["dealId"]))),
            deal=Deal.from_abi(dict(created["deal"])),
            params=str(created["params"]),
            volume=int(matched["volume"]),
            block_number=int(receipt["blockNumber"]),
        )

    def find_deal(self, deal_id: str, *, from_block: int = 0) -> MatchedDeal:
        """Reads a deal's record back from its `DealCreated` event."""
        logs = self.hub.events.DealCreated().get_logs(
            from_block=from_block, argument_filters={"dealId": to_bytes(deal_id, length=32)}
        )
        if not logs:
            raise NotFoundError(f"no deal {deal_id} on chain {self.client.chain_id}")
        receipt = self.client.w3.eth.get_transaction_receipt(logs[0]["transactionHash"])
        return self._matched_deal(receipt)

    def deal_slot(self, deal_id: str) -> tuple[int, int, int]:
        """(digest, botFirst, botSize) of a deal of several tasks; zeros for a one-task deal."""
        digest, bot_first, bot_size = self.client.call(
            self.hub.functions.getDeal(to_bytes(deal_id, length=32))
        )
        return int(digest), int(bot_first), int(bot_size)

    # ─── Tasks ───
    def initialize(self, sender: LocalAccount, deal_id: str, idx: int) -> TxReceipt:
        return self.client.transact(
            sender, self.hub.functions.initialize(to_bytes(deal_id, length=32), idx)
        )

    def initialize_batch(
        self,
        sender: LocalAccount,
        deal_id: str,
        first_idx: int,
        count: int,
        *,
        gas: int | None = None,
    ) -> TxReceipt:
        fn = self.hub.functions.initializeBatch(to_bytes(deal_id, length=32), first_idx, count)
        return self.client.transact(sender, fn, gas=gas)

    def contribute(
        self,
        sender: LocalAccount,
        task_id: str,
        deal: Deal,
        result_hash: str,
        result_seal: str,
        authorization: bytes,
        *,
        enclave_challenge: str = ZERO_ADDRESS,
        enclave_sign: bytes = b"",
    ) -> TxReceipt:
        fn = self.hub.functions.contribute(
            to_bytes(task_id, length=32),
            deal.as_abi(),
            to_bytes(result_hash, length=32),
            to_bytes(result_seal, length=32),
            enclave_challenge,
            enclave_sign,
            authorization,
        )
        return self.client.transact(sender, fn)

    def reveal(self, sender: LocalAccount, task_id: str, result_digest: str) -> TxReceipt:
        fn = self.hub.functions.reveal(
            to_bytes(task_id, length=32), to_bytes(result_digest, length=32)
        )
        return self.client.transact(sender, fn)

    def reveal_all(self, sender: LocalAccount, task_id: str, result_digest: str) -> TxReceipt:
        fn = self.hub.functions.revealAll(
            to_bytes(task_id, length=32), to_bytes(result_digest, length=32)
        )
        return self.client.transact(sender, fn)

    def finalize(
        self,
        sender: LocalAccount,
        task_id: str,
        deal: Deal,
        results: bytes,
        results_callback: bytes = b"",
        *,
        gas: int | None = None,
    ) -> TxReceipt:
        fn = self.hub.functions.finalize(
            to_bytes(task_id, length=32), deal.as_abi(), results, results_callback
        )
        return self.client.transact(sender, fn, gas=gas)

    def contribute_and_finalize(
        self,
        sender: LocalAccount,
        task_id: str,
        deal: Deal,
        result_digest: str,
        results: bytes,
        authorization: bytes,
        *,
        results_callback: bytes = b"",
        enclave_challenge: str = ZERO_ADDRESS,
        enclave_sign: bytes = b"",
    ) -> TxReceipt:
        fn = self.hub.functions.contributeAndFinalize(
            to_bytes(task_id, length=32),
            deal.as_abi(),
            to_bytes(result_digest, length=32),
            results,
            results_callback,
            enclave_challenge,
            enclave_sign,
            authorization,
        )
        return self.client.transact(sender, fn)

    def reopen(self, sender: LocalAccount, task_id: str, deal: Deal) -> TxReceipt:
        return self.client.transact(
            sender, self.hub.functions.reopen(to_bytes(task_id, length=32), deal.as_abi())
        )

    def claim(self, sender: LocalAccount, task_id: str, deal: Deal) -> TxReceipt:
        return self.client.transact(
            sender, self.hub.functions.claim(to_bytes(task_id, length=32), deal.as_abi())
        )

    def claim_batch(self, sender: LocalAccount, task_ids: list[str], deal: Deal) -> TxReceipt:
        ids = [to_bytes(t, length=32) for t in task_ids]
        return self.client.transact(sender, self.hub.functions.claimBatch(ids, deal.as_abi()))

    def initialize_and_claim_batch(
        self, sender: LocalAccount, deal_id: str, deal: Deal, first_idx: int, count: int
    ) -> TxReceipt:
        fn = self.hub.functions.initializeAndClaimBatch(
            to_bytes(deal_id, length=32), deal.as_abi(), first_idx, count
        )
        return self.client.transact(sender, fn)

    def task(self, task_id: str) -> TaskView:
        raw = self.client.call(self.hub.functions.getTask(to_bytes(task_id, length=32)))
        return _task_view(task_id, raw)

    def tasks(self, task_ids: list[str]) -> list[TaskView]:
        """Several tasks in one JSON-RPC batch."""
        if not task_ids:
            return []
        with self.client.w3.batch_requests() as batch:
            for task_id in task_ids:
                batch.add(self.hub.functions.getTask(to_bytes(task_id, length=32)))
            results = batch.execute()
        return [_task_view(t, raw) for t, raw in zip(task_ids, results, strict=True)]

    # ─── Prepared transactions (signed now, broadcast by the caller; fixed gas, no estimate) ───
    def prepare_initialize(
        self, sender: LocalAccount, deal_id: str, idx: int
    ) -> PreparedTransaction:
        fn = self.hub.functions.initialize(to_bytes(deal_id, length=32), idx)
        return self.client.prepare(sender, fn, gas=GAS_LIMITS["initialize"])

    def prepare_initialize_batch(
        self, sender: LocalAccount, deal_id: str, first_idx: int, count: int
    ) -> PreparedTransaction:
        fn = self.hub.functions.initializeBatch(to_bytes(deal_id, length=32), first_idx, count)
        gas = GAS_LIMITS["initialize"] + GAS_LIMITS["initializeBatch.perTask"] * count
        return self.client.prepare(sender, fn, gas=gas)

    def prepare_finalize(
        self,
        sender: LocalAccount,
        task_id: str,
        deal: Deal,
        results: bytes,
        results_callback: bytes,
        callback_gas: int,
    ) -> PreparedTransaction:
        fn = self.hub.functions.finalize(
            to_bytes(task_id, length=32), deal.as_abi(), results, results_callback
        )
        return self.client.prepare(sender, fn, gas=GAS_LIMITS["finalize"] + callback_gas)

    def prepare_reopen(self, sender: LocalAccount, task_id: str, deal: Deal) -> PreparedTransaction:
        fn = self.hub.functions.reopen(to_bytes(task_id, length=32), deal.as_abi())
        return self.client.prepare(sender, fn, gas=GAS_LIMITS["reopen"])

    def prepare_claim(self, sender: LocalAccount, task_id: str, deal: Deal) -> PreparedTransaction:
        fn = self.hub.functions.claim(to_bytes(task_id, length=32), deal.as_abi())
        return self.client.prepare(sender, fn, gas=GAS_LIMITS["claim"])

    def prepare_initialize_and_claim(
        self, sender: LocalAccount, deal_id: str, deal: Deal, first_idx: int, count: int
    ) -> PreparedTransaction:
        fn = self.hub.functions.initializeAndClaimBatch(
            to_bytes(deal_id, length=32), deal.as_abi(), first_idx, count
        )
        gas = GAS_LIMITS["claim"] + GAS_LIMITS["initializeAndClaimBatch.perTask"] * count
        return self.client.prepare(sender, fn, gas=gas)

    def callback_gas(self) -> int:
        return int(self.client.call(self.hub.functions.getCallbackGas()))

    def contributions(self, task_id: str) -> list[ContributionView]:
        raw = self.client.call(self.hub.functions.getContributions(to_bytes(task_id, length=32)))
        return [
            ContributionView(
                worker=to_address(worker),
                status=ContributionStatus(status),
                result_hash=to_hex32(bytes(result_hash)),
                weight=int(weight),
            )
            for worker, status, result_hash, weight in raw
        ]

    def result_for(self, task_id: str) -> bytes:
        return bytes(self.client.call(self.hub.functions.resultFor(to_bytes(task_id, length=32))))

    def task_events(
        self, task_id: str, event_name: str, *, from_block: int = 0
    ) -> list[dict[str, Any]]:
        event = getattr(self.hub.events, event_name)()
        logs = event.get_logs(
            from_block=from_block, argument_filters={"taskId": to_bytes(task_id, length=32)}
        )
        return [dict(log["args"]) for log in logs]


def _task_view(task_id: str, raw: Any) -> TaskView:
    status, contributors, reveals, winners, reveal_deadline, consensus, digest = raw
    return TaskView(
        task_id=to_hex32(task_id),
        status=TaskStatus(status),
        contributor_count=int(contributors),
        reveal_count=int(reveals),
        winner_count=int(winners),
        reveal_deadline=int(reveal_deadline),
        consensus_value=to_hex32(bytes(consensus)),
        deal_digest=int(digest),
    )


def _order_args(
    app_order: AppOrder,
    dataset_order: DatasetOrder | None,
    workerpool_order: WorkerpoolOrder,
    request_order: RequestOrder,
) -> tuple[tuple[Any, ...], ...]:
    dataset = dataset_order if dataset_order is not None else DatasetOrder.empty()
    return (app_order.as_abi(), dataset.as_abi(), workerpool_order.as_abi(), request_order.as_abi())
