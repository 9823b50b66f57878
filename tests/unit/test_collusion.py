"""Exact collusion risk (`pnyx.domain.collusion`): the hypergeometric law against two independent
computations (counting explicit worker sets; drawing workers one at a time), the derived events,
t_max against the paper's plotted labels, and the zigzag of the majority risk in n."""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pnyx.domain.collusion import (
    expected_malicious,
    hypergeom_cdf,
    hypergeom_pmf,
    hypergeom_tail,
    p_malicious_majority,
    p_outcome_blocked,
    p_threshold_reached,
    t_max,
)
from pnyx.errors import PnyxInputError

pytestmark = pytest.mark.unit


@st.composite
def populations(draw: st.DrawFn, max_participants: int = 60) -> tuple[int, int, int]:
    """(P, M, n) with 0 ≤ M, n ≤ P."""
    participants = draw(st.integers(0, max_participants))
    return (
        participants,
        draw(st.integers(0, participants)),
        draw(st.integers(0, participants)),
    )


def sequential_draws(participants: int, malicious: int, draws: int) -> list[list[Fraction]]:
    """dist[d][m] = P(m malicious after d draws), one worker at a time without replacement."""
    dist = [[Fraction(1)]]
    for d in range(draws):
        now = [Fraction(0)] * (d + 2)
        for m, prob in enumerate(dist[-1]):
            if prob:
                left = participants - d
                now[m + 1] += prob * Fraction(malicious - m, left)
                now[m] += prob * Fraction(participants - malicious - (d - m), left)
        dist.append(now)
    return dist


@given(population=populations())
def test_pmf_sums_to_one_and_has_mean_n_m_over_p(population: tuple[int, int, int]) -> None:
    p, m, n = population
    pmf = [hypergeom_pmf(p, m, n, k) for k in range(n + 1)]
    assert sum(pmf) == 1
    assert sum(k * q for k, q in enumerate(pmf)) == expected_malicious(p, m, n)
    assert hypergeom_pmf(p, m, n, -1) == hypergeom_pmf(p, m, n, n + 1) == 0


@given(population=populations(), k=st.integers(-2, 62))
def test_tail_and_cdf_are_complementary(population: tuple[int, int, int], k: int) -> None:
    p, m, n = population
    assert hypergeom_tail(p, m, n, k) + hypergeom_cdf(p, m, n, k - 1) == 1
    assert hypergeom_cdf(p, m, n, k) == sum(hypergeom_pmf(p, m, n, j) for j in range(k + 1))


@pytest.mark.parametrize("p", range(9))
def test_pmf_counts_explicit_worker_sets(p: int) -> None:
    """Participants 0..M−1 are malicious; every n-subset is one equally likely worker set."""
    for m in range(p + 1):
        for n in range(p + 1):
            sets = list(combinations(range(p), n))
            for k in range(n + 1):
                hits = sum(1 for s in sets if sum(1 for w in s if w < m) == k)
                assert hypergeom_pmf(p, m, n, k) == Fraction(hits, len(sets))


def test_pmf_matches_drawing_one_worker_at_a_time_on_the_papers_figure() -> None:
    """The paper's surface: P = 100, M = 10, n = 0..100, m = 0..10."""
    dist = sequential_draws(100, 10, 100)
    for n in range(101):
        for k in range(11):
            expected = dist[n][k] if k < len(dist[n]) else 0
            assert hypergeom_pmf(100, 10, n, k) == expected
            cdf = sum(dist[n][: k + 1], Fraction(0))
            assert hypergeom_cdf(100, 10, n, k) == cdf


def test_derived_events_are_the_stated_tails() -> None:
    p, m = 4039, 400
    for n, t in ((10, 2), (807, 27), (43, 6)):
        assert p_malicious_majority(p, m, n) == hypergeom_tail(p, m, n, n // 2 + 1)
        assert p_threshold_reached(p, m, n, t) == hypergeom_tail(p, m, n, t)
        assert p_outcome_blocked(p, m, n, t) == 1 - hypergeom_cdf(p, m, n, n - t)
    # tiny case by hand: P = 4, M = 2, n = 2: X = 0, 1, 2 with 1/6, 4/6, 1/6
    assert p_malicious_majority(4, 2, 2) == Fraction(1, 6)
    assert p_threshold_reached(4, 2, 2, 1) == Fraction(5, 6)
    assert p_outcome_blocked(4, 2, 2, 2) == Fraction(5, 6)  # one malicious worker blocks 2-of-2
    assert p_outcome_blocked(4, 2, 2, 1) == Fraction(1, 6)


# the t_max labels plotted in the paper's results figure (reference/papers.md §1.5)
PLOTTED_T_MAX = {
    10: 2, 16: 3, 43: 6, 70: 7, 114: 10, 186: 13, 304: 16, 495: 21, 807: 27, 1000: 31, 1200: 34,
    1400: 36, 1600: 39, 1800: 41, 2000: 44, 2200: 46, 2400: 48, 2600: 50, 2800: 52, 3000: 54,
}  # fmt: skip


def test_t_max_matches_the_plotted_labels() -> None:
    for n, t in PLOTTED_T_MAX.items():
        assert t_max(n) == t
    # the legend's ⌊(1 + √(5 + 4n))/2⌋ (sign typo) would give 3 at n = 10
    assert (1 + 45**0.5) // 2 == 3


def test_t_max_is_the_largest_t_with_t_squared_plus_t_at_most_n_plus_one() -> None:
    for n in range(5000):
        t = t_max(n)
        assert t * t + t <= n + 1 < (t + 1) * (t + 1) + (t + 1)
    big = 10**40
    t = t_max(big)
    assert t * t + t <= big + 1 < (t + 1) ** 2 + t + 1


def test_majority_risk_is_not_monotone_in_n() -> None:
    """Example from the module docstring, then the zigzag: each even n is at most its odd
    neighbours, strictly below them unless the risk is already 0 or 1 (P = 100 with 10 and with
    60 malicious)."""
    risk = [p_malicious_majority(100, 10, n) for n in range(5)]
    assert risk[2] < risk[3] > risk[4]
    assert f"{float(risk[2]):.4f} {float(risk[3]):.4f} {float(risk[4]):.4f}" == (
        "0.0091 0.0258 0.0028"
    )
    for m in (10, 60):
        risk = [p_malicious_majority(100, m, n) for n in range(101)]
        for n in range(2, 100, 2):
            assert risk[n] <= min(risk[n - 1], risk[n + 1])
            if 0 < risk[n] < 1:
                assert risk[n] < min(risk[n - 1], risk[n + 1])


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(PnyxInputError):
        hypergeom_pmf(10, 11, 3, 1)
    with pytest.raises(PnyxInputError):
        hypergeom_tail(10, 3, 11, 1)
    with pytest.raises(PnyxInputError):
        p_threshold_reached(10, 3, 5, 0)
    with pytest.raises(PnyxInputError):
        p_outcome_blocked(10, 3, 5, 6)
    with pytest.raises(PnyxInputError):
        t_max(-1)
