"""Schemathesis fuzzes every operation of the scheduler, the result store, the SMS and an oracle
node (off-chain reporting) from their OpenAPI documents, against the in-process apps with a live
chain behind them: whatever the request, the answer is never a 5xx. The scheduler's worker
endpoints are also fuzzed with a valid bearer token for part of the examples, and path task ids are
sometimes swapped for a task the services know; the SMS gets known owners and a stranger's
well-formed signature, the oracle node its configuration digest, fresh rounds and genuine
observations of the other nodes: so the handlers behind authentication and lookups run too. Each
service's OpenAPI must document every route it serves. Bounded so the whole file runs in about a
minute.

As in test_market_api_fuzz.py, each operation's strategy is driven by hypothesis directly because
`schemathesis.pytest.from_fixture` fails under pytest 9.2."""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from eth_account.signers.local import LocalAccount
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.python import asgi

from pnyx.api.schemas.oracle import ObservationRead
from pnyx.api.schemas.sms import SIGNATURE_HEADER, SessionSecrets
from pnyx.chain.oracles.feeds import ReportingFeed
from pnyx.chain.signing import sign_eip191
from pnyx.clients.sms import sign_challenge_request, sign_push
from pnyx.domain._hex import keccak
from pnyx.domain.archive import build_archive, result_digest
from pnyx.domain.attestation import measure
from pnyx.domain.feeds import FeedConfig, Report, feed_id
from pnyx.domain.reporting import INT192_MAX, INT192_MIN, SignedObservation, observation_message
from pnyx.domain.sms import SecretKind, secret_key
from pnyx.domain.task import task_id as make_task_id
from pnyx.services.oracle.app import create_oracle_app
from pnyx.services.oracle.config import Mechanism, OracleSettings
from pnyx.services.results.app import create_results_app
from pnyx.services.results.config import ResultsSettings
from pnyx.services.scheduler.app import create_scheduler_app
from pnyx.services.scheduler.config import SchedulerSettings
from pnyx.services.sms.app import create_sms_app
from pnyx.services.sms.config import SmsSettings
from tests.helpers.tee import (
    ATTESTATION,
    DATASET_KEY,
    MEASUREMENT,
    Enclave,
    initialized_tee_task,
    register_tee_app,
)
from tests.helpers.world import DIGEST, World

pytestmark = pytest.mark.integration
# The result store takes raw zip bytes: send generated bodies as they are.
schemathesis.serializer.alias("application/zip", "application/octet-stream")

SCHEDULER_OPERATIONS = [
    "GET /v1/health",
    "GET /v1/workers/challenge",
    "POST /v1/workers/login",
    "POST /v1/workers/register",
    "POST /v1/workers/ping",
    "GET /v1/workers/replicates",
    "POST /v1/replicates/next",
    "POST /v1/replicates/{task_id}/status",
    "GET /v1/tasks/{task_id}",
    "GET /v1/tasks/{task_id}/logs",
    "GET /v1/metrics",
]
# Login is fuzzed on its own: it takes no token, and only 400/401/422 are right for it.
SCHEDULER_FUZZED = [label for label in SCHEDULER_OPERATIONS if label != "POST /v1/workers/login"]
RESULTS_OPERATIONS = [
    "GET /v1/health",
    "PUT /v1/results/{task_id}",
    "GET /v1/results/{task_id}/meta",
    "GET /v1/results/{task_id}",
]
SMS_OPERATIONS = [
    "GET /v1/health",
    "POST /v1/secrets/datasets/{dataset}",
    "HEAD /v1/secrets/datasets/{dataset}",
    "POST /v1/secrets/apps/{app}",
    "HEAD /v1/secrets/apps/{app}",
    "POST /v1/secrets/requesters/{requester}/{name}",
    "PUT /v1/secrets/requesters/{requester}/{name}",
    "HEAD /v1/secrets/requesters/{requester}/{name}",
    "POST /v1/secrets/result-keys/{beneficiary}",
    "PUT /v1/secrets/result-keys/{beneficiary}",
    "HEAD /v1/secrets/result-keys/{beneficiary}",
    "GET /v1/secrets/result-keys/{beneficiary}",
    "POST /v1/challenges/{task_id}",
    "GET /v1/challenges/{task_id}",
    "POST /v1/sessions/nonce",
    "POST /v1/sessions",
]
# What the SMS fuzz must have met: the known owners, task and a well-formed signature by a
# stranger are each used for part of the examples, so the ownership rules run.
SMS_REACHED: dict[str, set[int]] = {
    "GET /v1/health": {200},
    "POST /v1/secrets/datasets/{dataset}": {401, 403, 422},
    "HEAD /v1/secrets/datasets/{dataset}": {200, 404},
    "POST /v1/secrets/apps/{app}": {401, 403, 422},
    "HEAD /v1/secrets/apps/{app}": {200, 404},
    "POST /v1/secrets/requesters/{requester}/{name}": {401, 403, 422},
    "PUT /v1/secrets/requesters/{requester}/{name}": {401, 403, 422},
    "HEAD /v1/secrets/requesters/{requester}/{name}": {200, 404},
    "POST /v1/secrets/result-keys/{beneficiary}": {401, 403, 422},
    "PUT /v1/secrets/result-keys/{beneficiary}": {401, 403, 422},
    "HEAD /v1/secrets/result-keys/{beneficiary}": {200, 404},
    "GET /v1/secrets/result-keys/{beneficiary}": {200, 404, 422},
    "POST /v1/challenges/{task_id}": {401, 403, 422},
    "GET /v1/challenges/{task_id}": {200, 404, 422},
    "POST /v1/sessions/nonce": {201, 422},
    "POST /v1/sessions": {403, 422},
}
# Statuses each fuzz must have met: proof that it got past authentication and into the handlers
# (the known task and the valid token are each used for about half of the examples).
REACHED: dict[str, set[int]] = {
    "GET /v1/health": {200},
    "GET /v1/metrics": {200},
    "GET /v1/workers/challenge": {200, 422},
    "POST /v1/workers/register": {200, 401, 422},
    "POST /v1/workers/ping": {200, 401},
    "GET /v1/workers/replicates": {200, 401},
    "POST /v1/replicates/next": {204, 401},
    # Which 404/409 refusals show up depends on the replicate's state left by earlier examples.
    "POST /v1/replicates/{task_id}/status": {200, 401, 422},
    "GET /v1/tasks/{task_id}": {200, 404, 422},
    "GET /v1/tasks/{task_id}/logs": {404, 422},
    "PUT /v1/results/{task_id}": {409, 422},
    "GET /v1/results/{task_id}/meta": {200, 404, 422},
    "GET /v1/results/{task_id}": {200, 404, 422},
}
# Routes FastAPI serves for its own documentation, outside the OpenAPI by design.
UNAVAILABLE = {"ServiceError", "ChainError"}
DOCS_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
EXAMPLES_PER_OPERATION = 40
COMPUTED = b'{"deterministic-output-path": "/iexec_out/result.json"}'
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


# ─── Helpers ───


@dataclass
class Seeded:
    """A service's OpenAPI, loaded from the running app, with state the fuzzer can reach."""

    schema: schemathesis.BaseSchema
    app: FastAPI
    task_id: str
    token: str = ""
    challenged: str = ""
    open_task: str | None = None


def _labels(schema: schemathesis.BaseSchema) -> set[str]:
    return {result.ok().label for result in schema.get_all_operations()}  # type: ignore[union-attr]


def _served_operations(routes: list[Any], prefix: str = "") -> set[str]:
    """Every "METHOD /path" an app answers, included routers flattened (docs routes left out)."""
    served: set[str] = set()
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context_prefix = getattr(getattr(route, "include_context", None), "prefix", "")
            served |= _served_operations(list(included.routes), prefix + context_prefix)
            continue
        path = prefix + route.path
        if path in DOCS_PATHS:
            continue
        served |= {f"{method} {path}" for method in route.methods if method != "HEAD"}
    return served


def _strategy(operation: Any) -> st.SearchStrategy[schemathesis.Case[Any]]:
    modes = [GenerationMode.POSITIVE]
    if operation.path_parameters or operation.query or operation.headers or operation.body:
        modes.append(GenerationMode.NEGATIVE)
    return st.one_of(*(operation.as_strategy(mode) for mode in modes))


def _call_without_server_error(
    case: schemathesis.Case[Any], headers: dict[str, str] | None = None
) -> int:
    response = case.call(headers=headers)
    # 503 is the honest answer when a service behind this one (the node, the result store) is
    # down, as the result store is in these tests; any other 5xx is a bug.
    unavailable = response.status_code == 503 and response.json().get("error") in UNAVAILABLE
    assert response.status_code < 500 or unavailable, (
        f"{case.method} {case.formatted_path} headers={case.headers} body={case.body!r} "
        f"→ {response.status_code}: {response.text}"
    )
    return int(response.status_code)


def _fuzz(
    seeded: Seeded,
    label: str,
    *,
    known_task: bool,
    authenticated: bool,
    edit: Callable[[schemathesis.Case[Any]], None] | None = None,
    fuzz_settings: settings = FUZZ_SETTINGS,
) -> list[int]:
    """Runs the bounded fuzz of one operation; returns the statuses answered."""
    operation = seeded.schema.find_operation_by_label(label)
    assert operation is not None
    answered: list[int] = []

    @given(case=_strategy(operation), swap_task=st.booleans(), with_token=st.booleans())
    @fuzz_settings
    def never_fails(case: schemathesis.Case[Any], swap_task: bool, with_token: bool) -> None:
        if known_task and swap_task and "task_id" in (case.path_parameters or {}):
            case.path_parameters = {**case.path_parameters, "task_id": seeded.task_id}
        if edit is not None:
            edit(case)
        headers = None
        if authenticated and with_token:
            headers = {"Authorization": f"Bearer {seeded.token}"}
        answered.append(_call_without_server_error(case, headers))

    never_fails()
    return answered


def _revealed_task(world: World, digest: str) -> str:
    matched, task = world.started_task(trust=1)
    world.contribute(world.workers[0], task, matched, digest=digest)
    world.workers[0].reveal(task, digest)
    return task


def _stored_archive() -> tuple[bytes, str]:
    files = {"result.json": b'{"answer": 42}' * 8, "computed.json": COMPUTED}
    return build_archive(files), result_digest(files)


def _deployment_file(world: World, tmp_path: Path) -> Path:
    path = tmp_path / "deployment.json"
    world.deployment.save(path)
    return path


def _scheduler_app(world: World, tmp_path: Path) -> FastAPI:
    return create_scheduler_app(
        SchedulerSettings(
            chain_url=world.client.url,
            deployment_file=_deployment_file(world, tmp_path),
            workerpool=world.workerpool,
            private_key="0x" + bytes(world.scheduler.account.key).hex(),
            database_url=f"sqlite:///{tmp_path / 'scheduler.db'}",
            result_store_url="http://results.test",
        ),
        run_engine=False,
    )


def _results_app(world: World, tmp_path: Path) -> FastAPI:
    return create_results_app(
        ResultsSettings(
            chain_url=world.client.url,
            deployment_file=_deployment_file(world, tmp_path),
            storage_dir=tmp_path / "archives",
            database_url=f"sqlite:///{tmp_path / 'results.db'}",
            public_url="http://results.test",
        )
    )


def _login(client: TestClient, world: World, index: int) -> str:
    worker = world.workers[index]
    challenge = client.get("/v1/workers/challenge", params={"address": worker.address}).json()
    signature = sign_eip191(worker.account, keccak(bytes.fromhex(challenge["challenge"][2:])))
    response = client.post(
        "/v1/workers/login", json={"address": worker.address, "signature": "0x" + signature.hex()}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


@pytest.fixture
def scheduler(world: World, tmp_path: Path) -> Iterator[Seeded]:
    """The scheduler with a registered, logged-in worker holding a replicate of an initialized
    task that has reported COMPUTED with logs, and another worker with a pending login challenge."""
    app = _scheduler_app(world, tmp_path)
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    seeder = TestClient(app)  # no `with`: the lifespan is schemathesis's
    matched = world.match(trust=8)
    task = make_task_id(matched.deal_id, matched.deal.bot_first)
    for _ in range(3):
        app.state.engine.step()
    token = _login(seeder, world, 0)
    bearer = {"Authorization": f"Bearer {token}"}
    assert seeder.post("/v1/workers/register", json={"max_tasks": 4}, headers=bearer).is_success
    assert seeder.post("/v1/replicates/next", headers=bearer).json()["task_id"] == task
    computed = {"status": "COMPUTED", "stdout": "out", "stderr": "err"}
    assert seeder.post(f"/v1/replicates/{task}/status", json=computed, headers=bearer).is_success
    challenged = world.workers[1].address
    assert seeder.get("/v1/workers/challenge", params={"address": challenged}).is_success
    yield Seeded(loaded, app, task, token=token, challenged=challenged)
    asgi.shutdown_lifespans()  # closes the databases before the chain snapshot is reverted


@pytest.fixture
def results(world: World, tmp_path: Path) -> Iterator[Seeded]:
    """The result store holding the archive of a revealed task, and another revealed task (on
    DIGEST, which no fuzzed archive hashes to) with no archive, so uploads for it are parsed."""
    app = _results_app(world, tmp_path)
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    seeder = TestClient(app)
    archive, digest = _stored_archive()
    task, open_task = _revealed_task(world, digest), _revealed_task(world, DIGEST)
    assert seeder.put(f"/v1/results/{task}", content=archive).status_code == 201
    yield Seeded(loaded, app, task, open_task=open_task)
    asgi.shutdown_lifespans()


# ─── The OpenAPI documents every route ───


def test_scheduler_openapi_lists_every_route(scheduler: Seeded) -> None:
    documented = _labels(scheduler.schema)

    assert documented == set(SCHEDULER_OPERATIONS)
    assert _served_operations(list(scheduler.app.routes)) == documented


def test_results_openapi_lists_every_route(results: Seeded) -> None:
    documented = _labels(results.schema)

    assert documented == set(RESULTS_OPERATIONS)
    assert _served_operations(list(results.app.routes)) == documented


def test_results_openapi_documents_upload_body(results: Seeded) -> None:
    upload = results.app.openapi()["paths"]["/v1/results/{task_id}"]["put"]

    assert "application/zip" in upload.get("requestBody", {}).get("content", {})


# ─── Fuzzing: never a 5xx ───


@pytest.mark.parametrize("label", SCHEDULER_FUZZED)
def test_scheduler_answers_without_server_error_when_fuzzed(scheduler: Seeded, label: str) -> None:
    # The logs of the known task are fuzzed apart: a malformed signature there is a known 500.
    known_task = label != "GET /v1/tasks/{task_id}/logs"

    answered = _fuzz(scheduler, label, known_task=known_task, authenticated=True)

    assert REACHED.get(label, set()) <= set(answered), sorted(set(answered))


def test_scheduler_login_answers_without_server_error_when_fuzzed(scheduler: Seeded) -> None:
    answered = _fuzz(scheduler, "POST /v1/workers/login", known_task=False, authenticated=False)

    # 400: FastAPI's own answer to a body that is not JSON at all.
    assert set(answered) <= {400, 401, 422}, sorted(set(answered))
    assert 401 in answered


def test_scheduler_login_answers_without_server_error_when_challenge_pending(
    scheduler: Seeded,
) -> None:
    def challenged(case: schemathesis.Case[Any]) -> None:
        if isinstance(case.body, dict):
            case.body = {**case.body, "address": scheduler.challenged}

    _fuzz(
        scheduler,
        "POST /v1/workers/login",
        known_task=False,
        authenticated=False,
        edit=challenged,
    )


def test_scheduler_logs_answer_without_server_error_when_task_known(scheduler: Seeded) -> None:
    def known(case: schemathesis.Case[Any]) -> None:
        case.path_parameters = {**(case.path_parameters or {}), "task_id": scheduler.task_id}

    _fuzz(
        scheduler,
        "GET /v1/tasks/{task_id}/logs",
        known_task=False,
        authenticated=False,
        edit=known,
    )


@pytest.mark.parametrize("label", RESULTS_OPERATIONS)
def test_results_answers_without_server_error_when_fuzzed(results: Seeded, label: str) -> None:
    answered = _fuzz(results, label, known_task=True, authenticated=False)

    assert REACHED.get(label, set()) <= set(answered), sorted(set(answered))


# ─── Fuzzing the archive the result store parses ───

_FILE_NAMES = st.one_of(
    st.sampled_from(["result.json", "computed.json", "out/a.txt", "out/b.txt", "stdout.txt"]),
    # Not empty: an entry with an empty name is a known 500 (test_results_service.py).
    st.text(
        alphabet=st.characters(codec="ascii", exclude_categories=["Cc"]), min_size=1, max_size=20
    ),
)
_COMPUTED_JSON = st.one_of(
    st.just(COMPUTED),
    st.sampled_from(
        [
            b'{"deterministic-output-path": "/iexec_out/out"}',
            b'{"deterministic-output-path": "/iexec_out"}',
            b'{"deterministic-output-path": 7}',
            b'{"callback-data": "0x1234"}',
            b'{"callback-data": "not hex"}',
            b"[]",
            b"null",
            b"\xff\xfe",
        ]
    ),
    st.binary(max_size=64),
)


@pytest.fixture
def results_api(results: Seeded) -> TestClient:
    return TestClient(results.app, raise_server_exceptions=False)


@given(
    files=st.dictionaries(_FILE_NAMES, st.binary(max_size=64), max_size=5),
    computed=st.none() | _COMPUTED_JSON,
)
@settings(
    max_examples=80,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_upload_answers_4xx_when_archive_contents_fuzzed(
    results: Seeded, results_api: TestClient, files: dict[str, bytes], computed: bytes | None
) -> None:
    if computed is not None:
        files = {**files, "computed.json": computed}

    response = results_api.put(f"/v1/results/{results.open_task}", content=build_archive(files))

    assert response.status_code in (409, 422), response.text
    assert response.json()["detail"]
    if response.status_code == 409:
        assert "is not the consensus" in response.json()["detail"]


@given(flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), max_size=3))
@settings(FUZZ_SETTINGS, max_examples=60)
def test_upload_answers_4xx_when_archive_bytes_corrupted(
    results: Seeded, results_api: TestClient, flips: list[tuple[int, int]]
) -> None:
    archive = bytearray(_stored_archive()[0])
    name_length, extra_length = struct.unpack("<HH", archive[26:30])
    data_start = 30 + name_length + extra_length
    for position, mask in flips:
        archive[data_start + position % (len(archive) - data_start)] ^= mask

    response = results_api.put(f"/v1/results/{results.open_task}", content=bytes(archive))

    assert response.status_code in (409, 422), response.text


# ─── The SMS ───


@dataclass
class SeededSms(Seeded):
    """The SMS with secrets pushed for known owners and a TEE task holding its challenge."""

    addresses: dict[str, str] = field(default_factory=dict)
    stranger_signature: str = ""
    challenge: str = ""


def _sms_app(world: World, tmp_path: Path) -> FastAPI:
    return create_sms_app(
        SmsSettings(
            chain_url=world.client.url,
            deployment_file=_deployment_file(world, tmp_path),
            dir=tmp_path / "sms",
            trusted_issuers=frozenset({ATTESTATION.public_key}),
        )
    )


def _signed_push(
    client: TestClient, account: Any, kind: SecretKind, address: str, value: str, name: str = ""
) -> None:
    segment = {
        SecretKind.DATASET: "datasets",
        SecretKind.APP: "apps",
        SecretKind.REQUESTER: "requesters",
        SecretKind.RESULT_KEY: "result-keys",
    }[kind]
    path = f"/v1/secrets/{segment}/{address}" + (f"/{name}" if name else "")
    signature = sign_push(account, address, secret_key(kind, name), value)
    response = client.post(path, json={"value": value}, headers={SIGNATURE_HEADER: signature})
    assert response.status_code == 201, response.text


@pytest.fixture
def sms(world: World, tmp_path: Path) -> Iterator[SeededSms]:
    """The SMS holding every kind of secret for known owners, and an initialized TEE task with its
    enclave challenge, so sessions for it can open."""
    app = _sms_app(world, tmp_path)
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    seeder = TestClient(app)
    tee_app = register_tee_app(world)
    requester = world.requester.account
    key = "0x" + DATASET_KEY.hex()
    _signed_push(seeder, world.dataset_provider.account, SecretKind.DATASET, world.dataset, key)
    _signed_push(seeder, world.app_provider.account, SecretKind.APP, tee_app, "app secret")
    _signed_push(seeder, requester, SecretKind.REQUESTER, requester.address, "s", "api")
    _signed_push(seeder, requester, SecretKind.RESULT_KEY, requester.address, "0x" + "42" * 32)
    _, task = initialized_tee_task(world, tee_app)
    challenge = seeder.post(
        f"/v1/challenges/{task}",
        headers={SIGNATURE_HEADER: sign_challenge_request(world.scheduler.account, task)},
    )
    assert challenge.status_code == 201, challenge.text
    addresses = {
        "dataset": world.dataset,
        "app": tee_app,
        "requester": requester.address,
        "beneficiary": requester.address,
        "name": "api",
    }
    stranger = "0x" + sign_eip191(world.stranger, keccak(b"pnyx fuzz")).hex()
    yield SeededSms(
        loaded,
        app,
        task,
        addresses=addresses,
        stranger_signature=stranger,
        challenge=challenge.json()["enclave_challenge"],
    )
    asgi.shutdown_lifespans()


def _sms_edit(seeded: SeededSms) -> Callable[[schemathesis.Case[Any]], None]:
    """Every other case names the known owners; one case in two (shifted) carries a well-formed
    signature by a stranger, so the signer checks run rather than the format check alone."""
    calls = itertools.count()

    def edit(case: schemathesis.Case[Any]) -> None:
        n = next(calls)
        params = case.path_parameters or {}
        if n % 2 == 0 and params:
            known = {k: seeded.addresses[k] for k in params if k in seeded.addresses}
            case.path_parameters = {**params, **known}
        if n % 4 < 2:
            case.headers = {**(case.headers or {}), SIGNATURE_HEADER: seeded.stranger_signature}

    return edit


def test_sms_openapi_lists_every_route(sms: SeededSms) -> None:
    documented = _labels(sms.schema)

    assert documented == set(SMS_OPERATIONS)
    # HEAD routes are left out of the served set: compare them through the document alone.
    served_without_head = {label for label in documented if not label.startswith("HEAD ")}
    assert _served_operations(list(sms.app.routes)) == served_without_head


def test_sms_openapi_documents_bodies_headers_and_refusals(sms: SeededSms) -> None:
    paths = sms.app.openapi()["paths"]
    push = paths["/v1/secrets/datasets/{dataset}"]["post"]
    session = paths["/v1/sessions"]["post"]

    assert "application/json" in push["requestBody"]["content"]
    assert SIGNATURE_HEADER in {p["name"] for p in push["parameters"] if p["in"] == "header"}
    assert {"401", "403", "404", "409", "413", "422"} <= set(push["responses"])
    assert "application/json" in session["requestBody"]["content"]
    assert {"403", "422"} <= set(session["responses"])


@pytest.mark.parametrize("label", SMS_OPERATIONS)
def test_sms_answers_without_server_error_when_fuzzed(sms: SeededSms, label: str) -> None:
    answered = _fuzz(sms, label, known_task=True, authenticated=False, edit=_sms_edit(sms))

    assert SMS_REACHED.get(label, set()) <= set(answered), sorted(set(answered))


@pytest.fixture
def sms_api(sms: SeededSms) -> TestClient:
    return TestClient(sms.app, raise_server_exceptions=False)


@given(
    worker_index=st.sampled_from([0, 1]),
    nonce_kind=st.sampled_from(["fresh", "other-worker", "unknown"]),
    bound=st.booleans(),
    authorization=st.one_of(st.none(), st.binary(min_size=65, max_size=65)),
    right_measurement=st.booleans(),
    dataset=st.sampled_from(["none", "deal", "other"]),
)
@example(  # the one combination that opens, which random draws seldom hit (1 in 36)
    worker_index=1,
    nonce_kind="fresh",
    bound=True,
    authorization=None,
    right_measurement=True,
    dataset="deal",
)
@settings(FUZZ_SETTINGS, max_examples=40)
def test_sms_session_opens_exactly_when_every_rule_holds_when_fuzzed(
    sms: SeededSms,
    sms_api: TestClient,
    world: World,
    worker_index: int,
    nonce_kind: str,
    bound: bool,
    authorization: bytes | None,
    right_measurement: bool,
    dataset: str,
) -> None:
    worker = world.workers[worker_index].address
    other = world.workers[1 - worker_index].address
    task = sms.task_id
    nonce = bytes(32)
    if nonce_kind != "unknown":
        asked = sms_api.post(
            "/v1/sessions/nonce",
            json={"task_id": task, "worker": worker if nonce_kind == "fresh" else other},
        )
        nonce = bytes.fromhex(asked.json()["nonce"][2:])
    enclave = Enclave(measurement=MEASUREMENT if right_measurement else measure(b"other"))
    quote = enclave.quote(nonce if bound else bytes(range(32)), task, worker)
    signed = world.scheduler.authorize(worker, task, sms.challenge)
    body = {
        "task_id": task,
        "worker": worker,
        "authorization": "0x" + (authorization or signed).hex(),
        "quote": quote.as_json(),
        "nonce": "0x" + nonce.hex(),
        "dataset": {"none": None, "deal": world.dataset, "other": sms.addresses["app"]}[dataset],
    }

    response = sms_api.post("/v1/sessions", json=body)

    opens = (
        nonce_kind == "fresh"
        and bound
        and authorization is None
        and right_measurement
        and dataset != "other"
    )
    assert response.status_code == (200 if opens else 403), response.text
    if opens:
        secrets = SessionSecrets.unseal(
            enclave.keys[0], bytes.fromhex(response.json()["sealed"][2:])
        )
        assert secrets.dataset_key == "0x" + DATASET_KEY.hex()
    else:
        assert response.json()["detail"]


# ─── The oracle node (off-chain reporting) ───

ORACLE_OPERATIONS = [
    "GET /v1/health",
    "GET /v1/node",
    "POST /v1/observations",
    "POST /v1/reports",
]
# What the oracle fuzz must have met: the node's digest, fresh rounds and genuine observations of
# the other nodes are each put into part of the requests, so every refusal of a report and its
# signing are reached, not the format checks alone.
ORACLE_REACHED: dict[str, set[int]] = {
    "GET /v1/health": {200},
    "GET /v1/node": {200},
    "POST /v1/observations": {200, 409, 422},
    "POST /v1/reports": {200, 401, 403, 409, 422},
}
ORACLE_PRICE = 2_000 * 10**8  # what the node's source reads, all along
ORACLE_FEED = FeedConfig(min_answer=100 * 10**8, max_answer=100_000 * 10**8, heartbeat_s=3600)


@dataclass
class SeededOracle(Seeded):
    """A reporting node with the configuration digest it follows, and the keys of the other
    nodes, whose genuine observations the fuzzer can put into reports."""

    digest: str = ""
    other_nodes: list[LocalAccount] = field(default_factory=list)


@pytest.fixture
def oracle(world: World, tmp_path: Path) -> Iterator[SeededOracle]:
    """Node 3 of a freshly configured reporting feed (4 nodes, f = 1, threshold 2), in-process and
    without its loop, its source steady at ORACLE_PRICE; its peers are unreachable."""
    accounts = [w.account for w in world.workers[:4]]
    start_block = world.client.block_number()
    feed = ReportingFeed.deploy(
        world.client, world.owner, feed_id=feed_id("Price", "ETH/USD", 8), description="ETH/USD",
        feed=ORACLE_FEED, reward_token=world.deployment.token, reward_per_unit=10**6,
    )  # fmt: skip
    feed.set_config(world.owner, [a.address for a in accounts], f=1, threshold=2)
    node_settings = OracleSettings(
        mechanism=Mechanism.REPORTING,
        chain_url=world.client.url,
        feed=feed.address,
        private_key="0x" + bytes(accounts[3].key).hex(),
        index=3,
        peers=("http://127.0.0.1:9",) * 4,
        state_dir=tmp_path / "oracle",
        start_block=start_block,
    )
    app = create_oracle_app(node_settings, source=lambda: ORACLE_PRICE, run_loop=False)
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    digest = "0x" + feed.current_digest().hex()
    yield SeededOracle(loaded, app, task_id="", digest=digest, other_nodes=accounts[:3])
    asgi.shutdown_lifespans()  # stops the node before the chain snapshot is reverted


def _fuzzed_values(body: dict[str, Any], padding: int) -> list[int]:
    """The int192 values among the fuzzed report's observations, padded to three."""
    raw = body.get("observations")
    values = [
        v
        for v in (raw if isinstance(raw, list) else [])
        if type(v) is int and INT192_MIN <= v <= INT192_MAX
    ][:3]
    return values + [padding] * (3 - len(values))


def _oracle_edit(seeded: SeededOracle) -> Callable[[schemathesis.Case[Any]], None]:
    """One case in two names the node's configuration digest; for observations, one in four is also
    for a fresh round. For reports, those cases take turns: the digest alone; a fresh round alone;
    genuine observations of nodes 0-2 (of the fuzzed values) with the report left as fuzzed (not
    what they make); the report rebuilt from them (its median far from the node's own value); the
    same with an observation signed by another node (forged); the report rebuilt from values close
    to the node's own (signed)."""
    calls = itertools.count()
    rounds = itertools.count(1)  # the node signs only rounds newer than the last it signed
    digest = bytes.fromhex(seeded.digest[2:])

    def observation(index: int, round_: int, value: int, signer: int) -> dict[str, Any]:
        signature = sign_eip191(
            seeded.other_nodes[signer], observation_message(digest, round_, value)
        )
        return ObservationRead.of(SignedObservation(index, round_, value, signature)).model_dump()

    def backed(body: dict[str, Any], stage: str) -> None:
        round_ = body["epoch_and_round"] = next(rounds)
        if stage == "fresh round":
            return
        values = _fuzzed_values(body, padding=2 * ORACLE_PRICE)
        if stage == "close":
            values = [ORACLE_PRICE + v % 1000 for v in values]
        signers = [1, 1, 2] if stage == "forged" else [0, 1, 2]
        body["signed_observations"] = [
            observation(index, round_, value, signer)
            for index, (value, signer) in enumerate(zip(values, signers, strict=True))
        ]
        if stage != "as fuzzed":
            report = Report.build(digest, round_, dict(enumerate(values)))
            body["observers"] = report.observers
            body["observations"] = list(report.observations)

    stages = ["digest", "as fuzzed", "far", "forged", "close", "fresh round"]

    def edit(case: schemathesis.Case[Any]) -> None:
        n = next(calls)
        if not isinstance(case.body, dict) or n % 2:
            return
        body = {**case.body, "config_digest": seeded.digest}
        if case.path == "/v1/observations" and n % 4 == 0:
            body["epoch_and_round"] = next(rounds)
        stage = stages[n // 2 % len(stages)]
        if case.path == "/v1/reports" and stage != "digest":
            backed(body, stage)
        case.body = body

    return edit


def test_oracle_openapi_lists_every_route(oracle: SeededOracle) -> None:
    documented = _labels(oracle.schema)

    assert documented == set(ORACLE_OPERATIONS)
    assert _served_operations(list(oracle.app.routes)) == documented


@pytest.mark.parametrize("label", ORACLE_OPERATIONS)
def test_oracle_answers_without_server_error_when_fuzzed(oracle: SeededOracle, label: str) -> None:
    answered = _fuzz(
        oracle, label, known_task=False, authenticated=False, edit=_oracle_edit(oracle)
    )

    assert ORACLE_REACHED.get(label, set()) <= set(answered), sorted(set(answered))
