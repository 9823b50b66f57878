"""Task ids and result hashes (DESIGN.md §5), checked against direct keccak/sha256 encodings."""

from __future__ import annotations

import hashlib

import pytest
from eth_utils.crypto import keccak

from pnyx.domain.task import (
    authorization_message,
    digest_of_callback,
    digest_of_file,
    digest_of_files,
    enclave_message,
    result_hash,
    result_seal,
    task_id,
)

pytestmark = pytest.mark.unit

DEAL = "0x" + "12" * 32
WORKER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
DIGEST = "0x" + "34" * 32


def test_task_id_is_keccak_of_deal_and_index() -> None:
    expected = keccak(bytes.fromhex("12" * 32) + (7).to_bytes(32, "big"))
    assert task_id(DEAL, 7) == "0x" + expected.hex()


def test_result_hash_is_shared_and_result_seal_is_per_worker() -> None:
    task = task_id(DEAL, 0)
    other_worker = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
    assert result_hash(task, DIGEST) == "0x" + keccak(bytes.fromhex(task[2:] + "34" * 32)).hex()
    assert result_seal(WORKER, task, DIGEST) != result_seal(other_worker, task, DIGEST)
    packed = bytes.fromhex(WORKER[2:]) + bytes.fromhex(task[2:]) + bytes.fromhex("34" * 32)
    assert result_seal(WORKER, task, DIGEST) == "0x" + keccak(packed).hex()


def test_signed_messages_pack_their_fields() -> None:
    task = task_id(DEAL, 0)
    enclave = "0x" + "56" * 20
    assert authorization_message(WORKER, task, enclave) == keccak(
        bytes.fromhex(WORKER[2:] + task[2:] + "56" * 20)
    )
    assert enclave_message(DIGEST, DIGEST) == keccak(bytes.fromhex("34" * 64))


def test_digests_follow_the_three_result_forms() -> None:
    assert digest_of_callback(b"\x01\x02") == "0x" + keccak(b"\x01\x02").hex()
    assert digest_of_file(b"hello") == "0x" + hashlib.sha256(b"hello").hexdigest()
    files = {"b.txt": b"2", "a.txt": b"1"}
    joined = hashlib.sha256(b"1").digest() + hashlib.sha256(b"2").digest()
    assert digest_of_files(files) == "0x" + keccak(joined).hex()
