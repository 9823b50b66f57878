"""Read models of on-chain state: task and contribution statuses (Solidity enums, same names and
order) and what the hub's views return."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from pnyx.types import Address, Bytes32


class TaskStatus(IntEnum):
    UNSET = 0
    ACTIVE = 1
    REVEALING = 2
    COMPLETED = 3
    FAILED = 4


class ContributionStatus(IntEnum):
    UNSET = 0
    CONTRIBUTED = 1
    PROVED = 2
    REJECTED = 3


@dataclass(frozen=True)
class AccountView:
    free: int
    locked: int
    score: int


@dataclass(frozen=True)
class TaskView:
    task_id: Bytes32
    status: TaskStatus
    contributor_count: int
    reveal_count: int
    winner_count: int
    reveal_deadline: int
    consensus_value: Bytes32
    deal_digest: int


@dataclass(frozen=True)
class ContributionView:
    worker: Address
    status: ContributionStatus
    result_hash: Bytes32
    weight: int
