"""Wire schemas of the Secret Management Service, and the secrets a session seals to an enclave
(`SessionSecrets`), which the enclave parses after opening the box."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from pnyx.domain.attestation import Quote
from pnyx.domain.crypto import open_sealed, seal
from pnyx.domain.sms import SESSION_CONTEXT
from pnyx.errors import PnyxInputError

SIGNATURE_HEADER = "X-Pnyx-Signature"
HEX_ADDRESS = r"^0x[0-9a-fA-F]{40}$"
HEX_32 = r"^0x[0-9a-fA-F]{64}$"
HEX_64 = r"^0x[0-9a-fA-F]{128}$"
HEX_65 = r"^0x[0-9a-fA-F]{130}$"


def utf8_text(value: str) -> str:
    """`value`, if it can be sent as UTF-8: JSON admits lone surrogates, which hash to nothing."""
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


class ErrorRead(BaseModel):
    """Every refusal: the error's name and a message naming the rule that refused."""

    error: str = Field(description="The error class, e.g. `PermissionDeniedError`.")
    detail: Any = Field(description="What was wrong, in words (or a list of field problems).")


# ─── Secrets ───


class KeyPush(BaseModel):
    """A 32-byte key: a dataset's AES-256 key, or a beneficiary's X25519 public key."""

    value: str = Field(pattern=HEX_32, description="0x-hex of the 32-byte key")


class SecretPush(BaseModel):
    value: str = Field(description="the secret, at most 4096 bytes of UTF-8")

    @field_validator("value")
    @classmethod
    def _utf8(cls, value: str) -> str:
        return utf8_text(value)


class SecretRead(BaseModel):
    value: str


class SecretStored(BaseModel):
    kind: str = Field(description="`dataset`, `app`, `requester` or `result-key`")
    address: str = Field(description="whose secret it is (checksummed)")
    key: str = Field(description="the key the push signed: the kind, or `requester/<name>`")


# ─── Challenges ───


class ChallengeRead(BaseModel):
    task_id: str = Field(description="0x-hex task id")
    enclave_challenge: str = Field(
        description="address of the task's enclave key: what authorizations name and what the "
        "chain accepts TEE results signed by"
    )


# ─── Sessions ───


class NonceCreate(BaseModel):
    task_id: str = Field(pattern=HEX_32)
    worker: str = Field(pattern=HEX_ADDRESS)


class NonceRead(BaseModel):
    nonce: str = Field(description="32 bytes of 0x-hex the enclave's quote must bind")
    expires_at: datetime


class CertificateBody(BaseModel):
    platform_id: str = Field(max_length=256)

    @field_validator("platform_id")
    @classmethod
    def _utf8(cls, value: str) -> str:
        return utf8_text(value)

    platform_key: str = Field(pattern=HEX_32)
    issuer_key: str = Field(pattern=HEX_32)
    signature: str = Field(pattern=HEX_64)


class QuoteBody(BaseModel):
    """`Quote.as_json()` of an enclave's attestation quote."""

    # The one TEE technology this SMS serves (`pnyx.domain.attestation.FRAMEWORK`, kept equal by
    # tests/unit/test_sms_messages.py).
    framework: Literal["pnyx-sim"] = Field(default="pnyx-sim", description="the TEE technology")
    measurement: str = Field(pattern=HEX_32)
    enclave_key: str = Field(pattern=HEX_32, description="the enclave's X25519 public key")
    report_data: str = Field(pattern=HEX_32)
    certificate: CertificateBody
    signature: str = Field(pattern=HEX_64)

    def to_quote(self) -> Quote:
        return Quote.from_json(self.model_dump())


class SessionCreate(BaseModel):
    task_id: str = Field(pattern=HEX_32)
    worker: str = Field(pattern=HEX_ADDRESS)
    authorization: str = Field(
        pattern=HEX_65,
        description="the workerpool's EIP-191 signature of keccak256(worker ‖ task ‖ challenge)",
    )
    quote: QuoteBody
    nonce: str = Field(pattern=HEX_32, description="a nonce from POST /v1/sessions/nonce")
    dataset: str | None = Field(
        default=None, pattern=HEX_ADDRESS, description="the dataset the enclave wants the key of"
    )


class SessionRead(BaseModel):
    sealed: str = Field(
        description="0x-hex sealed box (X25519, context `pnyx-sms-session`) of `SessionSecrets` "
        "as JSON, sealed to the quote's enclave key"
    )


class SessionSecrets(BaseModel):
    """What an attested enclave receives for one task."""

    task_id: str
    enclave_challenge_key: str = Field(description="0x-hex private key of the enclave challenge")
    dataset_key: str | None = Field(description="0x-hex AES-256 key of the deal's dataset")
    app_secret: str | None = Field(description="the app developer's secret")
    requester_secrets: dict[str, str] = Field(description="the requester's secrets, by name")
    result_encryption_key: str | None = Field(
        description="0x-hex X25519 public key of the deal's beneficiary, to seal results to"
    )

    def seal_to(self, enclave_key: bytes) -> bytes:
        return seal(enclave_key, self.model_dump_json().encode(), context=SESSION_CONTEXT)

    @classmethod
    def unseal(cls, enclave_private_key: bytes, sealed: bytes) -> SessionSecrets:
        """The secrets in a session's box, opened with the enclave's X25519 private key."""
        plaintext = open_sealed(enclave_private_key, sealed, context=SESSION_CONTEXT)
        try:
            return cls.model_validate_json(plaintext)
        except ValidationError as exc:
            raise PnyxInputError(f"the session box holds no session secrets: {exc}") from None
