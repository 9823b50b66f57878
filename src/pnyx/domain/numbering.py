"""Bettinger, Barbero & Hasan's numbering of who voted and in which order (SN Computer Science 3,
2022, Table 1; reference/papers.md §1.2): PN numbers the order of the voters, CN the subset of
participants that voted, AN both at once. AN is the seed of the verifiable worker selection
(`pnyx.domain.selection`).

Notation (the paper's): `P = [x_0..x_{p-1}]` the participants in ascending order,
`V = [y_0..y_{v-1}]` the participants who posted, in ledger order, `j(i)` the index in P of `y_i`.

- **PN(V)** = Σ_{i<v} i! · #{k < i : y_k < y_i}, onto [0, v!). The convention is Table 1's: each
  voter counts the *smaller* voters to its *left*, weighted by i!; it is the factorial-base number
  whose digit i is that count. Ascending order numbers v! − 1, descending order 0. (The authors'
  code uses the mirrored Lehmer code, Σ (v−1−i)! · #{k > i : y_k < y_i}: another bijection, other
  numbers; Pnyx never uses it.)
- **CN(V, P)** = the rank of the *set* of voters among the v-subsets of P in lexicographic order of
  their sorted index lists, onto [0, C(p, v)). Table 1's double sum, Σ_{k<j(0)} C(p−j(0)+k, v−1) +
  Σ_{i≥1} Σ_{k≤j(i)−j(i−1)−2} C(p−j(i)+k, v−i−1) on sorted(V), telescopes (hockey stick) to
  C(p, v) − 1 − Σ_i C(p−1−j(i), v−i), computed here with one binomial per voter updated by ratios.
- **AN(V, P)** = Σ_{i<v} p!/(p−i)! + CN(V, P) · v! + PN(V), onto [0, Σ_{u=0}^{p} p!/(p−u)!): the
  arrangements with fewer voters come first, then the subset, then the order. AN is a bijection
  from the ordered subsets of P (the empty one included, numbered 0) onto its space.

Numbers are Python integers of any size: AN for p = 10⁴ voters out of 10⁴ has about 118,000 bits.
Cost: the digits of PN come from counting smaller earlier elements block by block with `bisect`
(C loops); the sums Σ d_i · Π_{l<i} r_l (PN in factorial base, the offset of shorter arrangements
with every digit 1) are evaluated by binary splitting, so big integers are only multiplied at
balanced sizes, and when everyone posted (v = p, CN = 0) both sums share one product tree of 1..v;
CN takes one big multiplication and one exact division per voter. `benchmarks/selection.py`
measures AN + selection for p = v = 10⁴. Identifiers may be anything hashable and totally ordered
(ints, lowercase hex addresses); "ascending" is their `<`.

Inverses (`pn_unrank`, `cn_unrank`, `an_unrank`) are plain quadratic algorithms, meant for tests
and audits."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from itertools import islice, repeat
from operator import add, eq
from typing import Any, Protocol, TypeVar

from pnyx.errors import PnyxInputError


class Identifier(Protocol):
    """A participant id: hashable and totally ordered by `<`."""

    def __lt__(self, other: Any, /) -> bool: ...

    def __hash__(self) -> int: ...


Id = TypeVar("Id", bound=Identifier)

_BLOCK = 256  # voters per block when counting smaller earlier voters
_LEAF = 32  # digits per leaf of the binary splitting


# -- output spaces ---------------------------------------------------------------------------------


def pn_space(voters: int) -> int:
    """|V|!: how many orders `voters` voters can post in (PN lies in [0, |V|!))."""
    _check_count(voters, "voters")
    return math.factorial(voters)


def cn_space(participants: int, voters: int) -> int:
    """C(|P|, |V|): how many sets of `voters` voters `participants` participants have."""
    _check_count(participants, "participants")
    _check_count(voters, "voters")
    return math.comb(participants, voters)


def an_space(participants: int) -> int:
    """Σ_{v=0}^{|P|} |P|!/(|P|−v)!: how many ledger orders (ordered subsets, the empty one
    included) `participants` participants can produce (AN lies in [0, an_space))."""
    _check_count(participants, "participants")
    return arrangements_below(participants, participants + 1)


def arrangements_below(participants: int, voters: int) -> int:
    """Σ_{i<|V|} |P|!/(|P|−i)!: the ledger orders of fewer than `voters` voters, i.e. the first AN
    of an order of exactly `voters` voters (AN's first term)."""
    _check_count(participants, "participants")
    _check_count(voters, "voters")
    if voters > participants + 1:
        raise PnyxInputError(f"{voters} voters out of {participants} participants")
    value, _ = _mixed_radix([1] * voters, range(participants, participants - voters, -1))
    return value


def sort_participants(participants: Iterable[Id]) -> list[Id]:
    """P: the participant ids in ascending order; raises PnyxInputError on a repeated id."""
    ordered = sorted(participants)
    if any(map(eq, ordered, islice(ordered, 1, None))):
        raise PnyxInputError("a participant appears twice")
    return ordered


# -- numbering -------------------------------------------------------------------------------------


def pn(voters: Sequence[Id]) -> int:
    """PN(V) = Σ_i i! · #{k < i : y_k < y_i}: the number of the order of `voters` (distinct ids in
    ledger order) among the orders of the same voters."""
    ranks = {voter: rank for rank, voter in enumerate(sorted(voters))}
    if len(ranks) != len(voters):
        raise PnyxInputError("a voter appears twice in the ledger order")
    value, _ = _mixed_radix(_smaller_before([ranks[y] for y in voters]), range(1, len(voters) + 1))
    return value


def cn(voters: Iterable[Id], participants: Iterable[Id]) -> int:
    """CN(V, P): the lexicographic rank of the set of `voters` among the subsets of the same size of
    `participants` (the order of `voters` does not matter)."""
    ordered = sort_participants(participants)
    indexes = _indexes(voters, ordered)
    indexes.sort()
    return _lex_rank(indexes, len(ordered))


def an(voters: Sequence[Id], participants: Iterable[Id]) -> int:
    """AN(V, P) = Σ_{i<|V|} |P|!/(|P|−i)! + CN(V, P)·|V|! + PN(V): the number of the ledger order
    `voters` among all ledger orders of `participants`."""
    ordered = sort_participants(participants)
    p, v = len(ordered), len(voters)
    indexes = _indexes(voters, ordered)
    digits = _smaller_before(indexes)
    if v == p:  # everyone posted: CN = 0, and the offset shares PN's product tree
        permutation, shorter, _ = _factorial_base_and_offset(digits)
        return shorter + permutation
    permutation, factorial = _mixed_radix(digits, range(1, v + 1))
    indexes.sort()
    combination = _lex_rank(indexes, p)
    return arrangements_below(p, v) + combination * factorial + permutation


# -- inverses --------------------------------------------------------------------------------------


def pn_unrank(number: int, voters: Iterable[Id]) -> list[Id]:
    """The order of `voters` whose PN is `number`."""
    remaining = sort_participants(voters)
    _check_rank(number, math.factorial(len(remaining)), "PN")
    digits = []
    for radix in range(1, len(remaining) + 1):
        number, digit = divmod(number, radix)
        digits.append(digit)
    order = [remaining.pop(digit) for digit in reversed(digits)]
    order.reverse()
    return order


def cn_unrank(number: int, participants: Iterable[Id], voters: int) -> list[Id]:
    """The set of `voters` participants (ascending) whose CN is `number`."""
    ordered = sort_participants(participants)
    p = len(ordered)
    _check_count(voters, "voters")
    _check_rank(number, math.comb(p, voters), "CN")
    chosen: list[Id] = []
    index = 0
    while len(chosen) < voters:
        with_index = math.comb(p - 1 - index, voters - 1 - len(chosen))
        if number < with_index:
            chosen.append(ordered[index])
        else:
            number -= with_index
        index += 1
    return chosen


def an_unrank(number: int, participants: Iterable[Id]) -> list[Id]:
    """The ledger order of `participants` whose AN is `number`."""
    ordered = sort_participants(participants)
    p = len(ordered)
    _check_rank(number, an_space(p), "AN")
    voters, arrangements = 0, 1
    while number >= arrangements:
        number -= arrangements
        arrangements *= p - voters
        voters += 1
    combination, permutation = divmod(number, math.factorial(voters))
    return pn_unrank(permutation, cn_unrank(combination, ordered, voters))


# -- internals -------------------------------------------------------------------------------------


def _indexes(voters: Iterable[Id], ordered: list[Id]) -> list[int]:
    """j(i) for every voter: its index in the ascending participant list."""
    position = {participant: index for index, participant in enumerate(ordered)}
    try:
        indexes = [position[voter] for voter in voters]
    except KeyError as exc:
        raise PnyxInputError(f"voter {exc.args[0]!r} is not a participant") from None
    if len(set(indexes)) != len(indexes):
        raise PnyxInputError("a voter appears twice in the ledger order")
    return indexes


def _smaller_before(values: Sequence[int]) -> list[int]:
    """#{k < i : values[k] < values[i]} for every i (distinct values). Earlier blocks are kept as
    one sorted list searched by `bisect` in a C loop; inside a block, a small sorted list."""
    counts: list[int] = []
    seen: list[int] = []
    for start in range(0, len(values), _BLOCK):
        block = values[start : start + _BLOCK]
        within: list[int] = []
        run: list[int] = []
        for value in block:
            rank = bisect_left(run, value)
            within.append(rank)
            run.insert(rank, value)
        counts.extend(map(add, map(bisect_left, repeat(seen), block), within))
        seen += run
        seen.sort()  # two sorted runs: a linear merge
    return counts


def _mixed_radix(digits: Sequence[int], radices: Sequence[int]) -> tuple[int, int]:
    """(Σ_i digits[i] · Π_{l<i} radices[l], Π_l radices[l]) by binary splitting."""
    return _split(digits, radices, 0, len(digits))


def _split(digits: Sequence[int], radices: Sequence[int], lo: int, hi: int) -> tuple[int, int]:
    if hi - lo <= _LEAF:
        value = 0
        for i in range(hi - 1, lo - 1, -1):
            value = value * radices[i] + digits[i]
        return value, math.prod(radices[lo:hi])
    mid = (lo + hi) // 2
    low_value, low_product = _split(digits, radices, lo, mid)
    high_value, high_product = _split(digits, radices, mid, hi)
    return low_value + low_product * high_value, low_product * high_product


def _factorial_base_and_offset(digits: Sequence[int]) -> tuple[int, int, int]:
    """(Σ_i digits[i]·i!, Σ_{i<v} v!/(v−i)!, v!) for v = len(digits), on one product tree of 1..v:
    the offset is Σ_{s=1}^{v} Π_{l=s}^{v−1} (l+1), which combines as OFF(lo, mid)·Q(mid, hi) +
    OFF(mid, hi) where PN combines as PN(lo, mid) + Q(lo, mid)·PN(mid, hi)."""
    return _split_both(digits, 0, len(digits))


def _split_both(digits: Sequence[int], lo: int, hi: int) -> tuple[int, int, int]:
    if hi - lo <= _LEAF:
        value = 0
        for i in range(hi - 1, lo - 1, -1):
            value = value * (i + 1) + digits[i]
        offset = 0
        for radix in range(lo + 1, hi + 1):
            offset = offset * radix + 1
        return value, offset, math.prod(range(lo + 1, hi + 1))
    mid = (lo + hi) // 2
    low_value, low_offset, low_product = _split_both(digits, lo, mid)
    high_value, high_offset, high_product = _split_both(digits, mid, hi)
    return (
        low_value + low_product * high_value,
        low_offset * high_product + high_offset,
        low_product * high_product,
    )


def _lex_rank(indexes: list[int], p: int) -> int:
    """Lexicographic rank of the ascending index list among the subsets of range(p) of its size:
    C(p, v) − 1 − Σ_i C(p−1−s_i, v−i). Term i is 0 once s_i − i reaches p − v (every non-voter is
    before s_i), so only a prefix counts; it is walked backwards, from the smallest binomial, each
    term obtained from the next one by a ratio of small products."""
    v = len(indexes)
    if v == 0:
        return 0
    gaps = p - v
    end = 0
    while end < v and indexes[end] - end < gaps:
        end += 1
    total = 0
    if end:
        n, k = p - 1 - indexes[end - 1], v - end + 1
        term = math.comb(n, k)
        total = term
        for i in range(end - 2, -1, -1):
            d = indexes[i + 1] - indexes[i]  # C(n, k) -> C(n + d, k + 1)
            term = term * math.prod(range(n + 1, n + d + 1))
            term //= (k + 1) * math.prod(range(n - k + 1, n + d - k))
            n, k = n + d, k + 1
            total += term
    return math.comb(p, v) - 1 - total


def _check_count(value: int, what: str) -> None:
    if value < 0:
        raise PnyxInputError(f"{what} must be ≥ 0, got {value}")


def _check_rank(number: int, space: int, what: str) -> None:
    if not 0 <= number < space:
        raise PnyxInputError(f"{what} {number} outside [0, {space})")
