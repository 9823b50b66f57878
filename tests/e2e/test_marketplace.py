"""The marketplace end to end: real processes (anvil, market, result store, scheduler, workers)
talking over HTTP and the chain, driven as a requester would (issue 3's acceptance scenarios)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from eth_utils.abi import function_abi_to_4byte_selector

from pnyx.api.schemas.scheduler import TaskRead
from pnyx.chain.signing import sign_eip191
from pnyx.clients.scheduler import SchedulerClient
from pnyx.devnet.marketplace import WORKERPOOL_PRICE, Marketplace, start_marketplace
from pnyx.domain.consensus import score_after_faulty
from pnyx.domain.views import TaskStatus
from pnyx.sdk.run import RunRequest, fetch_result, follow
from pnyx.services.scheduler.service import logs_message
from tests.helpers.marketplace import purchase, scheduled, wait_for
from tests.helpers.storage import set_score

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

WORDS = "the fox and the dog and the cat"
EXPECTED_COUNTS = {"and": 2, "cat": 1, "dog": 1, "fox": 1, "the": 3}
STAKE = WORKERPOOL_PRICE * 30 // 100


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "devnet"


def _market(home: Path, **options: object) -> Iterator[Marketplace]:
    with start_marketplace(home, **options) as market:  # type: ignore[arg-type]
        yield market


@pytest.fixture
def market(home: Path) -> Iterator[Marketplace]:
    yield from _market(home, workers=3, heartbeat_s=1.0)


def _result_json(market: Marketplace, task_id: str) -> object:
    result = fetch_result(market.devnet.protocol, task_id)
    return json.loads(result.files["result.json"])


def test_replicated_task_completes_with_three_agreeing_workers(market: Marketplace) -> None:
    protocol = market.devnet.protocol
    workers = [market.devnet.accounts[5 + i].address for i in range(3)]
    before = {w: protocol.account(w) for w in workers}
    matched, task_id = purchase(
        market, RunRequest(app=market.assets["wasm_app"], trust=8, args=WORDS)
    )
    view = follow(protocol, matched, task_id, timeout_s=90)
    assert view.status == TaskStatus.COMPLETED
    assert _result_json(market, task_id) == {"counts": EXPECTED_COUNTS, "words": 8}
    task = wait_for("the scheduler to see it", lambda: _in_state(market, task_id, "COMPLETED"))
    assert sorted(r.worker for r in task.replicates) == sorted(workers)
    assert {r.state for r in task.replicates} == {"COMPLETED"}
    for worker in workers:
        after = protocol.account(worker)
        assert after.free > before[worker].free and after.locked == 0
        assert after.score == before[worker].score + 1


def test_byzantine_worker_is_outvoted_slashed_and_honest_workers_paid(home: Path) -> None:
    with start_marketplace(home, workers=0, heartbeat_s=1.0) as market:
        protocol = market.devnet.protocol
        byzantine = market.add_worker(byzantine="wrong-result")
        liar = market.devnet.accounts[5].address
        set_score(protocol, liar, 9)
        liar_before = protocol.account(liar)
        wait_for(
            "the byzantine worker to log in",
            lambda: protocol.client.w3.eth.block_number and byzantine.running(),
        )
        time.sleep(1.5)
        matched, task_id = purchase(
            market, RunRequest(app=market.assets["wasm_app"], trust=4, args=WORDS)
        )
        wait_for(
            "the byzantine worker's replicate", lambda: _holds(market, task_id, liar), timeout_s=30
        )
        honest = [market.add_worker() for _ in range(4)]
        assert all(w.running() for w in honest)
        honest_addresses = [market.devnet.accounts[6 + i].address for i in range(4)]
        before = {a: protocol.account(a) for a in honest_addresses}
        view = follow(protocol, matched, task_id, timeout_s=120)
        assert view.status == TaskStatus.COMPLETED
        assert _result_json(market, task_id) == {"counts": EXPECTED_COUNTS, "words": 8}
        liar_after = protocol.account(liar)
        assert liar_after.locked == 0 and liar_after.free == liar_before.free - STAKE
        assert liar_after.score == score_after_faulty(9)
        task = wait_for("the scheduler to see it", lambda: _in_state(market, task_id, "COMPLETED"))
        states = {r.worker: r.state for r in task.replicates}
        assert states[liar] == "FAILED"
        winners = [a for a in honest_addresses if states.get(a) == "COMPLETED"]
        # with one dissenting weight-2 vote, trust 4 needs four agreeing fresh workers
        assert len(winners) == 4, json.dumps(
            {r.worker[:8]: [h["state"] for h in r.history] for r in task.replicates}
        )
        for address in winners:
            assert protocol.account(address).free > before[address].free


def test_killed_worker_is_replaced_within_two_heartbeats(home: Path) -> None:
    heartbeat = 1.0
    with start_marketplace(home, workers=4, heartbeat_s=heartbeat) as market:
        protocol = market.devnet.protocol
        request = RunRequest(app=market.assets["python_app"], trust=8, args="1 2 3 --sleep 4")
        matched, task_id = purchase(market, request)
        running = wait_for(
            "three running replicates", lambda: _replicates(market, task_id, {"RUNNING"}, 3)
        )
        victim_address = running[0]
        victim = next(
            w
            for w in market.workers
            if w.env["PNYX_WORKER_PRIVATE_KEY"] == _key_of(market, victim_address)
        )
        victim.kill()
        killed_at = time.time()
        replacement = wait_for(
            "a replacement replicate",
            lambda: _replacement(market, task_id, set(running)),
            timeout_s=10,
        )
        assert replacement - killed_at <= 2 * heartbeat + 0.5
        view = follow(protocol, matched, task_id, timeout_s=90)
        assert view.status == TaskStatus.COMPLETED
        task = wait_for("the scheduler to see it", lambda: _in_state(market, task_id, "COMPLETED"))
        states = {r.worker: r.state for r in task.replicates}
        assert states[victim_address] in ("WORKER_LOST", "ABORTED")


def test_killed_scheduler_restarts_and_finishes_without_duplicates(market: Marketplace) -> None:
    protocol = market.devnet.protocol
    request = RunRequest(app=market.assets["python_app"], trust=8, args="4 5 6 --sleep 2")
    matched, task_id = purchase(market, request)
    wait_for("three running replicates", lambda: _replicates(market, task_id, {"RUNNING"}, 3))
    market.services["scheduler"].kill()
    time.sleep(3)  # the workers finish computing and keep trying to report while it is down
    market.restart("scheduler")
    view = follow(protocol, matched, task_id, timeout_s=120)
    assert view.status == TaskStatus.COMPLETED
    task = wait_for("the scheduler to see it", lambda: _in_state(market, task_id, "COMPLETED"))
    assert len(task.replicates) == 3  # nobody was replaced: no second authorization was handed out
    assert all([h["state"] for h in r.history].count("CREATED") == 1 for r in task.replicates)
    sent = _transactions_to_hub(market, market.scheduler_account.address, matched.block_number)
    finalize = function_abi_to_4byte_selector(protocol.hub.get_function_by_name("finalize").abi)
    initialize = function_abi_to_4byte_selector(protocol.hub.get_function_by_name("initialize").abi)
    # one initialize (before the crash) and one finalize (after it): nothing sent twice
    assert (sent.count(initialize), sent.count(finalize)) == (1, 1)
    assert len(protocol.task_events(task_id, "TaskFinalized")) == 1


def test_requester_is_refunded_when_every_worker_is_gone(home: Path) -> None:
    with start_marketplace(home, workers=1, heartbeat_s=1.0) as market:
        protocol = market.devnet.protocol
        requester = market.requester.address
        before = protocol.account(requester)
        request = RunRequest(
            app=market.assets["python_app"], trust=8, args="1 --sleep 30", category=5
        )
        matched, task_id = purchase(market, request)
        wait_for("the worker's replicate", lambda: _replicates(market, task_id, {"RUNNING"}, 1))
        for worker in market.workers:
            worker.kill()
        assert protocol.account(requester).locked == before.locked + matched.deal.task_price
        # The test category has a 6-second time reference: the final deadline is a minute away.
        protocol.client.increase_time(matched.deal.final_deadline - protocol.client.timestamp() + 1)
        view = follow(protocol, matched, task_id, timeout_s=60)
        assert view.status == TaskStatus.FAILED
        after = protocol.account(requester)
        assert (after.free, after.locked) == (before.free, before.locked)
        task = wait_for(
            "the scheduler to record the claim", lambda: _in_state(market, task_id, "FAILED")
        )
        assert [h["state"] for h in task.history][-2:] == ["CLAIMING", "FAILED"]


def test_crashing_app_gives_the_requester_an_error_archive_and_logs(market: Marketplace) -> None:
    protocol = market.devnet.protocol
    matched, task_id = purchase(
        market, RunRequest(app=market.assets["wasm_app"], trust=1, args="--crash")
    )
    view = follow(protocol, matched, task_id, timeout_s=60)
    assert view.status == TaskStatus.COMPLETED
    result = fetch_result(protocol, task_id)
    assert result.files["error.txt"] == b"APP_FAILED: the app exited with code 3\n"
    assert b"crashing on purpose" in result.files["stderr.txt"]
    signature = "0x" + sign_eip191(market.requester, logs_message(task_id)).hex()
    client = SchedulerClient(market.urls["scheduler"])
    try:
        logs = client.logs(task_id, signature)
    finally:
        client.close()
    assert logs.replicates[0].exit_cause == "APP_FAILED"
    assert "crashing on purpose" in logs.replicates[0].stderr


# ─── helpers ───
def _holds(market: Marketplace, task_id: str, worker: str) -> bool:
    task = scheduled(market, task_id)
    return task is not None and any(r.worker == worker for r in task.replicates)


def _replicates(
    market: Marketplace, task_id: str, states: set[str], count: int
) -> list[str] | None:
    task = scheduled(market, task_id)
    if task is None:
        return None
    found = [r.worker for r in task.replicates if r.state in states]
    return found if len(found) >= count else None


def _replacement(market: Marketplace, task_id: str, original: set[str]) -> float | None:
    task = scheduled(market, task_id)
    for replicate in task.replicates if task else []:
        if replicate.worker not in original:
            return datetime.fromisoformat(replicate.history[0]["at"]).timestamp()
    return None


def _in_state(market: Marketplace, task_id: str, state: str) -> TaskRead | None:
    task = scheduled(market, task_id)
    return task if task is not None and task.state == state else None


def _key_of(market: Marketplace, address: str) -> str:
    account = next(a for a in market.devnet.accounts if a.address == address)
    return "0x" + bytes(account.key).hex()


def _transactions_to_hub(market: Marketplace, sender: str, from_block: int) -> list[bytes]:
    """The 4-byte selectors of every transaction `sender` sent to the hub since `from_block`."""
    w3 = market.devnet.client.w3
    hub = market.devnet.deployment.hub.lower()
    selectors = []
    for number in range(max(from_block, 0), w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] == sender and (tx["to"] or "").lower() == hub:  # type: ignore[index]
                selectors.append(bytes(tx["input"][:4]))  # type: ignore[index]
    return selectors
