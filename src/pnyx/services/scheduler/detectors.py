"""One detector per deadline, plus lost workers (STYLE example 7). Each looks at the scheduler's
rows and the chain clock and says what it found; the engine acts on the findings. They are pure, so
each has its own unit test."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pnyx.domain.deal import Deal
from pnyx.services.scheduler.workflow import FINAL_TASK_STATES, TaskState
from pnyx.store.scheduler import TaskRow, WorkerRow


class Finding(StrEnum):
    CONTRIBUTION_TIMEOUT = "CONTRIBUTION_TIMEOUT"
    REVEAL_TIMEOUT = "REVEAL_TIMEOUT"
    FINAL_DEADLINE = "FINAL_DEADLINE"
    WORKER_LOST = "WORKER_LOST"


@dataclass(frozen=True)
class Detection:
    finding: Finding
    subject: str  # a task id, or a worker address for WORKER_LOST


class ContributionDeadlineDetector:
    """Tasks still collecting contributions when the contribution deadline has passed: no more
    workers are sent, and the task waits for its final deadline to be claimed."""

    def detect(
        self, tasks: list[TaskRow], deals: dict[str, Deal], chain_now: int
    ) -> list[Detection]:
        return [
            Detection(Finding.CONTRIBUTION_TIMEOUT, task.task_id)
            for task in tasks
            if task.state in (TaskState.INITIALIZED, TaskState.RUNNING)
            and chain_now >= deals[task.deal_id].contribution_deadline
        ]


class RevealDeadlineDetector:
    """Consensus reached but nobody revealed before the reveal deadline: reopen the task."""

    def detect(self, tasks: list[TaskRow], chain_now: int) -> list[Detection]:
        return [
            Detection(Finding.REVEAL_TIMEOUT, task.task_id)
            for task in tasks
            if task.state == TaskState.CONSENSUS_REACHED and 0 < task.reveal_deadline <= chain_now
        ]


class FinalDeadlineDetector:
    """Any unfinished task past its final deadline: claim it, so the requester is refunded (a claim
    that failed is tried again)."""

    def detect(
        self, tasks: list[TaskRow], deals: dict[str, Deal], chain_now: int
    ) -> list[Detection]:
        return [
            Detection(Finding.FINAL_DEADLINE, task.task_id)
            for task in tasks
            if task.state not in FINAL_TASK_STATES
            and task.state != TaskState.FINALIZING
            and chain_now >= deals[task.deal_id].final_deadline
        ]


class WorkerLostDetector:
    """Workers that have not pinged for `lost_after_s` seconds (wall clock)."""

    def __init__(self, lost_after_s: float) -> None:
        self.lost_after_s = lost_after_s

    def detect(self, workers: list[WorkerRow], wall_now: float) -> list[Detection]:
        return [
            Detection(Finding.WORKER_LOST, worker.address)
            for worker in workers
            if not worker.lost
            and worker.last_ping
            and wall_now - worker.last_ping > self.lost_after_s
        ]
