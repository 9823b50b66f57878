"""The scheduler's HTTP API in-process, with a live chain behind it and its engine stepped by hand:
worker login, replicate assignment with signed authorizations, the replicate state machine driven
by status reports (checked against the chain), task views and requester-only logs, lost workers,
metrics, and a complete trust-1 task from deal to COMPLETED."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from httpx import Response

from pnyx.chain.protocol import MatchedDeal
from pnyx.chain.signing import recover_eip191, sign_eip191
from pnyx.domain._hex import keccak
from pnyx.domain.consensus import replicas_needed
from pnyx.domain.task import authorization_message, result_hash
from pnyx.domain.task import task_id as make_task_id
from pnyx.domain.views import TaskStatus
from pnyx.sdk import Worker
from pnyx.services.scheduler.app import create_scheduler_app
from pnyx.services.scheduler.config import SchedulerSettings
from pnyx.services.scheduler.engine import Engine
from pnyx.types import ZERO_ADDRESS, TaskId
from tests.helpers.world import DIGEST, PARAMS, World

pytestmark = pytest.mark.integration

RESULT_STORE_URL = "http://results.test"
UNKNOWN_TASK = "0x" + "cd" * 32


# ─── Helpers ───


@dataclass
class Pool:
    """The scheduler app of the world's workerpool, its engine stepped by the test."""

    api: TestClient
    engine: Engine
    world: World

    def login(self, worker: Worker) -> dict[str, str]:
        """Signs a fresh challenge; returns the bearer header."""
        challenge = self.api.get("/v1/workers/challenge", params={"address": worker.address})
        assert challenge.status_code == 200, challenge.text
        signature = _sign_challenge(worker.account, challenge.json()["challenge"])
        login = self.api.post(
            "/v1/workers/login", json={"address": worker.address, "signature": signature}
        )
        assert login.status_code == 200, login.text
        return {"Authorization": f"Bearer {login.json()['token']}"}

    def join(self, worker: Worker, *, max_tasks: int = 1) -> dict[str, str]:
        """Logs in and registers (a registered worker counts as alive)."""
        headers = self.login(worker)
        registered = self.api.post(
            "/v1/workers/register",
            json={"name": f"w-{worker.address[2:8]}", "max_tasks": max_tasks},
            headers=headers,
        )
        assert registered.status_code == 200, registered.text
        return headers

    def next(self, headers: dict[str, str]) -> Response:
        response: Response = self.api.post("/v1/replicates/next", headers=headers)
        return response

    def assigned(self, headers: dict[str, str]) -> dict[str, Any]:
        response = self.next(headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def report(self, headers: dict[str, str], task: str, status: str, **details: Any) -> Response:
        response: Response = self.api.post(
            f"/v1/replicates/{task}/status", json={"status": status, **details}, headers=headers
        )
        return response

    def action(self, headers: dict[str, str], task: str, status: str, **details: Any) -> str:
        response = self.report(headers, task, status, **details)
        assert response.status_code == 200, response.text
        action: str = response.json()["action"]
        return action

    def view(self, task: str) -> dict[str, Any]:
        response = self.api.get(f"/v1/tasks/{task}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def step_until(self, task: str, state: str, *, steps: int = 10) -> dict[str, Any]:
        """Runs engine steps until the task reaches `state` in the scheduler's view."""
        seen: dict[str, Any] | None = None
        for _ in range(steps):
            self.engine.step()
            response = self.api.get(f"/v1/tasks/{task}")
            if response.status_code == 200:
                seen = response.json()
                if seen is not None and seen["state"] == state:
                    return seen
        raise AssertionError(f"task {task} never reached {state}: {seen}")

    def scheduled(self, *, trust: int) -> tuple[MatchedDeal, TaskId]:
        """A one-task deal of the pool, matched on chain and initialized by the engine."""
        matched = self.world.match(trust=trust)
        task = make_task_id(matched.deal_id, matched.deal.bot_first)
        self.step_until(task, "INITIALIZED")
        assert self.world.protocol.task(task).status == TaskStatus.ACTIVE
        return matched, task


def _computed_replicates(
    pool: Pool, world: World, *, trust: int
) -> tuple[MatchedDeal, TaskId, list[Worker], list[dict[str, str]]]:
    """A task with as many fresh workers as `trust` needs, each holding a COMPUTED replicate."""
    winners = world.workers[: replicas_needed(trust)]
    headers = [pool.join(worker) for worker in winners]
    matched, task = pool.scheduled(trust=trust)
    for bearer in headers:
        pool.assigned(bearer)
        assert pool.action(bearer, task, "COMPUTED") == "PLEASE_CONTRIBUTE"
    return matched, task, winners, headers


def _assignments(pool: Pool, headers: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Each worker's assignment, as a resuming worker reads it back."""
    out = []
    for bearer in headers:
        (replicate,) = pool.api.get("/v1/workers/replicates", headers=bearer).json()
        out.append(replicate["assignment"])
    return out


def _ping_actions(pool: Pool, headers: dict[str, str]) -> list[str]:
    response = pool.api.post("/v1/workers/ping", headers=headers)
    assert response.status_code == 200, response.text
    return [action["action"] for action in response.json()["actions"]]


def _sign_challenge(account: LocalAccount, challenge: str) -> str:
    return "0x" + sign_eip191(account, keccak(bytes.fromhex(challenge[2:]))).hex()


def _logs_signature(account: LocalAccount, task: str) -> str:
    return "0x" + sign_eip191(account, keccak(f"pnyx-logs:{task}".encode())).hex()


def _authorization(assignment: dict[str, Any]) -> bytes:
    return bytes.fromhex(assignment["authorization"][2:])


def _states(history: list[dict[str, Any]]) -> list[str]:
    return [entry["state"] for entry in history]


def _assert_refused(response: Response, status: int, error: str, *fragments: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    for fragment in fragments:
        assert fragment in body["detail"], body


def _settings(world: World, tmp_path: Path, **overrides: Any) -> SchedulerSettings:
    deployment_file = tmp_path / "deployment.json"
    world.deployment.save(deployment_file)
    return SchedulerSettings(
        chain_url=world.client.url,
        deployment_file=deployment_file,
        workerpool=world.workerpool,
        private_key="0x" + bytes(world.scheduler.account.key).hex(),
        database_url=f"sqlite:///{tmp_path / 'scheduler.db'}",
        result_store_url=RESULT_STORE_URL,
        **overrides,
    )


@contextmanager
def _open_pool(world: World, tmp_path: Path, **overrides: Any) -> Iterator[Pool]:
    app = create_scheduler_app(_settings(world, tmp_path, **overrides), run_engine=False)
    # A 500 must show as a status in the assertion, not as a re-raised traceback.
    with TestClient(app, raise_server_exceptions=False) as api:
        yield Pool(api=api, engine=app.state.engine, world=world)


@pytest.fixture
def pool(world: World, tmp_path: Path) -> Iterator[Pool]:
    with _open_pool(world, tmp_path) as opened:
        yield opened


# ─── Login ───


def test_login_returns_token_when_challenge_signed_by_worker(pool: Pool, world: World) -> None:
    worker = world.workers[0]
    challenge = pool.api.get("/v1/workers/challenge", params={"address": worker.address}).json()
    assert challenge["address"] == worker.address
    assert len(bytes.fromhex(challenge["challenge"][2:])) == 32

    response = pool.api.post(
        "/v1/workers/login",
        json={
            "address": worker.address,
            "signature": _sign_challenge(worker.account, challenge["challenge"]),
        },
    )

    assert response.status_code == 200, response.text
    token = response.json()["token"]
    ping = pool.api.post("/v1/workers/ping", headers={"Authorization": f"Bearer {token}"})
    assert ping.status_code == 200
    assert ping.json() == {"actions": []}


def test_login_answers_401_when_challenge_signed_by_another_key(pool: Pool, world: World) -> None:
    worker = world.workers[0]
    challenge = pool.api.get("/v1/workers/challenge", params={"address": worker.address}).json()

    response = pool.api.post(
        "/v1/workers/login",
        json={
            "address": worker.address,
            "signature": _sign_challenge(world.stranger, challenge["challenge"]),
        },
    )

    _assert_refused(
        response, 401, "AuthenticationError", f"the challenge is not signed by {worker.address}"
    )


def test_login_answers_401_when_no_challenge_was_asked(pool: Pool, world: World) -> None:
    worker = world.workers[0]

    response = pool.api.post(
        "/v1/workers/login",
        json={"address": worker.address, "signature": "0x" + "00" * 65},
    )

    _assert_refused(response, 401, "AuthenticationError", "GET /v1/workers/challenge first")


def test_login_answers_401_when_signed_challenge_replayed(pool: Pool, world: World) -> None:
    worker = world.workers[0]
    challenge = pool.api.get("/v1/workers/challenge", params={"address": worker.address}).json()
    body = {
        "address": worker.address,
        "signature": _sign_challenge(worker.account, challenge["challenge"]),
    }
    assert pool.api.post("/v1/workers/login", json=body).status_code == 200

    replayed = pool.api.post("/v1/workers/login", json=body)

    _assert_refused(replayed, 401, "AuthenticationError", "no login challenge")


def test_login_revokes_previous_token(pool: Pool, world: World) -> None:
    worker = world.workers[0]
    first = pool.login(worker)

    second = pool.login(worker)

    _assert_refused(pool.api.post("/v1/workers/ping", headers=first), 401, "AuthenticationError")
    assert pool.api.post("/v1/workers/ping", headers=second).status_code == 200


@pytest.mark.parametrize(
    "signature",
    ["0x", "0x00", "0x" + "00" * 65, "0x" + "ab" * 66],
    ids=["empty", "1B", "65B", "66B"],
)
def test_login_answers_401_when_signature_malformed(
    pool: Pool, world: World, signature: str
) -> None:
    worker = world.workers[0]
    assert pool.api.get("/v1/workers/challenge", params={"address": worker.address}).is_success

    response = pool.api.post(
        "/v1/workers/login", json={"address": worker.address, "signature": signature}
    )

    _assert_refused(response, 401, "AuthenticationError")


def test_challenge_answers_422_when_address_malformed(pool: Pool) -> None:
    response = pool.api.get("/v1/workers/challenge", params={"address": "0x1234"})

    _assert_refused(response, 422, "InvalidRequest")


WORKER_ENDPOINTS = [
    pytest.param("POST", "/v1/workers/register", {"max_tasks": 1}, id="register"),
    pytest.param("POST", "/v1/workers/ping", None, id="ping"),
    pytest.param("GET", "/v1/workers/replicates", None, id="replicates"),
    pytest.param("POST", "/v1/replicates/next", None, id="next"),
    pytest.param(
        "POST", f"/v1/replicates/{UNKNOWN_TASK}/status", {"status": "RUNNING"}, id="report"
    ),
]


@pytest.mark.parametrize(("method", "path", "body"), WORKER_ENDPOINTS)
@pytest.mark.parametrize(
    ("authorization", "fragment"),
    [
        pytest.param(None, "missing bearer token", id="no-header"),
        pytest.param("Bearer ", "missing bearer token", id="empty-token"),
        pytest.param("Bearer " + "ab" * 32, "unknown or expired token", id="unknown-token"),
        pytest.param("Basic dXNlcjpwYXNz", "unknown or expired token", id="other-scheme"),
    ],
)
def test_worker_endpoint_answers_401_when_token_missing_or_bad(
    pool: Pool,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    authorization: str | None,
    fragment: str,
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}

    response = pool.api.request(method, path, json=body, headers=headers)

    _assert_refused(response, 401, "AuthenticationError", fragment)


# ─── Registration and heartbeats ───


def test_register_returns_pool_config(pool: Pool, world: World) -> None:
    headers = pool.login(world.workers[0])

    response = pool.api.post(
        "/v1/workers/register", json={"name": "w0", "max_tasks": 2}, headers=headers
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "workerpool": world.workerpool,
        "scheduler": world.scheduler.address,
        "chain_id": world.client.chain_id,
        "result_store_url": RESULT_STORE_URL,
        "sms_url": None,
        "heartbeat_s": 2.0,
        "poll_interval_s": 0.2,
    }


def test_register_answers_422_when_max_tasks_out_of_range(pool: Pool, world: World) -> None:
    headers = pool.login(world.workers[0])

    response = pool.api.post("/v1/workers/register", json={"max_tasks": 0}, headers=headers)

    _assert_refused(response, 422, "InvalidRequest")


def test_ping_lists_next_action_of_each_replicate(pool: Pool, world: World) -> None:
    headers = pool.join(world.workers[0])
    _, task = pool.scheduled(trust=1)
    pool.assigned(headers)

    response = pool.api.post("/v1/workers/ping", headers=headers)

    assert response.status_code == 200
    assert response.json() == {"actions": [{"task_id": task, "action": "PLEASE_CONTINUE"}]}


def test_worker_replicates_resume_assignment_and_action(pool: Pool, world: World) -> None:
    headers = pool.join(world.workers[0])
    _, task = pool.scheduled(trust=1)
    assignment = pool.assigned(headers)
    pool.action(headers, task, "RUNNING")
    pool.action(headers, task, "COMPUTED")

    response = pool.api.get("/v1/workers/replicates", headers=headers)

    assert response.status_code == 200
    assert response.json() == [
        {
            "assignment": assignment,
            "state": "COMPUTED",
            "action": "PLEASE_CONTRIBUTE_AND_FINALIZE",
        }
    ]


# ─── Assignment ───


def test_next_replicate_answers_204_when_no_work(pool: Pool, world: World) -> None:
    headers = pool.join(world.workers[0])

    response = pool.next(headers)

    assert response.status_code == 204
    assert response.content == b""


def test_next_replicate_returns_signed_assignment_when_task_initialized(
    pool: Pool, world: World
) -> None:
    worker = world.workers[0]
    headers = pool.join(worker)
    matched, task = pool.scheduled(trust=8)

    assignment = pool.assigned(headers)

    assert assignment["task_id"] == task
    assert assignment["deal_id"] == matched.deal_id
    assert assignment["idx"] == matched.deal.bot_first
    assert assignment["deal"] == matched.deal.as_json()
    assert assignment["params"] == PARAMS
    assert assignment["app"]["address"] == world.app
    assert assignment["dataset"]["address"] == world.dataset
    assert assignment["enclave_challenge"] == ZERO_ADDRESS
    assert assignment["fast_path"] is False
    assert assignment["result_link"] == f"{RESULT_STORE_URL}/v1/results/{task}"
    assert assignment["max_execution_s"] == matched.deal.time_ref
    signer = recover_eip191(
        authorization_message(worker.address, task), assignment["authorization"]
    )
    assert signer == world.scheduler.address
    assert _states(pool.view(task)["history"])[-1] == "RUNNING"


def test_next_replicate_gives_each_needed_replicate_to_a_different_worker(
    pool: Pool, world: World
) -> None:
    first, second, third, fourth = (pool.join(w) for w in world.workers[:4])
    _, task = pool.scheduled(trust=8)  # three fresh workers (weight 2) reach trust 8

    assigned = [pool.assigned(headers)["task_id"] for headers in (first, second, third)]
    surplus = pool.next(fourth)

    assert assigned == [task, task, task]
    assert surplus.status_code == 204
    workers = [r["worker"] for r in pool.view(task)["replicates"]]
    assert sorted(workers) == sorted(w.address for w in world.workers[:3])


def test_next_replicate_never_gives_same_task_twice_to_a_worker(pool: Pool, world: World) -> None:
    headers = pool.join(world.workers[0], max_tasks=4)
    _, task = pool.scheduled(trust=8)
    assert pool.assigned(headers)["task_id"] == task

    again = pool.next(headers)
    _, other_task = pool.scheduled(trust=8)
    other = pool.assigned(headers)

    assert again.status_code == 204  # capacity is left: only the same-task rule refuses
    assert other["task_id"] == other_task
    assert [r["worker"] for r in pool.view(task)["replicates"]] == [world.workers[0].address]


def test_next_replicate_hands_out_one_fast_path_replicate_when_trust_is_one(
    pool: Pool, world: World
) -> None:
    first, second = pool.join(world.workers[0]), pool.join(world.workers[1])
    _, task = pool.scheduled(trust=1)

    assignment = pool.assigned(first)
    surplus = pool.next(second)

    assert assignment["task_id"] == task
    assert assignment["fast_path"] is True
    assert surplus.status_code == 204
    assert len(pool.view(task)["replicates"]) == 1


# ─── Status reports ───


def test_report_walks_replicate_to_contributed_when_contribution_on_chain(
    pool: Pool, world: World
) -> None:
    worker = world.workers[0]
    headers = pool.join(worker)
    matched, task = pool.scheduled(trust=8)
    assignment = pool.assigned(headers)

    running = pool.action(headers, task, "RUNNING")
    computed = pool.action(headers, task, "COMPUTED", cause="EXIT_0", exit_code=0)
    early = pool.report(headers, task, "CONTRIBUTED")
    worker.contribute(task, matched.deal, DIGEST, _authorization(assignment))
    contributed = pool.action(headers, task, "CONTRIBUTED")

    assert (running, computed, contributed) == (
        "PLEASE_CONTINUE",
        "PLEASE_CONTRIBUTE",
        "PLEASE_WAIT",
    )
    _assert_refused(
        early, 409, "ConflictError", f"no contribution of {worker.address} to task {task}"
    )
    (replicate,) = pool.view(task)["replicates"]
    assert replicate["state"] == "CONTRIBUTED"
    assert replicate["exit_cause"] == "EXIT_0"
    assert _states(replicate["history"]) == ["CREATED", "RUNNING", "COMPUTED", "CONTRIBUTED"]


def test_report_asks_contribute_and_finalize_when_trust_is_one(pool: Pool, world: World) -> None:
    headers = pool.join(world.workers[0])
    _, task = pool.scheduled(trust=1)
    pool.assigned(headers)

    action = pool.action(headers, task, "COMPUTED")

    assert action == "PLEASE_CONTRIBUTE_AND_FINALIZE"


def test_report_asks_one_winner_to_reveal_when_consensus_reached(pool: Pool, world: World) -> None:
    matched, task, winners, headers = _computed_replicates(pool, world, trust=8)

    actions = []
    for worker, bearer, assignment in zip(
        winners, headers, _assignments(pool, headers), strict=True
    ):
        worker.contribute(task, matched.deal, DIGEST, _authorization(assignment))
        actions.append(pool.action(bearer, task, "CONTRIBUTED"))

    view = pool.view(task)
    assert view["state"] == "CONSENSUS_REACHED"
    assert view["consensus"] == result_hash(task, DIGEST)
    assert view["reveal_deadline"] == world.protocol.task(task).reveal_deadline
    asked = [_ping_actions(pool, bearer) for bearer in headers]
    assert asked == [["PLEASE_REVEAL"], ["PLEASE_WAIT"], ["PLEASE_WAIT"]]  # the first winner
    assert actions == ["PLEASE_WAIT", "PLEASE_WAIT", "PLEASE_WAIT"]
    winners[0].reveal(task, DIGEST)
    assert pool.action(headers[0], task, "REVEALED") == "PLEASE_UPLOAD"
    assert pool.view(task)["state"] == "REVEALED"


@pytest.mark.parametrize("seen_by", ["engine", "first-report"])
def test_consensus_keeps_every_winner_when_reports_arrive_after_it(
    pool: Pool, world: World, seen_by: str
) -> None:
    matched, task, winners, headers = _computed_replicates(pool, world, trust=8)
    for worker, assignment in zip(winners, _assignments(pool, headers), strict=True):
        worker.contribute(task, matched.deal, DIGEST, _authorization(assignment))
    assert world.protocol.task(task).status == TaskStatus.REVEALING

    if seen_by == "engine":
        pool.engine.step()
    else:
        pool.action(headers[0], task, "CONTRIBUTED")

    view = pool.view(task)
    assert view["state"] == "CONSENSUS_REACHED"
    states = [r["state"] for r in view["replicates"]]
    assert "ABORTED" not in states, view["replicates"]
    assert sorted(a for bearer in headers for a in _ping_actions(pool, bearer)) == [
        "PLEASE_REVEAL",
        "PLEASE_WAIT",
        "PLEASE_WAIT",
    ]


def test_report_answers_503_when_result_store_unreachable(pool: Pool, world: World) -> None:
    worker = world.workers[0]
    headers = pool.join(worker)
    matched, task = pool.scheduled(trust=1)
    assignment = pool.assigned(headers)
    pool.action(headers, task, "COMPUTED")
    worker.contribute(task, matched.deal, DIGEST, _authorization(assignment))
    assert pool.action(headers, task, "CONTRIBUTED") == "PLEASE_REVEAL"
    worker.reveal(task, DIGEST)
    assert pool.action(headers, task, "REVEALED") == "PLEASE_UPLOAD"

    response = pool.report(headers, task, "UPLOADED")  # nothing answers at RESULT_STORE_URL

    _assert_refused(response, 503, "ServiceError", "result store at http://results.test")
    assert pool.view(task)["replicates"][0]["state"] == "REVEALED"


@pytest.mark.parametrize("status", ["REVEALING", "UPLOADING", "COMPLETED"])
def test_report_answers_409_when_transition_illegal(pool: Pool, world: World, status: str) -> None:
    headers = pool.join(world.workers[0])
    _, task = pool.scheduled(trust=8)
    pool.assigned(headers)

    response = pool.report(headers, task, status)

    _assert_refused(
        response,
        409,
        "IllegalTransitionError",
        f"replicate cannot go from CREATED to {status}",
    )
    assert pool.view(task)["replicates"][0]["state"] == "CREATED"


def test_report_answers_409_when_revealed_skips_the_contribution_report(
    pool: Pool, world: World
) -> None:
    worker = world.workers[0]
    headers = pool.join(worker)
    matched, task = pool.scheduled(trust=1)
    assignment = pool.assigned(headers)
    worker.contribute(task, matched.deal, DIGEST, _authorization(assignment))
    worker.reveal(task, DIGEST)  # on chain for real: only the state machine can refuse

    response = pool.report(headers, task, "REVEALED")

    _assert_refused(
        response, 409, "IllegalTransitionError", "replicate cannot go from CREATED to REVEALED"
    )


@pytest.mark.parametrize("status", ["REVEALED", "CONTRIBUTED"])
def test_report_answers_409_when_claim_not_on_chain(pool: Pool, world: World, status: str) -> None:
    worker = world.workers[0]
    headers = pool.join(worker)
    _, task = pool.scheduled(trust=8)
    pool.assigned(headers)
    pool.action(headers, task, "COMPUTED")

    response = pool.report(headers, task, status)

    _assert_refused(response, 409, "ConflictError", f"no contribution of {worker.address}")
    assert pool.view(task)["replicates"][0]["state"] == "COMPUTED"


@pytest.mark.parametrize("scheduled", [True, False], ids=["task-of-others", "unknown-task"])
def test_report_answers_404_when_worker_has_no_replicate(
    pool: Pool, world: World, scheduled: bool
) -> None:
    holder, outsider = pool.join(world.workers[0]), pool.join(world.workers[1])
    task = UNKNOWN_TASK
    if scheduled:
        _, task = pool.scheduled(trust=1)
        pool.assigned(holder)

    response = pool.report(outsider, task, "RUNNING")

    _assert_refused(
        response,
        404,
        "NotFoundError",
        f"worker {world.workers[1].address} has no replicate of task {task}",
    )


def test_report_answers_422_when_status_not_reportable(pool: Pool, world: World) -> None:
    headers = pool.join(world.workers[0])
    _, task = pool.scheduled(trust=1)
    pool.assigned(headers)

    response = pool.report(headers, task, "WORKER_LOST")

    _assert_refused(response, 422, "InvalidRequest")


# ─── Task views and logs ───


def test_task_view_shows_history_and_replicates(pool: Pool, world: World) -> None:
    headers = pool.join(world.workers[0])
    matched, task = pool.scheduled(trust=8)
    pool.assigned(headers)
    pool.action(headers, task, "RUNNING")

    view = pool.view(task)

    assert view["task_id"] == task
    assert view["deal_id"] == matched.deal_id
    assert view["idx"] == matched.deal.bot_first
    assert view["state"] == "RUNNING"
    assert view["consensus"] is None
    assert _states(view["history"]) == ["RECEIVED", "INITIALIZING", "INITIALIZED", "RUNNING"]
    (replicate,) = view["replicates"]
    assert replicate["worker"] == world.workers[0].address
    assert replicate["state"] == "RUNNING"
    assert _states(replicate["history"]) == ["CREATED", "RUNNING"]


def test_task_view_answers_404_when_task_not_scheduled(pool: Pool) -> None:
    response = pool.api.get(f"/v1/tasks/{UNKNOWN_TASK}")

    _assert_refused(response, 404, "NotFoundError", "not scheduled by this workerpool")


def test_task_view_answers_422_when_task_id_malformed(pool: Pool) -> None:
    response = pool.api.get("/v1/tasks/0x12")

    _assert_refused(response, 422, "InvalidRequest")


@pytest.fixture
def computed_task(pool: Pool, world: World) -> TaskId:
    """A trust-8 task whose replicate reported COMPUTED with its output."""
    headers = pool.join(world.workers[0])
    _, task = pool.scheduled(trust=8)
    pool.assigned(headers)
    pool.action(
        headers, task, "COMPUTED", cause="EXIT_0", exit_code=0, stdout="hello\n", stderr="warn\n"
    )
    return task


def test_task_logs_show_reported_output_when_signed_by_requester(
    pool: Pool, world: World, computed_task: TaskId
) -> None:
    signature = _logs_signature(world.requester.account, computed_task)

    response = pool.api.get(
        f"/v1/tasks/{computed_task}/logs", headers={"X-Pnyx-Signature": signature}
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "task_id": computed_task,
        "replicates": [
            {
                "worker": world.workers[0].address,
                "exit_cause": "EXIT_0",
                "stdout": "hello\n",
                "stderr": "warn\n",
            }
        ],
    }


def test_task_view_omits_logs(pool: Pool, computed_task: TaskId) -> None:
    view = pool.api.get(f"/v1/tasks/{computed_task}")

    assert "hello" not in view.text
    assert "stdout" not in view.text


@pytest.mark.parametrize("signer", [None, "stranger", "other-task"])
def test_task_logs_answer_401_without_requester_signature(
    pool: Pool, world: World, computed_task: TaskId, signer: str | None
) -> None:
    headers = {}
    if signer == "stranger":
        headers["X-Pnyx-Signature"] = _logs_signature(world.stranger, computed_task)
    elif signer == "other-task":
        headers["X-Pnyx-Signature"] = _logs_signature(world.requester.account, UNKNOWN_TASK)

    response = pool.api.get(f"/v1/tasks/{computed_task}/logs", headers=headers)

    _assert_refused(
        response,
        401,
        "AuthenticationError",
        f"readable by its requester {world.requester.address} only",
    )


@pytest.mark.parametrize(
    "signature", ["not-hex", "0x", "0x00", "0x" + "00" * 65], ids=["text", "empty", "1B", "65B"]
)
def test_task_logs_answer_401_when_signature_malformed(
    pool: Pool, computed_task: TaskId, signature: str
) -> None:
    response = pool.api.get(
        f"/v1/tasks/{computed_task}/logs", headers={"X-Pnyx-Signature": signature}
    )

    _assert_refused(response, 401, "AuthenticationError")


# ─── Lost workers ───


def test_lost_worker_replicate_is_replaced_at_once(world: World, tmp_path: Path) -> None:
    with _open_pool(world, tmp_path, heartbeat_s=0.2, lost_after_s=0.3) as pool:
        lost, replacement = world.workers[0], world.workers[1]
        lost_headers, replacement_headers = pool.join(lost), pool.join(replacement)
        _, task = pool.scheduled(trust=1)
        assert pool.assigned(lost_headers)["fast_path"] is True
        assert pool.next(replacement_headers).status_code == 204  # the first one is pending

        time.sleep(0.5)  # nobody pings for longer than lost_after_s
        pool.engine.step()
        metrics_after_loss = pool.api.get("/v1/metrics").json()
        assignment = pool.assigned(replacement_headers)

        view = pool.view(task)
    assert metrics_after_loss["workers_lost"] == 2  # both were silent; the replacement came back
    assert assignment["task_id"] == task
    assert assignment["fast_path"] is False  # a second replicate: no contributeAndFinalize
    states = {r["worker"]: r for r in view["replicates"]}
    assert states[lost.address]["state"] == "WORKER_LOST"
    assert states[lost.address]["history"][-1]["cause"] == "NO_PING"
    assert states[replacement.address]["state"] == "CREATED"


def test_lost_worker_gets_continue_when_back(world: World, tmp_path: Path) -> None:
    with _open_pool(world, tmp_path, heartbeat_s=0.2, lost_after_s=0.3) as pool:
        headers = pool.join(world.workers[0])
        _, task = pool.scheduled(trust=1)
        pool.assigned(headers)
        time.sleep(0.5)
        pool.engine.step()
        assert pool.view(task)["replicates"][0]["state"] == "WORKER_LOST"

        ping = pool.api.post("/v1/workers/ping", headers=headers).json()
        computed = pool.action(headers, task, "COMPUTED")

        replicate = pool.view(task)["replicates"][0]
    assert ping == {"actions": [{"task_id": task, "action": "PLEASE_CONTINUE"}]}
    assert computed == "PLEASE_CONTRIBUTE_AND_FINALIZE"  # still the task's only replicate
    assert _states(replicate["history"]) == ["CREATED", "WORKER_LOST", "COMPUTED"]


# ─── Metrics ───


def test_metrics_count_workers_tasks_and_replicates(pool: Pool, world: World) -> None:
    empty = pool.api.get("/v1/metrics")
    headers = pool.join(world.workers[0])
    pool.join(world.workers[1])
    pool.scheduled(trust=1)
    pool.assigned(headers)

    response = pool.api.get("/v1/metrics")

    assert empty.status_code == 200
    assert empty.json() == {
        "policy": "least-loaded",
        "workers_alive": 0,
        "workers_lost": 0,
        "tasks": {},
        "replicates": {},
    }
    assert response.status_code == 200
    assert response.json() == {
        "policy": "least-loaded",
        "workers_alive": 2,
        "workers_lost": 0,
        "tasks": {"RUNNING": 1},
        "replicates": {"CREATED": 1},
    }


# ─── A whole task ───


def test_trust_one_task_completes_when_worker_contributes_and_finalizes(
    pool: Pool, world: World
) -> None:
    worker = world.workers[0]
    headers = pool.join(worker)
    matched, task = pool.scheduled(trust=1)
    assignment = pool.assigned(headers)
    assert pool.action(headers, task, "RUNNING") == "PLEASE_CONTINUE"
    assert pool.action(headers, task, "COMPUTED") == "PLEASE_CONTRIBUTE_AND_FINALIZE"

    worker.contribute_and_finalize(
        task,
        matched.deal,
        DIGEST,
        assignment["result_link"].encode(),
        _authorization(assignment),
    )
    view = pool.step_until(task, "COMPLETED")
    final_action = pool.action(headers, task, "COMPLETED")  # what the worker agent reports

    assert world.protocol.task(task).status == TaskStatus.COMPLETED
    assert _states(view["history"]) == [
        "RECEIVED",
        "INITIALIZING",
        "INITIALIZED",
        "RUNNING",
        "COMPLETED",
    ]
    assert view["result_link"] == f"{RESULT_STORE_URL}/v1/results/{task}"
    (replicate,) = view["replicates"]
    assert replicate["state"] == "COMPLETED"
    assert final_action == "PLEASE_COMPLETE"
    assert pool.api.post("/v1/workers/ping", headers=headers).json() == {"actions": []}
    assert pool.next(headers).status_code == 204
    metrics = pool.api.get("/v1/metrics").json()
    assert (metrics["tasks"], metrics["replicates"]) == ({"COMPLETED": 1}, {"COMPLETED": 1})
