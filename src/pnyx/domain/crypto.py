"""Encryption used by TEE tasks: datasets and secrets at rest (AES-256-GCM with a symmetric key),
and data sealed to one recipient's public key (X25519 → HKDF-SHA256 → AES-256-GCM).

Formats (all bytes, so a file, an HTTP body or a database column can hold them):

- symmetric:  b"PNYXAES1" ‖ nonce (12) ‖ ciphertext ‖ tag (16)
- sealed box: b"PNYXBOX1" ‖ ephemeral X25519 public key (32) ‖ nonce (12) ‖ ciphertext ‖ tag (16),
  the AES key being HKDF-SHA256(X25519(ephemeral, recipient), salt = ephemeral ‖ recipient,
  info = the caller's context label). The label binds a box to its purpose: a box sealed for
  "pnyx-sms-session" cannot be replayed as a "pnyx-result" box.

`cryptography` does the primitives; nothing here is home-made beyond the framing.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pnyx.errors import PnyxInputError

KEY_BYTES = 32
NONCE_BYTES = 12
SYMMETRIC_MAGIC = b"PNYXAES1"
BOX_MAGIC = b"PNYXBOX1"


class DecryptionError(PnyxInputError):
    """Ciphertext that is malformed, tampered with, or meant for another key."""


def new_symmetric_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def encrypt(key: bytes, plaintext: bytes, *, aad: bytes = b"") -> bytes:
    """AES-256-GCM with a fresh random nonce; `aad` is authenticated, not encrypted."""
    _check_key(key)
    nonce = secrets.token_bytes(NONCE_BYTES)
    return SYMMETRIC_MAGIC + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def decrypt(key: bytes, blob: bytes, *, aad: bytes = b"") -> bytes:
    _check_key(key)
    if not blob.startswith(SYMMETRIC_MAGIC) or len(blob) < len(SYMMETRIC_MAGIC) + NONCE_BYTES + 16:
        raise DecryptionError("not a Pnyx AES-GCM ciphertext (bad header or too short)")
    body = blob[len(SYMMETRIC_MAGIC) :]
    try:
        return AESGCM(key).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], aad)
    except InvalidTag:
        raise DecryptionError("decryption failed: wrong key or tampered ciphertext") from None


def new_box_keypair() -> tuple[bytes, bytes]:
    """(private, public) X25519 keys, 32 raw bytes each."""
    private = X25519PrivateKey.generate()
    return _raw_private(private), _raw_public(private.public_key())


def box_public_key(private: bytes) -> bytes:
    return _raw_public(_load_private(private).public_key())


def seal(recipient_public: bytes, plaintext: bytes, *, context: str) -> bytes:
    """Encrypts `plaintext` so that only the holder of the recipient's private key can read it."""
    recipient = _load_public(recipient_public)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = _raw_public(ephemeral.public_key())
    key = _box_key(ephemeral.exchange(recipient), ephemeral_public, recipient_public, context)
    nonce = secrets.token_bytes(NONCE_BYTES)
    return BOX_MAGIC + ephemeral_public + nonce + AESGCM(key).encrypt(nonce, plaintext, None)


def open_sealed(private: bytes, blob: bytes, *, context: str) -> bytes:
    header = len(BOX_MAGIC) + KEY_BYTES + NONCE_BYTES
    if not blob.startswith(BOX_MAGIC) or len(blob) < header + 16:
        raise DecryptionError("not a Pnyx sealed box (bad header or too short)")
    ephemeral_public = blob[len(BOX_MAGIC) : len(BOX_MAGIC) + KEY_BYTES]
    nonce = blob[len(BOX_MAGIC) + KEY_BYTES : header]
    own = _load_private(private)
    own_public = _raw_public(own.public_key())
    try:
        shared = own.exchange(_load_public(ephemeral_public))
    except ValueError:
        raise DecryptionError("sealed box carries an invalid ephemeral key") from None
    key = _box_key(shared, ephemeral_public, own_public, context)
    try:
        return AESGCM(key).decrypt(nonce, blob[header:], None)
    except InvalidTag:
        raise DecryptionError(
            "sealed box does not open: wrong key, wrong context, or tampered"
        ) from None


def _box_key(
    shared: bytes, ephemeral_public: bytes, recipient_public: bytes, context: str
) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=ephemeral_public + recipient_public,
        info=context.encode(),
    ).derive(shared)


def _check_key(key: bytes) -> None:
    if len(key) != KEY_BYTES:
        raise PnyxInputError(f"an AES-256 key is {KEY_BYTES} bytes, got {len(key)}")


def _load_private(raw: bytes) -> X25519PrivateKey:
    if len(raw) != KEY_BYTES:
        raise PnyxInputError(f"an X25519 private key is {KEY_BYTES} bytes, got {len(raw)}")
    return X25519PrivateKey.from_private_bytes(raw)


def _load_public(raw: bytes) -> X25519PublicKey:
    if len(raw) != KEY_BYTES:
        raise PnyxInputError(f"an X25519 public key is {KEY_BYTES} bytes, got {len(raw)}")
    return X25519PublicKey.from_public_bytes(raw)


def _raw_private(key: X25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
