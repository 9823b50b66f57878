"""Escrow conservation under random use of the whole protocol (hypothesis stateful test).

After every step, Σ free + Σ locked over every account == tokens held by the hub (the pool of seized
funds is empty between transactions). When every deal has ended (all tasks finalized or claimed),
no account but the kitty keeps a locked balance. At least 2,000 operations are run: deposits,
withdrawals, matches, initializations, contributions, reveals, finalizations, reopenings, claims,
time travel, token transfers and asset (NFT) transfers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from pnyx.chain.protocol import MatchedDeal
from pnyx.domain.task import digest_of_file, result_hash
from pnyx.domain.task import task_id as make_task_id
from pnyx.domain.views import ContributionStatus, ContributionView, TaskStatus, TaskView
from pnyx.errors import ContractRevert
from pnyx.sdk import Provider, Requester, Scheduler, Worker
from tests.helpers.storage import account_slot
from tests.helpers.world import (
    APP_PRICE,
    DATASET_PRICE,
    PARAMS,
    RESULTS,
    TOKEN,
    WORKERPOOL_PRICE,
    World,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MIN_OPERATIONS = 2_000
MAX_RUNS = 3
EXAMPLES, STEPS = 20, 110
MARGIN_S = 5
HONEST = digest_of_file(b"honest output")
DISSENT = digest_of_file(b"a different output")
OPERATIONS = {"count": 0}


@dataclass
class Tracked:
    matched: MatchedDeal
    initialized: set[int] = field(default_factory=set)
    ended: set[str] = field(default_factory=set)


@dataclass
class TaskCache:
    """The last state read from the chain for one task; refreshed after every operation on it."""

    tracked: Tracked
    view: TaskView
    contributions: list[ContributionView]


class EscrowMachine(RuleBasedStateMachine):
    world: World

    @initialize()
    def start(self) -> None:
        self.snapshot = self.world.client.snapshot()
        self.protocol = self.world.protocol
        self.keys: list[LocalAccount] = [
            self.world.app_provider.account,
            self.world.dataset_provider.account,
            self.world.scheduler.account,
            self.world.requester.account,
            self.world.stranger,
            *(w.account for w in self.world.workers),
        ]
        self.by_address = {k.address: k for k in self.keys}
        self.app_owner = self.world.app_provider.account
        self.pool_owner = self.world.scheduler.account
        self.deals: list[Tracked] = []
        self.tasks: dict[str, TaskCache] = {}
        self.kitty = self.protocol.kitty_address()
        self.now = self.world.client.timestamp()

    def teardown(self) -> None:
        if not hasattr(self, "snapshot"):
            return
        try:
            self._end_every_deal()
            balances = self._balances()
            for address, (_, locked) in balances.items():
                if address != self.kitty:
                    assert locked == 0, f"{address} keeps {locked} locked after every deal ended"
            self._assert_conservation(balances)
        finally:
            self.world.client.revert(self.snapshot)

    # ─── Invariant ───
    @invariant()
    def tokens_are_conserved(self) -> None:
        if hasattr(self, "snapshot"):
            self._assert_conservation(self._balances())
            # The clock the preconditions read (deadlines are checked with a safety margin).
            self.now = self.world.client.timestamp()

    # ─── Escrow ───
    @rule(who=st.integers(0, 14), amount=st.integers(1, 60))
    def deposit(self, who: int, amount: int) -> None:
        self._count()
        self.protocol.deposit(self.keys[who], amount * TOKEN)

    @rule(who=st.integers(0, 14), amount=st.integers(1, 400))
    def withdraw(self, who: int, amount: int) -> None:
        self._count()
        key = self.keys[who]
        free = self.protocol.account(key.address).free
        if amount * TOKEN > free:
            with pytest.raises(ContractRevert, match="EscrowInsufficientBalance"):
                self.protocol.withdraw(key, amount * TOKEN)
        else:
            self.protocol.withdraw(key, amount * TOKEN)

    @rule(frm=st.integers(0, 14), to=st.integers(0, 14), amount=st.integers(1, 20))
    def transfer_tokens(self, frm: int, to: int, amount: int) -> None:
        self._count()
        self.protocol.transfer_tokens(self.keys[frm], self.keys[to].address, amount * TOKEN)

    @rule(asset=st.sampled_from(["app", "workerpool"]))
    def transfer_asset(self, asset: str) -> None:
        """Moves the app or workerpool NFT between its provider and the stranger."""
        self._count()
        registry = self.protocol.apps if asset == "app" else self.protocol.workerpools
        current = self.app_owner if asset == "app" else self.pool_owner
        address = self.world.app if asset == "app" else self.world.workerpool
        provider = (
            self.world.app_provider.account if asset == "app" else self.world.scheduler.account
        )
        target = self.world.stranger if current.address != self.world.stranger.address else provider
        fn = registry.functions.transferFrom(current.address, target.address, int(address, 16))
        self.world.client.transact(current, fn)
        if asset == "app":
            self.app_owner = target
        else:
            self.pool_owner = target

    # ─── Market ───
    @rule(trust=st.sampled_from([1, 2, 4, 8]), volume=st.integers(1, 3), by_stranger=st.booleans())
    def match(self, trust: int, volume: int, by_stranger: bool) -> None:
        self._count()
        requester_key = self.world.stranger if by_stranger else self.world.requester.account
        app = Provider(self.protocol, self.app_owner).app_order(
            self.world.app, APP_PRICE, volume=volume
        )
        dataset = self.world.dataset_provider.dataset_order(
            self.world.dataset, DATASET_PRICE, volume=volume
        )
        pool = Provider(self.protocol, self.pool_owner).workerpool_order(
            self.world.workerpool, WORKERPOOL_PRICE, volume=volume, trust=trust
        )
        request = Requester(self.protocol, requester_key).request_order(
            self.world.app,
            app_max_price=APP_PRICE,
            dataset=self.world.dataset,
            dataset_max_price=DATASET_PRICE,
            workerpool_max_price=WORKERPOOL_PRICE,
            volume=volume,
            trust=trust,
            params=PARAMS,
        )
        price = (APP_PRICE + DATASET_PRICE + WORKERPOOL_PRICE) * volume
        stake = WORKERPOOL_PRICE * 30 // 100 * volume
        if requester_key.address == self.pool_owner.address:
            # the stranger may own the pool it buys from: one account pays the price and the stake
            enough = self.protocol.account(requester_key.address).free >= price + stake
        else:
            enough = (
                self.protocol.account(requester_key.address).free >= price
                and self.protocol.account(self.pool_owner.address).free >= stake
            )
        if not enough:
            with pytest.raises(ContractRevert, match="EscrowInsufficientBalance"):
                self.protocol.match_orders(requester_key, app, dataset, pool, request)
            return
        matched, _ = self.protocol.match_orders(requester_key, app, dataset, pool, request)
        self.deals.append(Tracked(matched))

    # ─── Tasks: every rule has a precondition, so no step is wasted on an impossible operation ───
    def _uninitialized(self) -> list[tuple[Tracked, int]]:
        return [(d, i) for d in self.deals for i in self._indexes(d) if i not in d.initialized]

    def _contributable(self) -> list[tuple[Tracked, str]]:
        return [
            (d, t)
            for d, t in self._tasks(TaskStatus.ACTIVE)
            if self.now + MARGIN_S < d.matched.deal.contribution_deadline
        ]

    def _fast_path(self) -> list[tuple[Tracked, str]]:
        return [
            (d, t)
            for d, t in self._contributable()
            if d.matched.deal.trust == 1 and self.tasks[t].view.contributor_count == 0
        ]

    def _revealable(self) -> list[tuple[Tracked, str]]:
        return [
            (d, t)
            for d, t in self._tasks(TaskStatus.REVEALING)
            if self.now + MARGIN_S < self.tasks[t].view.reveal_deadline and self._winners(t)
        ]

    def _finalizable(self) -> list[tuple[Tracked, str]]:
        found = []
        for tracked, task_id in self._tasks(TaskStatus.REVEALING):
            task = self.tasks[task_id].view
            ready = task.reveal_count > 0 and (
                task.reveal_count == task.winner_count or task.reveal_deadline <= self.now
            )
            if ready and self.now + MARGIN_S < tracked.matched.deal.final_deadline:
                found.append((tracked, task_id))
        return found

    def _reopenable(self) -> list[tuple[Tracked, str]]:
        return [
            (tracked, task_id)
            for tracked, task_id in self._tasks(TaskStatus.REVEALING)
            if self.tasks[task_id].view.reveal_count == 0
            and self.tasks[task_id].view.reveal_deadline <= self.now
            and self.now + MARGIN_S < tracked.matched.deal.final_deadline
        ]

    def _claimable(self) -> list[Tracked]:
        return [
            d for d in self.deals if d.matched.deal.final_deadline <= self.now and self._open(d)
        ]

    @precondition(lambda self: bool(self._uninitialized()))
    @rule(pick=st.integers(0, 10**6))
    def initialize_task(self, pick: int) -> None:
        self._count()
        tracked, idx = _pick(self._uninitialized(), pick)
        scheduler = Scheduler(self.protocol, self.world.stranger)
        task_id = scheduler.initialize(tracked.matched.deal_id, idx)
        tracked.initialized.add(idx)
        self._refresh(task_id, tracked)

    @precondition(lambda self: bool(self._contributable()))
    @rule(pick=st.integers(0, 10**6), worker=st.integers(0, 9), honest=st.booleans())
    def contribute(self, pick: int, worker: int, honest: bool) -> None:
        self._count()
        tracked, task_id = _pick(self._contributable(), pick)
        done = {c.worker for c in self.tasks[task_id].contributions}
        free = [w for w in self.world.workers if w.address not in done]
        contributor = free[worker % len(free)]
        deal = tracked.matched.deal
        authorization = self._scheduler(tracked).authorize(contributor.address, task_id)
        if self.protocol.account(contributor.address).free < deal.worker_stake:
            with pytest.raises(ContractRevert, match="EscrowInsufficientBalance"):
                contributor.contribute(task_id, deal, HONEST, authorization)
            return
        contributor.contribute(task_id, deal, HONEST if honest else DISSENT, authorization)
        self._refresh(task_id, tracked)

    @precondition(lambda self: bool(self._fast_path()))
    @rule(pick=st.integers(0, 10**6), worker=st.integers(0, 9))
    def contribute_and_finalize(self, pick: int, worker: int) -> None:
        self._count()
        tracked, task_id = _pick(self._fast_path(), pick)
        contributor = self.world.workers[worker]
        authorization = self._scheduler(tracked).authorize(contributor.address, task_id)
        contributor.contribute_and_finalize(
            task_id, tracked.matched.deal, HONEST, RESULTS, authorization
        )
        tracked.ended.add(task_id)
        self._refresh(task_id, tracked)

    @precondition(lambda self: bool(self._revealable()))
    @rule(pick=st.integers(0, 10**6), everyone=st.booleans())
    def reveal(self, pick: int, everyone: bool) -> None:
        self._count()
        tracked, task_id = _pick(self._revealable(), pick)
        consensus = self.tasks[task_id].view.consensus_value
        digest = HONEST if result_hash(task_id, HONEST) == consensus else DISSENT
        if everyone:
            self.protocol.reveal_all(self.world.stranger, task_id, digest)
        else:
            winner = self._winners(task_id)[0]
            Worker(self.protocol, self.by_address[winner.worker]).reveal(task_id, digest)
        self._refresh(task_id, tracked)

    @precondition(lambda self: bool(self._finalizable()))
    @rule(pick=st.integers(0, 10**6))
    def finalize(self, pick: int) -> None:
        self._count()
        tracked, task_id = _pick(self._finalizable(), pick)
        self._scheduler(tracked).finalize(task_id, tracked.matched.deal, RESULTS)
        tracked.ended.add(task_id)
        self._refresh(task_id, tracked)

    @precondition(lambda self: bool(self._reopenable()))
    @rule(pick=st.integers(0, 10**6))
    def reopen(self, pick: int) -> None:
        self._count()
        tracked, task_id = _pick(self._reopenable(), pick)
        self._scheduler(tracked).reopen(task_id, tracked.matched.deal)
        self._refresh(task_id, tracked)

    @rule(seconds=st.sampled_from([120, 700, 2_500]))
    def advance_time(self, seconds: int) -> None:
        self._count()
        self.world.client.increase_time(seconds)

    @precondition(lambda self: bool(self._claimable()))
    @rule(pick=st.integers(0, 10**6))
    def claim(self, pick: int) -> None:
        self._count()
        self._claim_deal(_pick(self._claimable(), pick))

    # ─── Helpers ───
    def _count(self) -> None:
        OPERATIONS["count"] += 1

    def _winners(self, task_id: str) -> list[ContributionView]:
        consensus = self.tasks[task_id].view.consensus_value
        return [
            c
            for c in self.tasks[task_id].contributions
            if c.status == ContributionStatus.CONTRIBUTED and c.result_hash == consensus
        ]

    def _scheduler(self, tracked: Tracked) -> Scheduler:
        return Scheduler(self.protocol, self.by_address[tracked.matched.deal.workerpool_owner])

    @staticmethod
    def _indexes(tracked: Tracked) -> range:
        deal = tracked.matched.deal
        return range(deal.bot_first, deal.bot_first + deal.bot_size)

    def _tasks(self, status: TaskStatus) -> list[tuple[Tracked, str]]:
        return [
            (cache.tracked, task_id)
            for task_id, cache in self.tasks.items()
            if task_id not in cache.tracked.ended and cache.view.status == status
        ]

    def _refresh(self, task_id: str, tracked: Tracked) -> None:
        self.tasks[task_id] = TaskCache(
            tracked, self.protocol.task(task_id), self.protocol.contributions(task_id)
        )

    def _open(self, tracked: Tracked) -> bool:
        return len(tracked.ended) < tracked.matched.deal.bot_size

    def _claim_deal(self, tracked: Tracked) -> None:
        deal = tracked.matched.deal
        open_ids = []
        for idx in self._indexes(tracked):
            task_id = make_task_id(tracked.matched.deal_id, idx)
            status = self.protocol.task(task_id).status
            if status in (TaskStatus.UNSET, TaskStatus.ACTIVE, TaskStatus.REVEALING):
                open_ids.append(task_id)
        if len(open_ids) == deal.bot_size:
            self.protocol.initialize_and_claim_batch(
                self.world.stranger, tracked.matched.deal_id, deal, deal.bot_first, deal.bot_size
            )
        elif open_ids:
            self._claim_each(tracked, open_ids)
        tracked.ended.update(
            make_task_id(tracked.matched.deal_id, i) for i in self._indexes(tracked)
        )
        tracked.initialized.update(self._indexes(tracked))

    def _claim_each(self, tracked: Tracked, task_ids: list[str]) -> None:
        for task_id in task_ids:
            if self.protocol.task(task_id).status == TaskStatus.UNSET:
                idx = next(
                    i
                    for i in self._indexes(tracked)
                    if make_task_id(tracked.matched.deal_id, i) == task_id
                )
                self.protocol.initialize(self.world.stranger, tracked.matched.deal_id, idx)
            self.protocol.claim(self.world.stranger, task_id, tracked.matched.deal)

    def _end_every_deal(self) -> None:
        self.world.client.increase_time(10 * 36_000)
        for tracked in self.deals:
            if self._open(tracked):
                self._claim_deal(tracked)

    def _balances(self) -> dict[str, tuple[int, int]]:
        """Every account's (free, locked), read straight from the hub's storage in one JSON-RPC
        batch (web3's ABI layer costs ~5 ms a call; this check runs after every step)."""
        addresses = [k.address for k in self.keys] + [self.kitty]
        hub = self.protocol.deployment.hub
        requests = [("eth_getStorageAt", [hub, hex(account_slot(a)), "latest"]) for a in addresses]
        provider: Any = self.world.client.w3.provider
        responses = provider.make_batch_request(requests)
        balances = {}
        for address, response in zip(addresses, responses, strict=True):
            packed = int(response["result"], 16)
            balances[address] = (packed & (2**112 - 1), (packed >> 112) & (2**112 - 1))
        return balances

    def _assert_conservation(self, balances: dict[str, tuple[int, int]]) -> None:
        held = self.protocol.token_balance(self.protocol.deployment.hub)
        assert sum(free + locked for free, locked in balances.values()) == held


def _pick(candidates: list[Any], pick: int) -> Any:
    return candidates[pick % len(candidates)]


def test_escrow_conserves_tokens_over_random_operations(session_world: World) -> None:
    OPERATIONS["count"] = 0
    EscrowMachine.world = session_world
    # Hypothesis decides how many steps each run takes (it stops some runs early): runs repeat
    # until at least MIN_OPERATIONS operations were checked, so the bar is met on every seed.
    for _ in range(MAX_RUNS):
        run_state_machine_as_test(
            EscrowMachine,
            settings=settings(
                max_examples=int(__import__("os").environ.get("ESCROW_EXAMPLES", 20)),
                stateful_step_count=120,
                deadline=None,
            ),
        )
        if OPERATIONS["count"] >= MIN_OPERATIONS:
            break
    assert OPERATIONS["count"] >= MIN_OPERATIONS
