"""Task history from the hub's events: who took part in each closed task and who failed it, as the
`TaskRecord`s that failure-aware selection learns from (docs/scheduler-policies.md, "History").

The rules, per task, once it is closed (finalized or claimed):

- **participants** are its contributors (TaskContributed);
- **finalized**: the failed are the workers with a FaultyContribution — a result outside the
  consensus, a winner that never revealed, a winner whose seal did not match, or a winner of a
  consensus that was reopened — and every other contributor succeeded. The one-transaction path
  (contributeAndFinalize: one TaskContributed then TaskFinalized, no TaskConsensus) is a success
  for its worker;
- **claimed after a consensus** (the task was revealing when claimed): the contributors that never
  revealed failed (missed reveal or timeout); those that revealed succeeded;
- **claimed without a consensus**: nobody is judged. Too few contributions, or contributions that
  disagree with no majority, say nothing on chain about *who* was to blame (a worker never sent,
  the scheduler, the deal's deadlines), so the record has no participants. Only the winners of a
  consensus that was reopened (none of them revealed: reopen requires it) are counted as failed.

FaultyContribution is emitted *after* TaskFinalized, in the same transaction, so a task is closed
at the end of the block range that holds its closing event, never at the event itself.

`TaskHistory` reads incrementally: a cursor and the partial state of open tasks are kept, so a
long-running scheduler reads each block once. Reorgs are not followed: read up to a confirmed head.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from web3.exceptions import Web3Exception

from pnyx.chain.protocol import Protocol
from pnyx.domain._hex import to_address, to_hex32
from pnyx.domain.failure_aware import TaskRecord
from pnyx.errors import ChainError

# The hub events the rules above read (TaskReopened: a reopened consensus's winners missed it).
HISTORY_EVENTS = (
    "TaskContributed",
    "TaskConsensus",
    "TaskRevealed",
    "TaskReopened",
    "TaskFinalized",
    "TaskClaimed",
    "FaultyContribution",
)

Outcome = Literal["finalized", "claimed"]


@dataclass(frozen=True)
class HubEvent:
    """One decoded history event: the task, the worker it names (if any), the hash it carries."""

    name: str
    task_id: str
    block_number: int
    worker: str | None = None
    value: str | None = None  # TaskContributed's result hash, TaskConsensus's consensus


@dataclass(frozen=True)
class ClosedTask:
    task_id: str
    outcome: Outcome
    block_number: int
    contributors: frozenset[str]
    record: TaskRecord


@dataclass
class _OpenTask:
    contributions: dict[str, str] = field(default_factory=dict)  # worker → result hash
    consensus: str | None = None
    revealed: set[str] = field(default_factory=set)
    faulty: set[str] = field(default_factory=set)
    missed: set[str] = field(default_factory=set)  # winners of a reopened consensus
    outcome: Outcome | None = None
    closed_at: int = -1

    def apply(self, event: HubEvent) -> None:
        name = event.name
        if name == "TaskContributed" and event.worker and event.value:
            self.contributions[event.worker] = event.value
        elif name == "TaskConsensus":
            self.consensus = event.value
        elif name == "TaskRevealed" and event.worker:
            self.revealed.add(event.worker)
        elif name == "TaskReopened":
            self.missed |= {
                w for w, h in self.contributions.items() if h == self.consensus
            } - self.revealed
            self.consensus = None
        elif name == "FaultyContribution" and event.worker:
            self.faulty.add(event.worker)
        elif name in ("TaskFinalized", "TaskClaimed"):
            self.outcome = "finalized" if name == "TaskFinalized" else "claimed"
            self.closed_at = event.block_number

    def record(self) -> TaskRecord:
        # Revealers and faulty workers are contributors; the union also covers a reader started
        # after a task's contributions (a partial history, never an invalid record).
        seen = set(self.contributions) | self.revealed | self.faulty
        if self.outcome == "finalized":
            return TaskRecord(frozenset(seen), frozenset(self.faulty))
        judged = seen if self.consensus is not None else set(self.missed)
        return TaskRecord(frozenset(judged), frozenset(judged - self.revealed))


class TaskLedger:
    """The rules above over a stream of events in chain order (pure: no chain access)."""

    def __init__(self) -> None:
        self.open: dict[str, _OpenTask] = {}
        self._closing: list[str] = []

    def apply(self, event: HubEvent) -> None:
        self.open.setdefault(event.task_id, _OpenTask()).apply(event)
        if event.name in ("TaskFinalized", "TaskClaimed"):
            self._closing.append(event.task_id)

    def close(self) -> list[ClosedTask]:
        """Closes the tasks finalized or claimed so far: call it at a block boundary only, once
        every event of the closing transactions (FaultyContribution follows TaskFinalized) is in."""
        closed = []
        for task_id in self._closing:
            task = self.open.pop(task_id)
            assert task.outcome is not None
            closed.append(
                ClosedTask(
                    task_id=task_id,
                    outcome=task.outcome,
                    block_number=task.closed_at,
                    contributors=frozenset(task.contributions),
                    record=task.record(),
                )
            )
        self._closing = []
        return closed


class TaskHistory:
    """Reads the hub's task history incrementally: `update(to_block)` reads the blocks after the
    cursor (in ranges of at most `max_range` blocks) and returns the tasks they closed; the last
    `keep` closed tasks stay available as `closed` and `records`."""

    def __init__(
        self,
        protocol: Protocol,
        *,
        start_block: int = 0,
        max_range: int = 5_000,
        keep: int = 10_000,
    ) -> None:
        self.protocol = protocol
        self.next_block = start_block
        self.max_range = max_range
        self.ledger = TaskLedger()
        # Recent tasks are the evidence that matters; older ones fall off instead of piling up.
        self.closed: deque[ClosedTask] = deque(maxlen=keep)

    @property
    def records(self) -> list[TaskRecord]:
        return [task.record for task in self.closed]

    def update(self, to_block: int) -> list[ClosedTask]:
        """Reads blocks next_block..to_block; a range that fails to read moves nothing (the next
        update retries it)."""
        found: list[ClosedTask] = []
        while self.next_block <= to_block:
            end = min(to_block, self.next_block + self.max_range - 1)
            events = self._fetch(self.next_block, end)  # before any state changes
            for event in events:
                self.ledger.apply(event)
            closed = self.ledger.close()
            self.closed.extend(closed)
            found.extend(closed)
            self.next_block = end + 1
        return found

    def _fetch(self, start: int, end: int) -> list[HubEvent]:
        logs: list[Any] = []
        for name in HISTORY_EVENTS:
            event = getattr(self.protocol.hub.events, name)()
            try:
                logs.extend(event.get_logs(from_block=start, to_block=end))
            except (OSError, Web3Exception) as exc:
                raise ChainError(f"cannot read {name} logs {start}..{end}: {exc}") from exc
        logs.sort(key=lambda log: (int(log["blockNumber"]), int(log["logIndex"])))
        return list(_decode(logs))


def _decode(logs: Iterable[Any]) -> Iterable[HubEvent]:
    for log in logs:
        args = log["args"]
        worker = args.get("worker")
        value = args.get("resultHash", args.get("consensus"))
        yield HubEvent(
            name=str(log["event"]),
            task_id=to_hex32(bytes(args["taskId"])),
            block_number=int(log["blockNumber"]),
            worker=to_address(worker) if worker is not None else None,
            value=to_hex32(bytes(value)) if value is not None else None,
        )
