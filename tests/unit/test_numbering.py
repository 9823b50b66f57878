"""PN, CN and AN (`pnyx.domain.numbering`) against the paper's Table 1 written out literally, the
authors' notebook and the published sizes (reference/papers.md §1.2, §1.6): bijections onto their
spaces, unrank ∘ rank = identity, and a large case across the block and leaf boundaries."""

from __future__ import annotations

import math
import random
from itertools import permutations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pnyx.domain.numbering import (
    an,
    an_space,
    an_unrank,
    arrangements_below,
    cn,
    cn_space,
    cn_unrank,
    pn,
    pn_space,
    pn_unrank,
    sort_participants,
)
from pnyx.errors import PnyxInputError

pytestmark = pytest.mark.unit


# -- Table 1, transcribed term by term (the reference) ---------------------------------------------


def table1_pn(v: list[int]) -> int:
    """Σ_{i=0}^{|V|-1} ( i! · Σ_{k=0}^{i-1} 1[x_k < x_i] )."""
    return sum(math.factorial(i) * sum(1 for k in range(i) if v[k] < v[i]) for i in range(len(v)))


def table1_cn(v: list[int], p: list[int]) -> int:
    """Σ_{k=0}^{j(0)-1} C(|P|-j(0)+k, |V|-1) + Σ_{i=1}^{|V|-1} Σ_{k=0}^{j(i)-j(i-1)-2}
    C(|P|-j(i)+k, |V|-i-1), on sorted(V)."""
    ps, vs = sorted(p), sorted(v)
    if not vs:
        return 0
    j = [ps.index(y) for y in vs]
    total = sum(math.comb(len(p) - j[0] + k, len(v) - 1) for k in range(j[0]))
    for i in range(1, len(v)):
        total += sum(
            math.comb(len(p) - j[i] + k, len(v) - i - 1) for k in range(j[i] - j[i - 1] - 1)
        )
    return total


def table1_an(v: list[int], p: list[int]) -> int:
    """Σ_{i=0}^{|V|-1} |P|!/(|P|-i)! + CN(V,P)·|V|! + PN(V)."""
    offset = sum(math.factorial(len(p)) // math.factorial(len(p) - i) for i in range(len(v)))
    return offset + table1_cn(v, p) * math.factorial(len(v)) + table1_pn(v)


@st.composite
def ledgers(draw: st.DrawFn, max_participants: int = 40) -> tuple[list[int], list[int]]:
    """(participants in any order, a ledger order of some of them)."""
    participants = draw(st.lists(st.integers(-500, 500), unique=True, max_size=max_participants))
    voters = draw(st.permutations(participants))
    return participants, voters[: draw(st.integers(0, len(participants)))]


# -- agreement with Table 1 ------------------------------------------------------------------------


@given(ledger=ledgers())
def test_pn_cn_an_equal_table_1(ledger: tuple[list[int], list[int]]) -> None:
    participants, voters = ledger
    assert pn(voters) == table1_pn(voters)
    assert cn(voters, participants) == table1_cn(voters, participants)
    assert an(voters, participants) == table1_an(voters, participants)


def test_large_ledger_equals_table_1_across_blocks_and_leaves() -> None:
    rng = random.Random(6)
    participants = rng.sample(range(10**6), 700)
    for size in (700, 699, 450, 3):
        voters = rng.sample(participants, size)
        assert an(voters, participants) == table1_an(voters, participants)


def test_a_hand_computed_ledger() -> None:
    # P = [1, 2, 3], V = [3, 1]: 1 + 3 shorter arrangements; {1, 3} is the 2nd pair (CN 1) of
    # {1,2} {1,3} {2,3}; PN: 1 has no smaller voter to its left, so 0. AN = 4 + 1·2! + 0 = 6.
    assert pn([3, 1]) == 0 and pn([1, 3]) == 1
    assert cn([3, 1], [1, 2, 3]) == 1
    assert an([3, 1], [3, 2, 1]) == 6
    assert an([], [1, 2, 3]) == 0


def test_pn_convention_is_table_1s_smaller_to_the_left() -> None:
    """Ascending order is the last PN, descending the first; the authors' code (mirrored Lehmer
    code) gives 0 to the ascending order: the two conventions differ."""
    assert pn([1, 2, 3, 4]) == math.factorial(4) - 1
    assert pn([4, 3, 2, 1]) == 0
    assert pn([2, 1, 3]) == 0 * 1 + 0 * 1 + 2 * 2  # 3 has two smaller voters to its left


def test_cn_ranks_printed_in_the_authors_notebook() -> None:
    participants = ["a", "f", "d", "fd", "ee"]  # sorted: a, d, ee, f, fd
    expected = {
        ("a", "d"): 0, ("a", "ee"): 1, ("a", "f"): 2, ("a", "fd"): 3, ("d", "ee"): 4,
        ("d", "f"): 5, ("d", "fd"): 6, ("ee", "f"): 7, ("ee", "fd"): 8, ("f", "fd"): 9,
    }  # fmt: skip
    for pair, rank in expected.items():
        assert cn(list(pair), participants) == rank
        assert cn(list(reversed(pair)), participants) == rank  # CN is on sorted(V)
        assert cn_unrank(rank, participants, 2) == list(pair)


# -- bijections onto the spaces --------------------------------------------------------------------


@pytest.mark.parametrize("p", range(7))
def test_an_is_a_bijection_onto_its_space(p: int) -> None:
    participants = [10 * x for x in range(p)]
    numbers = [
        an(list(order), participants)
        for v in range(p + 1)
        for order in permutations(participants, v)
    ]
    assert sorted(numbers) == list(range(an_space(p)))


@pytest.mark.parametrize("p", range(7))
def test_pn_and_cn_are_bijections_onto_their_spaces(p: int) -> None:
    participants = list(range(p))
    assert sorted(pn(list(o)) for o in permutations(participants)) == list(range(pn_space(p)))
    for v in range(p + 1):
        ranks = sorted({cn(list(o), participants) for o in permutations(participants, v)})
        assert ranks == list(range(cn_space(p, v)))


def test_spaces_match_their_definitions() -> None:
    for p in range(30):
        assert an_space(p) == sum(math.perm(p, v) for v in range(p + 1))
        for v in range(p + 2):
            assert arrangements_below(p, v) == sum(math.perm(p, i) for i in range(v))
    assert pn_space(5) == 120 and cn_space(5, 2) == 10


def test_published_orders_of_magnitude() -> None:
    """Slide 5: 10 participants → 10^6, 100 → 10^158; its plot: about 2^23 and 2^526."""
    assert len(str(an_space(10))) - 1 == 6
    assert len(str(an_space(100))) - 1 == 158
    assert an_space(10).bit_length() - 1 == 23
    assert an_space(100).bit_length() - 1 == 526


# -- inverses --------------------------------------------------------------------------------------


@given(ledger=ledgers())
def test_unrank_of_rank_is_the_identity(ledger: tuple[list[int], list[int]]) -> None:
    participants, voters = ledger
    assert pn_unrank(pn(voters), voters) == voters
    assert cn_unrank(cn(voters, participants), participants, len(voters)) == sorted(voters)
    assert an_unrank(an(voters, participants), participants) == voters


@given(p=st.integers(0, 25), data=st.data())
def test_rank_of_unrank_is_the_identity(p: int, data: st.DataObject) -> None:
    participants = list(range(p))
    number = data.draw(st.integers(0, an_space(p) - 1))
    assert an(an_unrank(number, participants), participants) == number
    v = data.draw(st.integers(0, p))
    c = data.draw(st.integers(0, cn_space(p, v) - 1))
    assert cn(cn_unrank(c, participants, v), participants) == c
    r = data.draw(st.integers(0, pn_space(v) - 1))
    assert pn(pn_unrank(r, participants[:v])) == r


# -- inputs ----------------------------------------------------------------------------------------


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(PnyxInputError, match="not a participant"):
        an([1, 9], [1, 2, 3])
    with pytest.raises(PnyxInputError, match="twice in the ledger"):
        an([1, 1], [1, 2, 3])
    with pytest.raises(PnyxInputError, match="twice in the ledger"):
        pn([2, 2])
    with pytest.raises(PnyxInputError, match="participant appears twice"):
        sort_participants([3, 1, 3])
    with pytest.raises(PnyxInputError, match="outside"):
        an_unrank(an_space(3), [1, 2, 3])
    with pytest.raises(PnyxInputError, match="outside"):
        pn_unrank(-1, [1, 2])
    with pytest.raises(PnyxInputError):
        arrangements_below(3, 5)
