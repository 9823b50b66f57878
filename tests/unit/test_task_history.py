"""The task-history rules over event streams (what `TaskHistory` folds the hub's logs with): who
took part in a closed task and who failed it. The same rules on a real hub are in
tests/integration/test_task_history.py."""

from __future__ import annotations

import pytest

from pnyx.chain.history import HubEvent, TaskLedger
from pnyx.domain.failure_aware import TaskRecord

pytestmark = pytest.mark.unit

TASK = "0x" + "01" * 32
GOOD, BAD = "0x" + "aa" * 32, "0x" + "bb" * 32


def _contributed(worker: str, value: str = GOOD) -> HubEvent:
    return HubEvent("TaskContributed", TASK, 1, worker=worker, value=value)


def _event(name: str, worker: str | None = None, value: str | None = None) -> HubEvent:
    return HubEvent(name, TASK, 2, worker=worker, value=value)


def _closed(*events: HubEvent) -> TaskRecord:
    ledger = TaskLedger()
    for event in events:
        ledger.apply(event)
    (closed,) = ledger.close()
    assert not ledger.open
    return closed.record


def test_finalized_task_fails_its_faulty_contributions() -> None:
    record = _closed(
        _contributed("a"),
        _contributed("b", BAD),
        _contributed("c"),
        _event("TaskConsensus", value=GOOD),
        _event("TaskRevealed", "a"),
        _event("TaskRevealed", "c"),
        _event("TaskFinalized"),
        _event("FaultyContribution", "b"),  # emitted after TaskFinalized, same transaction
    )
    assert record == TaskRecord(frozenset("abc"), frozenset("b"))


def test_fast_path_is_a_success_for_its_worker() -> None:
    record = _closed(_contributed("a"), _event("TaskFinalized"))
    assert record == TaskRecord(frozenset("a"), frozenset())


def test_claimed_task_after_consensus_fails_those_that_never_revealed() -> None:
    record = _closed(
        _contributed("a"),
        _contributed("b"),
        _contributed("c", BAD),
        _contributed("d"),
        _event("TaskConsensus", value=GOOD),
        _event("TaskRevealed", "a"),
        _event("TaskClaimed"),
    )
    assert record == TaskRecord(frozenset("abcd"), frozenset("bcd"))


def test_claimed_task_without_consensus_judges_nobody() -> None:
    record = _closed(_contributed("a"), _contributed("b", BAD), _event("TaskClaimed"))
    assert record == TaskRecord(frozenset(), frozenset())


def test_claimed_task_after_a_reopen_fails_only_the_reopened_winners() -> None:
    record = _closed(
        _contributed("a"),
        _contributed("b"),
        _contributed("x", BAD),
        _event("TaskConsensus", value=GOOD),
        _event("TaskReopened"),
        _contributed("c"),  # no new consensus: nothing says c was at fault
        _event("TaskClaimed"),
    )
    assert record == TaskRecord(frozenset("ab"), frozenset("ab"))


def test_a_task_stays_open_until_it_is_finalized_or_claimed() -> None:
    ledger = TaskLedger()
    for event in (_contributed("a"), _event("TaskConsensus", value=GOOD), _event("TaskRevealed")):
        ledger.apply(event)

    assert ledger.close() == []
    assert list(ledger.open) == [TASK]
