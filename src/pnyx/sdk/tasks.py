"""A task seen from both sides: the chain, which decides (status, contributions, consensus,
results), and its workerpool's scheduler, which tells what is happening (task state, each
replicate's timeline and exit cause, and — for the requester only — the app's logs).

The deal of a task comes from its `TaskInitialized` event, its workerpool from the deal, and the
scheduler's URL from the workerpool's registered description. The chain part never depends on the
scheduler: when the scheduler cannot be reached, the report says why and carries the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount

from pnyx.api.schemas.scheduler import TaskLogs, TaskRead
from pnyx.chain.protocol import MatchedDeal, Protocol
from pnyx.clients.scheduler import SchedulerClient, sign_logs_request
from pnyx.domain._hex import to_hex32
from pnyx.domain.views import ContributionView, TaskStatus, TaskView
from pnyx.errors import PnyxError
from pnyx.sdk.run import FINAL_SCHEDULER_STATES, SCHEDULER_SETTLE_S, scheduler_url
from pnyx.types import DealId

FINAL_STATUSES = frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED})
SCHEDULER_TIMEOUT_S = 5.0


class TaskWatchTimeoutError(PnyxError):
    """A watched task did not reach COMPLETED or FAILED in time."""


@dataclass(frozen=True)
class OffChainView:
    """What the workerpool's scheduler says of the task, or why it could not be asked."""

    scheduler_url: str | None = None
    task: TaskRead | None = None
    error: str | None = None
    logs: TaskLogs | None = None
    logs_error: str | None = None

    @property
    def available(self) -> bool:
        return self.task is not None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"url": self.scheduler_url, "available": self.available}
        if self.task is None:
            data["error"] = self.error
        else:
            data |= {
                "state": self.task.state,
                "history": self.task.history,
                "replicates": [r.model_dump() for r in self.task.replicates],
            }
        return data

    def logs_json(self) -> dict[str, Any] | None:
        if self.logs is not None:
            return {"replicates": [r.model_dump() for r in self.logs.replicates]}
        if self.logs_error is not None:
            return {"error": self.logs_error}
        return None


@dataclass(frozen=True)
class TaskReport:
    """A task's on-chain record beside its scheduler's view."""

    view: TaskView
    contributions: list[ContributionView]
    deal_id: DealId | None
    results: str | None
    results_callback: str | None
    offchain: OffChainView

    @property
    def task_id(self) -> str:
        return self.view.task_id

    @property
    def is_final(self) -> bool:
        return self.view.status in FINAL_STATUSES

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "task_id": self.view.task_id,
            "deal_id": self.deal_id,
            "status": self.view.status.name,
            "contributors": self.view.contributor_count,
            "revealed": self.view.reveal_count,
            "winners": self.view.winner_count,
            "reveal_deadline": self.view.reveal_deadline,
            "consensus": self.view.consensus_value,
            "contributions": [
                {
                    "worker": c.worker,
                    "status": c.status.name,
                    "result_hash": c.result_hash,
                    "weight": c.weight,
                }
                for c in self.contributions
            ],
        }
        if self.results is not None:
            data["results"] = self.results
        if self.results_callback is not None:
            data["results_callback"] = self.results_callback
        data["scheduler"] = self.offchain.as_json()
        logs = self.offchain.logs_json()
        if logs is not None:
            data["logs"] = logs
        return data


def task_deal(protocol: Protocol, task_id: str) -> MatchedDeal | None:
    """The deal a task belongs to, from its `TaskInitialized` event; None before initialization
    (a task id is a hash of its deal id and index, so nothing else leads back to the deal)."""
    initialized = protocol.task_events(to_hex32(task_id), "TaskInitialized")
    if not initialized:
        return None
    return protocol.find_deal(to_hex32(bytes(initialized[0]["dealId"])))


def inspect_task(
    protocol: Protocol, task_id: str, *, reader: LocalAccount | None = None
) -> TaskReport:
    """The task on chain and at its scheduler; with `reader` (the requester), its logs too."""
    inspector = TaskInspector(protocol, task_id, reader=reader)
    try:
        return inspector.report()
    finally:
        inspector.close()


def watch_task(
    protocol: Protocol,
    task_id: str,
    *,
    reader: LocalAccount | None = None,
    on_report: Callable[[TaskReport], None] | None = None,
    timeout_s: float = 600.0,
    poll_s: float = 0.5,
) -> TaskReport:
    """Reports the task every `poll_s` until it is COMPLETED or FAILED on chain and the
    scheduler's view has caught up (or `SCHEDULER_SETTLE_S` passed); returns the last report."""
    inspector = TaskInspector(protocol, task_id, reader=reader)
    deadline = time.monotonic() + timeout_s
    settled_by: float | None = None
    try:
        while True:
            report = inspector.report()
            if on_report is not None:
                on_report(report)
            if report.is_final:
                settled_by = settled_by or time.monotonic() + SCHEDULER_SETTLE_S
                scheduled = report.offchain.task
                if (
                    scheduled is None
                    or scheduled.state in FINAL_SCHEDULER_STATES
                    or time.monotonic() > settled_by
                ):
                    return report
            if time.monotonic() > deadline:
                raise TaskWatchTimeoutError(
                    f"task {report.task_id} still {report.view.status.name} after {timeout_s:.0f} s"
                )
            time.sleep(poll_s)
    finally:
        inspector.close()


@dataclass
class TaskInspector:
    """Builds reports of one task, keeping what does not change between them (its deal, its
    scheduler client) so a watch costs a few reads per refresh."""

    protocol: Protocol
    task_id: str
    reader: LocalAccount | None = None
    _deal: MatchedDeal | None = field(default=None, init=False)
    _scheduler_known: bool = field(default=False, init=False)
    _scheduler_url: str | None = field(default=None, init=False)
    _scheduler: SchedulerClient | None = field(default=None, init=False)
    _logs_signature: str | None = field(default=None, init=False)
    _finalized: tuple[str | None, str | None] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.task_id = to_hex32(self.task_id)

    def report(self) -> TaskReport:
        view = self.protocol.task(self.task_id)
        contributions = self.protocol.contributions(self.task_id)
        if self._deal is None and view.status != TaskStatus.UNSET:
            self._deal = task_deal(self.protocol, self.task_id)
        results, callback = self._results(view)
        return TaskReport(
            view=view,
            contributions=contributions,
            deal_id=self._deal.deal_id if self._deal else None,
            results=results,
            results_callback=callback,
            offchain=self._offchain(),
        )

    def close(self) -> None:
        if self._scheduler is not None:
            self._scheduler.close()
            self._scheduler = None

    def _results(self, view: TaskView) -> tuple[str | None, str | None]:
        if view.status != TaskStatus.COMPLETED:
            return None, None
        if self._finalized is None:
            from_block = self._deal.block_number if self._deal else 0
            events = self.protocol.task_events(self.task_id, "TaskFinalized", from_block=from_block)
            link = bytes(events[-1]["results"]).decode(errors="replace") if events else None
            self._finalized = (link, "0x" + self.protocol.result_for(self.task_id).hex())
        return self._finalized

    def _offchain(self) -> OffChainView:
        if self._deal is None:
            return OffChainView(
                error="the task is not initialized on chain yet, so its deal and scheduler are "
                "not known"
            )
        scheduler = self._client()
        if scheduler is None:
            return OffChainView(
                error=f"workerpool {self._deal.deal.workerpool} publishes no scheduler URL "
                "in its description"
            )
        try:
            task = scheduler.task(self.task_id)
        except PnyxError as exc:
            return OffChainView(scheduler_url=self._scheduler_url, error=_one_line(exc))
        if self.reader is None:
            return OffChainView(scheduler_url=self._scheduler_url, task=task)
        try:
            logs = scheduler.logs(self.task_id, self._signature(self.reader))
        except PnyxError as exc:
            return OffChainView(
                scheduler_url=self._scheduler_url, task=task, logs_error=_one_line(exc)
            )
        return OffChainView(scheduler_url=self._scheduler_url, task=task, logs=logs)

    def _client(self) -> SchedulerClient | None:
        if not self._scheduler_known and self._deal is not None:
            self._scheduler_known = True
            self._scheduler_url = scheduler_url(self.protocol, self._deal.deal.workerpool)
            if self._scheduler_url:
                self._scheduler = SchedulerClient(
                    self._scheduler_url, timeout_s=SCHEDULER_TIMEOUT_S
                )
        return self._scheduler

    def _signature(self, reader: LocalAccount) -> str:
        if self._logs_signature is None:
            self._logs_signature = sign_logs_request(reader, self.task_id)
        return self._logs_signature


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
