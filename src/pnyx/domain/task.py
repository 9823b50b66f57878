"""Task ids, result hashes and the messages workers, schedulers and enclaves sign (DESIGN.md §5).

- task id      = keccak256(dealId ‖ idx)
- resultHash   = keccak256(taskId ‖ digest)            identical for every agreeing worker
- resultSeal   = keccak256(worker ‖ taskId ‖ digest)   per worker, so a result cannot be copied
- authorization message = keccak256(worker ‖ taskId ‖ enclaveChallenge), signed EIP-191 by the
  scheduler
- enclave message       = keccak256(resultHash ‖ resultSeal), signed EIP-191 by the enclave key

The digest of a result is keccak256 of the callback data in callback mode, else sha256 of the
output file, or keccak256 of the concatenated sha256 of the files of an output directory sorted by
name."""

from __future__ import annotations

import hashlib

from pnyx.domain._hex import keccak, to_bytes, to_hex32
from pnyx.types import ZERO_ADDRESS, Bytes32, TaskId


def task_id(deal_id: str | bytes, idx: int) -> TaskId:
    raw = keccak(to_bytes(deal_id, length=32) + idx.to_bytes(32, "big"))
    return TaskId("0x" + raw.hex())


def result_hash(task: str | bytes, digest: str | bytes) -> Bytes32:
    return to_hex32(keccak(to_bytes(task, length=32) + to_bytes(digest, length=32)))


def result_seal(worker: str, task: str | bytes, digest: str | bytes) -> Bytes32:
    raw = to_bytes(worker, length=20) + to_bytes(task, length=32) + to_bytes(digest, length=32)
    return to_hex32(keccak(raw))


def authorization_message(
    worker: str, task: str | bytes, enclave_challenge: str = ZERO_ADDRESS
) -> bytes:
    """The 32 bytes a scheduler signs (EIP-191) to let `worker` contribute to `task`."""
    raw = (
        to_bytes(worker, length=20)
        + to_bytes(task, length=32)
        + to_bytes(enclave_challenge, length=20)
    )
    return keccak(raw)


def enclave_message(result_hash_: str | bytes, result_seal_: str | bytes) -> bytes:
    """The 32 bytes an enclave key signs (EIP-191) to vouch for a TEE result."""
    return keccak(to_bytes(result_hash_, length=32) + to_bytes(result_seal_, length=32))


def digest_of_callback(callback_data: bytes) -> Bytes32:
    return to_hex32(keccak(callback_data))


def digest_of_file(content: bytes) -> Bytes32:
    return to_hex32(hashlib.sha256(content).digest())


def digest_of_files(files: dict[str, bytes]) -> Bytes32:
    """Digest of an output directory given as {relative name: content}."""
    joined = b"".join(hashlib.sha256(files[name]).digest() for name in sorted(files))
    return to_hex32(keccak(joined))
