"""The TEE primitives: AES-GCM at rest and X25519 sealed boxes round-trip and refuse tampering,
wrong keys and wrong contexts; a simulated platform's quote verifies only when its certificate
chains to a trusted attestation service and nothing in it was altered."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pnyx.domain.attestation import (
    AttestationError,
    CertifiedPlatformAttestor,
    PlatformCertificate,
    Quote,
    SimulatedAttestationService,
    SimulatedPlatform,
    measure,
    session_report_data,
)
from pnyx.domain.crypto import (
    DecryptionError,
    box_public_key,
    decrypt,
    encrypt,
    new_box_keypair,
    new_symmetric_key,
    open_sealed,
    seal,
)
from pnyx.errors import PermissionDeniedError, PnyxInputError

pytestmark = pytest.mark.unit

TASK = "0x" + "ab" * 32
WORKER = "0x" + "12" * 20
NONCE = bytes(range(32))


def _flip(blob: bytes, position: int) -> bytes:
    tampered = bytearray(blob)
    tampered[position] ^= 0x01
    return bytes(tampered)


# ─── AES-256-GCM ───


def test_decrypt_returns_plaintext_when_key_and_aad_match() -> None:
    key = new_symmetric_key()

    blob = encrypt(key, b"the dataset", aad=b"dataset:0x01")

    assert b"the dataset" not in blob
    assert decrypt(key, blob, aad=b"dataset:0x01") == b"the dataset"


def test_encrypt_uses_fresh_nonce_each_time() -> None:
    key = new_symmetric_key()

    assert encrypt(key, b"same") != encrypt(key, b"same")


@pytest.mark.parametrize("position", [8, 12, 20, -1], ids=["nonce", "nonce-end", "body", "tag"])
def test_decrypt_refuses_when_ciphertext_tampered(position: int) -> None:
    key = new_symmetric_key()
    blob = encrypt(key, b"a secret value of some length")

    with pytest.raises(DecryptionError, match="wrong key or tampered"):
        decrypt(key, _flip(blob, position))


def test_decrypt_refuses_when_key_wrong() -> None:
    blob = encrypt(new_symmetric_key(), b"secret")

    with pytest.raises(DecryptionError, match="wrong key or tampered"):
        decrypt(new_symmetric_key(), blob)


def test_decrypt_refuses_when_aad_differs() -> None:
    key = new_symmetric_key()
    blob = encrypt(key, b"secret", aad=b"requester/alice")

    with pytest.raises(DecryptionError):
        decrypt(key, blob, aad=b"requester/bob")


@pytest.mark.parametrize("blob", [b"", b"PNYXAES1" + bytes(20), b"NOTMAGIC" + bytes(40)])
def test_decrypt_refuses_when_not_a_ciphertext(blob: bytes) -> None:
    with pytest.raises(DecryptionError, match="not a Pnyx AES-GCM ciphertext"):
        decrypt(new_symmetric_key(), blob)


@pytest.mark.parametrize("size", [0, 16, 31, 33])
def test_encrypt_refuses_when_key_not_32_bytes(size: int) -> None:
    with pytest.raises(PnyxInputError, match="an AES-256 key is 32 bytes"):
        encrypt(bytes(size), b"x")


# ─── Sealed boxes ───


def test_open_sealed_returns_plaintext_when_key_and_context_match() -> None:
    private, public = new_box_keypair()

    blob = seal(public, b"session secrets", context="pnyx-sms-session")

    assert box_public_key(private) == public
    assert open_sealed(private, blob, context="pnyx-sms-session") == b"session secrets"


def test_open_sealed_refuses_when_context_differs() -> None:
    private, public = new_box_keypair()
    blob = seal(public, b"session secrets", context="pnyx-sms-session")

    with pytest.raises(DecryptionError, match="wrong key, wrong context, or tampered"):
        open_sealed(private, blob, context="pnyx-result")


def test_open_sealed_refuses_when_private_key_is_another() -> None:
    _, public = new_box_keypair()
    other, _ = new_box_keypair()
    blob = seal(public, b"session secrets", context="c")

    with pytest.raises(DecryptionError, match="wrong key, wrong context, or tampered"):
        open_sealed(other, blob, context="c")


@pytest.mark.parametrize(
    "position", [8, 40, 44, 60, -1], ids=["ephemeral-key", "nonce", "nonce-middle", "body", "tag"]
)
def test_open_sealed_refuses_when_box_tampered(position: int) -> None:
    private, public = new_box_keypair()
    blob = seal(public, b"session secrets, long enough", context="c")

    with pytest.raises(DecryptionError):
        open_sealed(private, _flip(blob, position), context="c")


def test_open_sealed_refuses_when_not_a_box() -> None:
    private, _ = new_box_keypair()

    with pytest.raises(DecryptionError, match="not a Pnyx sealed box"):
        open_sealed(private, b"PNYXBOX1" + bytes(10), context="c")


def test_seal_refuses_when_public_key_not_32_bytes() -> None:
    with pytest.raises(PnyxInputError, match="X25519 public key is 32 bytes"):
        seal(bytes(31), b"x", context="c")


@given(plaintext=st.binary(max_size=2048), context=st.text(max_size=40), other=st.text(max_size=40))
def test_open_sealed_inverts_seal_and_binds_context(
    plaintext: bytes, context: str, other: str
) -> None:
    private, public = new_box_keypair()

    blob = seal(public, plaintext, context=context)

    assert open_sealed(private, blob, context=context) == plaintext
    if other != context:
        with pytest.raises(DecryptionError):
            open_sealed(private, blob, context=other)


@given(plaintext=st.binary(max_size=2048), aad=st.binary(max_size=64))
def test_decrypt_inverts_encrypt(plaintext: bytes, aad: bytes) -> None:
    key = new_symmetric_key()

    assert decrypt(key, encrypt(key, plaintext, aad=aad), aad=aad) == plaintext


# ─── Attestation ───


@pytest.fixture
def service() -> SimulatedAttestationService:
    return SimulatedAttestationService()


@pytest.fixture
def platform(service: SimulatedAttestationService) -> SimulatedPlatform:
    return SimulatedPlatform.new(service, "test-platform")


def _quote(platform: SimulatedPlatform) -> Quote:
    _, enclave_key = new_box_keypair()
    report = session_report_data(NONCE, TASK, WORKER, enclave_key)
    return platform.quote(measure(b"app bytes"), enclave_key, report)


def _refusal(attestor: CertifiedPlatformAttestor, quote: Quote) -> AttestationError:
    with pytest.raises(AttestationError) as refused:
        attestor.verify(quote)
    assert isinstance(refused.value, PermissionDeniedError)
    return refused.value


def test_verify_accepts_quote_when_platform_certified_by_trusted_issuer(
    service: SimulatedAttestationService, platform: SimulatedPlatform
) -> None:
    quote = _quote(platform)

    assert CertifiedPlatformAttestor(frozenset({service.public_key})).verify(quote) == quote


def test_verify_refuses_when_issuer_untrusted(platform: SimulatedPlatform) -> None:
    attestor = CertifiedPlatformAttestor(frozenset({SimulatedAttestationService().public_key}))

    refusal = _refusal(attestor, _quote(platform))

    assert refusal.reason == "untrusted-issuer"
    assert "does not trust" in str(refusal)


def test_verify_refuses_when_certificate_forged(service: SimulatedAttestationService) -> None:
    # A platform certified by a rogue service, whose certificate claims the trusted issuer.
    rogue = SimulatedPlatform.new(SimulatedAttestationService(), "rogue")
    forged = replace(rogue.certificate, issuer_key=service.public_key)
    platform = SimulatedPlatform(rogue.private_bytes, forged)

    refusal = _refusal(CertifiedPlatformAttestor(frozenset({service.public_key})), _quote(platform))

    assert refusal.reason == "uncertified-platform"
    assert f"platform key 0x{forged.platform_key.hex()} is not certified" in str(refusal)


@pytest.mark.parametrize("field", ["measurement", "enclave_key", "report_data"])
def test_verify_refuses_when_quote_altered(
    service: SimulatedAttestationService, platform: SimulatedPlatform, field: str
) -> None:
    quote = _quote(platform)
    altered = replace(quote, **{field: _flip(getattr(quote, field), 0)})

    refusal = _refusal(CertifiedPlatformAttestor(frozenset({service.public_key})), altered)

    assert refusal.reason == "bad-quote-signature"


def test_verify_refuses_when_quote_signed_by_another_certified_platform(
    service: SimulatedAttestationService, platform: SimulatedPlatform
) -> None:
    other = SimulatedPlatform.new(service, "other")
    quote = replace(_quote(platform), certificate=other.certificate)

    refusal = _refusal(CertifiedPlatformAttestor(frozenset({service.public_key})), quote)

    assert refusal.reason == "bad-quote-signature"


def test_quote_json_round_trips(platform: SimulatedPlatform) -> None:
    quote = _quote(platform)

    assert Quote.from_json(quote.as_json()) == quote
    assert PlatformCertificate.from_json(quote.certificate.as_json()) == quote.certificate


def test_quote_from_json_refuses_when_malformed(platform: SimulatedPlatform) -> None:
    data = _quote(platform).as_json()

    with pytest.raises(PnyxInputError, match="malformed quote"):
        Quote.from_json({**data, "measurement": "0x1234"})


def test_simulated_platform_refuses_certificate_of_another_key(
    service: SimulatedAttestationService, platform: SimulatedPlatform
) -> None:
    other = SimulatedPlatform.new(service, "other")

    with pytest.raises(PnyxInputError, match="for another platform key"):
        SimulatedPlatform(platform.private_bytes, other.certificate)


def test_measure_depends_on_artifact_and_runtime() -> None:
    assert measure(b"app") == measure(b"app")
    assert measure(b"app") != measure(b"app2")
    assert measure(b"app") != measure(b"app", runtime_id="another-runtime/1")


def test_session_report_data_binds_every_input() -> None:
    _, key = new_box_keypair()
    base = session_report_data(NONCE, TASK, WORKER, key)

    assert session_report_data(bytes(32), TASK, WORKER, key) != base
    assert session_report_data(NONCE, "0x" + "cd" * 32, WORKER, key) != base
    assert session_report_data(NONCE, TASK, "0x" + "34" * 20, key) != base
    assert session_report_data(NONCE, TASK, WORKER, new_box_keypair()[1]) != base
