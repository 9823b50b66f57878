"""Task history read from a real hub's events: a replicated task finalized with a faulty
contribution, a fast-path task, a reopened task, a task claimed after a consensus and one claimed
without, each judged by the rules of pnyx.chain.history; the reader is incremental, and the
failure-aware policy learns from it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pnyx.chain.history import TaskHistory
from pnyx.domain.failure_aware import TaskRecord
from pnyx.domain.task import digest_of_file
from pnyx.domain.views import TaskStatus
from pnyx.sdk import Worker
from pnyx.services.scheduler.policies import FailureAware
from tests.helpers.world import DIGEST, RESULTS, World

pytestmark = pytest.mark.integration

WRONG = digest_of_file(b"a wrong output")


@dataclass
class Scenario:
    start: int  # the first block of the scenario
    middle: int  # the replicated task has its contributions, not its finalize
    tasks: dict[str, str]  # label → task id


def _addresses(workers: list[Worker]) -> frozenset[str]:
    return frozenset(w.address for w in workers)


def _play(world: World) -> Scenario:
    w = world.workers
    start = world.client.block_number() + 1
    # Trust 4 with one dissent needs four agreeing fresh workers: w1 is outvoted.
    replicated, t1 = world.started_task(trust=4)
    for worker, digest in zip(w[:5], [DIGEST, WRONG, DIGEST, DIGEST, DIGEST], strict=True):
        world.contribute(worker, t1, replicated, digest)
    assert world.protocol.task(t1).status == TaskStatus.REVEALING
    middle = world.client.block_number()
    world.scheduler.reveal_all(t1, DIGEST)
    world.scheduler.finalize(t1, replicated.deal, RESULTS)

    fast, t2 = world.started_task(trust=1)
    w[5].contribute_and_finalize(
        t2, fast.deal, DIGEST, RESULTS, world.scheduler.authorize(w[5].address, t2)
    )

    revealing, t3 = world.started_task(trust=8)
    for worker in w[6:9]:
        world.contribute(worker, t3, revealing)
    w[6].reveal(t3, DIGEST)  # w7 and w8 never reveal
    lonely, t4 = world.started_task(trust=8)
    world.contribute(w[9], t4, lonely)  # no consensus ever

    reopened, t5 = world.started_task(trust=4)
    for worker in w[:2]:
        world.contribute(worker, t5, reopened)
    _advance_to(world, world.protocol.task(t5).reveal_deadline)
    world.scheduler.reopen(t5, reopened.deal)
    for worker in w[2:4]:
        world.contribute(worker, t5, reopened)
    world.scheduler.reveal_all(t5, DIGEST)
    world.scheduler.finalize(t5, reopened.deal, RESULTS)

    _advance_to(world, max(revealing.deal.final_deadline, lonely.deal.final_deadline))
    world.protocol.claim(world.stranger, t3, revealing.deal)
    world.protocol.claim(world.stranger, t4, lonely.deal)
    labels = ("replicated", "fast", "revealing", "lonely", "reopened")
    return Scenario(start, middle, dict(zip(labels, (t1, t2, t3, t4, t5), strict=True)))


def _advance_to(world: World, timestamp: int) -> None:
    world.client.increase_time(max(timestamp - world.client.timestamp(), 0))


def test_task_history_judges_each_closed_task_by_its_events(world: World) -> None:
    w = world.workers
    scenario = _play(world)
    history = TaskHistory(world.protocol, start_block=scenario.start)

    closed = history.update(world.client.block_number())

    by_label = {label: c for c in closed for label, t in scenario.tasks.items() if t == c.task_id}
    assert [c.task_id for c in closed] == [
        scenario.tasks[label] for label in ("replicated", "fast", "reopened", "revealing", "lonely")
    ]
    expected = {
        "replicated": ("finalized", TaskRecord(_addresses(w[:5]), _addresses([w[1]]))),
        "fast": ("finalized", TaskRecord(_addresses([w[5]]), frozenset())),
        "reopened": ("finalized", TaskRecord(_addresses(w[:4]), _addresses(w[:2]))),
        "revealing": ("claimed", TaskRecord(_addresses(w[6:9]), _addresses(w[7:9]))),
        # No consensus: nobody is judged, though w9 contributed.
        "lonely": ("claimed", TaskRecord(frozenset(), frozenset())),
    }
    assert {k: (c.outcome, c.record) for k, c in by_label.items()} == expected
    assert by_label["lonely"].contributors == _addresses([w[9]])
    assert not history.ledger.open
    assert history.update(world.client.block_number()) == []  # each block is read once


def test_incremental_reads_in_small_ranges_give_the_same_history(world: World) -> None:
    scenario = _play(world)
    head = world.client.block_number()
    whole = TaskHistory(world.protocol, start_block=scenario.start)
    whole.update(head)
    pieces = TaskHistory(world.protocol, start_block=scenario.start, max_range=2)

    pieces.update(scenario.middle)
    replicated = scenario.tasks["replicated"]
    assert list(pieces.closed) == [] and list(pieces.ledger.open) == [replicated]
    for block in range(scenario.middle + 1, head + 1, 3):
        pieces.update(block)
    pieces.update(head)

    assert list(pieces.closed) == list(whole.closed)
    assert pieces.records == whole.records


def test_failure_aware_policy_learns_reliability_from_the_chain(world: World) -> None:
    w = world.workers
    scenario = _play(world)
    policy = FailureAware(TaskHistory(world.protocol, start_block=scenario.start))

    policy.refresh(world.client.block_number())

    scores = policy.model.reliability
    assert scores[w[1].address] < scores[w[2].address]  # outvoted once, a reopened winner once
    assert scores[w[7].address] < scores[w[6].address]  # missed its reveal
    assert scores[w[5].address] > 0.5  # the fast path counts as a success
    assert w[9].address not in scores  # never judged
