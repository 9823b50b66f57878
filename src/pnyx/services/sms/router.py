"""HTTP routes of the SMS: thin wrappers over `service` and `sessions`, which hold every rule."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response

from pnyx.api.schemas.sms import (
    HEX_32,
    HEX_ADDRESS,
    SIGNATURE_HEADER,
    ChallengeRead,
    ErrorRead,
    KeyPush,
    NonceCreate,
    NonceRead,
    SecretPush,
    SecretRead,
    SecretStored,
    SessionCreate,
    SessionRead,
)
from pnyx.domain._hex import to_address, to_bytes
from pnyx.domain.sms import SECRET_NAME_PATTERN, SecretKind, secret_key
from pnyx.errors import NotFoundError
from pnyx.services.sms import sessions
from pnyx.services.sms.service import SmsService

router = APIRouter(prefix="/v1")


def get_sms(request: Request) -> SmsService:
    sms: SmsService = request.app.state.sms
    return sms


Sms = Annotated[SmsService, Depends(get_sms)]
TaskIdPath = Annotated[str, Path(description="0x-hex task id", pattern=HEX_32)]
DatasetPath = Annotated[str, Path(description="the dataset's address", pattern=HEX_ADDRESS)]
AppPath = Annotated[str, Path(description="the app's address", pattern=HEX_ADDRESS)]
RequesterPath = Annotated[str, Path(description="the requester's address", pattern=HEX_ADDRESS)]
BeneficiaryPath = Annotated[str, Path(description="the beneficiary's address", pattern=HEX_ADDRESS)]
NamePath = Annotated[str, Path(description="the secret's name", pattern=SECRET_NAME_PATTERN)]
PushSignature = Annotated[
    str | None,
    Header(
        alias=SIGNATURE_HEADER,
        description="The owner's EIP-191 signature (0x-hex, 65 bytes) of push_message(address, "
        "key, value) = keccak256(keccak256('PNYX_SMS') ‖ address ‖ keccak256(key) ‖ "
        "keccak256(value)); key is `dataset`, `app`, `requester/<name>` or `result-key`.",
    ),
]
ChallengeSignature = Annotated[
    str | None,
    Header(
        alias=SIGNATURE_HEADER,
        description="The workerpool owner's EIP-191 signature (0x-hex, 65 bytes) of "
        "keccak256(keccak256('PNYX_SMS_CHALLENGE') ‖ task id).",
    ),
]
MEANINGS = {
    401: "Missing or malformed signature.",
    403: "Signed by someone the rule does not allow, or a session rule refused (the detail "
    "names it).",
    404: "Nothing stored under this name, or the asset is not registered.",
    409: "Already pushed (POST pushes once), or the task is not initialized.",
    413: "The secret is larger than 4096 bytes.",
    422: "Malformed request.",
    503: "The chain node cannot be read.",
}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorRead, "description": MEANINGS[status]} for status in statuses}


PUSH_ERRORS = _errors(401, 403, 404, 409, 413, 422, 503)
HEAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The secret is stored."},
    404: {"description": "No such secret."},
    422: {"description": "Malformed address or name."},
}


def _exists(found: bool, what: str) -> Response:
    if not found:
        raise NotFoundError(f"no {what}")
    return Response(status_code=200)


def _pushed(response: Response, created: bool) -> None:
    response.status_code = 201 if created else 200


def _stored(kind: SecretKind, address: str, name: str = "") -> SecretStored:
    return SecretStored(kind=kind.value, address=to_address(address), key=secret_key(kind, name))


# ─── Dataset keys ───


@router.post(
    "/secrets/datasets/{dataset}",
    status_code=201,
    tags=["secrets"],
    summary="Push a dataset's AES-256 key (its owner, once)",
    responses=PUSH_ERRORS,
)
def push_dataset_key(
    dataset: DatasetPath, body: KeyPush, sms: Sms, signature: PushSignature = None
) -> SecretStored:
    sms.push(SecretKind.DATASET, dataset, body.value, signature)
    return _stored(SecretKind.DATASET, dataset)


@router.head(
    "/secrets/datasets/{dataset}",
    tags=["secrets"],
    summary="Is the dataset's key pushed?",
    responses=HEAD_RESPONSES,
)
def has_dataset_key(dataset: DatasetPath, sms: Sms) -> Response:
    return _exists(sms.has(SecretKind.DATASET, dataset), f"key for dataset {dataset}")


# ─── App developer secrets ───


@router.post(
    "/secrets/apps/{app}",
    status_code=201,
    tags=["secrets"],
    summary="Push an app developer's secret (the app's owner, once)",
    responses=PUSH_ERRORS,
)
def push_app_secret(
    app: AppPath, body: SecretPush, sms: Sms, signature: PushSignature = None
) -> SecretStored:
    sms.push(SecretKind.APP, app, body.value, signature)
    return _stored(SecretKind.APP, app)


@router.head(
    "/secrets/apps/{app}",
    tags=["secrets"],
    summary="Is the app's secret pushed?",
    responses=HEAD_RESPONSES,
)
def has_app_secret(app: AppPath, sms: Sms) -> Response:
    return _exists(sms.has(SecretKind.APP, app), f"secret for app {app}")


# ─── Requester secrets ───


@router.post(
    "/secrets/requesters/{requester}/{name}",
    status_code=201,
    tags=["secrets"],
    summary="Create a requester's named secret (the requester)",
    responses=PUSH_ERRORS,
)
def create_requester_secret(
    requester: RequesterPath,
    name: NamePath,
    body: SecretPush,
    sms: Sms,
    signature: PushSignature = None,
) -> SecretStored:
    sms.push(SecretKind.REQUESTER, requester, body.value, signature, name=name)
    return _stored(SecretKind.REQUESTER, requester, name)


@router.put(
    "/secrets/requesters/{requester}/{name}",
    status_code=200,
    tags=["secrets"],
    summary="Create or replace a requester's named secret (the requester)",
    responses={201: {"description": "Created."}, **PUSH_ERRORS},
)
def replace_requester_secret(
    requester: RequesterPath,
    name: NamePath,
    body: SecretPush,
    sms: Sms,
    response: Response,
    signature: PushSignature = None,
) -> SecretStored:
    created = sms.push(
        SecretKind.REQUESTER, requester, body.value, signature, name=name, replace=True
    )
    _pushed(response, created)
    return _stored(SecretKind.REQUESTER, requester, name)


@router.head(
    "/secrets/requesters/{requester}/{name}",
    tags=["secrets"],
    summary="Is the requester's secret pushed?",
    responses=HEAD_RESPONSES,
)
def has_requester_secret(requester: RequesterPath, name: NamePath, sms: Sms) -> Response:
    found = sms.has(SecretKind.REQUESTER, requester, name)
    return _exists(found, f"secret {name!r} for requester {requester}")


# ─── Result encryption keys ───


@router.post(
    "/secrets/result-keys/{beneficiary}",
    status_code=201,
    tags=["secrets"],
    summary="Push a beneficiary's X25519 result encryption key (the beneficiary)",
    responses=PUSH_ERRORS,
)
def create_result_key(
    beneficiary: BeneficiaryPath, body: KeyPush, sms: Sms, signature: PushSignature = None
) -> SecretStored:
    sms.push(SecretKind.RESULT_KEY, beneficiary, body.value, signature)
    return _stored(SecretKind.RESULT_KEY, beneficiary)


@router.put(
    "/secrets/result-keys/{beneficiary}",
    status_code=200,
    tags=["secrets"],
    summary="Push or replace a beneficiary's X25519 result encryption key (the beneficiary)",
    responses={201: {"description": "Created."}, **PUSH_ERRORS},
)
def replace_result_key(
    beneficiary: BeneficiaryPath,
    body: KeyPush,
    sms: Sms,
    response: Response,
    signature: PushSignature = None,
) -> SecretStored:
    created = sms.push(SecretKind.RESULT_KEY, beneficiary, body.value, signature, replace=True)
    _pushed(response, created)
    return _stored(SecretKind.RESULT_KEY, beneficiary)


@router.head(
    "/secrets/result-keys/{beneficiary}",
    tags=["secrets"],
    summary="Is the beneficiary's result key pushed?",
    responses=HEAD_RESPONSES,
)
def has_result_key(beneficiary: BeneficiaryPath, sms: Sms) -> Response:
    found = sms.has(SecretKind.RESULT_KEY, beneficiary)
    return _exists(found, f"result encryption key for {beneficiary}")


@router.get(
    "/secrets/result-keys/{beneficiary}",
    tags=["secrets"],
    summary="A beneficiary's result encryption key (public)",
    responses=_errors(404, 422),
)
def result_key(beneficiary: BeneficiaryPath, sms: Sms) -> SecretRead:
    return SecretRead(value=sms.result_key(beneficiary))


# ─── Enclave challenges ───


@router.post(
    "/challenges/{task_id}",
    status_code=201,
    tags=["challenges"],
    summary="Create (or read again) a TEE task's enclave challenge (its pool owner)",
    responses={
        200: {"model": ChallengeRead, "description": "Created before."},
        **_errors(401, 403, 409, 422, 503),
    },
)
def create_challenge(
    task_id: TaskIdPath, sms: Sms, response: Response, signature: ChallengeSignature = None
) -> ChallengeRead:
    """A fresh Ethereum key per task, kept here: its address goes into every authorization of
    the task, and only an attested enclave ever gets its private key."""
    row, created = sms.create_challenge(task_id, signature)
    _pushed(response, created)
    return ChallengeRead(task_id=row.task_id, enclave_challenge=row.address)


@router.get(
    "/challenges/{task_id}",
    tags=["challenges"],
    summary="A task's enclave challenge address (public)",
    responses=_errors(404, 422),
)
def challenge(task_id: TaskIdPath, sms: Sms) -> ChallengeRead:
    row = sms.challenge(task_id)
    return ChallengeRead(task_id=row.task_id, enclave_challenge=row.address)


# ─── Sessions ───


@router.post(
    "/sessions/nonce",
    status_code=201,
    tags=["sessions"],
    summary="A nonce the enclave's quote must bind (one session each)",
    responses=_errors(422),
)
def session_nonce(body: NonceCreate, sms: Sms) -> NonceRead:
    nonce, expires_at = sessions.issue_nonce(sms, task_id=body.task_id, worker=body.worker)
    return NonceRead(nonce=nonce, expires_at=expires_at)


@router.post(
    "/sessions",
    tags=["sessions"],
    summary="Open an enclave session: the task's secrets, sealed to the attested enclave",
    responses=_errors(403, 422, 503),
)
def open_session(body: SessionCreate, sms: Sms) -> SessionRead:
    """Checks the quote, the nonce, the task on chain, the workerpool authorization, the
    enclave's measurement and the dataset, then seals the task's secrets to the enclave key."""
    sealed = sessions.open_session(
        sms,
        task_id=body.task_id,
        worker=body.worker,
        authorization=to_bytes(body.authorization),
        quote=body.quote.to_quote(),
        nonce=body.nonce,
        dataset=body.dataset,
    )
    return SessionRead(sealed="0x" + sealed.hex())
