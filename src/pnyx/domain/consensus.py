"""Consensus and credibility, in exact integers and fractions.

The chain uses iExec's integer form of Sarmenta's credibility (reference/papers.md §4):

- a worker of score s has weight w = max(s // 3, 3) - 1 (new workers: 2);
- a result's group weight is the product of the weights of the workers who returned it;
- total = 1 + Σ group weights ("1" is the term for "every result is wrong");
- a result wins when group · trust > total · (trust - 1).

That integer test is the same as the credibility Cr = group / total being above 1 - 1/trust, which
`credibility` and `meets_trust` compute with `Fraction` for the property tests and for explorers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

MAX_STORED_WEIGHT = 2**16 - 1


def worker_weight(score: int) -> int:
    """A worker's credibility weight, saturated like the contract's 16-bit field."""
    return min(max(score // 3, 3) - 1, MAX_STORED_WEIGHT)


def reward_weight(weight: int) -> int:
    """floor(log2(weight)): a winning worker's share of the workers' reward."""
    return weight.bit_length() - 1


def score_after_accurate(score: int) -> int:
    return score + 1


def score_after_faulty(score: int) -> int:
    return score * 2 // 3


def has_consensus(group_weight: int, total: int, trust: int) -> bool:
    """The on-chain integer rule."""
    return group_weight * trust > total * (trust - 1)


def credibility(group_weight: int, total: int) -> Fraction:
    """Cr(r) = P̃(r) / (1 + Σ P̃) as an exact fraction."""
    return Fraction(group_weight, total)


def meets_trust(cr: Fraction, trust: int) -> bool:
    """Cr > 1 - 1/trust: trust t means confidence 1 - 1/t."""
    return cr > 1 - Fraction(1, trust)


def replicas_needed(trust: int, weight: int = 2) -> int:
    """Agreeing workers of equal `weight` needed to reach consensus with no dissent."""
    trust = max(trust, 1)
    product, count = 1, 0
    while True:
        product *= weight
        count += 1
        if has_consensus(product, 1 + product, trust):
            return count


@dataclass
class TaskConsensus:
    """One task's contributions as the hub sees them, to predict or audit its consensus."""

    trust: int
    groups: dict[str, list[int]] = field(default_factory=dict)
    winner: str | None = None

    def group_weight(self, result_hash: str) -> int:
        weights = self.groups.get(result_hash, [])
        product = 1
        for weight in weights:
            product *= weight
        return product if weights else 0

    def total(self) -> int:
        return 1 + sum(self.group_weight(h) for h in self.groups)

    def contribute(self, result_hash: str, score: int) -> bool:
        """Adds a contribution; returns True when it brings its result to consensus."""
        if self.winner is not None:
            raise ValueError("consensus already reached")
        self.groups.setdefault(result_hash, []).append(worker_weight(score))
        if has_consensus(self.group_weight(result_hash), self.total(), max(self.trust, 1)):
            self.winner = result_hash
            return True
        return False

    def reject_winner(self) -> None:
        """What `reopen` does: the winning group's contributions no longer count."""
        if self.winner is not None:
            self.groups.pop(self.winner, None)
            self.winner = None


@dataclass(frozen=True)
class RewardSplit:
    workers: dict[str, int]
    scheduler: int


def split_worker_rewards(
    workerpool_price: int,
    scheduler_reward_ratio: int,
    worker_stake: int,
    proved: dict[str, int],
    faulty: list[str],
) -> RewardSplit:
    """What `finalize` pays: `proved` maps each revealing worker to its raw weight; `faulty`
    lists the others, whose stakes join the reward. The scheduler gets the remainder."""
    total_reward = workerpool_price + worker_stake * len(faulty)
    workers_reward = total_reward * (100 - scheduler_reward_ratio) // 100
    total_weight = sum(reward_weight(w) for w in proved.values())
    shares = {
        worker: workers_reward * reward_weight(w) // total_weight for worker, w in proved.items()
    }
    return RewardSplit(workers=shares, scheduler=total_reward - sum(shares.values()))


def needs_more_contributions(trust: int, groups: list[list[int]], pending: list[int]) -> bool:
    """Whether a scheduler should hand out another replicate.

    `groups` are the raw weights of the workers who already contributed, one list per distinct
    result; `pending` the weights of workers assigned but not yet contributed. As iExec's scheduler
    does, pending workers are assumed to join the heaviest group: if even then the consensus rule
    fails, more replicates are needed. Lost and failed workers are not pending.
    """
    products = [_product(group) for group in groups]
    best_index = max(range(len(products)), key=products.__getitem__) if products else None
    best_members = (groups[best_index] if best_index is not None else []) + pending
    best = _product(best_members) if best_members else 0
    others = sum(p for i, p in enumerate(products) if i != best_index)
    return not has_consensus(best, 1 + best + others, max(trust, 1))


def _product(weights: list[int]) -> int:
    result = 1
    for weight in weights:
        result *= weight
    return result
