"""The random-group draw of `pnyx.domain.groups` (the contract's rule; the integration test checks
it against the chain): distinct members, reproducible, a prefix of a full Fisher–Yates shuffle,
uniform over many seeds, and the helpers around it."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pnyx.chain.oracles.groups import RequestStatus
from pnyx.config import CONTRACTS_DIR
from pnyx.domain._hex import keccak
from pnyx.domain.groups import (
    MAX_GROUP_SIZE,
    SIGNATURE_BYTES,
    draw_group,
    fee_shares,
    group_seed,
    is_eligible,
    pack_signatures,
    signer_bitmap,
)
from pnyx.errors import PnyxInputError

pytestmark = pytest.mark.unit

seeds = st.binary(min_size=32, max_size=32)


@st.composite
def pools(draw: st.DrawFn) -> tuple[int, int]:
    """(pool size, group size) with 1 ≤ group ≤ min(pool, 32)."""
    pool = draw(st.integers(min_value=1, max_value=200))
    return pool, draw(st.integers(min_value=1, max_value=min(pool, MAX_GROUP_SIZE)))


def _full_shuffle(seed: bytes, pool: int) -> list[int]:
    """The textbook forward Fisher–Yates over a whole list, same random stream: the reference."""
    items = list(range(pool))
    for i in range(pool - 1):
        j = i + int.from_bytes(keccak(seed + i.to_bytes(32, "big")), "big") % (pool - i)
        items[i], items[j] = items[j], items[i]
    return items


def _chi_square(counts: list[int], expected: float) -> float:
    return sum((c - expected) ** 2 / expected for c in counts)


@given(seed=seeds, sizes=pools())
def test_draw_group_returns_distinct_positions_in_the_pool(
    seed: bytes, sizes: tuple[int, int]
) -> None:
    pool, size = sizes
    members = draw_group(seed, pool, size)
    assert len(members) == size
    assert len(set(members)) == size
    assert all(0 <= m < pool for m in members)


@given(seed=seeds, sizes=pools())
def test_draw_group_is_reproducible_and_a_prefix_of_the_full_shuffle(
    seed: bytes, sizes: tuple[int, int]
) -> None:
    pool, size = sizes
    members = draw_group(seed, pool, size)
    assert draw_group("0x" + seed.hex(), pool, size) == members
    assert members == _full_shuffle(seed, pool)[:size]


@given(seed=seeds, sizes=pools(), data=st.data())
def test_draw_group_skips_ineligible_positions_in_shuffle_order(
    seed: bytes, sizes: tuple[int, int], data: st.DataObject
) -> None:
    pool, size = sizes
    banned = data.draw(st.sets(st.integers(0, pool - 1), max_size=pool - size))
    members = draw_group(seed, pool, size, lambda p: p not in banned)
    assert not banned & set(members)
    assert members == [p for p in _full_shuffle(seed, pool) if p not in banned][:size]


def test_draw_group_raises_when_too_few_positions_are_eligible() -> None:
    with pytest.raises(PnyxInputError, match="only 2 eligible"):
        draw_group(b"\x01" * 32, 5, 3, lambda p: p < 2)


def test_draw_group_is_uniform_over_many_seeds() -> None:
    """χ² of how often each position is drawn (19 degrees of freedom) and of which position comes
    first: both far below the 0.1 % critical value (43.82), on fixed seeds so never flaky."""
    pool, size, rounds = 20, 5, 4000
    membership = [0] * pool
    first = [0] * pool
    for n in range(rounds):
        members = draw_group(group_seed(keccak(n.to_bytes(32, "big")), b"\x00" * 32), pool, size)
        first[members[0]] += 1
        for m in members:
            membership[m] += 1
    assert _chi_square(membership, rounds * size / pool) < 43.82
    assert _chi_square(first, rounds / pool) < 43.82


def test_draw_group_changes_with_the_seed() -> None:
    a = draw_group(group_seed(b"\x01" * 32, b"\x02" * 32), 100, 7)
    b = draw_group(group_seed(b"\x01" * 32, b"\x03" * 32), 100, 7)
    assert a != b


def test_is_eligible_freezes_the_pool_at_the_request_block() -> None:
    assert is_eligible(0, 10)  # still registered
    assert is_eligible(11, 10)  # left in the request's block or later: still serves it
    assert not is_eligible(10, 10)  # left in an earlier block
    assert not is_eligible(5, 10)


def test_pack_signatures_prefixes_each_signature_with_its_member_index() -> None:
    packed = pack_signatures([(3, b"\xaa" * 65), (0, b"\xbb" * 65)])
    assert len(packed) == 2 * SIGNATURE_BYTES
    assert packed[0] == 3 and packed[SIGNATURE_BYTES] == 0
    with pytest.raises(PnyxInputError):
        pack_signatures([(MAX_GROUP_SIZE, b"\xaa" * 65)])
    with pytest.raises(PnyxInputError):
        pack_signatures([(0, b"\xaa" * 64)])


def test_signer_bitmap_sets_one_bit_per_member_index() -> None:
    assert signer_bitmap([0, 2, 5]) == 0b100101


@given(fee=st.integers(0, 2**96 - 1), signers=st.integers(1, MAX_GROUP_SIZE))
def test_fee_shares_pay_the_whole_fee_to_the_signers(fee: int, signers: int) -> None:
    share, first = fee_shares(fee, signers)
    assert share * (signers - 1) + first == fee
    assert share <= first < share + signers


def test_request_status_matches_the_solidity_enum() -> None:
    source = (CONTRACTS_DIR / "src" / "oracles" / "RandomGroupOracle.sol").read_text()
    match = re.search(r"enum RequestStatus \{([^}]*)\}", source)
    assert match
    names = [m.strip() for m in match.group(1).split(",") if m.strip()]
    assert [s.name for s in RequestStatus] == names
    assert [s.value for s in RequestStatus] == list(range(len(names)))
