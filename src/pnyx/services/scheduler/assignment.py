"""Who gets which replicate: only the replicates the consensus still needs, never twice the same
task to the same worker, and among the workers available now the one the pool's selection policy
prefers (pnyx.services.scheduler.policies)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from pnyx.domain.consensus import needs_more_contributions
from pnyx.services.scheduler.workflow import (
    FINAL_REPLICATE_STATES,
    PENDING_REPLICATE_STATES,
    ReplicateState,
)
from pnyx.store.scheduler import ReplicateRow, WorkerRow

# Replicates whose contribution is on chain (their result hash is known).
CONTRIBUTED_STATES = frozenset(
    {
        ReplicateState.CONTRIBUTED,
        ReplicateState.REVEALING,
        ReplicateState.REVEALED,
        ReplicateState.UPLOADING,
        ReplicateState.UPLOADED,
    }
)


def needs_more(
    trust: int, replicates: list[ReplicateRow], *, stale_before: datetime | None = None
) -> bool:
    """Applies the consensus rule to what is on chain plus what is still being computed.

    A replicate whose worker is lost is not pending: a replacement can be sent at once instead of
    waiting for a deadline. Nor is one created before `stale_before` that has still not
    contributed (its worker is alive but stuck). A contribution that reached the chain counts.
    """
    groups: dict[str, list[int]] = defaultdict(list)
    pending: list[int] = []
    for replicate in replicates:
        state = replicate.state
        if state in CONTRIBUTED_STATES and replicate.result_hash:
            groups[replicate.result_hash].append(replicate.weight)
        elif state in PENDING_REPLICATE_STATES:
            stale = stale_before is not None and _aware(replicate.created_at) < stale_before
            if not stale:
                pending.append(replicate.weight)
        elif state in CONTRIBUTED_STATES or state == ReplicateState.COMPLETED:
            # Past its contribution with no hash known: the fast path (contributeAndFinalize
            # stores none). It has settled the task, so it must not be handed out again.
            pending.append(replicate.weight)
    return needs_more_contributions(trust, list(groups.values()), pending)


def _aware(moment: datetime) -> datetime:
    # SQLite hands datetimes back without their timezone; they are stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Candidate:
    """A worker that could take a replicate now: alive, asking, below its max_tasks."""

    address: str
    load: int  # active replicates (`load_of`)
    tee: bool


def available_workers(
    workers: Iterable[WorkerRow],
    replicates: Iterable[ReplicateRow],
    wall_now: float,
    window_s: float,
) -> list[Candidate]:
    """The workers not lost that pinged within `window_s` and hold fewer active replicates than
    their max_tasks: those who would take work if it were offered now. A worker that stopped
    asking must not hold a task back from the others."""
    loads = Counter(r.worker for r in replicates if _is_active(r))
    return [
        Candidate(address=w.address, load=loads[w.address], tee=w.tee)
        for w in workers
        if not w.lost and wall_now - w.last_ping <= window_s and loads[w.address] < w.max_tasks
    ]


def _is_active(replicate: ReplicateRow) -> bool:
    return (
        replicate.state not in FINAL_REPLICATE_STATES
        and replicate.state != ReplicateState.WORKER_LOST
    )


def load_of(worker: str, replicates: list[ReplicateRow]) -> int:
    """Active (not final, not lost) replicates a worker holds."""
    return sum(1 for r in replicates if r.worker == worker and _is_active(r))
