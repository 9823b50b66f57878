"""Who gets which replicate: only the replicates the consensus still needs, to the least-loaded
worker, never twice the same task to the same worker."""

from __future__ import annotations

from collections import defaultdict
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


def load_of(worker: str, replicates: list[ReplicateRow]) -> int:
    """Active (not final, not lost) replicates a worker holds."""
    return sum(
        1
        for r in replicates
        if r.worker == worker
        and r.state not in FINAL_REPLICATE_STATES
        and r.state != ReplicateState.WORKER_LOST
    )


def is_least_loaded(
    worker: WorkerRow,
    workers: list[WorkerRow],
    replicates: list[ReplicateRow],
    wall_now: float,
    window_s: float,
) -> bool:
    """Whether no other live worker that asked recently carries fewer replicates: work goes to the
    least-loaded first: a burst of tasks spreads evenly, not to whoever polls fastest."""
    mine = load_of(worker.address, replicates)
    if mine >= worker.max_tasks:
        return False
    for other in workers:
        if other.address == worker.address or other.lost or wall_now - other.last_ping > window_s:
            continue
        theirs = load_of(other.address, replicates)
        if theirs < mine and theirs < other.max_tasks:
            return False
    return True
