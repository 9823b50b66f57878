"""The SMS's secrets and enclave challenges: who may push what, and the per-task keys enclaves sign
TEE results with.

Every push is an EIP-191 signature of `push_message(address, key, value)` by the secret's owner on
chain (a dataset's or an app's registry owner), or by the address itself (requester secrets,
result keys). Nothing stored ever leaves this service in clear, except sealed to an attested
enclave (`sessions.py`) and a beneficiary's result key, which is public by nature.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from threading import Lock

from pnyx.api.schemas.sms import SIGNATURE_HEADER
from pnyx.chain.protocol import MatchedDeal, Protocol
from pnyx.chain.signing import new_account, recover_eip191
from pnyx.domain._hex import to_address, to_bytes, to_hex32
from pnyx.domain.attestation import Attestor
from pnyx.domain.crypto import DecryptionError
from pnyx.domain.sms import (
    MAX_SECRET_BYTES,
    SecretKind,
    challenge_identity,
    challenge_message,
    push_message,
    secret_identity,
    secret_key,
)
from pnyx.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PnyxInputError,
)
from pnyx.services.sms.vault import Vault
from pnyx.store.sms import ChallengeRow, SecretId, SmsStore
from pnyx.types import ZERO_ADDRESS, Address

_SIGNATURE = re.compile(r"^0x[0-9a-fA-F]{130}$")
# Secrets that are 32-byte keys, stored as lowercase 0x-hex.
KEY_KINDS = frozenset({SecretKind.DATASET, SecretKind.RESULT_KEY})
# Secrets their owner may replace (PUT); the others are pushed once.
REPLACEABLE_KINDS = frozenset({SecretKind.REQUESTER, SecretKind.RESULT_KEY})
_ROLES = {
    SecretKind.DATASET: "the dataset's owner",
    SecretKind.APP: "the app's owner",
    SecretKind.REQUESTER: "the requester",
    SecretKind.RESULT_KEY: "the beneficiary",
}
DEAL_CACHE_SIZE = 1024


@dataclass
class SmsService:
    protocol: Protocol
    store: SmsStore
    vault: Vault
    attestor: Attestor
    nonce_ttl_s: float
    # Deals never change once matched: a task's deal is read from the chain once.
    _deals: OrderedDict[str, MatchedDeal] = field(default_factory=OrderedDict, repr=False)
    _deals_lock: Lock = field(default_factory=Lock, repr=False)

    # ─── Secrets ───
    def push(
        self,
        kind: SecretKind,
        address: str,
        value: str,
        signature: str | None,
        *,
        name: str = "",
        replace: bool = False,
    ) -> bool:
        """Stores a secret pushed by its owner; True if created. Without `replace`, a secret is
        pushed once (409 after that): a dataset key or an app secret that could be swapped would
        let whoever holds the owner's key change what past deals run with."""
        if replace and kind not in REPLACEABLE_KINDS:
            raise PnyxInputError(f"a {kind.value} secret is pushed once and never replaced")
        address = to_address(address)
        key = secret_key(kind, name)
        size = _utf8_size(value)
        if size > MAX_SECRET_BYTES:
            raise PayloadTooLargeError(
                f"a secret is at most {MAX_SECRET_BYTES} bytes of UTF-8, this one is {size}"
            )
        stored = "0x" + to_bytes(value, length=32).hex() if kind in KEY_KINDS else value
        signer = recover_signer(
            push_message(address, key, value),
            signature,
            f"{_ROLES[kind]}'s EIP-191 signature of push_message({address}, {key!r}, value)",
        )
        owner = self.owner(kind, address)
        if signer != owner:
            raise PermissionDeniedError(f"signed by {signer}, {_ROLES[kind]} is {owner}")
        secret = SecretId(kind.value, address, name)
        ciphertext = self.vault.encrypt(secret_identity(kind, address, name), stored.encode())
        if replace:
            return self.store.put_secret(secret, ciphertext)
        if not self.store.add_secret(secret, ciphertext):
            hint = "; PUT replaces it" if kind in REPLACEABLE_KINDS else ""
            raise ConflictError(
                f"the {kind.value} secret {key!r} of {address} is already pushed{hint}"
            )
        return True

    def has(self, kind: SecretKind, address: str, name: str = "") -> bool:
        secret_key(kind, name)
        return self.store.secret(SecretId(kind.value, to_address(address), name)) is not None

    def read(self, kind: SecretKind, address: str, name: str = "") -> str | None:
        """A stored secret in clear (for sessions and public result keys only)."""
        address = to_address(address)
        ciphertext = self.store.secret(SecretId(kind.value, address, name))
        if ciphertext is None:
            return None
        return self._decrypt(secret_identity(kind, address, name), ciphertext).decode()

    def read_all(self, kind: SecretKind, address: str) -> dict[str, str]:
        address = to_address(address)
        return {
            name: self._decrypt(secret_identity(kind, address, name), ciphertext).decode()
            for name, ciphertext in self.store.secrets_of(kind.value, address).items()
        }

    def result_key(self, beneficiary: str) -> str:
        value = self.read(SecretKind.RESULT_KEY, beneficiary)
        if value is None:
            raise NotFoundError(f"{to_address(beneficiary)} has pushed no result encryption key")
        return value

    def owner(self, kind: SecretKind, address: Address) -> Address:
        """Who may push a secret of `kind` for `address`."""
        if kind in (SecretKind.REQUESTER, SecretKind.RESULT_KEY):
            return address
        registry = self.protocol.datasets if kind is SecretKind.DATASET else self.protocol.apps
        owner = self.protocol.asset_owner(registry, address)
        if owner == ZERO_ADDRESS:
            raise NotFoundError(f"{kind.value} {address} is not registered on chain")
        return owner

    # ─── Enclave challenges ───
    def create_challenge(self, task_id: str, signature: str | None) -> tuple[ChallengeRow, bool]:
        """The task's enclave challenge, created on its first request by the owner of the
        workerpool running it; returns (challenge, created). Asking again answers the same."""
        task_id = to_hex32(task_id)
        signer = recover_signer(
            challenge_message(task_id),
            signature,
            "the workerpool owner's EIP-191 signature of challenge_message(task_id)",
        )
        matched = self.deal_of(task_id)
        if matched is None:
            raise ConflictError(
                f"task {task_id} is not initialized on chain (no TaskInitialized event): its "
                "scheduler asks for a challenge once it has initialized the task"
            )
        deal = matched.deal
        if signer != deal.workerpool_owner:
            raise PermissionDeniedError(
                f"signed by {signer}, but only {deal.workerpool_owner}, the owner of workerpool "
                f"{deal.workerpool} that runs task {task_id}, may ask for its enclave challenge"
            )
        if not deal.is_tee:
            raise PermissionDeniedError(
                f"deal {matched.deal_id} has tag {deal.tag}, without the TEE bit: its tasks run "
                "outside enclaves and get no enclave challenge"
            )
        existing = self.store.challenge(task_id)
        if existing is not None:
            return existing, False
        account = new_account()
        ciphertext = self.vault.encrypt(challenge_identity(task_id), bytes(account.key))
        return self.store.add_challenge(task_id, account.address, ciphertext)

    def challenge(self, task_id: str) -> ChallengeRow:
        row = self.store.challenge(to_hex32(task_id))
        if row is None:
            raise NotFoundError(f"task {to_hex32(task_id)} has no enclave challenge")
        return row

    def challenge_key(self, row: ChallengeRow) -> bytes:
        return self._decrypt(challenge_identity(row.task_id), row.ciphertext)

    # ─── Chain ───
    def deal_of(self, task_id: str) -> MatchedDeal | None:
        """The deal of an initialized task, from its `TaskInitialized` event; None before."""
        with self._deals_lock:
            cached = self._deals.get(task_id)
        if cached is not None:
            return cached
        initialized = self.protocol.task_events(task_id, "TaskInitialized")
        if not initialized:
            return None
        matched = self.protocol.find_deal(to_hex32(bytes(initialized[0]["dealId"])))
        with self._deals_lock:
            self._deals[task_id] = matched
            while len(self._deals) > DEAL_CACHE_SIZE:
                self._deals.popitem(last=False)
        return matched

    def mrenclave(self, app: str) -> bytes:
        return to_bytes(str(self.protocol.app(app)["mrenclave"]))

    def _decrypt(self, identity: bytes, ciphertext: bytes) -> bytes:
        try:
            return self.vault.decrypt(identity, ciphertext)
        except DecryptionError as exc:
            # Not the caller's fault: the database and the master key do not belong together.
            raise RuntimeError(
                f"a stored secret does not decrypt ({exc}): wrong master.key or tampered database"
            ) from None


def recover_signer(message: bytes, signature: str | None, expected: str) -> Address:
    """The address that signed `message` (EIP-191) in the `X-Pnyx-Signature` header."""
    if not signature:
        raise AuthenticationError(f"missing {SIGNATURE_HEADER} header: {expected}")
    if not _SIGNATURE.fullmatch(signature):
        raise AuthenticationError(
            f"{SIGNATURE_HEADER} must be the 0x-hex of a 65-byte signature (r ‖ s ‖ v)"
        )
    signer = recover_eip191(message, signature)
    if not signer:
        raise AuthenticationError(f"{SIGNATURE_HEADER} is not a valid secp256k1 signature")
    return to_address(signer)


def _utf8_size(value: str) -> int:
    try:
        return len(value.encode())
    except UnicodeEncodeError:
        raise PnyxInputError("a secret must be valid Unicode text (no lone surrogates)") from None
