"""Confidential computing, the user's side: what a dataset owner and a requester do so that a TEE
task sees their data in clear and nobody else does.

- A dataset owner encrypts the file (AES-256-GCM, one fresh key per file), publishes only the
  ciphertext — the on-chain checksum is the sha256 of the *encrypted* file, which is what workers
  download and check — and pushes the key to the SMS, which releases it only to an attested
  enclave running a task of a deal that matched the dataset's order.
- A beneficiary makes an X25519 key pair, keeps the private key in `$PNYX_HOME/result-keys/`, and
  pushes the public key to the SMS. The enclave seals the zip of the app's output to that key
  (`result.zip.enc`), so the result store, the scheduler and the workers only ever hold
  ciphertext; the chain's result digest covers the sealed file, so it is checked like any result
  before it is opened here.

Keys are files of one 0x-hex line, mode 0600. A result key is never overwritten unless asked:
losing it makes every result sealed to it unreadable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from pnyx.chain.protocol import Protocol
from pnyx.clients.sms import SmsClient
from pnyx.domain import crypto
from pnyx.domain._hex import to_address, to_bytes
from pnyx.domain.archive import (
    ENCRYPTED_RESULT_NAME,
    ERROR_FILE,
    RESULT_SEAL_CONTEXT,
    ArchiveError,
    read_archive,
)
from pnyx.domain.task import digest_of_file
from pnyx.errors import ConflictError, NotFoundError, PnyxInputError
from pnyx.sdk.tasks import task_deal
from pnyx.types import Address, Bytes32

ENCRYPTED_SUFFIX = ".enc"
KEY_SUFFIX = ".key"
RESULT_KEYS_DIR = "result-keys"


class KeyFileExistsError(ConflictError):
    """A key file is already there; overwriting it would lose the key it holds."""


class NotEncryptedResultError(PnyxInputError):
    """A result was to be decrypted but holds no `result.zip.enc`."""


@dataclass(frozen=True)
class EncryptedDataset:
    """An encrypted dataset file, ready to publish: register `checksum`, push `key` to the SMS."""

    source: Path
    path: Path
    key: bytes
    checksum: Bytes32
    key_file: Path | None

    def as_json(self) -> dict[str, object]:
        """What to show; never the key itself, only where it is."""
        return {
            "source": str(self.source),
            "encrypted": str(self.path),
            "key_file": str(self.key_file) if self.key_file else None,
            "checksum": self.checksum,
            "size": self.path.stat().st_size,
        }


# ─── Datasets ───
def encrypt_dataset(
    path: Path,
    out: Path | None = None,
    *,
    key_file: Path | None = None,
    write_key: bool = True,
    overwrite: bool = True,
) -> EncryptedDataset:
    """Encrypts a dataset file with a new AES-256 key.

    Args:
        path: the clear file.
        out: where to write the ciphertext (default `<path>.enc`).
        key_file: where to write the key (default `out` with `.enc` replaced by `.key`).
        write_key: False to keep the key only in the returned value.
        overwrite: False to refuse replacing an existing key file, as the CLI does without
            `--force`. Replacing is the default because the pair written (ciphertext and key) is
            always consistent, and the clear file is still there to encrypt again; but a dataset
            registered or pushed with the old pair must then be registered and pushed anew.

    Returns:
        The encrypted file, its key and its checksum (sha256 of the encrypted bytes: what the
        dataset is registered with and what workers check after download).

    Raises:
        PnyxInputError: the file cannot be read or the output would replace it.
        KeyFileExistsError: the key file exists and `overwrite` is False.
    """
    data = _read(path, "dataset")
    target = out or path.with_name(path.name + ENCRYPTED_SUFFIX)
    if target.resolve() == path.resolve():
        raise PnyxInputError(f"the encrypted file would replace the original {path}: pick --out")
    key = crypto.new_symmetric_key()
    blob = crypto.encrypt(key, data)
    written_key: Path | None = None
    if write_key:
        written_key = key_file or _key_file_for(target)
        _write_secret(written_key, key, force=overwrite)  # first: a refusal leaves nothing behind
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(blob)
    return EncryptedDataset(
        source=path, path=target, key=key, checksum=digest_of_file(blob), key_file=written_key
    )


def decrypt_dataset(encrypted: bytes, key: bytes) -> bytes:
    """The clear dataset (what the enclave's pre-compute does; here for owners and tests)."""
    return crypto.decrypt(key, encrypted)


def push_dataset_secret(sms: SmsClient, owner: LocalAccount, dataset: str, key: bytes) -> None:
    """Gives the SMS the key of `dataset`; the SMS accepts it only signed by the dataset's owner,
    and only once."""
    _check_length(key, "a dataset key")
    sms.push_dataset_key(to_address(dataset), key, owner)


# ─── Result keys ───
def result_key_path(home: Path, beneficiary: str) -> Path:
    """Where the private result key of `beneficiary` lives: one file per address."""
    return home / RESULT_KEYS_DIR / f"{to_address(beneficiary).lower()}{KEY_SUFFIX}"


def result_keygen(home: Path, beneficiary: str, *, force: bool = False) -> tuple[Path, bytes]:
    """Makes an X25519 key pair for `beneficiary`'s results; stores the private key.

    Returns:
        (the private key file, the public key to push to the SMS).

    Raises:
        KeyFileExistsError: a key is already stored and `force` is not set (overwriting it would
            make every result already sealed to it unreadable).
    """
    private, public = crypto.new_box_keypair()
    path = result_key_path(home, beneficiary)
    _write_secret(path, private, force=force)
    path.parent.chmod(0o700)
    return path, public


def load_result_key(home: Path, beneficiary: str) -> bytes:
    """The stored private result key of `beneficiary`."""
    path = result_key_path(home, beneficiary)
    if not path.is_file():
        raise NotFoundError(
            f"no result key for {to_address(beneficiary)} at {path}: run `pnyx result keygen`"
        )
    return read_key_file(path)


def push_result_key(
    sms: SmsClient, account: LocalAccount, public_key: bytes, *, replace: bool = False
) -> None:
    """Gives the SMS the public key results of `account` are sealed to; `replace` swaps an existing
    one (results sealed before stay readable only with the old private key)."""
    _check_length(public_key, "a result public key")
    sms.push_result_key(public_key, account, replace=replace)


def check_result_key(sms: SmsClient, beneficiary: str, private_key: bytes) -> None:
    """Fails unless the SMS seals `beneficiary`'s results to the public half of `private_key`:
    a check worth making before paying for a task whose result could not be opened."""
    expected = crypto.box_public_key(private_key)
    pushed = sms.result_key(to_address(beneficiary))
    if pushed is None:
        raise NotFoundError(
            f"the SMS has no result key for {to_address(beneficiary)}: run `pnyx result push-key`"
        )
    if pushed != expected:
        raise PnyxInputError(
            f"the SMS seals results for {to_address(beneficiary)} to another key than the one "
            "stored here: run `pnyx result push-key --replace`"
        )


def result_beneficiary(protocol: Protocol, task_id: str) -> Address:
    """Whose results a task's are: the beneficiary of its deal."""
    matched = task_deal(protocol, task_id)
    if matched is None:
        raise NotFoundError(f"task {task_id} is not initialized on chain: it has no deal yet")
    return matched.deal.beneficiary


# ─── Results ───
def open_result(files: dict[str, bytes], private_key: bytes) -> dict[str, bytes]:
    """The app's output files inside a TEE result archive (given as its extracted files)."""
    sealed = files.get(ENCRYPTED_RESULT_NAME)
    if sealed is None:
        raise NotEncryptedResultError(_not_encrypted("the result", files.get(ERROR_FILE)))
    try:
        inner = crypto.open_sealed(private_key, sealed, context=RESULT_SEAL_CONTEXT)
    except crypto.DecryptionError as exc:
        raise crypto.DecryptionError(f"cannot decrypt {ENCRYPTED_RESULT_NAME}: {exc}") from None
    try:
        return read_archive(inner)
    except ArchiveError as exc:
        raise ArchiveError(f"the decrypted {ENCRYPTED_RESULT_NAME} is refused: {exc}") from None


def decrypt_result(extracted_dir: Path, private_key: bytes, out_dir: Path) -> list[str]:
    """Decrypts the `result.zip.enc` of an extracted result archive into `out_dir`.

    Returns:
        The names of the files written, relative to `out_dir`, sorted.

    Raises:
        NotEncryptedResultError: there is no `result.zip.enc` in `extracted_dir`.
        DecryptionError: wrong key, or the file was tampered with.
        ArchiveError: the decrypted zip is malformed or has unsafe paths (absolute, `..`).
    """
    sealed = extracted_dir / ENCRYPTED_RESULT_NAME
    if not sealed.is_file():
        error = extracted_dir / ERROR_FILE
        raise NotEncryptedResultError(
            _not_encrypted(str(extracted_dir), error.read_bytes() if error.is_file() else None)
        )
    files = open_result({ENCRYPTED_RESULT_NAME: _read(sealed, "encrypted result")}, private_key)
    write_files(out_dir, files)
    return sorted(files)


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Writes {relative path: content} under `folder`, refusing any path that leaves it."""
    root = folder.resolve()
    for name in files:
        if not (root / name).resolve().is_relative_to(root):
            raise ArchiveError(f"unsafe path in archive: {name!r}")
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


# ─── Key files ───
def read_key_file(path: Path) -> bytes:
    """A 32-byte key from a file of one 0x-hex line (dataset AES key or result private key)."""
    text = _read(path, "key file").decode(errors="replace").strip()
    try:
        return to_bytes(text, length=crypto.KEY_BYTES)
    except PnyxInputError:
        raise PnyxInputError(
            f"{path} is not a key file (one 0x-hex line of {crypto.KEY_BYTES} bytes)"
        ) from None


def _write_secret(path: Path, key: bytes, *, force: bool) -> None:
    """Writes a key as 0x-hex, readable by its owner only; O_EXCL unless forced, so an existing
    key is never silently replaced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (0 if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise KeyFileExistsError(
            f"{path} already exists: pass --force to replace it (the key it holds is lost)"
        ) from None
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)  # a forced overwrite keeps no looser old mode
        handle.write("0x" + key.hex() + "\n")


def _key_file_for(encrypted: Path) -> Path:
    name = encrypted.name.removesuffix(ENCRYPTED_SUFFIX)
    return encrypted.with_name(name + KEY_SUFFIX)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise PnyxInputError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def _check_length(key: bytes, what: str) -> None:
    if len(key) != crypto.KEY_BYTES:
        raise PnyxInputError(f"{what} is {crypto.KEY_BYTES} bytes, got {len(key)}")


def _not_encrypted(where: str, error: bytes | None) -> str:
    message = f"{where} holds no {ENCRYPTED_RESULT_NAME}: it is not an encrypted TEE result"
    if error is not None:
        lines = error.decode(errors="replace").strip().splitlines()
        message += f" (the task failed: {lines[0] if lines else 'no message'})"
    return message
