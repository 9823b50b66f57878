"""The scheduler's off-chain state machines: tasks and replicates, every allowed transition in one
table each (STYLE example 7). An illegal transition is an error, never a silent overwrite.
docs/protocol.md renders both tables as mermaid (a test keeps it up to date)."""

from __future__ import annotations

from enum import StrEnum

from pnyx.domain.lifecycle import Transition, mermaid
from pnyx.errors import ConflictError


class TaskState(StrEnum):
    RECEIVED = "RECEIVED"
    INITIALIZING = "INITIALIZING"
    INITIALIZED = "INITIALIZED"
    RUNNING = "RUNNING"
    CONSENSUS_REACHED = "CONSENSUS_REACHED"
    REVEALED = "REVEALED"
    RESULT_UPLOADED = "RESULT_UPLOADED"
    FINALIZING = "FINALIZING"
    REOPENING = "REOPENING"
    CONTRIBUTION_TIMEOUT = "CONTRIBUTION_TIMEOUT"
    CLAIMING = "CLAIMING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class ReplicateState(StrEnum):
    CREATED = "CREATED"
    RUNNING = "RUNNING"
    COMPUTED = "COMPUTED"
    CONTRIBUTING = "CONTRIBUTING"
    CONTRIBUTED = "CONTRIBUTED"
    REVEALING = "REVEALING"
    REVEALED = "REVEALED"
    UPLOADING = "UPLOADING"
    UPLOADED = "UPLOADED"
    COMPLETED = "COMPLETED"
    WORKER_LOST = "WORKER_LOST"
    ABORTED = "ABORTED"
    FAILED = "FAILED"


class Action(StrEnum):
    """What the scheduler asks a worker to do next for one replicate."""

    PLEASE_CONTINUE = "PLEASE_CONTINUE"
    PLEASE_CONTRIBUTE = "PLEASE_CONTRIBUTE"
    PLEASE_CONTRIBUTE_AND_FINALIZE = "PLEASE_CONTRIBUTE_AND_FINALIZE"
    PLEASE_WAIT = "PLEASE_WAIT"
    PLEASE_REVEAL = "PLEASE_REVEAL"
    PLEASE_UPLOAD = "PLEASE_UPLOAD"
    PLEASE_COMPLETE = "PLEASE_COMPLETE"
    PLEASE_ABORT = "PLEASE_ABORT"


T = TaskState
TASK_TRANSITIONS: tuple[Transition, ...] = (
    Transition(T.RECEIVED, T.INITIALIZING, "initialize sent"),
    Transition(T.INITIALIZING, T.INITIALIZED, "initialize mined (or found ACTIVE on chain)"),
    Transition(T.INITIALIZING, T.RECEIVED, "initialize dropped, retry"),
    Transition(T.INITIALIZED, T.RUNNING, "first replicate assigned"),
    Transition(T.RUNNING, T.CONSENSUS_REACHED, "chain task REVEALING"),
    Transition(T.RUNNING, T.COMPLETED, "contributeAndFinalize mined"),
    Transition(T.CONSENSUS_REACHED, T.REVEALED, "a winner revealed on chain"),
    Transition(T.CONSENSUS_REACHED, T.REOPENING, "reveal deadline passed, nobody revealed"),
    Transition(T.REOPENING, T.RUNNING, "reopen mined"),
    Transition(T.REOPENING, T.CONSENSUS_REACHED, "reopen failed, retry"),
    Transition(T.REVEALED, T.RESULT_UPLOADED, "archive in the result store"),
    Transition(T.RESULT_UPLOADED, T.FINALIZING, "finalize sent"),
    Transition(T.FINALIZING, T.RESULT_UPLOADED, "finalize dropped, retry"),
    Transition(T.FINALIZING, T.COMPLETED, "finalize mined"),
    Transition(T.INITIALIZED, T.CONTRIBUTION_TIMEOUT, "contribution deadline passed"),
    Transition(T.RUNNING, T.CONTRIBUTION_TIMEOUT, "contribution deadline passed"),
    Transition(T.RECEIVED, T.CLAIMING, "final deadline passed"),
    Transition(T.INITIALIZED, T.CLAIMING, "final deadline passed"),
    Transition(T.RUNNING, T.CLAIMING, "final deadline passed"),
    Transition(T.CONTRIBUTION_TIMEOUT, T.CLAIMING, "final deadline passed"),
    Transition(T.CONSENSUS_REACHED, T.CLAIMING, "final deadline passed"),
    Transition(T.REVEALED, T.CLAIMING, "final deadline passed"),
    Transition(T.RESULT_UPLOADED, T.CLAIMING, "final deadline passed"),
    Transition(T.REOPENING, T.CLAIMING, "final deadline passed"),
    Transition(T.CLAIMING, T.FAILED, "claim mined (requester refunded)"),
)

R = ReplicateState
REPLICATE_TRANSITIONS: tuple[Transition, ...] = (
    Transition(R.CREATED, R.RUNNING, "worker started (download, compute)"),
    Transition(R.CREATED, R.COMPUTED, "worker computed"),
    Transition(R.RUNNING, R.COMPUTED, "result or error archive ready"),
    Transition(R.COMPUTED, R.CONTRIBUTING, "contribute sent"),
    Transition(R.CONTRIBUTING, R.CONTRIBUTED, "contribution on chain"),
    Transition(R.COMPUTED, R.CONTRIBUTED, "contribution on chain"),
    Transition(R.CONTRIBUTED, R.REVEALING, "asked to reveal"),
    Transition(R.REVEALING, R.REVEALED, "reveal on chain"),
    Transition(R.CONTRIBUTED, R.REVEALED, "revealed by another winner's revealAll"),
    Transition(R.REVEALED, R.UPLOADING, "asked to upload"),
    Transition(R.REVEALED, R.UPLOADED, "archive accepted by the result store"),
    Transition(R.UPLOADING, R.UPLOADED, "archive accepted by the result store"),
    Transition(R.COMPUTED, R.COMPLETED, "contributeAndFinalize mined"),
    Transition(R.CONTRIBUTING, R.COMPLETED, "contributeAndFinalize mined"),
    Transition(R.CONTRIBUTED, R.COMPLETED, "task completed"),
    Transition(R.REVEALING, R.COMPLETED, "task completed"),
    Transition(R.REVEALED, R.COMPLETED, "task completed"),
    Transition(R.UPLOADING, R.COMPLETED, "task completed"),
    Transition(R.UPLOADED, R.COMPLETED, "task completed"),
    *(
        Transition(source, R.WORKER_LOST, "no ping for the lost timeout")
        for source in (
            R.CREATED,
            R.RUNNING,
            R.COMPUTED,
            R.CONTRIBUTING,
            R.CONTRIBUTED,
            R.REVEALING,
            R.UPLOADING,
        )
    ),
    *(
        Transition(R.WORKER_LOST, target, "worker back")
        for target in (R.RUNNING, R.COMPUTED, R.CONTRIBUTED, R.REVEALED)
    ),
    *(
        Transition(source, R.ABORTED, "not needed any more (consensus reached, task ended)")
        for source in (R.CREATED, R.RUNNING, R.COMPUTED, R.WORKER_LOST)
    ),
    *(
        Transition(source, R.FAILED, "worker failed, or wrong result")
        for source in (
            R.CREATED,
            R.RUNNING,
            R.COMPUTED,
            R.CONTRIBUTING,
            R.CONTRIBUTED,
            R.REVEALING,
            R.UPLOADING,
            R.WORKER_LOST,
        )
    ),
)

FINAL_TASK_STATES = frozenset({T.COMPLETED, T.FAILED})
FINAL_REPLICATE_STATES = frozenset({R.COMPLETED, R.ABORTED, R.FAILED})
# Replicates that may still contribute: pending when deciding whether to hand out more.
PENDING_REPLICATE_STATES = frozenset({R.CREATED, R.RUNNING, R.COMPUTED, R.CONTRIBUTING})


class IllegalTransitionError(ConflictError):
    """A state change the workflow table does not allow."""


def check_task(source: TaskState, target: TaskState) -> None:
    if source != target and not any(
        t.source == source and t.target == target for t in TASK_TRANSITIONS
    ):
        raise IllegalTransitionError(f"task cannot go from {source} to {target}")


def check_replicate(source: ReplicateState, target: ReplicateState) -> None:
    allowed = any(t.source == source and t.target == target for t in REPLICATE_TRANSITIONS)
    if source != target and not allowed:
        raise IllegalTransitionError(f"replicate cannot go from {source} to {target}")


def task_mermaid() -> str:
    return mermaid(TASK_TRANSITIONS, terminal=(T.COMPLETED, T.FAILED))


def replicate_mermaid() -> str:
    return mermaid(REPLICATE_TRANSITIONS, terminal=(R.COMPLETED, R.ABORTED, R.FAILED))
