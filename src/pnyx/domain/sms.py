"""The rules of the Secret Management Service that both sides must compute alike: what a push of a
secret signs, what the scheduler signs to ask for a task's enclave challenge, and how a secret is
named (its identity, which also authenticates its ciphertext at rest).

- push message      = keccak256(keccak256("PNYX_SMS") ‖ address ‖ keccak256(key) ‖ keccak256(value))
- challenge message = keccak256(keccak256("PNYX_SMS_CHALLENGE") ‖ taskId)

both signed EIP-191. `address` is whose secret it is (the dataset, the app, the requester or the
beneficiary), `key` names the secret (`secret_key`), so a signature for one secret cannot be
replayed for another; the value is hashed as the exact UTF-8 text sent.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pnyx.domain._hex import keccak, to_address, to_bytes
from pnyx.errors import PnyxInputError

PUSH_DOMAIN = keccak(b"PNYX_SMS")
CHALLENGE_DOMAIN = keccak(b"PNYX_SMS_CHALLENGE")
# The context label of the box a session's secrets are sealed in (pnyx.domain.crypto.seal).
SESSION_CONTEXT = "pnyx-sms-session"
MAX_SECRET_BYTES = 4096
SECRET_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_SECRET_NAME = re.compile(SECRET_NAME_PATTERN)


class SecretKind(StrEnum):
    """What a secret is for; each kind has one owner rule (who may push it)."""

    DATASET = "dataset"  # a dataset's AES-256 key; pushed by the dataset's on-chain owner
    APP = "app"  # the app developer's secret; pushed by the app's on-chain owner
    REQUESTER = "requester"  # a named requester secret; pushed by the requester
    RESULT_KEY = "result-key"  # a beneficiary's X25519 public key; pushed by the beneficiary


def secret_key(kind: SecretKind, name: str = "") -> str:
    """The `key` a push of this secret signs: the kind, and for requester secrets their name."""
    if kind is SecretKind.REQUESTER:
        check_secret_name(name)
        return f"{kind.value}/{name}"
    if name:
        raise PnyxInputError(f"a {kind.value} secret has no name, got {name!r}")
    return kind.value


def check_secret_name(name: str) -> str:
    if not _SECRET_NAME.fullmatch(name):
        raise PnyxInputError(f"a requester secret's name is 1 to 64 of [A-Za-z0-9_-], got {name!r}")
    return name


def push_message(address: str, key: str, value: str) -> bytes:
    """The 32 bytes the owner of a secret signs (EIP-191) to push `value` under (address, key)."""
    return keccak(
        PUSH_DOMAIN + to_bytes(address, length=20) + keccak(key.encode()) + keccak(value.encode())
    )


def challenge_message(task_id: str | bytes) -> bytes:
    """The 32 bytes a workerpool's scheduler signs (EIP-191) to get a task's enclave challenge."""
    return keccak(CHALLENGE_DOMAIN + to_bytes(task_id, length=32))


def secret_identity(kind: SecretKind, address: str, name: str = "") -> bytes:
    """The additional authenticated data of a secret's ciphertext at rest: a row copied under
    another identity (another dataset, another requester, another kind) no longer decrypts."""
    return f"pnyx-sms-secret:{to_address(address).lower()}:{secret_key(kind, name)}".encode()


def challenge_identity(task_id: str | bytes) -> bytes:
    """The additional authenticated data of a task's encrypted enclave challenge key."""
    return b"pnyx-sms-challenge:" + to_bytes(task_id, length=32)
