"""DOS-style random groups: the verifiable draw of a request's group, the message its members sign
and the packed signature list (contracts/src/oracles/RandomGroupOracle.sol; docs/oracles-groups.md).

- seed      = keccak256(blockhash(requestBlock + 1) ‖ requestId)
- draw      = a Fisher–Yates shuffle of the registry positions 0..pool_size-1, run only as far as
  needed: step i swaps position i with j = i + keccak256(seed ‖ uint256(i)) mod (pool_size − i),
  and the registration now at position i joins the group unless it is ineligible (it left before
  the request), until the group is full
- message   = keccak256(abi.encode(chainid, oracle, requestId, keccak256(result))), signed EIP-191
- signature = member index in the group (1 byte) ‖ r ‖ s ‖ v

Every function here is the contract's rule, bit for bit; an integration test checks the draw
against `groupOf` on a real chain."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import count

from eth_abi.abi import encode as abi_encode

from pnyx.domain._hex import keccak, to_bytes
from pnyx.errors import PnyxInputError
from pnyx.types import Bytes32

MAX_GROUP_SIZE = 32
SIGNATURE_BYTES = 66


def request_id(chain_id: int, oracle: str, consumer: str, query_id: str | bytes) -> Bytes32:
    """The id of the request `consumer` makes with `query_id` (`requestIdOf` on chain)."""
    raw = abi_encode(
        ["uint256", "address", "address", "bytes32"],
        [chain_id, oracle, consumer, to_bytes(query_id, length=32)],
    )
    return Bytes32("0x" + keccak(raw).hex())


def group_seed(block_hash: str | bytes, request: str | bytes) -> bytes:
    """The seed of a request from the hash of the block after the request's block."""
    return keccak(to_bytes(block_hash, length=32) + to_bytes(request, length=32))


def draw_group(
    seed: str | bytes,
    pool_size: int,
    group_size: int,
    eligible: Callable[[int], bool] | None = None,
) -> list[int]:
    """The registry positions of the group, in member-index order.

    Args:
        seed: the request's seed (`group_seed`).
        pool_size: registrations the request sees (those made up to the request).
        group_size: members to draw.
        eligible: whether the registration at a position may serve the request (it had not left
            before the request's block, see `is_eligible`); every position is when omitted.

    Raises:
        PnyxInputError: fewer eligible positions than `group_size`.
    """
    raw_seed = to_bytes(seed, length=32)
    if group_size <= 0 or pool_size < 0:
        raise PnyxInputError(f"cannot draw {group_size} of {pool_size}")
    swapped: dict[int, int] = {}
    members: list[int] = []
    for i in count():
        if len(members) == group_size:
            break
        if i == pool_size:
            raise PnyxInputError(
                f"only {len(members)} eligible of {pool_size}, {group_size} needed"
            )
        random = int.from_bytes(keccak(raw_seed + i.to_bytes(32, "big")), "big")
        j = i + random % (pool_size - i)
        picked = swapped.get(j, j)
        if j != i:
            swapped[j] = swapped.get(i, i)
        if eligible is None or eligible(picked):
            members.append(picked)
    return members


def is_eligible(exit_block: int, request_block: int) -> bool:
    """Whether a registration that leaves at `exit_block` (0: still registered) may serve a
    request made in `request_block`."""
    return exit_block == 0 or exit_block > request_block


def response_message(chain_id: int, oracle: str, request: str | bytes, result: bytes) -> bytes:
    """The 32 bytes a member signs (EIP-191) to vouch for `result` (`responseMessage` on chain)."""
    raw = abi_encode(
        ["uint256", "address", "bytes32", "bytes32"],
        [chain_id, oracle, to_bytes(request, length=32), keccak(result)],
    )
    return keccak(raw)


def pack_signatures(entries: Iterable[tuple[int, bytes]]) -> bytes:
    """The packed list `respond` takes from (member index, 65-byte r ‖ s ‖ v signature) pairs."""
    packed = bytearray()
    for index, signature in entries:
        if not 0 <= index < MAX_GROUP_SIZE:
            raise PnyxInputError(f"member index {index} outside 0..{MAX_GROUP_SIZE - 1}")
        if len(signature) != SIGNATURE_BYTES - 1:
            raise PnyxInputError(f"expected a 65-byte signature, got {len(signature)} bytes")
        packed += bytes([index]) + signature
    return bytes(packed)


def signer_bitmap(indexes: Iterable[int]) -> int:
    """The bitmap of member indexes `ResultAccepted` reports."""
    bitmap = 0
    for index in indexes:
        bitmap |= 1 << index
    return bitmap


def fee_shares(fee: int, signers: int) -> tuple[int, int]:
    """(what every signer earns, what the first listed signer earns): the fee split evenly, the
    rounding remainder going to the first listed signer."""
    if signers <= 0:
        raise PnyxInputError("a result needs at least one signer")
    share = fee // signers
    return share, fee - share * (signers - 1)
