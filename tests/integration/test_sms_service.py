"""The SMS over HTTP, in-process, with a live chain behind it: owners push secrets (each push signed
by the secret's on-chain owner), a TEE task's scheduler gets its enclave challenge, and an enclave
running on a simulated, certified platform gets the task's secrets sealed to its key — only when
every session rule holds. Each refusal is asserted with its own message. The client is exercised
against the service run as `python -m pnyx.services.sms`."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from threading import Barrier
from typing import Any

import httpx
import pytest
from eth_account.signers.local import LocalAccount
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from pnyx.api.schemas.sms import SIGNATURE_HEADER, SessionSecrets
from pnyx.chain.node import free_port
from pnyx.chain.protocol import MatchedDeal
from pnyx.chain.signing import (
    account_from_key,
    new_account,
    sign_authorization,
    sign_enclave_result,
)
from pnyx.clients._http import ServiceAuthError, ServiceConflictError
from pnyx.clients.sms import SmsClient, sign_challenge_request, sign_push
from pnyx.domain.attestation import (
    Quote,
    SimulatedAttestationService,
    SimulatedPlatform,
    measure,
)
from pnyx.domain.crypto import new_box_keypair
from pnyx.domain.sms import SecretKind, secret_key
from pnyx.domain.task import result_hash, result_seal
from pnyx.domain.task import task_id as make_task_id
from pnyx.domain.views import TaskStatus
from pnyx.errors import ConfigError
from pnyx.services.sms.app import create_sms_app
from pnyx.services.sms.config import SmsSettings, parse_issuers
from pnyx.services.sms.service import SmsService
from pnyx.services.sms.vault import Vault
from pnyx.types import Address
from tests.helpers.tee import (
    ATTESTATION,
    DATASET_KEY,
    MEASUREMENT,
    Enclave,
    initialized_tee_task,
    matched_tee_deal,
    register_tee_app,
)
from tests.helpers.world import DIGEST, World

pytestmark = pytest.mark.integration

APP_SECRET = "app-developer-secret-7f3a9c"
REQUESTER_SECRET = "requester-api-token-b41d2e"
UNKNOWN_TASK = "0x" + "ab" * 32


# ─── Helpers ───


@dataclass
class Tee:
    """The SMS app, the world, and a TEE app registered with the enclave's measurement."""

    api: TestClient
    world: World
    app: Address

    @property
    def sms(self) -> SmsService:
        service: SmsService = self.api.app.state.sms  # type: ignore[attr-defined]
        return service

    @property
    def worker(self) -> LocalAccount:
        return self.world.workers[0].account

    # ─── Deals ───
    def deal(self, *, dataset: bool = True) -> MatchedDeal:
        return matched_tee_deal(self.world, self.app, dataset=dataset)

    def task(self, *, dataset: bool = True) -> tuple[MatchedDeal, str]:
        return initialized_tee_task(self.world, self.app, dataset=dataset)

    # ─── Pushes ───
    def push(
        self,
        kind: SecretKind,
        address: str,
        value: str,
        signer: LocalAccount,
        *,
        name: str = "",
        method: str = "POST",
    ) -> Response:
        segment = {
            SecretKind.DATASET: "datasets",
            SecretKind.APP: "apps",
            SecretKind.REQUESTER: "requesters",
            SecretKind.RESULT_KEY: "result-keys",
        }[kind]
        path = f"/v1/secrets/{segment}/{address}" + (f"/{name}" if name else "")
        signature = sign_push(signer, address, secret_key(kind, name), value)
        response: Response = self.api.request(
            method, path, json={"value": value}, headers={SIGNATURE_HEADER: signature}
        )
        return response

    def push_all(self, result_key: bytes) -> None:
        """Every secret a session releases, pushed by its rightful owner."""
        world = self.world
        requester = world.requester.account
        pushes = [
            self.push(
                SecretKind.DATASET,
                world.dataset,
                _hex(DATASET_KEY),
                world.dataset_provider.account,
            ),
            self.push(SecretKind.APP, self.app, APP_SECRET, world.app_provider.account),
            self.push(
                SecretKind.REQUESTER, requester.address, REQUESTER_SECRET, requester, name="api"
            ),
            self.push(SecretKind.RESULT_KEY, requester.address, _hex(result_key), requester),
        ]
        assert [p.status_code for p in pushes] == [201] * 4, [p.text for p in pushes]

    # ─── Challenges and sessions ───
    def challenge(self, task: str, signer: LocalAccount | None = None) -> Response:
        account = signer or self.world.scheduler.account
        response: Response = self.api.post(
            f"/v1/challenges/{task}",
            headers={SIGNATURE_HEADER: sign_challenge_request(account, task)},
        )
        return response

    def challenge_address(self, task: str) -> str:
        response = self.challenge(task)
        assert response.status_code in (200, 201), response.text
        address: str = response.json()["enclave_challenge"]
        return address

    def nonce(self, task: str, worker: str | None = None) -> bytes:
        response = self.api.post(
            "/v1/sessions/nonce", json={"task_id": task, "worker": worker or self.worker.address}
        )
        assert response.status_code == 201, response.text
        return bytes.fromhex(response.json()["nonce"][2:])

    def session_body(
        self,
        task: str,
        *,
        enclave: Enclave | None = None,
        authorization: bytes | None = None,
        nonce: bytes | None = None,
        quote: Quote | None = None,
        dataset: str | None = None,
    ) -> dict[str, Any]:
        """A session request; every part valid unless given."""
        worker = self.worker.address
        enclave = enclave or Enclave()
        if authorization is None:
            challenge = self.sms.store.challenge(task)
            assert challenge is not None
            authorization = self.world.scheduler.authorize(worker, task, challenge.address)
        nonce = nonce if nonce is not None else self.nonce(task)
        quote = quote or enclave.quote(nonce, task, worker)
        return {
            "task_id": task,
            "worker": worker,
            "authorization": _hex(authorization),
            "quote": quote.as_json(),
            "nonce": _hex(nonce),
            "dataset": dataset,
        }

    def session(self, body: dict[str, Any]) -> Response:
        response: Response = self.api.post("/v1/sessions", json=body)
        return response

    def ready_task(self, *, dataset: bool = True) -> tuple[MatchedDeal, str]:
        """A TEE task with its challenge and the dataset key pushed: a session can open."""
        matched, task = self.task(dataset=dataset)
        self.challenge_address(task)
        if dataset:
            pushed = self.push(
                SecretKind.DATASET,
                self.world.dataset,
                _hex(DATASET_KEY),
                self.world.dataset_provider.account,
            )
            assert pushed.status_code == 201, pushed.text
        return matched, task


def _hex(raw: bytes) -> str:
    return "0x" + raw.hex()


def _settings(world: World, tmp_path: Path, **overrides: Any) -> SmsSettings:
    deployment_file = tmp_path / "deployment.json"
    world.deployment.save(deployment_file)
    return SmsSettings(
        chain_url=world.client.url,
        deployment_file=deployment_file,
        dir=tmp_path / "sms",
        trusted_issuers=frozenset({ATTESTATION.public_key}),
        **overrides,
    )


def _sms_app(world: World, tmp_path: Path, **overrides: Any) -> FastAPI:
    return create_sms_app(_settings(world, tmp_path, **overrides))


def _assert_refused(response: Response, status: int, error: str, *fragments: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    for fragment in fragments:
        assert fragment in body["detail"], body


@pytest.fixture
def tee(world: World, tmp_path: Path) -> Iterator[Tee]:
    with TestClient(_sms_app(world, tmp_path), raise_server_exceptions=False) as api:
        yield Tee(api=api, world=world, app=register_tee_app(world))


# ─── The happy path ───


def test_session_seals_task_secrets_to_enclave_when_every_rule_holds(tee: Tee) -> None:
    _, result_public = new_box_keypair()
    tee.push_all(result_public)
    _, task = tee.task()
    challenge = tee.challenge_address(task)
    enclave = Enclave()

    response = tee.session(tee.session_body(task, enclave=enclave, dataset=tee.world.dataset))

    secrets = enclave.unseal(response)
    assert secrets.task_id == task
    assert secrets.dataset_key == _hex(DATASET_KEY)
    assert account_from_key(secrets.enclave_challenge_key).address == challenge
    assert secrets.result_encryption_key == _hex(result_public)
    assert secrets.app_secret == APP_SECRET
    assert secrets.requester_secrets == {"api": REQUESTER_SECRET}


def test_session_opens_with_no_dataset_when_deal_has_none(tee: Tee) -> None:
    _, task = tee.ready_task(dataset=False)
    enclave = Enclave()

    secrets = enclave.unseal(tee.session(tee.session_body(task, enclave=enclave)))

    assert (secrets.dataset_key, secrets.app_secret, secrets.result_encryption_key) == (
        None,
        None,
        None,
    )
    assert secrets.requester_secrets == {}


# ─── Session refusals, in the order the rules are checked ───


def test_session_refuses_quote_when_platform_key_uncertified(tee: Tee) -> None:
    _, task = tee.ready_task()
    rogue = SimulatedPlatform.new(SimulatedAttestationService(), "rogue")
    # The rogue platform claims the trusted service issued its certificate.
    forged = replace(rogue.certificate, issuer_key=ATTESTATION.public_key)
    enclave = Enclave(platform=SimulatedPlatform(rogue.private_bytes, forged))

    response = tee.session(tee.session_body(task, enclave=enclave))

    _assert_refused(
        response,
        403,
        "AttestationError",
        "attestation refused (uncertified-platform)",
        f"platform key 0x{forged.platform_key.hex()} is not certified",
    )


def test_session_refuses_quote_when_issuer_untrusted(tee: Tee) -> None:
    _, task = tee.ready_task()
    enclave = Enclave(platform=SimulatedPlatform.new(SimulatedAttestationService(), "other"))

    response = tee.session(tee.session_body(task, enclave=enclave))

    _assert_refused(response, 403, "AttestationError", "attestation refused (untrusted-issuer)")


def test_session_refuses_quote_when_altered_after_signing(tee: Tee) -> None:
    _, task = tee.ready_task()
    nonce = tee.nonce(task)
    genuine = Enclave().quote(nonce, task, tee.worker.address)
    altered = replace(genuine, measurement=measure(b"another app"))

    response = tee.session(tee.session_body(task, nonce=nonce, quote=altered))

    _assert_refused(response, 403, "AttestationError", "attestation refused (bad-quote-signature)")


def test_session_refuses_when_nonce_not_issued_for_this_worker(tee: Tee) -> None:
    _, task = tee.ready_task()
    other = tee.world.workers[1].address
    nonce = tee.nonce(task, worker=other)

    response = tee.session(tee.session_body(task, nonce=nonce))

    _assert_refused(
        response,
        403,
        "PermissionDeniedError",
        f"nonce {_hex(nonce)} was not issued by this SMS for task {task} and worker "
        f"{tee.worker.address}",
    )


def test_session_refuses_when_nonce_expired(world: World, tmp_path: Path) -> None:
    with TestClient(_sms_app(world, tmp_path, nonce_ttl_s=0.2)) as api:
        tee = Tee(api=api, world=world, app=register_tee_app(world))
        _, task = tee.ready_task()
        body = tee.session_body(task)
        time.sleep(0.3)

        response = tee.session(body)

    _assert_refused(response, 403, "PermissionDeniedError", "expired at", "ask for a new one")


def test_session_refuses_replayed_quote(tee: Tee) -> None:
    _, task = tee.ready_task()
    body = tee.session_body(task)
    assert tee.session(body).status_code == 200

    replayed = tee.session(body)

    _assert_refused(
        replayed,
        403,
        "PermissionDeniedError",
        f"replayed quote: nonce {body['nonce']} already opened a session",
    )


def test_session_refuses_when_report_data_binds_another_nonce(tee: Tee) -> None:
    _, task = tee.ready_task()
    nonce, stale = tee.nonce(task), tee.nonce(task)
    quote = Enclave().quote(stale, task, tee.worker.address)

    response = tee.session(tee.session_body(task, nonce=nonce, quote=quote))

    _assert_refused(
        response,
        403,
        "PermissionDeniedError",
        f"the quote's report data {_hex(quote.report_data)} is not session_report_data",
        "the quote was made for another session",
    )


def test_session_refuses_when_task_not_active(tee: Tee) -> None:
    matched, task = tee.ready_task()
    challenge = tee.challenge_address(task)
    enclave = Enclave()
    secrets = enclave.unseal(tee.session(tee.session_body(task, enclave=enclave)))
    # The enclave's result goes on chain: one contribution at trust 1 ends the ACTIVE phase.
    worker = tee.world.workers[0]
    authorization = tee.world.scheduler.authorize(worker.address, task, challenge)
    enclave_sign = sign_enclave_result(
        account_from_key(secrets.enclave_challenge_key),
        result_hash(task, DIGEST),
        result_seal(worker.address, task, DIGEST),
    )
    worker.contribute(
        task,
        matched.deal,
        DIGEST,
        authorization,
        enclave_challenge=challenge,
        enclave_sign=enclave_sign,
    )
    assert tee.world.protocol.task(task).status == TaskStatus.REVEALING

    response = tee.session(tee.session_body(task))

    _assert_refused(
        response,
        403,
        "PermissionDeniedError",
        f"task {task} is REVEALING on chain: secrets are released only while a task is ACTIVE",
    )


def test_session_refuses_when_task_never_initialized(tee: Tee) -> None:
    matched = tee.deal()
    task = make_task_id(matched.deal_id, matched.deal.bot_first)

    response = tee.session(tee.session_body(task, authorization=bytes(65)))

    _assert_refused(response, 403, "PermissionDeniedError", f"task {task} is UNSET on chain")


def test_session_refuses_when_deal_has_no_tee_tag(tee: Tee) -> None:
    matched, task = tee.world.started_task()
    assert not matched.deal.is_tee

    response = tee.session(tee.session_body(task, authorization=bytes(65)))

    _assert_refused(
        response,
        403,
        "PermissionDeniedError",
        f"deal {matched.deal_id} has tag {matched.deal.tag}, without the TEE bit: secrets are "
        "released only to TEE tasks",
    )


def test_session_refuses_when_task_has_no_challenge(tee: Tee) -> None:
    _, task = tee.task()

    response = tee.session(tee.session_body(task, authorization=bytes(65)))

    _assert_refused(
        response,
        403,
        "PermissionDeniedError",
        f"task {task} has no enclave challenge: its scheduler must create one first",
    )


def test_session_refuses_when_authorization_not_signed_by_pool_owner(tee: Tee) -> None:
    _, task = tee.ready_task()
    challenge = tee.challenge_address(task)
    stranger = tee.world.stranger
    forged = sign_authorization(stranger, tee.worker.address, task, challenge)

    response = tee.session(tee.session_body(task, authorization=forged))

    _assert_refused(
        response,
        403,
        "PermissionDeniedError",
        f"the workerpool authorization is signed by {stranger.address}, not by "
        f"{tee.world.scheduler.address}, the owner of workerpool {tee.world.workerpool}",
    )


def test_session_refuses_when_authorization_names_another_challenge(tee: Tee) -> None:
    _, task = tee.ready_task()
    wrong = tee.world.scheduler.authorize(tee.worker.address, task, new_account().address)

    response = tee.session(tee.session_body(task, authorization=wrong))

    _assert_refused(
        response, 403, "PermissionDeniedError", "the workerpool authorization is signed by"
    )


def test_session_refuses_when_measurement_wrong(tee: Tee) -> None:
    _, task = tee.ready_task()
    impostor = measure(b"an app that leaks the dataset")

    response = tee.session(tee.session_body(task, enclave=Enclave(measurement=impostor)))

    _assert_refused(
        response,
        403,
        "PermissionDeniedError",
        f"wrong measurement: the enclave measures {_hex(impostor)}, but app {tee.app} registers "
        f"mrenclave {_hex(MEASUREMENT)}",
    )


def test_session_refuses_when_dataset_not_in_deal(tee: Tee) -> None:
    matched, task = tee.ready_task()
    other = tee.world.dataset_provider.register_dataset(
        "other", "file:///data/other.csv", "0x" + "44" * 32
    )

    response = tee.session(tee.session_body(task, dataset=other))

    _assert_refused(
        response,
        403,
        "PermissionDeniedError",
        f"dataset {other} is not in deal {matched.deal_id} (its dataset: {tee.world.dataset})",
    )


def test_session_refuses_when_dataset_key_never_pushed(tee: Tee) -> None:
    _, task = tee.task()
    tee.challenge_address(task)

    response = tee.session(tee.session_body(task))

    _assert_refused(
        response,
        403,
        "PermissionDeniedError",
        f"the key of dataset {tee.world.dataset} was never pushed to this SMS by its owner",
    )


def test_session_opens_once_when_nonce_used_concurrently(
    tee: Tee, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, task = tee.ready_task()
    body = tee.session_body(task)
    racers = 4
    store = tee.sms.store
    spend = store.spend_nonce
    # Every racer passes the "nonce unused" check before any of them spends it: the database's
    # compare-and-set alone must then pick one winner.
    all_checked = Barrier(racers, timeout=30)

    def spend_together(nonce: str, *, now: float) -> bool:
        all_checked.wait()
        return spend(nonce, now=now)

    monkeypatch.setattr(store, "spend_nonce", spend_together)
    start = Barrier(racers)

    def race(_: int) -> Response:
        start.wait()
        return tee.session(body)

    with ThreadPoolExecutor(racers) as pool:
        responses = list(pool.map(race, range(racers)))

    assert sorted(r.status_code for r in responses) == [200] + [403] * (racers - 1)
    for refused in (r for r in responses if r.status_code == 403):
        assert "replayed quote" in refused.json()["detail"]


def test_session_answers_422_when_quote_framework_unknown(tee: Tee) -> None:
    _, task = tee.ready_task()
    body = tee.session_body(task)
    body["quote"]["framework"] = "sgx-scone"

    response = tee.session(body)

    _assert_refused(response, 422, "InvalidRequest")


# ─── Pushes ───


@pytest.mark.parametrize(
    ("kind", "role"),
    [
        (SecretKind.DATASET, "the dataset's owner"),
        (SecretKind.APP, "the app's owner"),
        (SecretKind.REQUESTER, "the requester"),
        (SecretKind.RESULT_KEY, "the beneficiary"),
    ],
)
def test_push_refuses_when_signed_by_someone_else(tee: Tee, kind: SecretKind, role: str) -> None:
    world = tee.world
    address, owner = {
        SecretKind.DATASET: (world.dataset, world.dataset_provider.address),
        SecretKind.APP: (tee.app, world.app_provider.address),
        SecretKind.REQUESTER: (world.requester.address, world.requester.address),
        SecretKind.RESULT_KEY: (world.requester.address, world.requester.address),
    }[kind]
    name = "api" if kind is SecretKind.REQUESTER else ""

    response = tee.push(kind, address, _hex(DATASET_KEY), world.stranger, name=name)

    _assert_refused(
        response,
        403,
        "PermissionDeniedError",
        f"signed by {world.stranger.address}, {role} is {owner}",
    )
    assert tee.api.head(response.request.url.path).status_code == 404


def test_push_refuses_when_signature_missing_or_malformed(tee: Tee) -> None:
    path = f"/v1/secrets/datasets/{tee.world.dataset}"

    missing = tee.api.post(path, json={"value": _hex(DATASET_KEY)})
    malformed = tee.api.post(
        path, json={"value": _hex(DATASET_KEY)}, headers={SIGNATURE_HEADER: "0x1234"}
    )

    _assert_refused(missing, 401, "AuthenticationError", f"missing {SIGNATURE_HEADER} header")
    _assert_refused(malformed, 401, "AuthenticationError", "0x-hex of a 65-byte signature")


def test_push_refuses_when_signature_covers_another_value(tee: Tee) -> None:
    owner = tee.world.dataset_provider.account
    signature = sign_push(owner, tee.world.dataset, "dataset", _hex(bytes(32)))

    response = tee.api.post(
        f"/v1/secrets/datasets/{tee.world.dataset}",
        json={"value": _hex(DATASET_KEY)},
        headers={SIGNATURE_HEADER: signature},
    )

    _assert_refused(response, 403, "PermissionDeniedError", "the dataset's owner is")


def test_push_conflicts_when_pushed_twice(tee: Tee) -> None:
    owner = tee.world.app_provider.account
    assert tee.push(SecretKind.APP, tee.app, APP_SECRET, owner).status_code == 201

    again = tee.push(SecretKind.APP, tee.app, "another", owner)

    _assert_refused(again, 409, "ConflictError", f"the app secret 'app' of {tee.app} is already")


def test_push_replaces_requester_secret_when_put(tee: Tee) -> None:
    requester = tee.world.requester.account
    path = f"/v1/secrets/requesters/{requester.address}/api"
    first = tee.push(SecretKind.REQUESTER, requester.address, "v1", requester, name="api")
    post_again = tee.push(SecretKind.REQUESTER, requester.address, "v2", requester, name="api")

    put = tee.push(
        SecretKind.REQUESTER, requester.address, "v2", requester, name="api", method="PUT"
    )

    assert (first.status_code, post_again.status_code, put.status_code) == (201, 409, 200)
    assert "PUT replaces it" in post_again.json()["detail"]
    assert tee.api.head(path).status_code == 200
    assert tee.sms.read(SecretKind.REQUESTER, requester.address, "api") == "v2"


def test_put_creates_result_key_then_get_reads_the_latest(tee: Tee) -> None:
    requester = tee.world.requester.account
    path = f"/v1/secrets/result-keys/{requester.address}"
    assert tee.api.get(path).status_code == 404
    first, second = new_box_keypair()[1], new_box_keypair()[1]

    created = tee.push(
        SecretKind.RESULT_KEY, requester.address, _hex(first), requester, method="PUT"
    )
    replaced = tee.push(
        SecretKind.RESULT_KEY,
        requester.address,
        _hex(second).upper().replace("0X", "0x"),
        requester,
        method="PUT",
    )

    assert (created.status_code, replaced.status_code) == (201, 200)
    assert tee.api.get(path).json() == {"value": _hex(second)}


def test_push_answers_404_when_dataset_not_registered(tee: Tee) -> None:
    unregistered = new_account()

    response = tee.push(SecretKind.DATASET, unregistered.address, _hex(DATASET_KEY), unregistered)

    _assert_refused(
        response, 404, "NotFoundError", f"dataset {unregistered.address} is not registered"
    )


def test_push_answers_413_when_secret_too_large(tee: Tee) -> None:
    requester = tee.world.requester.account
    big = "é" * 2049  # 4098 bytes of UTF-8

    response = tee.push(SecretKind.REQUESTER, requester.address, big, requester, name="big")

    _assert_refused(response, 413, "PayloadTooLargeError", "at most 4096 bytes", "4098")


def test_push_stores_secret_of_exactly_4096_bytes(tee: Tee) -> None:
    requester = tee.world.requester.account

    response = tee.push(SecretKind.REQUESTER, requester.address, "x" * 4096, requester, name="b")

    assert response.status_code == 201, response.text


@pytest.mark.parametrize("name", ["a" * 65, "a.b", "a%20b"])
def test_push_answers_422_when_requester_secret_name_invalid(tee: Tee, name: str) -> None:
    requester = tee.world.requester.address

    response = tee.api.post(f"/v1/secrets/requesters/{requester}/{name}", json={"value": "v"})

    _assert_refused(response, 422, "InvalidRequest")


def test_head_answers_404_then_200_when_dataset_key_pushed(tee: Tee) -> None:
    path = f"/v1/secrets/datasets/{tee.world.dataset}"
    assert tee.api.head(path).status_code == 404

    tee.push(
        SecretKind.DATASET, tee.world.dataset, _hex(DATASET_KEY), tee.world.dataset_provider.account
    )

    assert tee.api.head(path).status_code == 200


# ─── Enclave challenges ───


def test_challenge_is_created_once_and_read_publicly(tee: Tee) -> None:
    _, task = tee.task()
    assert tee.api.get(f"/v1/challenges/{task}").status_code == 404

    first, again = tee.challenge(task), tee.challenge(task)

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert tee.api.get(f"/v1/challenges/{task}").json() == first.json()
    assert first.json()["task_id"] == task


def test_challenge_refuses_when_signer_not_pool_owner(tee: Tee) -> None:
    _, task = tee.task()

    response = tee.challenge(task, signer=tee.world.stranger)

    _assert_refused(
        response,
        403,
        "PermissionDeniedError",
        f"signed by {tee.world.stranger.address}, but only {tee.world.scheduler.address}, the "
        f"owner of workerpool {tee.world.workerpool}",
    )
    assert tee.api.get(f"/v1/challenges/{task}").status_code == 404


def test_challenge_refuses_when_deal_has_no_tee_tag(tee: Tee) -> None:
    matched, task = tee.world.started_task()

    response = tee.challenge(task)

    _assert_refused(
        response,
        403,
        "PermissionDeniedError",
        f"deal {matched.deal_id} has tag {matched.deal.tag}, without the TEE bit",
    )


def test_challenge_conflicts_when_task_not_initialized(tee: Tee) -> None:
    matched = tee.deal()
    task = make_task_id(matched.deal_id, matched.deal.bot_first)

    response = tee.challenge(task)

    _assert_refused(response, 409, "ConflictError", f"task {task} is not initialized on chain")


def test_challenge_refuses_when_signature_missing(tee: Tee) -> None:
    response = tee.api.post(f"/v1/challenges/{UNKNOWN_TASK}")

    _assert_refused(response, 401, "AuthenticationError", f"missing {SIGNATURE_HEADER} header")


# ─── Secrets at rest ───


def test_database_holds_no_secret_in_clear(tee: Tee, tmp_path: Path) -> None:
    _, result_public = new_box_keypair()
    tee.push_all(result_public)
    _, task = tee.task()
    tee.challenge_address(task)
    enclave = Enclave()
    secrets = enclave.unseal(tee.session(tee.session_body(task, enclave=enclave)))
    challenge_key = bytes.fromhex(secrets.enclave_challenge_key[2:])

    raw = b"".join(path.read_bytes() for path in (tmp_path / "sms").glob("sms.db*"))

    assert raw  # the database (and its write-ahead log) exist
    for clear in (
        APP_SECRET.encode(),
        REQUESTER_SECRET.encode(),
        DATASET_KEY,
        DATASET_KEY.hex().encode(),
        challenge_key,
        challenge_key.hex().encode(),
    ):
        assert clear not in raw


def test_secret_copied_to_another_identity_does_not_decrypt(tee: Tee, tmp_path: Path) -> None:
    requester = tee.world.requester.account
    for name in ("a", "b"):
        pushed = tee.push(
            SecretKind.REQUESTER, requester.address, f"v-{name}", requester, name=name
        )
        assert pushed.status_code == 201
    database = sqlite3.connect(tmp_path / "sms" / "sms.db")
    with database:
        database.execute(
            "UPDATE secrets SET ciphertext = (SELECT ciphertext FROM secrets WHERE name = 'a') "
            "WHERE name = 'b'"
        )
    database.close()

    with pytest.raises(RuntimeError, match="does not decrypt"):
        tee.sms.read(SecretKind.REQUESTER, requester.address, "b")
    assert tee.sms.read(SecretKind.REQUESTER, requester.address, "a") == "v-a"


def test_master_key_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "sms" / "master.key"

    first = Vault.open(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_bytes()) == 32
    assert Vault.open(path) == first


def test_master_key_refused_when_readable_by_others(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    Vault.open(path)
    path.chmod(0o644)

    with pytest.raises(ConfigError, match="readable by others"):
        Vault.open(path)


# ─── Settings ───


def test_settings_from_env_require_trusted_issuers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PNYX_SMS_TRUSTED_ISSUERS", raising=False)

    with pytest.raises(ConfigError, match="PNYX_SMS_TRUSTED_ISSUERS is required"):
        SmsSettings.from_env()


def test_settings_from_env_read_sms_and_shared_chain_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = ATTESTATION.public_key
    monkeypatch.setenv("PNYX_HOME", str(tmp_path))
    monkeypatch.setenv("PNYX_SMS_TRUSTED_ISSUERS", f" {_hex(key)} , {_hex(bytes(32))}")
    monkeypatch.setenv("PNYX_CHAIN_URL", "http://chain.test:8545")
    monkeypatch.setenv("PNYX_SMS_PORT", "9999")

    settings = SmsSettings.from_env()

    assert settings.trusted_issuers == frozenset({key, bytes(32)})
    assert (settings.chain_url, settings.port, settings.nonce_ttl_s) == (
        "http://chain.test:8545",
        9999,
        60.0,
    )
    assert settings.database == f"sqlite:///{tmp_path / 'sms' / 'sms.db'}"
    assert settings.master_key_file == tmp_path / "sms" / "master.key"


@pytest.mark.parametrize(
    ("raw", "fragment"), [("0x1234", "is 2 bytes"), ("0xzz", "not hexadecimal")]
)
def test_parse_issuers_refuses_when_key_malformed(raw: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        parse_issuers(raw)


# ─── The client against the service process ───


@pytest.fixture
def sms_url(world: World, tmp_path: Path) -> Iterator[str]:
    """`python -m pnyx.services.sms`, configured by environment only."""
    deployment_file = tmp_path / "deployment.json"
    world.deployment.save(deployment_file)
    port = free_port()
    env = {
        **os.environ,
        "PNYX_HOME": str(tmp_path / "home"),
        "PNYX_CHAIN_URL": world.client.url,
        "PNYX_CHAIN_DEPLOYMENT": str(deployment_file),
        "PNYX_SMS_PORT": str(port),
        "PNYX_SMS_TRUSTED_ISSUERS": _hex(ATTESTATION.public_key),
    }
    log = (tmp_path / "sms.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "pnyx.services.sms"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/v1/health", trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (tmp_path / "sms.log").read_text()
            assert time.monotonic() < deadline, "the SMS did not start"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def test_client_pushes_secrets_and_opens_session(sms_url: str, world: World) -> None:
    app = register_tee_app(world)
    requester = world.requester.account
    client = SmsClient(sms_url)
    try:
        assert not client.has_dataset_key(world.dataset)
        client.push_dataset_key(world.dataset, DATASET_KEY, world.dataset_provider.account)
        client.push_app_secret(app, APP_SECRET, world.app_provider.account)
        client.push_requester_secret("api", "old", requester)
        client.push_requester_secret("api", REQUESTER_SECRET, requester, replace=True)
        _, result_public = new_box_keypair()
        assert client.result_key(requester.address) is None
        client.push_result_key(result_public, requester)
        with pytest.raises(ServiceConflictError, match="already pushed"):
            client.push_dataset_key(world.dataset, DATASET_KEY, world.dataset_provider.account)
        with pytest.raises(ServiceAuthError, match="the app's owner is"):
            client.push_app_secret(app, "x", world.stranger)
        assert client.has_dataset_key(world.dataset)
        assert client.has_app_secret(app)
        assert client.has_requester_secret(requester.address, "api")
        assert not client.has_requester_secret(requester.address, "other")
        assert client.has_result_key(requester.address)
        assert client.result_key(requester.address) == result_public

        _, task = initialized_tee_task(world, app)
        assert client.challenge(task) is None
        challenge = client.create_challenge(task, world.scheduler.account)
        assert client.create_challenge(task, world.scheduler.account) == challenge
        assert client.challenge(task) == challenge
        worker = world.workers[0].address
        enclave = Enclave()
        nonce = client.session_nonce(task, worker)
        sealed = client.open_session(
            task,
            worker,
            world.scheduler.authorize(worker, task, challenge),
            enclave.quote(nonce, task, worker),
            nonce,
            world.dataset,
        )
        with pytest.raises(ServiceAuthError, match="replayed quote"):
            client.open_session(
                task,
                worker,
                world.scheduler.authorize(worker, task, challenge),
                enclave.quote(nonce, task, worker),
                nonce,
                None,
            )
    finally:
        client.close()

    secrets = SessionSecrets.unseal(enclave.keys[0], sealed)
    assert secrets.dataset_key == _hex(DATASET_KEY)
    assert account_from_key(secrets.enclave_challenge_key).address == challenge
    assert secrets.requester_secrets == {"api": REQUESTER_SECRET}
    assert secrets.result_encryption_key == _hex(result_public)
