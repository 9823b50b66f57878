"""The on-chain state machines of deals, tasks and contributions, as one table each.

`docs/protocol.md` shows them as mermaid diagrams rendered from these tables (a test checks the
document is up to date), and off-chain code asks `is_allowed` before acting.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pnyx.domain.views import ContributionStatus, TaskStatus


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    by: str


TASK_TRANSITIONS: tuple[Transition, ...] = (
    Transition("UNSET", "ACTIVE", "initialize / initializeBatch (anyone)"),
    Transition("ACTIVE", "ACTIVE", "contribute, no consensus yet (authorized worker)"),
    Transition("ACTIVE", "REVEALING", "contribute reaching consensus (authorized worker)"),
    Transition("ACTIVE", "COMPLETED", "contributeAndFinalize, trust 1 (authorized worker)"),
    Transition("REVEALING", "REVEALING", "reveal (winner) / revealAll (anyone)"),
    Transition("REVEALING", "COMPLETED", "finalize (scheduler)"),
    Transition("REVEALING", "ACTIVE", "reopen, nobody revealed in time (scheduler)"),
    Transition("ACTIVE", "FAILED", "claim after the final deadline (anyone)"),
    Transition("REVEALING", "FAILED", "claim after the final deadline (anyone)"),
    Transition("UNSET", "FAILED", "initializeAndClaimBatch after the final deadline (anyone)"),
)

CONTRIBUTION_TRANSITIONS: tuple[Transition, ...] = (
    Transition("UNSET", "CONTRIBUTED", "contribute, stake locked"),
    Transition("CONTRIBUTED", "PROVED", "reveal / revealAll, seal matches the digest"),
    Transition("CONTRIBUTED", "REJECTED", "reopen, or revealAll with a seal that does not match"),
)

DEAL_TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "SIGNED_ORDERS", "MATCHED", "matchOrders, volume consumed, payment and stake locked"
    ),
    Transition("MATCHED", "RUNNING", "initialize of its first task"),
    Transition("RUNNING", "ENDED", "every task COMPLETED or FAILED"),
    Transition("MATCHED", "ENDED", "initializeAndClaimBatch after the final deadline"),
)


def is_allowed(table: tuple[Transition, ...], source: Enum | str, target: Enum | str) -> bool:
    names = (getattr(source, "name", source), getattr(target, "name", target))
    return any((t.source, t.target) == names for t in table)


def mermaid(table: tuple[Transition, ...], *, terminal: tuple[str, ...] = ()) -> str:
    """The table as a mermaid state diagram."""
    lines = ["stateDiagram-v2", f"    [*] --> {table[0].source}"]
    lines += [f"    {t.source} --> {t.target}: {t.by}" for t in table]
    lines += [f"    {state} --> [*]" for state in terminal]
    return "\n".join(lines)


def task_mermaid() -> str:
    return mermaid(TASK_TRANSITIONS, terminal=(TaskStatus.COMPLETED.name, TaskStatus.FAILED.name))


def contribution_mermaid() -> str:
    return mermaid(
        CONTRIBUTION_TRANSITIONS,
        terminal=(ContributionStatus.PROVED.name, ContributionStatus.REJECTED.name),
    )


def deal_mermaid() -> str:
    return mermaid(DEAL_TRANSITIONS, terminal=("ENDED",))
