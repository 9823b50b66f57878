"""Buying an execution at market price and following it to its verified result: what `pnyx run`
does, as a library.

1. the cheapest compatible app, dataset and workerpool orders come from the market;
2. the requester signs a request at those prices and matches the orders on chain;
3. the task is followed on chain and through its workerpool's scheduler (whose URL the pool
   publishes in its registered description);
4. the result archive is downloaded from the link the scheduler finalized with, and accepted only if
   its digest is the one the chain agreed on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount

from pnyx.api.schemas.scheduler import TaskRead
from pnyx.chain.agreement import agreed_result_hash
from pnyx.chain.protocol import MatchedDeal, Protocol
from pnyx.clients._http import ServiceNotFoundError, download
from pnyx.clients.market import MarketClient
from pnyx.clients.scheduler import SchedulerClient
from pnyx.domain.archive import read_archive, result_digest
from pnyx.domain.orders import AppOrder, DatasetOrder, WorkerpoolOrder
from pnyx.domain.tags import tag_from_names, tag_to_int
from pnyx.domain.task import result_hash
from pnyx.domain.views import TaskStatus, TaskView
from pnyx.errors import NotFoundError, PnyxError, PnyxInputError
from pnyx.sdk.requester import Requester
from pnyx.types import ZERO_ADDRESS, Address


class ResultVerificationError(PnyxError):
    """A downloaded archive is not the result the chain agreed on."""


@dataclass(frozen=True)
class RunRequest:
    app: Address
    dataset: Address | None = None
    workerpool: Address | None = None
    trust: int = 1
    category: int = 0
    args: str = ""
    input_files: tuple[str, ...] = ()
    callback: Address = ZERO_ADDRESS
    tags: tuple[str, ...] = ()

    def params(self) -> str:
        params: dict[str, object] = {"iexec_args": self.args}
        if self.input_files:
            params["iexec_input_files"] = list(self.input_files)
        return json.dumps(params, sort_keys=True)


@dataclass
class Progress:
    """What is known about a running task; handed to the progress callback at every change."""

    task_id: str
    chain_status: str = "UNSET"
    scheduler_state: str = "—"
    replicates: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started


# How long `follow` waits, once the chain has decided, for the scheduler's view to catch up.
SCHEDULER_SETTLE_S = 3.0
# The result store may receive a one-transaction result a moment after the chain completes it.
UPLOAD_GRACE_S = 10.0
FINAL_SCHEDULER_STATES = frozenset({"COMPLETED", "FAILED", "—"})


@dataclass(frozen=True)
class TaskResult:
    task_id: str
    status: TaskStatus
    files: dict[str, bytes]
    link: str
    digest: str


def buy(
    protocol: Protocol, market: MarketClient, requester: LocalAccount, request: RunRequest
) -> MatchedDeal:
    """Matches the cheapest compatible orders for `request`; returns the deal."""
    tag = tag_to_int(tag_from_names(request.tags))
    app = market.best("app", asset=request.app)
    if not isinstance(app, AppOrder):
        raise NotFoundError(f"no open order for app {request.app} in the market")
    dataset: DatasetOrder | None = None
    if request.dataset:
        found = market.best("dataset", asset=request.dataset)
        if not isinstance(found, DatasetOrder):
            raise NotFoundError(f"no open order for dataset {request.dataset} in the market")
        dataset = found
    # The pool must offer every bit the deal will carry: the request's, the app's, the dataset's.
    tag |= tag_to_int(app.tag) | (tag_to_int(dataset.tag) & ~0xE if dataset else 0)
    filters: dict[str, object] = {"category": request.category, "min_trust": request.trust}
    if request.workerpool:
        filters["asset"] = request.workerpool
    if tag:
        filters["min_tag"] = _hex(tag)
    pool = market.best("workerpool", **filters)
    if not isinstance(pool, WorkerpoolOrder):
        raise NotFoundError(
            f"no workerpool offers category {request.category} at trust {request.trust}"
        )
    price = app.app_price + (dataset.dataset_price if dataset else 0) + pool.workerpool_price
    free = protocol.account(requester.address).free
    if free < price:
        raise PnyxInputError(
            f"the task costs {price} nano-tokens but your escrow holds {free}: deposit more first"
        )
    buyer = Requester(protocol, requester)
    order = buyer.request_order(
        request.app,
        app_max_price=app.app_price,
        dataset=request.dataset or ZERO_ADDRESS,
        dataset_max_price=dataset.dataset_price if dataset else 0,
        workerpool=pool.workerpool,
        workerpool_max_price=pool.workerpool_price,
        category=request.category,
        trust=request.trust,
        tags=request.tags,
        params=request.params(),
        callback=request.callback,
    )
    return buyer.match(app, pool, order, dataset)


def scheduler_url(protocol: Protocol, workerpool: str) -> str | None:
    """The scheduler API a workerpool publishes in its description (`{"scheduler": URL}`)."""
    description = str(protocol.workerpool(workerpool)["description"])
    try:
        data = json.loads(description)
    except ValueError:
        return None
    url = data.get("scheduler") if isinstance(data, dict) else None
    return str(url) if url else None


def follow(
    protocol: Protocol,
    matched: MatchedDeal,
    task_id: str,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    timeout_s: float = 600.0,
    poll_s: float = 0.25,
) -> TaskView:
    """Waits until the task is COMPLETED or FAILED on chain, reporting progress on the way."""
    url = scheduler_url(protocol, matched.deal.workerpool)
    scheduler = SchedulerClient(url) if url else None
    progress = Progress(task_id)
    deadline = time.monotonic() + timeout_s
    settled_by: float | None = None
    try:
        while True:
            view = protocol.task(task_id)
            changed = _update(progress, view, _scheduler_view(scheduler, task_id))
            if changed and on_progress:
                on_progress(progress)
            if view.status in (TaskStatus.COMPLETED, TaskStatus.FAILED):
                # The chain decides; the scheduler's view lags by a poll or two. Give it a moment so
                # the last progress shown is the final one, not a transient state.
                settled_by = settled_by or time.monotonic() + SCHEDULER_SETTLE_S
                if progress.scheduler_state in FINAL_SCHEDULER_STATES or (
                    time.monotonic() > settled_by
                ):
                    return view
            if time.monotonic() > deadline:
                raise PnyxError(f"task {task_id} still {view.status.name} after {timeout_s:.0f} s")
            time.sleep(poll_s)
    finally:
        if scheduler:
            scheduler.close()


def fetch_result(protocol: Protocol, task_id: str, *, from_block: int = 0) -> TaskResult:
    """Downloads a completed task's archive from its finalized link, checked against the chain."""
    view = protocol.task(task_id)
    if view.status != TaskStatus.COMPLETED:
        raise PnyxInputError(f"task {task_id} is {view.status.name}: there is no result to get")
    finalized = protocol.task_events(task_id, "TaskFinalized", from_block=from_block)
    if not finalized:
        raise NotFoundError(f"no TaskFinalized event for {task_id}")
    link = bytes(finalized[-1]["results"]).decode()
    archive = _download_when_uploaded(link)
    files = read_archive(archive)
    digest = result_digest(files)
    consensus = agreed_result_hash(protocol, task_id, view, from_block=from_block)
    if result_hash(task_id, digest) != consensus:
        raise ResultVerificationError(
            f"the archive at {link} is not the result the chain agreed on for {task_id}"
        )
    return TaskResult(task_id=task_id, status=view.status, files=files, link=link, digest=digest)


def _download_when_uploaded(link: str) -> bytes:
    """The archive behind a finalized task's link. On the one-transaction path the worker uploads
    right after its transaction is mined, so a requester as quick as the chain can be a moment
    early: a 404 is retried for UPLOAD_GRACE_S."""
    deadline = time.monotonic() + UPLOAD_GRACE_S
    while True:
        try:
            return download(link)
        except ServiceNotFoundError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _scheduler_view(scheduler: SchedulerClient | None, task_id: str) -> TaskRead | None:
    if scheduler is None:
        return None
    try:
        return scheduler.task(task_id)
    except PnyxError:
        return None  # not scheduled yet, or the scheduler is briefly away: the chain still tells


def _update(progress: Progress, view: TaskView, scheduled: TaskRead | None) -> bool:
    before = (progress.chain_status, progress.scheduler_state, dict(progress.replicates))
    progress.chain_status = view.status.name
    if scheduled is not None:
        progress.scheduler_state = scheduled.state
        progress.replicates = {r.worker: r.state for r in scheduled.replicates}
    return before != (progress.chain_status, progress.scheduler_state, progress.replicates)


def _hex(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()
