"""Remote attestation of enclaves: the quote an enclave presents, and how a verifier checks it.

This machine has no SGX or TDX, so the *platform* and the *attestation service* that certifies it
are simulated — named so here, in the CLI and in docs/tee.md — but the cryptography is real and
is what a hardware backend would plug into:

- the **simulated attestation service** (the role of Intel's provisioning certification) holds an
  Ed25519 key; it certifies platform keys: `PlatformCertificate` = its signature over
  (domain ‖ issuer key ‖ platform key ‖ platform id);
- a **simulated platform** (the role of the CPU's quoting enclave) holds a certified Ed25519 key
  and signs `Quote`s: (domain ‖ measurement ‖ enclave public key ‖ report data ‖ platform key);
- a verifier (`CertifiedPlatformAttestor`) trusts a set of attestation-service keys and accepts
  a quote only if its certificate chains to one of them and both signatures hold.

What a quote binds: the enclave's **measurement** (the runtime and the app artifact, see
`measure`), the enclave's X25519 public key (secrets are sealed to it), and 32 bytes of **report
data** — for an SMS session, `session_report_data(nonce, task, worker, enclave key)`, so a quote
answers one SMS challenge only (replay protection is the SMS's nonce bookkeeping).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pnyx.domain._hex import keccak, to_bytes
from pnyx.errors import PermissionDeniedError, PnyxInputError

RUNTIME_ID = "pnyx-simulated-enclave/1"
FRAMEWORK = "pnyx-sim"
CERT_DOMAIN = b"PNYX-SIM-PLATFORM-CERT/1"
QUOTE_DOMAIN = b"PNYX-SIM-QUOTE/1"
MEASUREMENT_DOMAIN = b"PNYX-MEASUREMENT/1"
SESSION_DOMAIN = b"PNYX-SMS-SESSION/1"


class AttestationError(PermissionDeniedError):
    """A quote that does not prove what it claims; `reason` is a stable machine-readable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def measure(app_artifact: bytes, runtime_id: str = RUNTIME_ID) -> bytes:
    """The 32-byte measurement of an enclave running `app_artifact` on the given runtime: what
    an app registers as its `mrenclave` and what the SMS compares a quote against."""
    return hashlib.sha256(
        MEASUREMENT_DOMAIN
        + hashlib.sha256(runtime_id.encode()).digest()
        + hashlib.sha256(app_artifact).digest()
    ).digest()


def session_report_data(nonce: bytes, task_id: str, worker: str, enclave_key: bytes) -> bytes:
    """The report data of a quote asking the SMS for a task's secrets."""
    return keccak(
        SESSION_DOMAIN
        + _exact(nonce, 32, "nonce")
        + to_bytes(task_id, length=32)
        + to_bytes(worker, length=20)
        + _exact(enclave_key, 32, "enclave key")
    )


@dataclass(frozen=True)
class PlatformCertificate:
    """An attestation service's statement that `platform_key` belongs to a genuine platform."""

    platform_id: str
    platform_key: bytes
    issuer_key: bytes
    signature: bytes

    def signed_bytes(self) -> bytes:
        return certificate_bytes(self.issuer_key, self.platform_key, self.platform_id)

    def as_json(self) -> dict[str, str]:
        return {
            "platform_id": self.platform_id,
            "platform_key": "0x" + self.platform_key.hex(),
            "issuer_key": "0x" + self.issuer_key.hex(),
            "signature": "0x" + self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlatformCertificate:
        try:
            return cls(
                platform_id=str(data["platform_id"]),
                platform_key=_exact(to_bytes(data["platform_key"]), 32, "platform key"),
                issuer_key=_exact(to_bytes(data["issuer_key"]), 32, "issuer key"),
                signature=_exact(to_bytes(data["signature"]), 64, "certificate signature"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PnyxInputError(f"malformed platform certificate: {exc}") from None


@dataclass(frozen=True)
class Quote:
    """A platform's signed statement of what an enclave runs and which key it holds."""

    measurement: bytes
    enclave_key: bytes
    report_data: bytes
    certificate: PlatformCertificate
    signature: bytes

    def signed_bytes(self) -> bytes:
        return quote_bytes(
            self.measurement, self.enclave_key, self.report_data, self.certificate.platform_key
        )

    @property
    def quote_id(self) -> str:
        """A stable id of the quote's content (what replay bookkeeping can key on)."""
        return "0x" + hashlib.sha256(self.signed_bytes()).hexdigest()

    def as_json(self) -> dict[str, Any]:
        return {
            "framework": FRAMEWORK,
            "measurement": "0x" + self.measurement.hex(),
            "enclave_key": "0x" + self.enclave_key.hex(),
            "report_data": "0x" + self.report_data.hex(),
            "certificate": self.certificate.as_json(),
            "signature": "0x" + self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Quote:
        try:
            return cls(
                measurement=_exact(to_bytes(data["measurement"]), 32, "measurement"),
                enclave_key=_exact(to_bytes(data["enclave_key"]), 32, "enclave key"),
                report_data=_exact(to_bytes(data["report_data"]), 32, "report data"),
                certificate=PlatformCertificate.from_json(data["certificate"]),
                signature=_exact(to_bytes(data["signature"]), 64, "quote signature"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PnyxInputError(f"malformed quote: {exc}") from None


def certificate_bytes(issuer_key: bytes, platform_key: bytes, platform_id: str) -> bytes:
    name = platform_id.encode()
    return CERT_DOMAIN + issuer_key + platform_key + len(name).to_bytes(2, "big") + name


def quote_bytes(
    measurement: bytes, enclave_key: bytes, report_data: bytes, platform_key: bytes
) -> bytes:
    return QUOTE_DOMAIN + measurement + enclave_key + report_data + platform_key


class Attestor(Protocol):
    """Decides whether a quote comes from a genuine platform (one implementation per TEE
    technology; the SMS depends only on this)."""

    def verify(self, quote: Quote) -> Quote: ...


@dataclass(frozen=True)
class CertifiedPlatformAttestor:
    """Accepts quotes whose platform certificate was issued by one of `trusted_issuers`."""

    trusted_issuers: frozenset[bytes]

    def verify(self, quote: Quote) -> Quote:
        cert = quote.certificate
        if cert.issuer_key not in self.trusted_issuers:
            raise AttestationError(
                "untrusted-issuer",
                "the quote's platform certificate is issued by an attestation service this "
                f"verifier does not trust (issuer 0x{cert.issuer_key.hex()})",
            )
        if not _ed25519_valid(cert.issuer_key, cert.signature, cert.signed_bytes()):
            raise AttestationError(
                "uncertified-platform",
                f"platform key 0x{cert.platform_key.hex()} is not certified: the certificate's "
                "signature does not verify under the attestation service's key",
            )
        if not _ed25519_valid(cert.platform_key, quote.signature, quote.signed_bytes()):
            raise AttestationError(
                "bad-quote-signature",
                "the quote is not signed by its certified platform key (forged or altered)",
            )
        return quote


class SimulatedAttestationService:
    """SIMULATED: plays the hardware vendor's certification of platform keys."""

    def __init__(self, private_key: bytes | None = None) -> None:
        self._key = _ed25519_private(private_key)
        self.public_key = _ed25519_public_bytes(self._key)

    @property
    def private_bytes(self) -> bytes:
        return _ed25519_private_bytes(self._key)

    def certify(self, platform_id: str, platform_key: bytes) -> PlatformCertificate:
        _exact(platform_key, 32, "platform key")
        signed = certificate_bytes(self.public_key, platform_key, platform_id)
        return PlatformCertificate(
            platform_id, platform_key, self.public_key, self._key.sign(signed)
        )


class SimulatedPlatform:
    """SIMULATED: plays a TEE-capable CPU's quoting enclave with a certified key."""

    def __init__(self, private_key: bytes, certificate: PlatformCertificate) -> None:
        self._key = _ed25519_private(private_key)
        if _ed25519_public_bytes(self._key) != certificate.platform_key:
            raise PnyxInputError("the platform certificate is for another platform key")
        self.certificate = certificate

    @classmethod
    def new(cls, service: SimulatedAttestationService, platform_id: str) -> SimulatedPlatform:
        key = Ed25519PrivateKey.generate()
        certificate = service.certify(platform_id, _ed25519_public_bytes(key))
        return cls(_ed25519_private_bytes(key), certificate)

    @property
    def private_bytes(self) -> bytes:
        return _ed25519_private_bytes(self._key)

    def quote(self, measurement: bytes, enclave_key: bytes, report_data: bytes) -> Quote:
        signed = quote_bytes(
            _exact(measurement, 32, "measurement"),
            _exact(enclave_key, 32, "enclave key"),
            _exact(report_data, 32, "report data"),
            self.certificate.platform_key,
        )
        return Quote(
            measurement, enclave_key, report_data, self.certificate, self._key.sign(signed)
        )


def _ed25519_valid(public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _ed25519_private(raw: bytes | None) -> Ed25519PrivateKey:
    if raw is None:
        return Ed25519PrivateKey.generate()
    return Ed25519PrivateKey.from_private_bytes(_exact(raw, 32, "Ed25519 private key"))


def _ed25519_private_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def _ed25519_public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _exact(value: bytes, size: int, what: str) -> bytes:
    if len(value) != size:
        raise PnyxInputError(f"{what} must be {size} bytes, got {len(value)}")
    return value
