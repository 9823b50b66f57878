"""The scheduler's state-machine tables, the detectors (one test each) and the replicate budget."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pnyx.config import REPO_DIR
from pnyx.services.scheduler.assignment import available_workers, needs_more
from pnyx.services.scheduler.detectors import (
    ContributionDeadlineDetector,
    FinalDeadlineDetector,
    Finding,
    RevealDeadlineDetector,
    WorkerLostDetector,
)
from pnyx.services.scheduler.policies import LeastLoaded, wins
from pnyx.services.scheduler.workflow import (
    IllegalTransitionError,
    ReplicateState,
    TaskState,
    check_replicate,
    check_task,
    replicate_mermaid,
    task_mermaid,
)

pytestmark = pytest.mark.unit


def _task(task_id: str, state: TaskState, deal: str = "d", reveal_deadline: int = 0) -> Any:
    return SimpleNamespace(
        task_id=task_id, deal_id=deal, state=state, reveal_deadline=reveal_deadline
    )


def _replicate(
    worker: str, state: ReplicateState, weight: int = 2, result_hash: str | None = None
) -> Any:
    return SimpleNamespace(worker=worker, state=state, weight=weight, result_hash=result_hash)


DEALS: Any = {"d": SimpleNamespace(contribution_deadline=700, final_deadline=1000)}


def test_protocol_document_shows_the_scheduler_state_machines() -> None:
    document = (REPO_DIR / "docs" / "protocol.md").read_text()
    for render in (task_mermaid, replicate_mermaid):
        assert f"```mermaid\n{render()}\n```" in document


def test_illegal_transitions_are_refused() -> None:
    check_task(TaskState.RUNNING, TaskState.CONSENSUS_REACHED)
    with pytest.raises(IllegalTransitionError):
        check_task(TaskState.COMPLETED, TaskState.RUNNING)
    check_replicate(ReplicateState.COMPUTED, ReplicateState.CONTRIBUTED)
    with pytest.raises(IllegalTransitionError):
        check_replicate(ReplicateState.CREATED, ReplicateState.REVEALED)


def test_contribution_deadline_detector_flags_running_tasks_only_after_the_deadline() -> None:
    tasks = [
        _task("a", TaskState.RUNNING),
        _task("b", TaskState.CONSENSUS_REACHED),
        _task("c", TaskState.INITIALIZED),
    ]
    detector = ContributionDeadlineDetector()
    assert detector.detect(tasks, DEALS, 699) == []
    found = detector.detect(tasks, DEALS, 700)
    assert [(d.finding, d.subject) for d in found] == [
        (Finding.CONTRIBUTION_TIMEOUT, "a"),
        (Finding.CONTRIBUTION_TIMEOUT, "c"),
    ]


def test_reveal_deadline_detector_flags_consensus_without_reveal_after_the_deadline() -> None:
    tasks = [
        _task("a", TaskState.CONSENSUS_REACHED, reveal_deadline=500),
        _task("b", TaskState.REVEALED, reveal_deadline=500),
    ]
    detector = RevealDeadlineDetector()
    assert detector.detect(tasks, 499) == []
    assert [d.subject for d in detector.detect(tasks, 500)] == ["a"]


def test_final_deadline_detector_flags_every_unfinished_task() -> None:
    tasks = [
        _task("a", TaskState.RECEIVED),
        _task("b", TaskState.RUNNING),
        _task("c", TaskState.COMPLETED),
        _task("d", TaskState.FAILED),
        _task("e", TaskState.FINALIZING),
        _task("f", TaskState.CLAIMING),
    ]
    detector = FinalDeadlineDetector()
    assert detector.detect(tasks, DEALS, 999) == []
    assert [d.subject for d in detector.detect(tasks, DEALS, 1000)] == ["a", "b", "f"]


def test_worker_lost_detector_flags_silent_workers() -> None:
    workers: Any = [
        SimpleNamespace(address="w1", lost=False, last_ping=100.0),
        SimpleNamespace(address="w2", lost=False, last_ping=103.5),
        SimpleNamespace(address="w3", lost=True, last_ping=90.0),
        SimpleNamespace(address="w4", lost=False, last_ping=0.0),
    ]
    found = WorkerLostDetector(lost_after_s=3.0).detect(workers, 104.0)
    assert [(d.finding, d.subject) for d in found] == [(Finding.WORKER_LOST, "w1")]


@pytest.mark.parametrize(
    ("trust", "replicates", "expected"),
    [
        (1, [], True),
        (1, [_replicate("a", ReplicateState.RUNNING)], False),
        (
            8,
            [_replicate("a", ReplicateState.RUNNING), _replicate("b", ReplicateState.RUNNING)],
            True,
        ),
        (8, [_replicate(w, ReplicateState.RUNNING) for w in "abc"], False),
        # a lost worker no longer counts as pending: a replacement is needed at once
        (
            8,
            [
                *(_replicate(w, ReplicateState.RUNNING) for w in "ab"),
                _replicate("c", ReplicateState.WORKER_LOST),
            ],
            True,
        ),
        # a lost worker's contribution on chain still counts
        (
            8,
            [
                *(_replicate(w, ReplicateState.RUNNING) for w in "ab"),
                _replicate("c", ReplicateState.CONTRIBUTED, result_hash="h"),
            ],
            False,
        ),
        # a dissenting contribution raises the bar
        (
            8,
            [
                _replicate("a", ReplicateState.CONTRIBUTED, result_hash="x"),
                *(_replicate(w, ReplicateState.CONTRIBUTED, result_hash="y") for w in "bcd"),
            ],
            True,
        ),
        # the fast path stores no contribution: past it, the replicate still settles trust 1
        (1, [_replicate("a", ReplicateState.UPLOADING)], False),
        (1, [_replicate("a", ReplicateState.COMPLETED)], False),
    ],
)
def test_needs_more_follows_the_consensus_rule(
    trust: int, replicates: list[Any], expected: bool
) -> None:
    assert needs_more(trust, replicates) is expected


def test_least_loaded_worker_gets_the_work_first() -> None:
    me: Any = SimpleNamespace(address="busy", lost=False, last_ping=100.0, max_tasks=2, tee=False)
    idle: Any = SimpleNamespace(address="idle", lost=False, last_ping=99.5, max_tasks=2, tee=False)
    replicates = [_replicate("busy", ReplicateState.RUNNING)]

    def winners() -> list[str]:
        available = available_workers([me, idle], replicates, 100.0, 3.0)
        return [
            c.address for c in available if wins(LeastLoaded(), "0x01", [], c, available, False)
        ]

    assert winners() == ["idle"]
    # an idle worker that stopped asking does not hold the others back
    idle.last_ping = 90.0
    assert winners() == ["busy"]
