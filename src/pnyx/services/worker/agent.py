"""The worker: logs in to its scheduler, pings, asks for work, and carries each replicate through
compute → contribute → (reveal, upload) → complete, following the scheduler's next actions.

Each replicate runs in its own thread. What a replicate needs to resume (its assignment, its
digest, its archive) is written to the work folder before it is used on chain, so a restarted
worker asks the scheduler for its replicates and continues; every chain action is checked against
the chain first, so a resumed step is never sent twice.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from dataclasses import dataclass, field

from pnyx.api.schemas.scheduler import Assignment, StatusUpdate, WorkerRegistration
from pnyx.chain.client import ChainClient
from pnyx.chain.deploy import Deployment
from pnyx.chain.protocol import Protocol
from pnyx.chain.signing import account_from_key, sign_eip191
from pnyx.clients.results import ResultStoreClient
from pnyx.clients.scheduler import SchedulerClient
from pnyx.clients.sms import SmsClient
from pnyx.domain._hex import keccak, to_bytes
from pnyx.domain.deal import Deal
from pnyx.domain.views import ContributionStatus, TaskStatus
from pnyx.errors import ChainError, ContractRevert, PnyxError, ServiceError
from pnyx.sdk import Worker
from pnyx.services.worker.config import WorkerSettings
from pnyx.services.worker.enclave import Enclave, SimulatedEnclave, load_platform
from pnyx.services.worker.executor import Execution, execute

log = logging.getLogger("pnyx.worker")
WAITING = {"PLEASE_WAIT", "PLEASE_CONTINUE"}
# How long a worker keeps retrying a report while its scheduler is away.
REPORT_PATIENCE_S = 300.0


@dataclass
class Job:
    """One replicate this worker carries."""

    assignment: Assignment
    execution: Execution | None = None
    action: str | None = None
    wake: threading.Event = field(default_factory=threading.Event)

    def offer(self, action: str) -> None:
        if action not in WAITING:
            self.action = action
            self.wake.set()

    def wait_action(self, timeout_s: float) -> str | None:
        self.wake.wait(timeout_s)
        self.wake.clear()
        action, self.action = self.action, None
        return action


class WorkerAgent:
    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self.account = account_from_key(settings.private_key)
        self.protocol = Protocol(
            ChainClient(settings.chain_url), Deployment.load(settings.deployment_file)
        )
        self.chain_worker = Worker(self.protocol, self.account)
        self.scheduler = SchedulerClient(settings.scheduler_url)
        self.results: ResultStoreClient | None = None
        self.enclave: Enclave | None = None
        self.heartbeat_s = 2.0
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.state_dir = settings.work_dir / "replicates"

    # ─── Main loop ───
    def run(self) -> None:
        self._connect()
        self._resume()
        last_ping = 0.0
        while not self.stopping.is_set():
            try:
                if time.monotonic() - last_ping >= self.heartbeat_s:
                    last_ping = time.monotonic()
                    actions = self.scheduler.ping().actions
                    for action in actions:
                        self._dispatch(action.task_id, action.action)
                    # A replicate the scheduler no longer lists is finished on its side.
                    listed = {action.task_id for action in actions}
                    with self.lock:
                        finished = [
                            job for task_id, job in self.jobs.items() if task_id not in listed
                        ]
                    for job in finished:
                        job.offer("PLEASE_COMPLETE")
                if len(self.jobs) < self.settings.max_tasks:
                    assignment = self.scheduler.next_replicate()
                    if assignment is not None:
                        self._start(Job(assignment))
                        continue
            except PnyxError as exc:
                log.warning("%s: %s", self.settings.name, exc)
                if "token" in str(exc):
                    self._connect()
            self.stopping.wait(self.settings.poll_interval_s)

    def stop(self) -> None:
        self.stopping.set()
        for job in list(self.jobs.values()):
            job.wake.set()

    def _connect(self) -> None:
        address = self.account.address
        challenge = self.scheduler.challenge(address)
        signature = sign_eip191(self.account, keccak(to_bytes(challenge, length=32)))
        self.scheduler.login(address, "0x" + signature.hex())
        config = self.scheduler.register(
            WorkerRegistration(
                name=self.settings.name, max_tasks=self.settings.max_tasks, tee=self.settings.tee
            )
        )
        self.heartbeat_s = config.heartbeat_s
        self.results = ResultStoreClient(config.result_store_url)
        if self.settings.tee_platform is not None and config.sms_url:
            # The SMS is the pool's: the scheduler says which one its enclave challenges come from.
            platform = load_platform(self.settings.tee_platform)
            self.enclave = SimulatedEnclave(platform, SmsClient(config.sms_url))
        log.info(
            "%s (%s) logged in to %s", self.settings.name, address, self.settings.scheduler_url
        )

    def _resume(self) -> None:
        """Continues the replicates the scheduler says this worker holds."""
        for replicate in self.scheduler.my_replicates():
            job = Job(replicate.assignment, execution=self._load(replicate.assignment.task_id))
            job.offer(replicate.action)
            self._start(job, resumed=True)

    def _dispatch(self, task_id: str, action: str) -> None:
        with self.lock:
            job = self.jobs.get(task_id)
        if job is not None:
            job.offer(action)

    def _start(self, job: Job, *, resumed: bool = False) -> None:
        with self.lock:
            if job.assignment.task_id in self.jobs:
                return
            self.jobs[job.assignment.task_id] = job
        thread = threading.Thread(
            target=self._carry,
            args=(job, resumed),
            daemon=True,
            name=f"replicate-{job.assignment.task_id[:10]}",
        )
        thread.start()

    # ─── One replicate ───
    def _carry(self, job: Job, resumed: bool) -> None:
        task_id = job.assignment.task_id
        try:
            action = job.wait_action(0) if resumed else None
            if job.execution is None:
                if not resumed:
                    self._report(task_id, "RUNNING")
                job.execution = execute(
                    job.assignment,
                    self.settings.work_dir,
                    byzantine=self.settings.byzantine,
                    enclave=self.enclave,
                    worker=self.account.address,
                )
                self._save(job)
                action = None
            if action is None or action in WAITING:
                action = self._report_computed(job)
            while action not in ("PLEASE_COMPLETE", "PLEASE_ABORT") and not self.stopping.is_set():
                try:
                    reply = self._act(job, action)
                except ContractRevert:
                    raise  # the protocol said no: retrying would say no again
                except ChainError as exc:
                    # The node, not the protocol (unreachable, busy, a receipt that did not come):
                    # every action checks the chain before sending, so trying again is safe.
                    log.warning(
                        "%s: %s for %s hit a node error, retrying: %s",
                        self.settings.name, action, task_id, exc,
                    )  # fmt: skip
                    action = job.wait_action(self.heartbeat_s) or action
                    continue
                action = reply or job.wait_action(self.heartbeat_s) or "PLEASE_WAIT"
        except Exception as exc:  # a replicate thread must never die silently: report, then stop
            log.warning(
                "%s: replicate %s failed: %s", self.settings.name, task_id, exc, exc_info=True
            )
            with contextlib.suppress(PnyxError):
                self._report(task_id, "FAILED", cause=type(exc).__name__)
        finally:
            with self.lock:
                self.jobs.pop(task_id, None)
            if not self.stopping.is_set():
                self._forget(task_id)

    def _act(self, job: Job, action: str) -> str | None:
        """Does one action; returns the scheduler's reply (the next action), or None to wait."""
        assignment, execution = job.assignment, job.execution
        assert execution is not None
        task_id, deal = assignment.task_id, Deal.from_json(assignment.deal)
        status = self.protocol.task(task_id).status
        if (
            status in (TaskStatus.COMPLETED, TaskStatus.FAILED)
            and action != "PLEASE_CONTRIBUTE_AND_FINALIZE"
        ):
            return "PLEASE_COMPLETE"  # finished on chain meanwhile: nothing left to send
        if action == "PLEASE_CONTRIBUTE":
            if not self._contributed(task_id):
                if status != TaskStatus.ACTIVE:
                    return None  # consensus reached without us: the scheduler will say abort
                self.chain_worker.contribute(
                    task_id,
                    deal,
                    execution.digest,
                    to_bytes(assignment.authorization),
                    enclave_challenge=execution.enclave_challenge,
                    enclave_sign=to_bytes(execution.enclave_sign),
                )
            return self._report(task_id, "CONTRIBUTED")
        if action == "PLEASE_CONTRIBUTE_AND_FINALIZE":
            if self.protocol.task(task_id).status != TaskStatus.COMPLETED:
                self.chain_worker.contribute_and_finalize(
                    task_id,
                    deal,
                    execution.digest,
                    assignment.result_link.encode(),
                    to_bytes(assignment.authorization),
                    results_callback=execution.callback_data,
                    enclave_challenge=execution.enclave_challenge,
                    enclave_sign=to_bytes(execution.enclave_sign),
                )
            self._upload(task_id, execution)
            return self._report(task_id, "COMPLETED")
        if action == "PLEASE_REVEAL":
            if not self._revealed(task_id):
                self.protocol.reveal_all(self.account, task_id, execution.digest)
            return self._report(task_id, "REVEALED")
        if action == "PLEASE_UPLOAD":
            self._upload(task_id, execution)
            return self._report(
                task_id, "UPLOADED", callback_data="0x" + execution.callback_data.hex()
            )
        return None if action in WAITING else action

    def _report_computed(self, job: Job) -> str:
        execution = job.execution
        assert execution is not None
        return self._report(
            job.assignment.task_id,
            "COMPUTED",
            cause=execution.exit_cause,
            exit_code=execution.exit_code,
            stdout=execution.stdout,
            stderr=execution.stderr,
        )

    def _report(self, task_id: str, status: str, **details: object) -> str:
        """Reports a step; while the scheduler is unreachable (restarting), keeps trying rather than
        abandoning a replicate it may already have contributed for."""
        update = StatusUpdate.model_validate({"status": status, **details})
        deadline = time.monotonic() + REPORT_PATIENCE_S
        while True:
            try:
                return self.scheduler.report(task_id, update).action
            except ServiceError as exc:
                transient = exc.status is None or exc.status >= 500
                if not transient or time.monotonic() > deadline or self.stopping.is_set():
                    raise
                if exc.status == 401:
                    self._connect()
                self.stopping.wait(0.5)

    def _upload(self, task_id: str, execution: Execution) -> None:
        assert self.results is not None
        for attempt in range(5):
            try:
                self.results.upload(
                    task_id,
                    execution.archive,
                    worker=self.account.address,
                    enclave_sign=execution.enclave_sign,
                )
                return
            except PnyxError:
                if attempt == 4:
                    raise
                time.sleep(0.5 * (attempt + 1))

    def _contributed(self, task_id: str) -> bool:
        me = str(self.account.address)
        return any(str(c.worker) == me for c in self.protocol.contributions(task_id))

    def _revealed(self, task_id: str) -> bool:
        me = str(self.account.address)
        return any(
            str(c.worker) == me and c.status == ContributionStatus.PROVED
            for c in self.protocol.contributions(task_id)
        )

    # ─── Local state (resume after a restart) ───
    def _save(self, job: Job) -> None:
        assert job.execution is not None
        folder = self.state_dir / job.assignment.task_id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "archive.zip").write_bytes(job.execution.archive)
        meta = {
            k: v for k, v in job.execution.__dict__.items() if k not in ("archive", "callback_data")
        }
        meta["callback_data"] = job.execution.callback_data.hex()
        (folder / "execution.json").write_text(json.dumps(meta))

    def _load(self, task_id: str) -> Execution | None:
        folder = self.state_dir / task_id
        try:
            meta = json.loads((folder / "execution.json").read_text())
            archive = (folder / "archive.zip").read_bytes()
        except (OSError, ValueError):
            return None
        meta["callback_data"] = bytes.fromhex(meta["callback_data"])
        return Execution(archive=archive, **meta)

    def _forget(self, task_id: str) -> None:
        folder = self.state_dir / task_id
        for path in (folder / "archive.zip", folder / "execution.json"):
            path.unlink(missing_ok=True)
        if folder.exists():
            folder.rmdir()
