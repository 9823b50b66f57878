"""Wire schemas of the scheduler API (workers and requesters talk to it)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

HEX_ADDRESS = r"^0x[0-9a-fA-F]{40}$"
HEX_32 = r"^0x[0-9a-fA-F]{64}$"
HEX_BYTES = r"^0x([0-9a-fA-F]{2})*$"

ReportedStatus = Literal[
    "RUNNING",
    "COMPUTED",
    "CONTRIBUTING",
    "CONTRIBUTED",
    "REVEALING",
    "REVEALED",
    "UPLOADING",
    "UPLOADED",
    "COMPLETED",
    "FAILED",
]


class ChallengeRead(BaseModel):
    address: str
    challenge: str = Field(description="sign keccak256 of these 32 bytes (EIP-191) to log in")


class LoginRequest(BaseModel):
    address: str = Field(pattern=HEX_ADDRESS)
    signature: str = Field(pattern=HEX_BYTES, max_length=200)


class LoginRead(BaseModel):
    token: str = Field(description="bearer token for the worker endpoints")


class WorkerRegistration(BaseModel):
    name: str = Field(default="", max_length=64)
    max_tasks: int = Field(default=1, ge=1, le=64)
    tee: bool = False


class WorkerConfig(BaseModel):
    workerpool: str
    scheduler: str
    chain_id: int
    result_store_url: str
    sms_url: str | None = Field(
        default=None, description="the SMS TEE workers open enclave sessions with"
    )
    heartbeat_s: float
    poll_interval_s: float


class ActionRead(BaseModel):
    task_id: str
    action: str


class PingRead(BaseModel):
    actions: list[ActionRead]


class AppInfo(BaseModel):
    address: str
    type: str
    multiaddr: str
    checksum: str


class DatasetInfo(BaseModel):
    address: str
    name: str
    multiaddr: str
    checksum: str


class Assignment(BaseModel):
    task_id: str
    deal_id: str
    idx: int
    deal: dict[str, Any] = Field(
        description="the deal record (Solidity field names), as DealCreated"
    )
    params: str
    app: AppInfo
    dataset: DatasetInfo | None
    authorization: str = Field(
        description="the scheduler's EIP-191 signature of (worker, task, enclave)"
    )
    enclave_challenge: str
    fast_path: bool = Field(description="trust 1: contributeAndFinalize in one transaction")
    result_link: str = Field(description="where the result archive goes; the `results` of finalize")
    max_execution_s: int


class StatusUpdate(BaseModel):
    status: ReportedStatus
    cause: str | None = Field(default=None, max_length=200)
    exit_code: int | None = None
    stdout: str = Field(default="", max_length=65_536)
    stderr: str = Field(default="", max_length=65_536)
    tx_hash: str | None = Field(default=None, pattern=HEX_32)
    callback_data: str | None = Field(default=None, pattern=HEX_BYTES, max_length=131_072)


class ReplicateRead(BaseModel):
    worker: str
    state: str
    exit_cause: str | None
    history: list[dict[str, Any]]


class TaskRead(BaseModel):
    task_id: str
    deal_id: str
    idx: int
    state: str
    consensus: str | None
    reveal_deadline: int
    result_link: str | None
    history: list[dict[str, Any]]
    replicates: list[ReplicateRead]


class ReplicateLogs(BaseModel):
    worker: str
    exit_cause: str | None
    stdout: str
    stderr: str


class TaskLogs(BaseModel):
    task_id: str
    replicates: list[ReplicateLogs]


class WorkerReplicate(BaseModel):
    """One of a worker's replicates with what to do next: lets a restarted worker resume."""

    assignment: Assignment
    state: str
    action: str


class MetricsRead(BaseModel):
    policy: str  # the pool's selection policy (PNYX_SCHEDULER_POLICY)
    workers_alive: int
    workers_lost: int
    tasks: dict[str, int]
    replicates: dict[str, int]
