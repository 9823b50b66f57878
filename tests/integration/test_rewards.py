"""Who is paid what when a task ends: exact escrow balances after finalize, contributeAndFinalize
and claim, worker scores, the kitty, token conservation and the result callback
(reference/poco.md §1.9-§1.11, papers.md §4.2)."""

from __future__ import annotations

import pytest

from pnyx.chain.protocol import MatchedDeal
from pnyx.domain.consensus import (
    RewardSplit,
    TaskConsensus,
    score_after_faulty,
    split_worker_rewards,
    worker_weight,
)
from pnyx.domain.deal import Deal
from pnyx.domain.task import digest_of_callback, digest_of_file, result_hash, result_seal
from pnyx.domain.views import AccountView, ContributionStatus, TaskStatus
from pnyx.sdk import Worker
from pnyx.types import Address, TaskId
from tests.helpers.contracts import deploy_test_contract
from tests.helpers.world import (
    APP_PRICE,
    DATASET_PRICE,
    DIGEST,
    RESULTS,
    TOKEN,
    WORKERPOOL_PRICE,
    World,
)

pytestmark = pytest.mark.integration

OTHER_DIGEST = digest_of_file(b"a wrong output")
KITTY_RATIO = 10
KITTY_MIN = 10**9


# ─── Helpers ───


def _advance_to(world: World, timestamp: int) -> None:
    world.client.increase_time(max(timestamp - world.client.timestamp(), 0))


def _accounts(world: World, addresses: list[Address]) -> dict[Address, AccountView]:
    return {a: world.protocol.account(a) for a in addresses}


def _parties(world: World) -> list[Address]:
    """Every account of the world that can hold escrow, the kitty included."""
    return [
        Address(world.owner.address),
        world.app_provider.address,
        world.dataset_provider.address,
        world.scheduler.address,
        world.requester.address,
        Address(world.stranger.address),
        *(w.address for w in world.workers),
        world.protocol.kitty_address(),
    ]


def _assert_conserved(world: World) -> None:
    """Σ free + Σ locked of every account == the hub's token balance (no pool between txs)."""
    total = sum(a.free + a.locked for a in _accounts(world, _parties(world)).values())
    assert total == world.protocol.token_balance(world.deployment.hub)


def _split(deal: Deal, proved: dict[str, int], faulty: list[str]) -> RewardSplit:
    return split_worker_rewards(
        deal.workerpool_price, deal.scheduler_reward_ratio, deal.worker_stake, proved, faulty
    )


def _run_task(
    world: World, workers: list[Worker], *, trust: int, digests: list[str] | None = None
) -> tuple[MatchedDeal, TaskId]:
    """Contributes `workers` (each with its digest, DIGEST by default) to a new task and checks
    that the last one brought consensus, as TaskConsensus predicts from their scores."""
    matched, task = world.started_task(trust=trust)
    digests = digests or [DIGEST] * len(workers)
    prediction = TaskConsensus(trust=trust)
    for worker, digest in zip(workers, digests, strict=True):
        score = world.protocol.account(worker.address).score
        reached = prediction.contribute(result_hash(task, digest), score)
        world.contribute(worker, task, matched, digest)
        assert (world.protocol.task(task).status == TaskStatus.REVEALING) is reached
    assert prediction.winner == result_hash(task, DIGEST)
    return matched, task


def _raise_scores(world: World, pair: list[Worker], rounds: int) -> None:
    """Makes both workers of `pair` win `rounds` replicated tasks together (score +1 each).
    Trust 4 needs both of them while their weights stay below 4 (score < 15)."""
    for _ in range(rounds):
        matched, task = _run_task(world, pair, trust=4)
        world.protocol.reveal_all(world.stranger, task, DIGEST)
        world.scheduler.finalize(task, matched.deal, RESULTS)


# ─── finalize: payments ───


def test_finalize_pays_every_party_when_workers_agree(world: World) -> None:
    winners = world.workers[:3]
    matched, task = _run_task(world, winners, trust=8)
    deal = matched.deal
    world.protocol.reveal_all(world.stranger, task, DIGEST)
    parties = _parties(world)
    before = _accounts(world, parties)

    world.scheduler.finalize(task, deal, RESULTS)

    after = _accounts(world, parties)
    weights = {c.worker: c.weight for c in world.protocol.contributions(task)}
    split = _split(deal, weights, [])
    # 10 tokens, 1 % to the scheduler: 9.9 tokens shared by three equal weights.
    assert split.workers == {w.address: 3_300_000_000 for w in winners}
    assert split.scheduler == 100_000_000
    requester, scheduler = world.requester.address, world.scheduler.address
    app_owner, dataset_owner = world.app_provider.address, world.dataset_provider.address
    assert after[requester].free == before[requester].free
    assert after[requester].locked == before[requester].locked - deal.task_price
    assert deal.task_price == APP_PRICE + DATASET_PRICE + WORKERPOOL_PRICE
    assert after[app_owner].free == before[app_owner].free + APP_PRICE
    assert after[dataset_owner].free == before[dataset_owner].free + DATASET_PRICE
    for worker in winners:
        a = worker.address
        assert after[a].locked == before[a].locked - deal.worker_stake
        assert after[a].free == before[a].free + deal.worker_stake + split.workers[a]
    assert after[scheduler].locked == before[scheduler].locked - deal.scheduler_stake
    assert after[scheduler].free == before[scheduler].free + deal.scheduler_stake + split.scheduler
    untouched = set(parties) - {requester, scheduler, app_owner, dataset_owner}
    untouched -= {w.address for w in winners}
    assert all(after[a] == before[a] for a in untouched)
    _assert_conserved(world)


def test_finalize_seizes_stake_and_cuts_score_when_worker_dissents(world: World) -> None:
    dissenter, *agreeing = world.workers[:5]
    _raise_scores(world, [dissenter, agreeing[0]], rounds=3)
    assert world.protocol.account(dissenter.address).score == 3
    digests = [OTHER_DIGEST] + [DIGEST] * len(agreeing)
    matched, task = _run_task(world, [dissenter, *agreeing], trust=4, digests=digests)
    deal = matched.deal
    world.protocol.reveal_all(world.stranger, task, DIGEST)
    parties = _parties(world)
    before = _accounts(world, parties)

    world.scheduler.finalize(task, deal, RESULTS)

    after = _accounts(world, parties)
    weights = {c.worker: c.weight for c in world.protocol.contributions(task)}
    del weights[dissenter.address]
    split = _split(deal, weights, [dissenter.address])
    # The dissenter's stake joins the workers' reward: (10 + 3) · 99 % over four equal weights.
    assert split.workers == {w.address: 3_217_500_000 for w in agreeing}
    assert split.scheduler == 13 * TOKEN - 4 * 3_217_500_000
    d = dissenter.address
    assert after[d].free == before[d].free
    assert after[d].locked == before[d].locked - deal.worker_stake
    assert after[d].score == score_after_faulty(3) == 2
    for worker in agreeing:
        a = worker.address
        assert after[a].free == before[a].free + deal.worker_stake + split.workers[a]
        assert after[a].score == before[a].score + 1
    scheduler = world.scheduler.address
    assert after[scheduler].free == before[scheduler].free + deal.scheduler_stake + split.scheduler
    (faulty,) = world.protocol.task_events(task, "FaultyContribution")
    assert faulty["worker"] == d
    _assert_conserved(world)


def test_finalize_seizes_stake_and_cuts_score_when_winner_unrevealed(world: World) -> None:
    silent, revealer = world.workers[:2]
    _raise_scores(world, [silent, revealer], rounds=5)
    assert world.protocol.account(silent.address).score == 5
    matched, task = _run_task(world, [silent, revealer], trust=4)
    deal = matched.deal
    revealer.reveal(task, DIGEST)
    _advance_to(world, world.protocol.task(task).reveal_deadline)
    before = _accounts(world, [silent.address, revealer.address])

    world.scheduler.finalize(task, deal, RESULTS)

    after = _accounts(world, [silent.address, revealer.address])
    split = _split(deal, {revealer.address: 2}, [silent.address])
    assert split.workers == {revealer.address: 12_870_000_000}
    s, r = silent.address, revealer.address
    assert after[s] == AccountView(
        free=before[s].free,
        locked=before[s].locked - deal.worker_stake,
        score=score_after_faulty(5),
    )
    assert after[s].score == 3
    assert after[r].free == before[r].free + deal.worker_stake + split.workers[r]
    assert after[r].score == 6
    _assert_conserved(world)


def test_finalize_seizes_stake_when_copier_rejected_by_reveal_all(world: World) -> None:
    honest, other, copier = world.workers[:3]
    matched, task = world.started_task(trust=8)
    world.contribute(honest, task, matched)
    world.contribute(other, task, matched)
    world.protocol.contribute(
        copier.account,
        task,
        matched.deal,
        result_hash(task, DIGEST),
        result_seal(honest.address, task, DIGEST),  # read from the honest worker's transaction
        world.scheduler.authorize(copier.address, task),
    )
    world.scheduler.reveal_all(task, DIGEST)
    parties = _parties(world)
    before = _accounts(world, parties)

    world.scheduler.finalize(task, matched.deal, RESULTS)

    after = _accounts(world, parties)
    deal = matched.deal
    c = copier.address
    assert after[c].locked == before[c].locked - deal.worker_stake
    assert after[c].free == before[c].free
    assert after[c].score == 0
    split = _split(deal, {honest.address: 2, other.address: 2}, [c])
    assert split.workers == {honest.address: 6_435_000_000, other.address: 6_435_000_000}
    for worker in (honest, other):
        a = worker.address
        assert after[a].free == before[a].free + deal.worker_stake + split.workers[a]
        assert after[a].score == 1
    scheduler = world.scheduler.address
    assert after[scheduler].free == before[scheduler].free + deal.scheduler_stake + split.scheduler
    (faulty,) = world.protocol.task_events(task, "FaultyContribution")
    assert faulty["worker"] == c
    _assert_conserved(world)


def test_finalize_seizes_stakes_when_winners_rejected_by_reopen(world: World) -> None:
    matched, task = world.started_task(trust=4)
    rejected, fresh = world.workers[:2], world.workers[2:4]
    for worker in rejected:
        world.contribute(worker, task, matched)
    _advance_to(world, world.protocol.task(task).reveal_deadline)
    world.scheduler.reopen(task, matched.deal)
    for worker in fresh:
        world.contribute(worker, task, matched)
    world.protocol.reveal_all(world.stranger, task, DIGEST)
    parties = _parties(world)
    before = _accounts(world, parties)

    world.scheduler.finalize(task, matched.deal, RESULTS)

    after = _accounts(world, parties)
    deal = matched.deal
    split = _split(deal, {w.address: 2 for w in fresh}, [w.address for w in rejected])
    for worker in rejected:
        a = worker.address
        assert after[a].locked == before[a].locked - deal.worker_stake
        assert after[a].free == before[a].free
    for worker in fresh:
        a = worker.address
        assert after[a].free == before[a].free + deal.worker_stake + split.workers[a]
        assert after[a].score == 1
    scheduler = world.scheduler.address
    assert after[scheduler].free == before[scheduler].free + deal.scheduler_stake + split.scheduler
    _assert_conserved(world)


def test_finalize_splits_rewards_by_log_weight_when_scores_differ(world: World) -> None:
    veteran, partner, novice = world.workers[:3]
    _raise_scores(world, [veteran, partner], rounds=15)
    assert world.protocol.account(veteran.address).score == 15
    assert worker_weight(15) == 4
    # Weight 4 · 2 = 8: trust 8 needs the veteran and one novice.
    matched, task = _run_task(world, [veteran, novice], trust=8)
    world.protocol.reveal_all(world.stranger, task, DIGEST)
    before = _accounts(world, [veteran.address, novice.address])

    world.scheduler.finalize(task, matched.deal, RESULTS)

    after = _accounts(world, [veteran.address, novice.address])
    weights = {c.worker: c.weight for c in world.protocol.contributions(task)}
    assert weights == {veteran.address: 4, novice.address: 2}
    split = _split(matched.deal, weights, [])
    assert split.workers == {veteran.address: 6_600_000_000, novice.address: 3_300_000_000}
    for worker in (veteran, novice):
        a = worker.address
        assert after[a].free == before[a].free + matched.deal.worker_stake + split.workers[a]
    _assert_conserved(world)


# ─── finalize: scores ───


def test_finalize_raises_scores_when_task_replicated(world: World) -> None:
    winners = world.workers[:3]
    matched, task = _run_task(world, winners, trust=8)
    world.protocol.reveal_all(world.stranger, task, DIGEST)
    before = [world.protocol.account(w.address).score for w in winners]

    world.scheduler.finalize(task, matched.deal, RESULTS)

    assert [world.protocol.account(w.address).score for w in winners] == [s + 1 for s in before]
    accurate = {e["worker"] for e in world.protocol.task_events(task, "AccurateContribution")}
    assert accurate == {w.address for w in winners}
    assert world.protocol.task_events(task, "FaultyContribution") == []


def test_finalize_keeps_score_when_task_has_one_worker(world: World) -> None:
    worker = world.workers[0]
    _raise_scores(world, [worker, world.workers[1]], rounds=2)
    matched, task = _run_task(world, [worker], trust=1)
    worker.reveal(task, DIGEST)
    before = world.protocol.account(worker.address)
    assert before.score == 2

    world.scheduler.finalize(task, matched.deal, RESULTS)

    after = world.protocol.account(worker.address)
    assert after.score == 2
    split = _split(matched.deal, {worker.address: 2}, [])
    assert after.free == before.free + matched.deal.worker_stake + split.workers[worker.address]
    assert world.protocol.task_events(task, "AccurateContribution") == []


# ─── contributeAndFinalize ───


def test_contribute_and_finalize_pays_worker_without_locking_stake(world: World) -> None:
    worker = world.workers[0]
    _raise_scores(world, [worker, world.workers[1]], rounds=1)
    matched, task = world.started_task(trust=1)
    deal = matched.deal
    parties = _parties(world)
    before = _accounts(world, parties)

    worker.contribute_and_finalize(
        task, deal, DIGEST, RESULTS, world.scheduler.authorize(worker.address, task)
    )

    after = _accounts(world, parties)
    worker_reward = deal.workerpool_price * (100 - deal.scheduler_reward_ratio) // 100
    assert worker_reward == 9_900_000_000
    w = worker.address
    assert after[w] == AccountView(
        free=before[w].free + worker_reward, locked=before[w].locked, score=before[w].score
    )
    assert after[w].score == 1
    scheduler = world.scheduler.address
    assert after[scheduler].free == (
        before[scheduler].free + deal.scheduler_stake + deal.workerpool_price - worker_reward
    )
    assert after[scheduler].locked == before[scheduler].locked - deal.scheduler_stake
    requester = world.requester.address
    assert after[requester].locked == before[requester].locked - deal.task_price
    app_owner, dataset_owner = world.app_provider.address, world.dataset_provider.address
    assert after[app_owner].free == before[app_owner].free + APP_PRICE
    assert after[dataset_owner].free == before[dataset_owner].free + DATASET_PRICE
    _assert_conserved(world)


# ─── Kitty ───


def test_claim_moves_scheduler_stake_to_kitty(world: World) -> None:
    kitty = world.protocol.kitty_address()
    assert world.protocol.account(kitty) == AccountView(free=0, locked=0, score=0)
    matched, task = world.started_task()
    _advance_to(world, matched.deal.final_deadline)

    world.requester.claim(task, matched.deal)

    assert world.protocol.account(kitty) == AccountView(
        free=0, locked=matched.deal.scheduler_stake, score=0
    )
    assert matched.deal.scheduler_stake == 3 * TOKEN
    _assert_conserved(world)


@pytest.mark.parametrize(
    ("claimed_price", "claimed_volume", "kitty", "share"),
    [
        (WORKERPOOL_PRICE, 1, 3 * TOKEN, KITTY_MIN),  # 10 % is below the 1-token floor
        (WORKERPOOL_PRICE, 4, 12 * TOKEN, 1_200_000_000),  # 10 % of the kitty
        (TOKEN, 1, 300_000_000, 300_000_000),  # the floor is capped at the whole kitty
    ],
    ids=["floor", "ten-percent", "whole-kitty"],
)
def test_finalize_pays_scheduler_kitty_share_when_kitty_not_empty(
    world: World, claimed_price: int, claimed_volume: int, kitty: int, share: int
) -> None:
    claimed, _ = world.protocol.match_orders(
        world.requester.account,
        world.app_order(volume=claimed_volume),
        world.dataset_order(volume=claimed_volume),
        world.workerpool_order(volume=claimed_volume, workerpool_price=claimed_price),
        world.request_order(volume=claimed_volume),
    )
    _advance_to(world, claimed.deal.final_deadline)
    world.requester.claim_deal(claimed)
    kitty_address = world.protocol.kitty_address()
    assert world.protocol.account(kitty_address).locked == kitty
    assert share == min(max(kitty * KITTY_RATIO // 100, KITTY_MIN), kitty)

    matched, task = _run_task(world, world.workers[:3], trust=8)
    world.protocol.reveal_all(world.stranger, task, DIGEST)
    scheduler = world.protocol.account(world.scheduler.address)

    world.scheduler.finalize(task, matched.deal, RESULTS)

    assert world.protocol.account(kitty_address).locked == kitty - share
    split = _split(matched.deal, {w.address: 2 for w in world.workers[:3]}, [])
    assert world.protocol.account(world.scheduler.address).free == (
        scheduler.free + matched.deal.scheduler_stake + split.scheduler + share
    )
    _assert_conserved(world)


def test_contribute_and_finalize_pays_scheduler_kitty_share(world: World) -> None:
    claimed = world.match()
    _advance_to(world, claimed.deal.final_deadline)
    world.requester.claim_deal(claimed)
    kitty_address = world.protocol.kitty_address()
    matched, task = world.started_task(trust=1)
    worker = world.workers[0]
    scheduler = world.protocol.account(world.scheduler.address)

    worker.contribute_and_finalize(
        task, matched.deal, DIGEST, RESULTS, world.scheduler.authorize(worker.address, task)
    )

    assert world.protocol.account(kitty_address).locked == 3 * TOKEN - KITTY_MIN
    assert world.protocol.account(world.scheduler.address).free == (
        scheduler.free + matched.deal.scheduler_stake + 100_000_000 + KITTY_MIN
    )
    _assert_conserved(world)


# ─── Conservation ───


def test_hub_holds_every_escrowed_token_when_at_rest(world: World) -> None:
    _assert_conserved(world)
    # A replicated task with a dissenter, finalized.
    digests = [OTHER_DIGEST, DIGEST, DIGEST, DIGEST, DIGEST]
    matched, task = _run_task(world, world.workers[:5], trust=4, digests=digests)
    _assert_conserved(world)
    world.protocol.reveal_all(world.stranger, task, DIGEST)
    world.scheduler.finalize(task, matched.deal, RESULTS)
    _assert_conserved(world)
    # A task with contributions, claimed; then a three-task deal never started, claimed.
    failed, failed_task = world.started_task(trust=8)
    world.contribute(world.workers[5], failed_task, failed)
    bag = world.match(volume=3)
    _assert_conserved(world)
    _advance_to(world, bag.deal.final_deadline)
    world.requester.claim(failed_task, failed.deal)
    world.requester.claim_deal(bag)
    _assert_conserved(world)
    assert world.protocol.account(world.protocol.kitty_address()).locked == 4 * 3 * TOKEN
    # A one-transaction task paid partly from the kitty, then withdrawals.
    fast, fast_task = world.started_task(trust=1)
    world.workers[6].contribute_and_finalize(
        fast_task,
        fast.deal,
        DIGEST,
        RESULTS,
        world.scheduler.authorize(world.workers[6].address, fast_task),
    )
    _assert_conserved(world)
    world.protocol.withdraw(world.workers[6].account, 5 * TOKEN)
    _assert_conserved(world)


# ─── Result callback ───


def test_finalize_delivers_results_callback_when_deal_has_callback(world: World) -> None:
    consumer = deploy_test_contract(world.client, world.owner, "ResultConsumer")
    data = b'{"price": 4242, "ts": 1700000000}'
    digest = digest_of_callback(data)
    matched, task = world.started_task(trust=4, callback=consumer.address)
    assert matched.deal.callback == consumer.address
    for worker in world.workers[:2]:
        world.contribute(worker, task, matched, digest)
    world.protocol.reveal_all(world.stranger, task, digest)

    receipt = world.protocol.finalize(
        world.scheduler.account, task, matched.deal, RESULTS, results_callback=data
    )

    assert world.protocol.task(task).status == TaskStatus.COMPLETED
    assert consumer.functions.calls().call() == 1
    assert "0x" + bytes(consumer.functions.lastId().call()).hex() == task
    assert bytes(consumer.functions.lastResult().call()) == data
    assert world.protocol.result_for(task) == data
    (called,) = world.client.events(world.protocol.hub, "ResultCallbackCalled", receipt)
    assert called["args"]["callback"] == consumer.address
    assert called["args"]["success"] is True
    statuses = [c.status for c in world.protocol.contributions(task)]
    assert statuses == [ContributionStatus.PROVED] * 2
    _assert_conserved(world)
