"""Client of a workerpool's scheduler, for workers (authenticated) and requesters (public views)."""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from pnyx.api.schemas.scheduler import (
    ActionRead,
    Assignment,
    PingRead,
    StatusUpdate,
    TaskLogs,
    TaskRead,
    WorkerConfig,
    WorkerRegistration,
    WorkerReplicate,
)
from pnyx.chain.signing import sign_eip191
from pnyx.clients._http import HttpClient
from pnyx.domain._hex import keccak, to_hex32

LOGS_HEADER = "X-Pnyx-Signature"


def logs_message(task_id: str) -> bytes:
    """The 32 bytes a task's requester signs (EIP-191) to read its logs: keccak256 of the UTF-8
    text `pnyx-logs:<task id, 0x-hex lowercase>`. The scheduler checks the same message
    (`pnyx.services.scheduler.service.logs_message`; a unit test keeps the two equal)."""
    return keccak(f"pnyx-logs:{to_hex32(task_id)}".encode())


def sign_logs_request(account: LocalAccount, task_id: str) -> str:
    """The `X-Pnyx-Signature` value that lets `account` (the task's requester) read its logs."""
    return "0x" + sign_eip191(account, logs_message(task_id)).hex()


class SchedulerClient(HttpClient):
    def __init__(self, base_url: str, *, timeout_s: float = 10.0) -> None:
        super().__init__(base_url, timeout_s=timeout_s, service="scheduler")
        self.token: str | None = None

    # ─── Workers ───
    def challenge(self, address: str) -> str:
        return str(self.get_json("/v1/workers/challenge", params={"address": address})["challenge"])

    def login(self, address: str, signature: str) -> None:
        self.token = str(
            self.post_json("/v1/workers/login", {"address": address, "signature": signature})[
                "token"
            ]
        )

    def register(self, registration: WorkerRegistration) -> WorkerConfig:
        return WorkerConfig.model_validate(
            self.post_json("/v1/workers/register", registration.model_dump(), headers=self._auth())
        )

    def ping(self) -> PingRead:
        return PingRead.model_validate(self.post_json("/v1/workers/ping", headers=self._auth()))

    def next_replicate(self) -> Assignment | None:
        response = self.request("POST", "/v1/replicates/next", headers=self._auth())
        return None if response.status_code == 204 else Assignment.model_validate(response.json())

    def report(self, task_id: str, update: StatusUpdate) -> ActionRead:
        body = update.model_dump(exclude_none=True)
        return ActionRead.model_validate(
            self.post_json(f"/v1/replicates/{task_id}/status", body, headers=self._auth())
        )

    def my_replicates(self) -> list[WorkerReplicate]:
        rows = self.get_json("/v1/workers/replicates", headers=self._auth())
        return [WorkerReplicate.model_validate(row) for row in rows]

    # ─── Requesters ───
    def task(self, task_id: str) -> TaskRead:
        return TaskRead.model_validate(self.get_json(f"/v1/tasks/{task_id}"))

    def logs(self, task_id: str, signature: str) -> TaskLogs:
        return TaskLogs.model_validate(
            self.get_json(f"/v1/tasks/{task_id}/logs", headers={LOGS_HEADER: signature})
        )

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}
