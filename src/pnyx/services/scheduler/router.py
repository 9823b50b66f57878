"""HTTP routes of the scheduler: thin handlers over `SchedulerService`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from pnyx.api.schemas.scheduler import (
    HEX_32,
    HEX_ADDRESS,
    ActionRead,
    Assignment,
    ChallengeRead,
    LoginRead,
    LoginRequest,
    MetricsRead,
    PingRead,
    StatusUpdate,
    TaskLogs,
    TaskRead,
    WorkerConfig,
    WorkerRegistration,
    WorkerReplicate,
)
from pnyx.services.scheduler.service import SchedulerService

router = APIRouter(prefix="/v1")
TaskIdPath = Annotated[str, Path(description="0x-hex task id", pattern=HEX_32)]


def service(request: Request) -> SchedulerService:
    svc: SchedulerService = request.app.state.service
    return svc


Service = Annotated[SchedulerService, Depends(service)]


def worker(svc: Service, authorization: Annotated[str | None, Header()] = None) -> str:
    token = authorization.removeprefix("Bearer ").strip() if authorization else None
    return svc.authenticate(token)


Worker = Annotated[str, Depends(worker)]
AUTH: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing, unknown or expired bearer token"}
}


@router.get(
    "/workers/challenge", response_model=ChallengeRead, tags=["workers"], summary="Login challenge"
)
def challenge(svc: Service, address: Annotated[str, Query(pattern=HEX_ADDRESS)]) -> ChallengeRead:
    return ChallengeRead(address=address, challenge=svc.challenge(address))


@router.post("/workers/login", response_model=LoginRead, tags=["workers"], responses=AUTH)
def login(svc: Service, body: LoginRequest) -> LoginRead:
    """Exchange the EIP-191 signature of keccak256(challenge) for a bearer token."""
    return LoginRead(token=svc.login(body.address, body.signature))


@router.post("/workers/register", response_model=WorkerConfig, tags=["workers"], responses=AUTH)
def register(svc: Service, me: Worker, body: WorkerRegistration) -> WorkerConfig:
    return svc.register(me, body)


@router.post("/workers/ping", response_model=PingRead, tags=["workers"], responses=AUTH)
def ping(svc: Service, me: Worker) -> PingRead:
    """Heartbeat; the answer lists the next action for each of the worker's replicates."""
    return PingRead(actions=svc.ping(me))


@router.get(
    "/workers/replicates", response_model=list[WorkerReplicate], tags=["workers"], responses=AUTH
)
def my_replicates(svc: Service, me: Worker) -> list[WorkerReplicate]:
    """The worker's unfinished replicates, to resume after a restart."""
    return svc.worker_replicates(me)


@router.post(
    "/replicates/next",
    response_model=Assignment,
    tags=["replicates"],
    responses={204: {"description": "no work for this worker now"}, **AUTH},
)
def next_replicate(svc: Service, me: Worker) -> Assignment | Response:
    """A replicate the consensus still needs, with the scheduler's signed authorization."""
    assignment = svc.next_replicate(me)
    return Response(status_code=204) if assignment is None else assignment


@router.post(
    "/replicates/{task_id}/status", response_model=ActionRead, tags=["replicates"], responses=AUTH
)
def report(svc: Service, me: Worker, task_id: TaskIdPath, body: StatusUpdate) -> ActionRead:
    """A worker's status update for one replicate; the answer is its next action."""
    return svc.report(me, task_id, body)


@router.get("/tasks/{task_id}", response_model=TaskRead, tags=["tasks"])
def task(svc: Service, task_id: TaskIdPath) -> TaskRead:
    """A task's off-chain state, history and replicates (no logs)."""
    return svc.task_view(task_id)


@router.get("/tasks/{task_id}/logs", response_model=TaskLogs, tags=["tasks"], responses=AUTH)
def task_logs(
    svc: Service,
    task_id: TaskIdPath,
    x_pnyx_signature: Annotated[
        str | None, Header(description="requester's EIP-191 signature")
    ] = None,
) -> TaskLogs:
    """Each replicate's exit cause and app logs, for the task's requester only."""
    return svc.task_logs(task_id, x_pnyx_signature)


@router.get("/metrics", response_model=MetricsRead, tags=["meta"])
def metrics(svc: Service) -> MetricsRead:
    return svc.metrics()
