"""Verifiable worker selection (`pnyx.domain.selection`): recomputed from the ledger data alone with
an independent transcription of its specification, distinct workers, and uniform inclusion over
many random ledger orders (χ², exact p-value for an even number of degrees of freedom)."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pnyx.domain._hex import keccak
from pnyx.domain.numbering import an
from pnyx.domain.selection import arrangement_seed, draw_workers, select_workers
from pnyx.errors import PnyxInputError

pytestmark = pytest.mark.unit


def spec_selection(participants: list[str], ledger: list[str], n: int) -> list[str]:
    """The module docstring's rule, written out: sort, AN, keccak256 of its minimal big-endian
    bytes, then a full forward Fisher–Yates over the positions with keccak256(seed ‖ uint256(i))."""
    ordered = sorted(participants)
    number = an(ledger, ordered)
    seed = keccak(number.to_bytes((number.bit_length() + 7) // 8, "big"))
    items = list(range(len(ordered)))
    for i in range(len(items) - 1):
        j = i + int.from_bytes(keccak(seed + i.to_bytes(32, "big")), "big") % (len(items) - i)
        items[i], items[j] = items[j], items[i]
    return [ordered[k] for k in items[:n]]


def address(k: int) -> str:
    return "0x" + keccak(k.to_bytes(32, "big"))[12:].hex()


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[list[str], list[str], int]:
    """(participants, a ledger order of some of them, n)."""
    participants = [
        address(k) for k in draw(st.sets(st.integers(0, 10**6), min_size=1, max_size=60))
    ]
    voters = draw(st.permutations(participants))
    voters = voters[: draw(st.integers(0, len(participants)))]
    return participants, voters, draw(st.integers(1, len(participants)))


@given(ledger=ledgers())
def test_selection_is_recomputed_from_the_ledger_data_alone(
    ledger: tuple[list[str], list[str], int],
) -> None:
    participants, voters, n = ledger
    selection = select_workers(participants, voters, n)
    assert list(selection.workers) == spec_selection(participants, voters, n)
    assert select_workers(list(reversed(participants)), voters, n) == selection
    assert selection.number == an(voters, participants)
    assert selection.seed == arrangement_seed(selection.number)
    assert draw_workers(selection.seed, participants, n) == list(selection.workers)
    assert draw_workers("0x" + selection.seed.hex(), participants, n) == list(selection.workers)
    ordered = sorted(participants)
    assert [ordered[i] for i in selection.positions] == list(selection.workers)


@given(ledger=ledgers())
def test_workers_are_distinct_participants_with_one_share_slot_each(
    ledger: tuple[list[str], list[str], int],
) -> None:
    participants, voters, n = ledger
    selection = select_workers(participants, voters, n)
    assert len(selection.workers) == n
    assert set(selection.workers) <= set(participants)
    assert selection.affiliations == {w: slot for slot, w in enumerate(selection.workers)}
    assert sorted(selection.affiliations.values()) == list(range(n))


def test_seed_is_keccak_of_the_minimal_big_endian_bytes() -> None:
    assert arrangement_seed(0) == keccak(b"")  # nobody posted
    assert arrangement_seed(255) == keccak(b"\xff")
    assert arrangement_seed(256) == keccak(b"\x01\x00")
    big = 7 * 10**200
    assert arrangement_seed(big) == keccak(big.to_bytes(84, "big"))  # 7e200 < 2^672
    with pytest.raises(PnyxInputError):
        arrangement_seed(-1)


def test_the_order_of_the_posts_changes_the_seed() -> None:
    participants = [address(k) for k in range(50)]
    ledger = participants[10:40]
    swapped = [ledger[1], ledger[0], *ledger[2:]]
    a = select_workers(participants, ledger, 10)
    b = select_workers(participants, swapped, 10)
    assert abs(a.number - b.number) == 1  # only PN's digit 1 (weight 1!) changes
    assert a.seed != b.seed and a.workers != b.workers


def chi_square(counts: list[int], expected: float) -> float:
    return sum((c - expected) ** 2 / expected for c in counts)


def chi_square_sf(x: float, df: int) -> float:
    """P(χ²_df > x), exact for even df: e^{−x/2} Σ_{i<df/2} (x/2)^i / i!."""
    assert df % 2 == 0
    term = total = 1.0
    for i in range(1, df // 2):
        term *= x / 2 / i
        total += term
    return math.exp(-x / 2) * total


def test_chi_square_survival_function_matches_published_critical_values() -> None:
    # χ²(20): 31.410 at 5 %, 45.315 at 0.1 % (upper); 8.260 at 99 %.
    assert chi_square_sf(31.410, 20) == pytest.approx(0.05, abs=1e-4)
    assert chi_square_sf(45.315, 20) == pytest.approx(0.001, abs=1e-5)
    assert chi_square_sf(8.260, 20) == pytest.approx(0.99, abs=1e-4)


def test_inclusion_is_uniform_over_many_random_ledger_orders() -> None:
    """21 participants (20 degrees of freedom, so the p-value is exact), n = 5, 3,000 ledger orders
    of 5 to 21 voters (at least 2.5 million orders each, so repeats are negligible).

    Inclusion counts of a draw without replacement have variance R·q(1−q) and covariance
    −R·q(1−q)/(P−1), q = n/P, so Pearson's statistic is (P−n)/(P−1)·χ²(P−1): it is rescaled by
    (P−1)/(P−n) before its p-value is taken. The share slot 0 is an ordinary multinomial. Both
    p-values must lie in (0.001, 0.999): neither biased nor suspiciously even. Fixed seeds, so the
    outcome never changes between runs."""
    p, n, rounds = 21, 5, 3000
    participants = [address(k) for k in range(p)]
    rng = random.Random(2022)
    inclusion = dict.fromkeys(participants, 0)
    first = dict.fromkeys(participants, 0)
    for _ in range(rounds):
        ledger = rng.sample(participants, rng.randint(5, p))
        workers = select_workers(participants, ledger, n).workers
        first[workers[0]] += 1
        for w in workers:
            inclusion[w] += 1
    statistic = chi_square(list(inclusion.values()), rounds * n / p) * (p - 1) / (p - n)
    assert 0.001 < chi_square_sf(statistic, p - 1) < 0.999
    assert 0.001 < chi_square_sf(chi_square(list(first.values()), rounds / p), p - 1) < 0.999


def test_bad_requests_are_refused() -> None:
    participants = [address(k) for k in range(5)]
    with pytest.raises(PnyxInputError, match="cannot select 0"):
        select_workers(participants, participants[:2], 0)
    with pytest.raises(PnyxInputError, match="cannot select 6"):
        select_workers(participants, participants[:2], 6)
    with pytest.raises(PnyxInputError, match="not a participant"):
        select_workers(participants[:4], participants[3:], 2)
    with pytest.raises(PnyxInputError, match="expected 32 bytes"):
        draw_workers(b"\x00" * 31, participants, 2)
    with pytest.raises(PnyxInputError, match="participant appears twice"):
        draw_workers(b"\x00" * 32, [*participants, participants[0]], 2)
