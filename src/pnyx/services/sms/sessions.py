"""Enclave sessions: the one way secrets leave the SMS, sealed to an attested enclave.

An enclave first asks for a nonce for (task, worker), then presents a quote whose report data is
`session_report_data(nonce, task, worker, enclave key)`. The session opens only if every rule
below holds, checked in this order so that each refusal names the first broken rule:

1. the quote verifies (certified platform key, trusted attestation service, genuine signature);
2. the nonce was issued here for this task and worker, and has not expired;
3. the nonce was not used before: a quote answers one session only (no replay);
4. the quote's report data binds this nonce, task, worker and enclave key;
5. the task is ACTIVE on chain;
6. its deal carries the TEE tag;
7. the task has an enclave challenge (created at its scheduler's request);
8. the worker's authorization for (worker, task, challenge) is signed by the deal's pool owner;
9. the enclave runs the deal's app: the measurement is the app's registered mrenclave;
10. a dataset the enclave names is the deal's;
11. the deal's dataset, if any, has its key pushed.

The nonce is then spent by a compare-and-set, so of two concurrent sessions on one nonce only one
opens. The secrets go out sealed to the quote's enclave key: only that enclave can read them.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

from pnyx.api.schemas.sms import SessionSecrets
from pnyx.chain.signing import recover_eip191
from pnyx.domain._hex import to_address, to_bytes, to_hex32
from pnyx.domain.attestation import AttestationError, Quote, session_report_data
from pnyx.domain.sms import SecretKind
from pnyx.domain.task import authorization_message
from pnyx.domain.views import TaskStatus
from pnyx.errors import PermissionDeniedError
from pnyx.services.sms.service import SmsService
from pnyx.store.sms import NonceRow
from pnyx.types import ZERO_ADDRESS


def issue_nonce(sms: SmsService, *, task_id: str, worker: str) -> tuple[str, datetime]:
    """A fresh nonce for one session of `worker` on `task_id`; returns (nonce, expiry)."""
    now = time.time()
    # Nonces expired for a whole TTL are forgotten: they could only be refused again.
    sms.store.purge_nonces(expired_before=now - sms.nonce_ttl_s)
    nonce = "0x" + secrets.token_bytes(32).hex()
    expires_at = now + sms.nonce_ttl_s
    sms.store.add_nonce(
        nonce, task_id=to_hex32(task_id), worker=to_address(worker), expires_at=expires_at
    )
    return nonce, _time(expires_at)


def open_session(
    sms: SmsService,
    *,
    task_id: str,
    worker: str,
    authorization: bytes,
    quote: Quote,
    nonce: str,
    dataset: str | None = None,
) -> bytes:
    """The task's secrets sealed to the quote's enclave key, if every rule holds."""
    task_id, worker, nonce = to_hex32(task_id), to_address(worker), to_hex32(nonce)
    try:
        sms.attestor.verify(quote)
    except AttestationError as exc:
        raise AttestationError(exc.reason, f"attestation refused ({exc.reason}): {exc}") from None
    _check_nonce(sms.store.nonce(nonce), nonce, task_id, worker)
    expected = session_report_data(to_bytes(nonce), task_id, worker, quote.enclave_key)
    if quote.report_data != expected:
        raise PermissionDeniedError(
            f"the quote's report data 0x{quote.report_data.hex()} is not "
            f"session_report_data(nonce, task, worker, enclave key) = 0x{expected.hex()}: "
            "the quote was made for another session"
        )
    status = sms.protocol.task(task_id).status
    if status != TaskStatus.ACTIVE:
        raise PermissionDeniedError(
            f"task {task_id} is {status.name} on chain: secrets are released only while a task "
            "is ACTIVE"
        )
    matched = sms.deal_of(task_id)
    if matched is None:  # pragma: no cover - an ACTIVE task was initialized
        raise PermissionDeniedError(f"task {task_id} has no TaskInitialized event")
    deal = matched.deal
    if not deal.is_tee:
        raise PermissionDeniedError(
            f"deal {matched.deal_id} has tag {deal.tag}, without the TEE bit: secrets are "
            "released only to TEE tasks"
        )
    challenge = sms.store.challenge(task_id)
    if challenge is None:
        raise PermissionDeniedError(
            f"task {task_id} has no enclave challenge: its scheduler must create one first "
            f"(POST /v1/challenges/{task_id})"
        )
    signer = recover_eip191(
        authorization_message(worker, task_id, challenge.address), authorization
    )
    if signer != deal.workerpool_owner:
        raise PermissionDeniedError(
            f"the workerpool authorization is signed by {signer or 'no valid signature'}, not by "
            f"{deal.workerpool_owner}, the owner of workerpool {deal.workerpool}: it must sign "
            f"keccak256(worker {worker} ‖ task ‖ enclave challenge {challenge.address})"
        )
    mrenclave = sms.mrenclave(deal.app)
    if quote.measurement != mrenclave:
        registered = f"0x{mrenclave.hex()}" if mrenclave else "none"
        raise PermissionDeniedError(
            f"wrong measurement: the enclave measures 0x{quote.measurement.hex()}, but app "
            f"{deal.app} registers mrenclave {registered}"
        )
    if dataset is not None and to_address(dataset) != deal.dataset:
        in_deal = deal.dataset if deal.dataset != ZERO_ADDRESS else "none"
        raise PermissionDeniedError(
            f"dataset {to_address(dataset)} is not in deal {matched.deal_id} (its dataset: "
            f"{in_deal})"
        )
    dataset_key = None
    if deal.dataset != ZERO_ADDRESS:
        dataset_key = sms.read(SecretKind.DATASET, deal.dataset)
        if dataset_key is None:
            raise PermissionDeniedError(
                f"the key of dataset {deal.dataset} was never pushed to this SMS by its owner: "
                "an enclave could not decrypt it"
            )
    if not sms.store.spend_nonce(nonce, now=time.time()):
        _check_nonce(sms.store.nonce(nonce), nonce, task_id, worker)
        raise PermissionDeniedError(f"replayed quote: nonce {nonce} was spent meanwhile")
    secrets_ = SessionSecrets(
        task_id=task_id,
        enclave_challenge_key="0x" + sms.challenge_key(challenge).hex(),
        dataset_key=dataset_key,
        app_secret=sms.read(SecretKind.APP, deal.app),
        requester_secrets=sms.read_all(SecretKind.REQUESTER, deal.requester),
        result_encryption_key=sms.read(SecretKind.RESULT_KEY, deal.beneficiary),
    )
    return secrets_.seal_to(quote.enclave_key)


def _check_nonce(row: NonceRow | None, nonce: str, task_id: str, worker: str) -> None:
    if row is None or row.task_id != task_id or row.worker != worker:
        raise PermissionDeniedError(
            f"nonce {nonce} was not issued by this SMS for task {task_id} and worker {worker}: "
            "ask POST /v1/sessions/nonce for one and quote it"
        )
    if row.expires_at <= time.time():
        raise PermissionDeniedError(
            f"nonce {nonce} expired at {_time(row.expires_at).isoformat()}: ask for a new one"
        )
    if row.used_at is not None:
        raise PermissionDeniedError(
            f"replayed quote: nonce {nonce} already opened a session at "
            f"{_time(row.used_at).isoformat()}; a quote answers one session only"
        )


def _time(unix: float) -> datetime:
    return datetime.fromtimestamp(unix, UTC)
