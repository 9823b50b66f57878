"""Refunds: once a deal is past its final deadline, every task of it that did not complete can be
claimed — by anyone — and its price goes back to the requester (the scheduler's stake is seized,
the workers' stakes are released). Tasks nobody started are started and claimed in the same
transaction (`initializeAndClaimBatch`), so a requester whose scheduler vanished gets everything
back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_account.signers.local import LocalAccount

from pnyx.chain.protocol import MatchedDeal, Protocol
from pnyx.domain._hex import to_hex32
from pnyx.domain.views import AccountView, TaskStatus
from pnyx.errors import ConflictError, ContractRevert
from pnyx.types import Address, DealId, TaskId

CLAIMABLE_STATUSES = frozenset({TaskStatus.UNSET, TaskStatus.ACTIVE, TaskStatus.REVEALING})


class NothingToClaimError(ConflictError):
    """No task of the deal can be claimed: all are decided, or the final deadline is ahead."""


@dataclass(frozen=True)
class Refund:
    """What a claim did: the tasks it failed and what went back to the requester."""

    deal_id: DealId
    requester: Address
    claimed: list[TaskId]
    refunded: int
    skipped: dict[TaskId, str]
    requester_account: AccountView

    def as_json(self) -> dict[str, Any]:
        return {
            "deal_id": self.deal_id,
            "requester": self.requester,
            "claimed": self.claimed,
            "refunded": self.refunded,
            "skipped": self.skipped,
            "requester_free": self.requester_account.free,
            "requester_locked": self.requester_account.locked,
        }


def claim_deal(protocol: Protocol, sender: LocalAccount, deal_id: str) -> Refund:
    """Claims every task of the deal that is not COMPLETED or FAILED; raises
    `NothingToClaimError` if there is none or the deal's final deadline is not reached yet."""
    matched = protocol.find_deal(to_hex32(deal_id))
    views = protocol.tasks(list(matched.task_ids))
    claimable = [
        (matched.deal.bot_first + i, view.task_id)
        for i, view in enumerate(views)
        if view.status in CLAIMABLE_STATUSES
    ]
    skipped = {
        TaskId(view.task_id): view.status.name
        for view in views
        if view.status not in CLAIMABLE_STATUSES
    }
    if not claimable:
        raise NothingToClaimError(
            f"nothing to claim in deal {matched.deal_id}: every task is already "
            f"{' or '.join(sorted(set(skipped.values())))}"
        )
    try:
        for first_idx, count in _runs([idx for idx, _ in claimable]):
            protocol.initialize_and_claim_batch(
                sender, matched.deal_id, matched.deal, first_idx, count
            )
    except ContractRevert as exc:
        if exc.name == "PocoFinalDeadlineNotReached":
            raise NothingToClaimError(_too_early(protocol, matched)) from exc
        raise
    claimed = [TaskId(task_id) for _, task_id in claimable]
    return Refund(
        deal_id=matched.deal_id,
        requester=matched.deal.requester,
        claimed=claimed,
        refunded=matched.deal.task_price * len(claimed),
        skipped=skipped,
        requester_account=protocol.account(matched.deal.requester),
    )


def _runs(indices: list[int]) -> list[tuple[int, int]]:
    """Sorted task indices as (first, count) runs of consecutive ones: one batch per run."""
    runs: list[tuple[int, int]] = []
    for idx in sorted(indices):
        if runs and runs[-1][0] + runs[-1][1] == idx:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((idx, 1))
    return runs


def _too_early(protocol: Protocol, matched: MatchedDeal) -> str:
    deadline = matched.deal.final_deadline
    wait_s = max(deadline - protocol.client.timestamp(), 0)
    at = datetime.fromtimestamp(deadline, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"nothing to claim yet: deal {matched.deal_id} reaches its final deadline at {at} "
        f"(about {wait_s} s from now on chain); its unfinished tasks can be claimed after that"
    )
