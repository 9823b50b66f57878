"""The scheduler's background loop: follow the chain, start tasks, keep task states in step with
the chain, run the detectors, finalize, reopen, claim.

Every transaction is signed, its hash recorded on the task, and only then broadcast; the task keeps
that hash until the transaction is mined or known lost. So a restart never sends a second
initialize or finalize for the same step: it looks up the recorded hash (and the chain) instead.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from pnyx.chain.client import PreparedTransaction
from pnyx.chain.events import ChainEvent, EventListener, Subscription
from pnyx.domain.deal import Deal
from pnyx.domain.task import task_id as make_task_id
from pnyx.domain.views import ContributionStatus, TaskStatus, TaskView
from pnyx.errors import PnyxError
from pnyx.services.scheduler.detectors import (
    ContributionDeadlineDetector,
    Detection,
    FinalDeadlineDetector,
    Finding,
    RevealDeadlineDetector,
    WorkerLostDetector,
)
from pnyx.services.scheduler.service import SchedulerService
from pnyx.services.scheduler.workflow import (
    FINAL_REPLICATE_STATES,
    FINAL_TASK_STATES,
    ReplicateState,
    TaskState,
)
from pnyx.store.scheduler import DealRow, TaskRow, WorkerRow, append_history

log = logging.getLogger("pnyx.scheduler")
T = TaskState
R = ReplicateState
# A broadcast transaction the node no longer knows is retried after this long.
TX_LOST_AFTER_S = 30.0
# Task states whose on-chain status the loop follows.
SYNCED_STATES = {
    T.INITIALIZING,
    T.INITIALIZED,
    T.RUNNING,
    T.CONSENSUS_REACHED,
    T.REVEALED,
    T.RESULT_UPLOADED,
    T.CONTRIBUTION_TIMEOUT,
    T.FINALIZING,
    T.REOPENING,
    T.CLAIMING,
}


# The longest the engine goes without reading the chain back when no block arrives (automine).
FULL_SYNC_EVERY_S = 2.0


class Engine:
    def __init__(self, service: SchedulerService) -> None:
        self.service = service
        self.store = service.store
        self.protocol = service.protocol
        settings = service.settings
        self.listener = EventListener(
            self.protocol.client,
            [Subscription(self.protocol.hub, "DealCreated", {"workerpool": settings.workerpool})],
            key="deals",
            cursors=self.store,
            start_block=settings.start_block,
            confirmations=settings.confirmations,
        )
        self.contribution_deadlines = ContributionDeadlineDetector()
        self.reveal_deadlines = RevealDeadlineDetector()
        self.final_deadlines = FinalDeadlineDetector()
        self.lost_workers = WorkerLostDetector(settings.lost_after_s)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sent_at: dict[str, float] = {}
        self._synced_block = -1
        self._synced_at = 0.0

    # ─── Lifecycle ───
    def start(self) -> None:
        log.info("selection policy: %s", self.service.policy.name)
        self._grace_workers()
        self._thread = threading.Thread(target=self._run, name="scheduler-engine", daemon=True)
        self._thread.start()

    def _grace_workers(self) -> None:
        """After a restart, known workers get a full lost-timeout to ping again: the scheduler's own
        downtime is not theirs."""
        now = time.time()
        with self.service.lock, self.store.session() as session:
            for worker in self.store.workers(session):
                if not worker.lost:
                    worker.last_ping = now

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except PnyxError as exc:
                log.warning("scheduler step failed, retrying: %s", exc)
            except Exception:  # the loop must survive anything a node or a row throws at it
                log.exception("unexpected scheduler error, retrying")
            self._stop.wait(self.service.settings.poll_interval_s)

    # ─── One iteration ───
    def step(self) -> None:
        # What is on chain changes only with a block: reading every task back on each tick would
        # cost O(open tasks) calls for nothing. A periodic full pass still retries what failed.
        block = self.protocol.client.block_number()
        stale = time.monotonic() - self._synced_at > FULL_SYNC_EVERY_S
        if block != self._synced_block or stale:
            self.service.observe_block(block, self.protocol.client.timestamp())
            self.listener.poll(self._on_event)
            self._track_transactions()
            self._start_tasks()
            self._sync_with_chain()
            self.service.policy.refresh(block - self.service.settings.confirmations)
            self._synced_block, self._synced_at = block, time.monotonic()
        self.service.chain_now = max(self.service.chain_now, int(time.time()))
        self._run_detectors()
        self._finalize_ready_tasks()

    def _on_event(self, event: ChainEvent) -> None:
        deal_id = event.args["dealId"]
        deal = Deal.from_json(event.args["deal"])
        with self.service.lock, self.store.session() as session:
            if session.get(DealRow, deal_id) is not None:
                return
            session.add(
                DealRow(
                    deal_id=deal_id,
                    record=deal.as_json(),
                    params=event.args["params"],
                    block_number=event.block_number,
                )
            )
            for idx in range(deal.bot_first, deal.bot_first + deal.bot_size):
                task_id = make_task_id(deal_id, idx)
                session.add(
                    TaskRow(
                        task_id=task_id,
                        deal_id=deal_id,
                        idx=idx,
                        state=T.RECEIVED,
                        history=append_history([], T.RECEIVED, block=event.block_number),
                    )
                )
        log.info("deal %s: %d task(s) received", deal_id, deal.bot_size)

    # ─── Transactions ───
    def _send(
        self,
        session: Any,
        task: TaskRow,
        action: str,
        prepared: PreparedTransaction,
        target: TaskState,
    ) -> None:
        """Records the transaction on the task, then broadcasts it."""
        self.service._move_task(task, target, tx=prepared.tx_hash)
        task.pending_tx, task.pending_action = prepared.tx_hash, action
        session.flush()
        self._sent_at[prepared.tx_hash] = time.monotonic()
        self.protocol.client.broadcast(prepared)

    def _track_transactions(self) -> None:
        with self.service.lock, self.store.session() as session:
            for task in session.query(TaskRow).filter(TaskRow.pending_tx.is_not(None)).all():
                assert task.pending_tx is not None
                receipt = self.protocol.client.receipt(task.pending_tx)
                if receipt is None:
                    sent = self._sent_at.setdefault(task.pending_tx, time.monotonic())
                    lost = time.monotonic() - sent > TX_LOST_AFTER_S
                    if lost and not self.protocol.client.is_known(task.pending_tx):
                        self._retry(session, task, "transaction lost")
                    continue
                if receipt["status"] == 1:
                    self._mined(session, task)
                else:
                    self._retry(session, task, str(self.protocol.client.failure(task.pending_tx)))

    def _mined(self, session: Any, task: TaskRow) -> None:
        action, task.pending_tx, task.pending_action = task.pending_action, None, None
        if action == "initialize":
            self.service._move_task(task, T.INITIALIZED)
        elif action == "finalize":
            self._complete(session, task)
        elif action == "reopen":
            self.service._move_task(task, T.RUNNING)
            task.consensus, task.revealer, task.uploader, task.reveal_deadline = None, None, None, 0
        elif action == "claim":
            self._fail(session, task)

    def _retry(self, session: Any, task: TaskRow, reason: str) -> None:
        """A transaction failed or vanished: go back one step and let the chain sync and the
        detectors decide again (a claim stays CLAIMING and is retried by the final-deadline
        detector)."""
        log.warning("task %s: %s failed (%s)", task.task_id, task.pending_action, reason)
        back = {
            "initialize": T.RECEIVED,
            "finalize": T.RESULT_UPLOADED,
            "reopen": T.CONSENSUS_REACHED,
        }
        action, task.pending_tx, task.pending_action = task.pending_action, None, None
        if action not in back:
            return
        siblings = [task]
        if action == "initialize":  # a batch initialize is recorded on the deal's first task only
            siblings += [
                t
                for t in self.store.tasks_in(session, {T.INITIALIZING})
                if t.deal_id == task.deal_id and t.pending_tx is None
            ]
        for sibling in siblings:
            sibling.state = back[action]
            sibling.history = append_history(sibling.history, back[action], reason=reason)

    # ─── Starting tasks ───
    def _start_tasks(self) -> None:
        with self.service.lock, self.store.session() as session:
            received = self.store.tasks_in(session, {T.RECEIVED})
            by_deal: dict[str, list[TaskRow]] = {}
            for task in received:
                by_deal.setdefault(task.deal_id, []).append(task)
            for deal_id, tasks in by_deal.items():
                deal = self.service.deal(deal_id)
                if self.service.chain_now >= deal.contribution_deadline:
                    continue  # too late to run: the final-deadline detector will claim it
                views: dict[str, TaskView] = {
                    str(v.task_id): v for v in self.protocol.tasks([t.task_id for t in tasks])
                }
                fresh = [t for t in tasks if views[t.task_id].status == TaskStatus.UNSET]
                for task in tasks:
                    if views[task.task_id].status != TaskStatus.UNSET:
                        self.service._move_task(task, T.INITIALIZING)
                        self.service._move_task(task, T.INITIALIZED)  # found started on chain
                if len(fresh) == deal.bot_size and deal.bot_size > 1:
                    prepared = self.protocol.prepare_initialize_batch(
                        self.service.account, deal_id, deal.bot_first, deal.bot_size
                    )
                    self.service._move_task(fresh[0], T.INITIALIZING, tx=prepared.tx_hash)
                    fresh[0].pending_tx, fresh[0].pending_action = prepared.tx_hash, "initialize"
                    for task in fresh[1:]:
                        self.service._move_task(task, T.INITIALIZING, tx=prepared.tx_hash)
                    session.flush()
                    self.protocol.client.broadcast(prepared)
                    continue
                for task in fresh:
                    prepared = self.protocol.prepare_initialize(
                        self.service.account, deal_id, task.idx
                    )
                    self._send(session, task, "initialize", prepared, T.INITIALIZING)

    # ─── Following the chain ───
    def _sync_with_chain(self) -> None:
        with self.service.lock, self.store.session() as session:
            tasks = self.store.tasks_in(session, SYNCED_STATES)
            tasks = [t for t in tasks if t.pending_tx is None]
            views: dict[str, TaskView] = {
                str(v.task_id): v for v in self.protocol.tasks([t.task_id for t in tasks])
            }
            for task in tasks:
                self._sync_task(session, task, views[task.task_id])

    def _sync_task(self, session: Any, task: TaskRow, view: TaskView) -> None:
        state = TaskState(task.state)
        if state == T.INITIALIZING and view.status != TaskStatus.UNSET:
            # Part of a batch initialize: the transaction was recorded on the deal's first task.
            self.service._move_task(task, T.INITIALIZED)
            state = T.INITIALIZED
        if view.status == TaskStatus.COMPLETED:
            self._complete(session, task)
        elif view.status == TaskStatus.FAILED:
            self._fail(session, task)
        elif view.status == TaskStatus.REVEALING and state in (
            T.INITIALIZED,
            T.RUNNING,
            T.CONTRIBUTION_TIMEOUT,
        ):
            if state == T.CONTRIBUTION_TIMEOUT:
                return  # consensus after we gave up on contributions: the final deadline decides
            self.service.on_consensus(session, task, view.consensus_value, view.reveal_deadline)
            self.service.choose_revealer(session, task)
        elif (
            view.status == TaskStatus.REVEALING
            and state == T.CONSENSUS_REACHED
            and view.reveal_count > 0
        ):
            self.service._move_task(task, T.REVEALED)
            self.service.learn_contributions(session, task)
            self.service.choose_revealer(session, task)
        elif view.status == TaskStatus.ACTIVE and state == T.RUNNING:
            self.service.learn_contributions(session, task)
        if task.state in (T.CONSENSUS_REACHED, T.REVEALED):
            self.service.choose_revealer(session, task)

    def _complete(self, session: Any, task: TaskRow) -> None:
        """The task completed on chain: winners (proved on chain, or the fast path) complete, the
        others are aborted. The chain is read, not the reports: a missed report changes nothing."""
        if task.state in FINAL_TASK_STATES:
            return
        task.state = T.COMPLETED
        task.history = append_history(task.history, T.COMPLETED)
        task.result_link = task.result_link or self.service.result_link(task.task_id)
        proved = {
            c.worker
            for c in self.protocol.contributions(task.task_id)
            if c.status == ContributionStatus.PROVED
        }
        for replicate in self.store.replicates_of(session, task.task_id):
            if replicate.state in FINAL_REPLICATE_STATES:
                continue
            won = replicate.fast_path or replicate.worker in proved
            self.service._move_replicate(replicate, R.COMPLETED if won else R.ABORTED)
        log.info("task %s completed", task.task_id)

    def _fail(self, session: Any, task: TaskRow) -> None:
        if task.state in FINAL_TASK_STATES:
            return
        task.state = T.FAILED
        task.history = append_history(task.history, T.FAILED)
        for replicate in self.store.replicates_of(session, task.task_id):
            if replicate.state not in FINAL_REPLICATE_STATES:
                self.service._move_replicate(replicate, R.ABORTED, cause="TASK_FAILED")
        log.info("task %s failed and was claimed", task.task_id)

    # ─── Detectors ───
    def _run_detectors(self) -> None:
        now = self.service.chain_now
        with self.service.lock, self.store.session() as session:
            for detection in self.lost_workers.detect(self.store.workers(session), time.time()):
                self._on_lost_worker(session, detection)
            tasks = [t for t in session.query(TaskRow).all() if t.pending_tx is None]
            deals = {t.deal_id: self.service.deal(t.deal_id) for t in tasks}
            for detection in self.contribution_deadlines.detect(tasks, deals, now):
                self._on_contribution_timeout(session, detection)
            for detection in self.reveal_deadlines.detect(tasks, now):
                self._on_reveal_timeout(session, detection)
            for detection in self.final_deadlines.detect(tasks, deals, now):
                self._on_final_deadline(session, detection)

    def _on_lost_worker(self, session: Any, detection: Detection) -> None:
        worker = session.get(WorkerRow, detection.subject)
        worker.lost = True
        log.warning("worker %s lost", worker.address)
        for replicate in self.store.replicates_of_worker(session, worker.address):
            if replicate.state not in FINAL_REPLICATE_STATES and replicate.state != R.WORKER_LOST:
                self.service._move_replicate(replicate, R.WORKER_LOST, cause="NO_PING")
        for task in self.store.tasks_in(session, {T.CONSENSUS_REACHED, T.REVEALED}):
            self.service.choose_revealer(session, task)

    def _on_contribution_timeout(self, session: Any, detection: Detection) -> None:
        task = session.get(TaskRow, detection.subject)
        self.service._move_task(task, T.CONTRIBUTION_TIMEOUT)
        for replicate in self.store.replicates_of(session, task.task_id):
            if replicate.state in (R.CREATED, R.RUNNING, R.COMPUTED, R.WORKER_LOST):
                self.service._move_replicate(
                    replicate, R.ABORTED, cause=Finding.CONTRIBUTION_TIMEOUT
                )

    def _on_reveal_timeout(self, session: Any, detection: Detection) -> None:
        task = session.get(TaskRow, detection.subject)
        view = self.protocol.task(task.task_id)
        if view.reveal_count > 0 or view.status != TaskStatus.REVEALING:
            return  # revealed after all: the chain sync moves it on
        prepared = self.protocol.prepare_reopen(
            self.service.account, task.task_id, self.service.deal(task.deal_id)
        )
        self._send(session, task, "reopen", prepared, T.REOPENING)

    def _on_final_deadline(self, session: Any, detection: Detection) -> None:
        task = session.get(TaskRow, detection.subject)
        deal = self.service.deal(task.deal_id)
        view = self.protocol.task(task.task_id)
        if view.status in (TaskStatus.COMPLETED, TaskStatus.FAILED):
            return  # the chain sync records it
        if view.status == TaskStatus.UNSET:
            prepared = self.protocol.prepare_initialize_and_claim(
                self.service.account, task.deal_id, deal, task.idx, 1
            )
        else:
            prepared = self.protocol.prepare_claim(self.service.account, task.task_id, deal)
        self._send(session, task, "claim", prepared, T.CLAIMING)

    # ─── Finalize ───
    def _finalize_ready_tasks(self) -> None:
        with self.service.lock, self.store.session() as session:
            tasks = [
                t for t in self.store.tasks_in(session, {T.RESULT_UPLOADED}) if t.pending_tx is None
            ]
            if not tasks:
                return
            views: dict[str, TaskView] = {
                str(v.task_id): v for v in self.protocol.tasks([t.task_id for t in tasks])
            }
            callback_gas = self.protocol.callback_gas()
            for task in tasks:
                view = views[task.task_id]
                deal = self.service.deal(task.deal_id)
                if (
                    view.status != TaskStatus.REVEALING
                    or self.service.chain_now >= deal.final_deadline
                ):
                    continue
                ready = view.reveal_count > 0 and (
                    view.reveal_count == view.winner_count
                    or view.reveal_deadline <= self.service.chain_now
                )
                if not ready:
                    continue
                callback = bytes.fromhex(task.callback_data[2:]) if task.callback_data else b""
                link = (task.result_link or self.service.result_link(task.task_id)).encode()
                prepared = self.protocol.prepare_finalize(
                    self.service.account, task.task_id, deal, link, callback, callback_gas
                )
                self._send(session, task, "finalize", prepared, T.FINALIZING)
