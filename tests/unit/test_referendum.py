"""The referendum's arithmetic (`pnyx.domain.referendum`): the tally equals the number of yes
votes for random electorates, a tampered intermediate result is detected when more than t results
are posted and its worker identified when the honest results suffice, fewer than t results is a
clear error, and everything round-trips through JSON."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pnyx.domain.collusion import t_max
from pnyx.domain.referendum import (
    Ballot,
    InsufficientResultsError,
    IntermediateResult,
    ReferendumSetup,
    Verdict,
    cast_ballot,
    compute_intermediate_result,
    tally,
    verify,
)
from pnyx.domain.shamir import PRIME
from pnyx.errors import PnyxInputError

pytestmark = pytest.mark.unit


def run(
    votes: list[int], n: int, t: int, seed: int
) -> tuple[ReferendumSetup, list[Ballot], list[IntermediateResult]]:
    setup = ReferendumSetup(workers=tuple(f"w{i}" for i in range(n)), threshold=t)
    rng = random.Random(seed)
    ballots = [cast_ballot(f"v{i}", v, setup, rng.randrange) for i, v in enumerate(votes)]
    results = [compute_intermediate_result(setup, slot, ballots) for slot in range(n)]
    return setup, ballots, results


def tamper(result: IntermediateResult, delta: int) -> IntermediateResult:
    return IntermediateResult(
        slot=result.slot,
        worker=result.worker,
        value=(result.value + delta) % PRIME,
        ballots=result.ballots,
    )


@st.composite
def electorates(draw: st.DrawFn) -> tuple[list[int], int, int, int]:
    """(votes, n, t, seed): up to 50 voters, n workers, 1 ≤ t ≤ t_max(n)."""
    votes = draw(st.lists(st.integers(0, 1), max_size=50))
    n = draw(st.integers(1, 30))
    t = draw(st.integers(1, t_max(n)))
    return votes, n, t, draw(st.integers(0, 2**32))


@given(electorates(), st.data())
@settings(max_examples=60, deadline=None)
def test_tally_equals_number_of_yes_votes(
    electorate: tuple[list[int], int, int, int], data: st.DataObject
) -> None:
    votes, n, t, seed = electorate
    setup, _, results = run(votes, n, t, seed)
    assert setup.within_t_max
    subset = data.draw(st.permutations(results))[: data.draw(st.integers(t, n))]
    assert tally(setup, subset) == sum(votes)
    verification = verify(setup, results, ballots=len(votes))
    assert verification.tally == sum(votes)
    assert verification.verdict is (Verdict.CONSISTENT if n > t else Verdict.UNCHECKED)
    assert verification.is_valid
    assert verification.culprits == ()


def test_tally_with_papers_example_p100_n10_t3() -> None:
    rng = random.Random(100)
    votes = [rng.randrange(2) for _ in range(100)]
    setup, _, results = run(votes, 10, 3, 1)
    assert not setup.within_t_max  # 3² + 3 > 10 + 1: the paper's own example breaks its bound
    assert tally(setup, results[7:]) == sum(votes)
    assert verify(setup, results).verdict is Verdict.CONSISTENT


@given(electorates(), st.data())
@settings(max_examples=60, deadline=None)
def test_one_tampered_result_is_detected_when_more_than_t_are_posted(
    electorate: tuple[list[int], int, int, int], data: st.DataObject
) -> None:
    votes, n, t, seed = electorate
    if n == t:
        n += 1  # room for more than t results
    setup, _, results = run(votes, n, t, seed)
    posted = data.draw(st.permutations(results))[: data.draw(st.integers(t + 1, n))]
    victim = data.draw(st.integers(0, len(posted) - 1))
    posted[victim] = tamper(posted[victim], data.draw(st.integers(1, PRIME - 1)))
    verification = verify(setup, posted, ballots=len(votes))
    assert not verification.is_valid
    if len(posted) >= t + 2:  # at least t + 1 honest results: identified and corrected
        assert verification.verdict is Verdict.CORRECTED
        assert verification.culprits == (posted[victim].slot,)
        assert verification.tally == sum(votes)
    else:  # exactly t honest results: detected only
        assert verification.verdict is Verdict.TAMPERED
        assert verification.tally is None


@pytest.mark.parametrize(("n", "t"), [(11, 3), (19, 4), (29, 5), (12, 2)])
def test_tampering_is_detected_up_to_m_minus_t_and_identified_up_to_half(n: int, t: int) -> None:
    assert t <= t_max(n)
    votes = [1, 0, 1, 1, 0] * 8
    setup, _, results = run(votes, n, t, n)
    rng = random.Random(t)
    for tampered in range(1, n - t + 1):
        posted = list(results)
        culprits = sorted(rng.sample(range(n), tampered))
        for slot in culprits:
            posted[slot] = tamper(posted[slot], rng.randrange(1, PRIME))
        verification = verify(setup, posted, ballots=len(votes))
        assert verification.detectable == n - t
        assert verification.identifiable == (n - t) // 2
        assert verification.verdict in (Verdict.CORRECTED, Verdict.TAMPERED)  # always detected
        if tampered <= (n - t) // 2:
            assert verification.verdict is Verdict.CORRECTED
            assert verification.culprits == tuple(culprits)
            assert verification.tally == sum(votes)
        else:  # random tampering beyond the radius: no nearby polynomial to blame honest ones
            assert verification.verdict is Verdict.TAMPERED


def test_colluders_beyond_m_minus_t_can_shift_the_tally_undetected() -> None:
    """The limit of detection, shown: with n − t + 1 colluders (only t − 1 honest results), the
    colluders post a polynomial through the honest points with F(0) + 1: all is consistent."""
    n, t = 7, 2
    votes = [1, 1, 0, 1]
    setup, _, results = run(votes, n, t, 3)
    honest = results[0]  # t − 1 = 1 honest result; fake polynomial through (1, r₀) and (0, 4)
    fake_zero = sum(votes) + 1
    slope = (honest.value - fake_zero) % PRIME
    forged = [honest] + [
        IntermediateResult(r.slot, r.worker, (fake_zero + slope * (r.slot + 1)) % PRIME, r.ballots)
        for r in results[1:]
    ]
    verification = verify(setup, forged, ballots=len(votes))
    assert verification.verdict is Verdict.CONSISTENT
    assert verification.tally == fake_zero  # undetectable; only range or 0/1 proofs could help


def test_exactly_t_results_are_unchecked_but_a_naive_tampering_is_out_of_range() -> None:
    votes = [1, 0, 1]
    setup, _, results = run(votes, 5, 2, 9)
    verification = verify(setup, results[:2], ballots=len(votes))
    assert verification.verdict is Verdict.UNCHECKED
    assert verification.is_valid
    naive = verify(setup, [results[0], tamper(results[1], 12345)], ballots=len(votes))
    assert naive.verdict is Verdict.UNCHECKED
    assert naive.in_range is False
    assert not naive.is_valid


def test_fewer_than_t_results_is_a_clear_error() -> None:
    setup, _, results = run([1, 1, 0], 7, 3, 0)
    with pytest.raises(InsufficientResultsError, match="needs 3 intermediate results, 2 posted"):
        tally(setup, results[:2])
    with pytest.raises(InsufficientResultsError, match="needs 3"):
        verify(setup, results[4:6])
    with pytest.raises(PnyxInputError):
        verify(setup, [])


def test_results_for_wrong_worker_duplicate_or_unknown_slot_are_rejected() -> None:
    setup, ballots, results = run([1, 0], 5, 2, 0)
    with pytest.raises(PnyxInputError, match="belongs to w1"):
        verify(setup, [results[0], IntermediateResult(1, "w9", 0, 2)])
    with pytest.raises(PnyxInputError, match="two intermediate results"):
        verify(setup, [results[0], results[1], results[1]])
    with pytest.raises(PnyxInputError, match="share slot"):
        compute_intermediate_result(setup, 5, ballots)


def test_ballots_are_validated() -> None:
    setup = ReferendumSetup(workers=("a", "b", "c"), threshold=2)
    with pytest.raises(PnyxInputError, match="a vote is 1"):
        cast_ballot("v", 2, setup)
    ballot = cast_ballot("v", True, setup)
    with pytest.raises(PnyxInputError, match="voted twice"):
        compute_intermediate_result(setup, 0, [ballot, ballot])
    with pytest.raises(PnyxInputError, match="2 shares, not 3"):
        compute_intermediate_result(setup, 0, [Ballot("w", (1, 2))])
    empty = compute_intermediate_result(setup, 1, [])
    assert (empty.value, empty.ballots) == (0, 0)


def test_setup_is_validated() -> None:
    with pytest.raises(PnyxInputError, match="threshold"):
        ReferendumSetup(workers=("a", "b"), threshold=3)
    with pytest.raises(PnyxInputError, match="twice"):
        ReferendumSetup(workers=("a", "a"), threshold=1)
    with pytest.raises(PnyxInputError, match="prime"):
        ReferendumSetup(workers=("a", "b", "c"), threshold=1, prime=3)


def test_everything_round_trips_through_json() -> None:
    setup, ballots, results = run([1, 0, 1, 1], 6, 2, 5)
    assert ReferendumSetup.from_dict(json.loads(json.dumps(setup.to_dict()))) == setup
    for ballot in ballots:
        data = json.loads(json.dumps(ballot.to_dict()))
        assert all(s.startswith("0x") and len(s) == 66 for s in data["shares"])
        assert Ballot.from_dict(data) == ballot
    for result in results:
        assert IntermediateResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result
    verification = verify(setup, results, ballots=4).to_dict()
    assert json.loads(json.dumps(verification)) == verification
    assert verification["verdict"] == "consistent"
    assert verification["tally"] == 3
    with pytest.raises(PnyxInputError, match="0x-hex"):
        Ballot.from_dict({"voter": "v", "shares": [12]})


def test_small_field_referendum_works_when_it_cannot_wrap() -> None:
    setup = ReferendumSetup(workers=tuple("abcde"), threshold=2, prime=101)
    rng = random.Random(1)
    votes = [rng.randrange(2) for _ in range(50)]
    ballots = [cast_ballot(f"v{i}", v, setup, rng.randrange) for i, v in enumerate(votes)]
    results = [compute_intermediate_result(setup, s, ballots) for s in range(5)]
    assert verify(setup, results).tally == sum(votes)
