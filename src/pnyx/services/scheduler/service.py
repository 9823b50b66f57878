"""The scheduler's decisions for workers and requesters: login, heartbeats, who gets which
replicate, what each worker does next, and the task views.

All decisions run under one lock with the database as the source of truth, so the HTTP threads and
the engine loop never act on a stale view, and a restarted scheduler continues from its tables.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount

from pnyx.api.schemas.scheduler import (
    ActionRead,
    AppInfo,
    Assignment,
    DatasetInfo,
    MetricsRead,
    ReplicateLogs,
    ReplicateRead,
    StatusUpdate,
    TaskLogs,
    TaskRead,
    WorkerConfig,
    WorkerRegistration,
    WorkerReplicate,
)
from pnyx.chain.protocol import Protocol
from pnyx.chain.signing import recover_eip191, sign_authorization
from pnyx.clients.results import ResultStoreClient
from pnyx.clients.sms import SmsClient
from pnyx.domain._hex import keccak, to_address, to_hex32
from pnyx.domain.consensus import worker_weight
from pnyx.domain.deal import Deal
from pnyx.domain.views import ContributionStatus, TaskStatus
from pnyx.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PnyxError,
    PnyxInputError,
)
from pnyx.services.scheduler.assignment import available_workers, needs_more
from pnyx.services.scheduler.config import SchedulerSettings
from pnyx.services.scheduler.policies import LeastLoaded, SelectionPolicy, wins
from pnyx.services.scheduler.workflow import (
    FINAL_REPLICATE_STATES,
    FINAL_TASK_STATES,
    Action,
    ReplicateState,
    TaskState,
    check_replicate,
    check_task,
)
from pnyx.store.scheduler import (
    DealRow,
    ReplicateRow,
    SchedulerStore,
    TaskRow,
    WorkerRow,
    append_history,
)
from pnyx.types import ZERO_ADDRESS

log = logging.getLogger("pnyx.scheduler")
R = ReplicateState
T = TaskState
# A worker is not sent to a task whose contribution deadline is this close.
DEADLINE_MARGIN_S = 5


def logs_message(task_id: str) -> bytes:
    """What a requester signs (EIP-191) to read a task's logs."""
    return keccak(f"pnyx-logs:{to_hex32(task_id)}".encode())


@dataclass
class SchedulerService:
    settings: SchedulerSettings
    store: SchedulerStore
    protocol: Protocol
    account: LocalAccount
    results: ResultStoreClient
    sms: SmsClient | None = None
    policy: SelectionPolicy = field(default_factory=LeastLoaded)
    lock: threading.RLock = field(default_factory=threading.RLock)
    chain_now: int = 0
    block_number: int = -1
    _scores: dict[str, tuple[int, int]] = field(default_factory=dict)  # worker → (block, score)
    _deals: dict[str, Deal] = field(default_factory=dict)
    _assets: dict[str, dict[str, Any]] = field(default_factory=dict)
    signatures: int = 0

    # ─── Worker sessions ───
    def challenge(self, address: str) -> str:
        worker = to_address(address)
        challenge = "0x" + os.urandom(32).hex()
        with self.lock, self.store.session() as session:
            row = session.get(WorkerRow, worker) or WorkerRow(address=worker)
            row.challenge = challenge
            session.add(row)
        return challenge

    def login(self, address: str, signature: str) -> str:
        worker = to_address(address)
        with self.lock, self.store.session() as session:
            row = session.get(WorkerRow, worker)
            if row is None or not row.challenge:
                raise AuthenticationError(
                    f"no login challenge for {worker}: GET /v1/workers/challenge first"
                )
            signer = recover_eip191(keccak(bytes.fromhex(row.challenge[2:])), signature)
            if signer != worker:
                raise AuthenticationError(f"the challenge is not signed by {worker}")
            token = secrets.token_hex(32)
            row.challenge, row.token = None, token
            return token

    def authenticate(self, token: str | None) -> str:
        if not token:
            raise AuthenticationError("missing bearer token: log in first")
        with self.store.session() as session:
            row = self.store.worker_by_token(session, token)
            if row is None:
                raise AuthenticationError("unknown or expired token: log in again")
            return row.address

    def register(self, worker: str, registration: WorkerRegistration) -> WorkerConfig:
        with self.lock, self.store.session() as session:
            row = session.get(WorkerRow, worker)
            assert row is not None
            row.name, row.max_tasks, row.tee = (
                registration.name,
                registration.max_tasks,
                registration.tee,
            )
            row.last_ping, row.lost = time.time(), False
        return WorkerConfig(
            workerpool=self.settings.workerpool,
            scheduler=self.account.address,
            chain_id=self.protocol.client.chain_id,
            result_store_url=self.settings.result_store_url,
            sms_url=self.settings.sms_url,
            heartbeat_s=self.settings.heartbeat_s,
            poll_interval_s=self.settings.poll_interval_s,
        )

    def ping(self, worker: str) -> list[ActionRead]:
        with self.lock, self.store.session() as session:
            row = session.get(WorkerRow, worker)
            assert row is not None
            row.last_ping, row.lost = time.time(), False
            actions = []
            for replicate in self.store.replicates_of_worker(session, worker):
                if replicate.state in FINAL_REPLICATE_STATES:
                    continue
                task = session.get(TaskRow, replicate.task_id)
                assert task is not None
                actions.append(
                    ActionRead(task_id=task.task_id, action=self._next_action(task, replicate))
                )
            return actions

    def observe_block(self, number: int, timestamp: int) -> None:
        """The engine saw a new head: the chain's clock, and a new block for cached scores."""
        self.block_number = number
        self.chain_now = max(timestamp, int(time.time()))

    # ─── Assignment ───
    def _score(self, worker: str) -> int:
        """A worker's on-chain score, read at most once per block (workers ask several times)."""
        cached = self._scores.get(worker)
        if cached is not None and cached[0] == self.block_number and self.block_number >= 0:
            return cached[1]
        score = self.protocol.account(worker).score
        self._scores[worker] = (self.block_number, score)
        return score

    def next_replicate(self, worker: str) -> Assignment | None:
        score = self._score(worker)
        with self.lock, self.store.session() as session:
            me = session.get(WorkerRow, worker)
            assert me is not None
            me.last_ping, me.lost = time.time(), False
            active = self.store.replicates_not_in(session, FINAL_REPLICATE_STATES)
            window = self.settings.heartbeat_s * 1.5
            available = available_workers(self.store.workers(session), active, time.time(), window)
            mine = next((c for c in available if c.address == worker), None)
            if mine is None:  # at its max_tasks
                return None
            open_tasks = self._open_tasks(session)
            by_task = self.store.replicates_of_tasks(session, [t.task_id for t in open_tasks])
            for task in open_tasks:
                deal = self.deal(task.deal_id)
                if self.chain_now + DEADLINE_MARGIN_S >= deal.contribution_deadline:
                    continue
                if deal.is_tee and (not me.tee or not self._enclave_challenge(task)):
                    continue
                replicates = by_task.get(task.task_id, [])
                if any(r.worker == worker for r in replicates) or not needs_more(
                    deal.trust, replicates
                ):
                    continue
                if not wins(self.policy, task.task_id, replicates, mine, available, deal.is_tee):
                    continue  # a candidate the pool's policy prefers will ask soon
                return self._assign(session, task, deal, worker, replicates, worker_weight(score))
            return None

    def _assign(
        self,
        session: Any,
        task: TaskRow,
        deal: Deal,
        worker: str,
        replicates: list[ReplicateRow],
        weight: int,
    ) -> Assignment:
        # Signed once per (worker, task): a restart or a retry gets the stored signature back.
        enclave = task.enclave_challenge or ZERO_ADDRESS
        authorization = "0x" + sign_authorization(self.account, worker, task.task_id, enclave).hex()
        self.signatures += 1
        fast_path = deal.trust == 1 and not replicates
        replicate = ReplicateRow(
            task_id=task.task_id,
            worker=worker,
            state=R.CREATED,
            history=append_history([], R.CREATED),
            authorization=authorization,
            weight=weight,
            fast_path=fast_path,
        )
        session.add(replicate)
        if task.state == T.INITIALIZED:
            self._move_task(task, T.RUNNING)
        return self._assignment(task, deal, replicate)

    def worker_replicates(self, worker: str) -> list[WorkerReplicate]:
        """A worker's unfinished replicates with their assignments and next actions (resume)."""
        with self.lock, self.store.session() as session:
            out = []
            for replicate in self.store.replicates_of_worker(session, worker):
                if replicate.state in FINAL_REPLICATE_STATES:
                    continue
                task = session.get(TaskRow, replicate.task_id)
                assert task is not None
                out.append(
                    WorkerReplicate(
                        assignment=self._assignment(task, self.deal(task.deal_id), replicate),
                        state=replicate.state,
                        action=self._next_action(task, replicate),
                    )
                )
            return out

    # ─── Status reports ───
    def report(self, worker: str, task_id: str, update: StatusUpdate) -> ActionRead:
        task_id = to_hex32(task_id)
        status = ReplicateState(update.status)
        on_chain = self._chain_evidence(worker, task_id, status)
        with self.lock, self.store.session() as session:
            task = session.get(TaskRow, task_id)
            replicate = self._replicate(session, task_id, worker)
            if task is None or replicate is None:
                raise NotFoundError(f"worker {worker} has no replicate of task {task_id}")
            if replicate.state in FINAL_REPLICATE_STATES:
                return ActionRead(task_id=task_id, action=self._next_action(task, replicate))
            if status == R.COMPUTED:
                replicate.exit_cause = update.cause
                replicate.stdout, replicate.stderr = update.stdout, update.stderr
            if status == R.FAILED:
                replicate.exit_cause = update.cause
            if on_chain is not None:
                replicate.result_hash = on_chain
            if status == R.UPLOADED:
                task.callback_data = update.callback_data
            if status != replicate.state:
                check_replicate(ReplicateState(replicate.state), status)
                self._move_replicate(replicate, status, cause=update.cause, tx=update.tx_hash)
            self._after_report(session, task, replicate, status)
            return ActionRead(task_id=task_id, action=self._next_action(task, replicate))

    def _chain_evidence(self, worker: str, task_id: str, status: ReplicateState) -> str | None:
        """Checks on chain (outside the lock) what a worker claims; returns its result hash."""
        if status in (R.CONTRIBUTED, R.REVEALED):
            for contribution in self.protocol.contributions(task_id):
                if contribution.worker == worker:
                    if status == R.REVEALED and contribution.status != ContributionStatus.PROVED:
                        raise ConflictError(
                            f"{worker}'s contribution to {task_id} is not revealed on chain"
                        )
                    return contribution.result_hash
            raise ConflictError(f"no contribution of {worker} to task {task_id} on chain")
        if status == R.UPLOADED and self.results.meta(task_id) is None:
            raise ConflictError(f"the result store has no archive for task {task_id}")
        return None

    def _after_report(
        self, session: Any, task: TaskRow, replicate: ReplicateRow, status: ReplicateState
    ) -> None:
        """Moves the task along when a report brings news the engine would otherwise find later."""
        if status == R.CONTRIBUTED and task.state in (T.INITIALIZED, T.RUNNING):
            view = self.protocol.task(task.task_id)
            if view.status == TaskStatus.REVEALING:
                self.on_consensus(session, task, view.consensus_value, view.reveal_deadline)
        elif status == R.REVEALED and task.state == T.CONSENSUS_REACHED:
            self._move_task(task, T.REVEALED)
            task.uploader = task.uploader or replicate.worker
        elif status == R.UPLOADED and task.state == T.REVEALED:
            task.result_link = task.result_link or self.result_link(task.task_id)
            self._move_task(task, T.RESULT_UPLOADED)

    def on_consensus(
        self, session: Any, task: TaskRow, consensus: str, reveal_deadline: int
    ) -> None:
        """Consensus on chain: winners wait, one alive winner is asked to reveal for all; replicates
        that had not contributed are aborted and those with another result failed."""
        # Winners whose CONTRIBUTED report is still on its way must not be taken for absentees.
        self.learn_contributions(session, task)
        self._move_task(task, T.CONSENSUS_REACHED, consensus=consensus)
        task.consensus, task.reveal_deadline = consensus, reveal_deadline
        alive = {w.address for w in self.store.workers(session) if not w.lost}
        for replicate in self.store.replicates_of(session, task.task_id):
            if replicate.state in FINAL_REPLICATE_STATES:
                continue
            if replicate.result_hash is None:
                if replicate.state in (R.CREATED, R.RUNNING, R.COMPUTED, R.WORKER_LOST):
                    self._move_replicate(replicate, R.ABORTED, cause="CONSENSUS_REACHED")
            elif replicate.result_hash != consensus:
                self._move_replicate(replicate, R.FAILED, cause="RESULT_NOT_IN_CONSENSUS")
            elif task.revealer is None and replicate.worker in alive:
                task.revealer = replicate.worker

    def learn_contributions(self, session: Any, task: TaskRow) -> None:
        """Contributions on chain that workers did not report (yet, or ever: a crash)."""
        replicates = {r.worker: r for r in self.store.replicates_of(session, task.task_id)}
        for contribution in self.protocol.contributions(task.task_id):
            replicate = replicates.get(contribution.worker)
            if replicate is None or replicate.state in FINAL_REPLICATE_STATES:
                continue
            replicate.result_hash = contribution.result_hash
            if replicate.state in (R.CREATED, R.RUNNING, R.COMPUTED, R.CONTRIBUTING, R.WORKER_LOST):
                self._move_replicate(replicate, R.CONTRIBUTED, cause="seen on chain")
            proved = contribution.status == ContributionStatus.PROVED
            if proved and replicate.state in (R.CONTRIBUTED, R.REVEALING):
                self._move_replicate(replicate, R.REVEALED, cause="seen on chain")

    def choose_revealer(self, session: Any, task: TaskRow) -> None:
        """Replaces a lost revealer or uploader by another alive winner."""
        alive = {w.address for w in self.store.workers(session) if not w.lost}
        winners = [
            r
            for r in self.store.replicates_of(session, task.task_id)
            if r.result_hash == task.consensus
            and r.worker in alive
            and r.state not in (R.FAILED, R.ABORTED)
        ]
        if task.state == T.CONSENSUS_REACHED and task.revealer not in alive and winners:
            task.revealer = winners[0].worker
        if task.state == T.REVEALED and task.uploader not in alive and winners:
            task.uploader = winners[0].worker

    # ─── What a worker does next ───
    def _next_action(self, task: TaskRow, replicate: ReplicateRow) -> str:
        state, worker = ReplicateState(replicate.state), replicate.worker
        if task.state == T.COMPLETED:
            return Action.PLEASE_COMPLETE
        if task.state in FINAL_TASK_STATES or state in (R.ABORTED, R.FAILED):
            return Action.PLEASE_ABORT
        contributed = replicate.result_hash is not None
        if (
            task.state not in (T.INITIALIZED, T.RUNNING)
            and not contributed
            and state != R.CONTRIBUTING
        ):
            return Action.PLEASE_ABORT
        if state == R.COMPUTED:
            if self.chain_now + DEADLINE_MARGIN_S >= self.deal(task.deal_id).contribution_deadline:
                return Action.PLEASE_ABORT
            return (
                Action.PLEASE_CONTRIBUTE_AND_FINALIZE
                if replicate.fast_path
                else Action.PLEASE_CONTRIBUTE
            )
        if (
            task.state == T.CONSENSUS_REACHED
            and task.revealer == worker
            and state in (R.CONTRIBUTED, R.REVEALING)
        ):
            return Action.PLEASE_REVEAL
        if (
            task.state == T.REVEALED
            and task.uploader == worker
            and state in (R.REVEALED, R.UPLOADING)
        ):
            return Action.PLEASE_UPLOAD
        if state in (R.CREATED, R.RUNNING, R.WORKER_LOST):
            return Action.PLEASE_CONTINUE
        return Action.PLEASE_WAIT

    # ─── Views ───
    def task_view(self, task_id: str) -> TaskRead:
        task_id = _task_id(task_id)
        with self.store.session() as session:
            task = session.get(TaskRow, task_id)
            if task is None:
                raise NotFoundError(f"task {task_id} is not scheduled by this workerpool")
            replicates = self.store.replicates_of(session, task_id)
            return TaskRead(
                task_id=task.task_id,
                deal_id=task.deal_id,
                idx=task.idx,
                state=task.state,
                consensus=task.consensus,
                reveal_deadline=task.reveal_deadline,
                result_link=task.result_link,
                history=task.history,
                replicates=[
                    ReplicateRead(
                        worker=r.worker, state=r.state, exit_cause=r.exit_cause, history=r.history
                    )
                    for r in replicates
                ],
            )

    def task_logs(self, task_id: str, signature: str | None) -> TaskLogs:
        """Logs are the requester's: the request must carry its signature of `logs_message`."""
        task_id = _task_id(task_id)
        view = self.task_view(task_id)
        requester = self.deal(view.deal_id).requester
        if not signature or recover_eip191(logs_message(task_id), signature) != requester:
            raise AuthenticationError(
                f"logs of {task_id} are readable by its requester {requester} only"
            )
        with self.store.session() as session:
            return TaskLogs(
                task_id=task_id,
                replicates=[
                    ReplicateLogs(
                        worker=r.worker, exit_cause=r.exit_cause, stdout=r.stdout, stderr=r.stderr
                    )
                    for r in self.store.replicates_of(session, task_id)
                ],
            )

    def metrics(self) -> MetricsRead:
        with self.store.session() as session:
            workers = self.store.workers(session)
            tasks: dict[str, int] = {}
            for task in session.query(TaskRow).all():
                tasks[task.state] = tasks.get(task.state, 0) + 1
            replicates: dict[str, int] = {}
            for replicate in session.query(ReplicateRow).all():
                replicates[replicate.state] = replicates.get(replicate.state, 0) + 1
        return MetricsRead(
            policy=self.policy.name,
            workers_alive=sum(1 for w in workers if not w.lost and w.last_ping),
            workers_lost=sum(1 for w in workers if w.lost),
            tasks=tasks,
            replicates=replicates,
        )

    # ─── Helpers shared with the engine ───
    def deal(self, deal_id: str) -> Deal:
        if deal_id not in self._deals:
            with self.store.session() as session:
                row = session.get(DealRow, deal_id)
                if row is None:
                    raise NotFoundError(f"unknown deal {deal_id}")
                self._deals[deal_id] = Deal.from_json(row.record)
        return self._deals[deal_id]

    def result_link(self, task_id: str) -> str:
        return f"{self.settings.result_store_url.rstrip('/')}/v1/results/{task_id}"

    def _move_task(self, task: TaskRow, target: TaskState, **details: Any) -> None:
        check_task(TaskState(task.state), target)
        if task.state != target:
            task.state = target
            task.history = append_history(task.history, target, **details)

    @staticmethod
    def _move_replicate(replicate: ReplicateRow, target: ReplicateState, **details: Any) -> None:
        if replicate.state != target:
            replicate.state = target
            replicate.history = append_history(replicate.history, target, **details)

    def _assignment(self, task: TaskRow, deal: Deal, replicate: ReplicateRow) -> Assignment:
        with self.store.session() as session:
            row = session.get(DealRow, task.deal_id)
            params = row.params if row is not None else ""
        app = self._asset("app", deal.app)
        dataset = self._asset("dataset", deal.dataset) if int(deal.dataset, 16) else None
        return Assignment(
            task_id=task.task_id,
            deal_id=task.deal_id,
            idx=task.idx,
            deal=deal.as_json(),
            params=params,
            app=AppInfo(
                address=app["address"],
                type=app["type"],
                multiaddr=app["multiaddr"],
                checksum=app["checksum"],
            ),
            dataset=DatasetInfo(
                **{k: dataset[k] for k in ("address", "name", "multiaddr", "checksum")}
            )
            if dataset
            else None,
            authorization=replicate.authorization,
            enclave_challenge=task.enclave_challenge or ZERO_ADDRESS,
            fast_path=replicate.fast_path,
            result_link=self.result_link(task.task_id),
            max_execution_s=deal.time_ref,
        )

    def _enclave_challenge(self, task: TaskRow) -> str | None:
        """A TEE task's enclave challenge, asked of the SMS once (it is created there for the
        initialized task, and the SMS answers the same address again if asked twice). None while
        the SMS is unset or unreachable: the task waits rather than run without one."""
        if task.enclave_challenge is None and self.sms is not None:
            try:
                task.enclave_challenge = self.sms.create_challenge(task.task_id, self.account)
            except PnyxError as exc:
                log.warning("task %s: no enclave challenge yet: %s", task.task_id, exc)
        return task.enclave_challenge

    def _asset(self, kind: str, address: str) -> dict[str, Any]:
        key = f"{kind}:{address}"
        if key not in self._assets:
            self._assets[key] = (
                self.protocol.app(address) if kind == "app" else self.protocol.dataset(address)
            )
        return self._assets[key]

    def _open_tasks(self, session: Any) -> list[TaskRow]:
        tasks = self.store.tasks_in(session, {T.INITIALIZED, T.RUNNING})
        return sorted(tasks, key=lambda t: (self.deal(t.deal_id).contribution_deadline, t.idx))

    @staticmethod
    def _replicate(session: Any, task_id: str, worker: str) -> ReplicateRow | None:
        found: ReplicateRow | None = (
            session.query(ReplicateRow).filter_by(task_id=task_id, worker=worker).first()
        )
        return found


def _task_id(value: str) -> str:
    try:
        return to_hex32(value)
    except PnyxInputError as exc:
        raise PnyxInputError(f"task id must be 32 bytes of 0x-hex: {value!r}") from exc
