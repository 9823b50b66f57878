"""Collusion risk of a uniformly drawn worker set (Bettinger, Barbero & Hasan 2022;
reference/papers.md §1.3 and §1.5), in exact rationals.

Of P participants, M are malicious; n workers are drawn uniformly without replacement, and X, the
number of malicious workers, is hypergeometric:

    P(X = m) = C(M, m) · C(P − M, n − m) / C(P, n),   max(0, n − (P − M)) ≤ m ≤ min(n, M).

Events for a t-of-n Shamir sharing among the workers: a malicious strict majority, X ≥ ⌊n/2⌋ + 1;
the malicious workers reach the threshold and can reconstruct the secret, X ≥ t; they withhold
enough shares that the honest ones cannot reconstruct the outcome, X > n − t.

**The majority risk is not monotone in n: it zigzags, every even n at or below both odd
neighbours.** From an even n = 2k to n + 1, the threshold stays at k + 1 while one more worker is
drawn, so the risk cannot fall (it rises unless it is 0 or 1). From an odd n = 2k + 1 to n + 1, the
threshold rises to k + 2 while only one worker is added, so the risk cannot rise: a strict majority
of an even set needs a margin of two. Adding one worker to an even set therefore never helps; for
P = 100, M = 10 the risk is 0.0091 at n = 2, 0.0258 at n = 3 and 0.0028 at n = 4. Compare set
sizes of the same parity.

`t_max(n)` is the largest Shamir threshold the paper's results figure allows, t² + t ≤ n + 1 (the
scheme's "n − t² inactive workers" constraint); its legend's ⌊(1 + √(5 + 4n))/2⌋ is a sign typo,
the plotted values are ⌊(−1 + √(5 + 4n))/2⌋."""

from __future__ import annotations

from fractions import Fraction
from math import comb, isqrt

from pnyx.errors import PnyxInputError


def hypergeom_pmf(participants: int, malicious: int, workers: int, m: int) -> Fraction:
    """P(X = m): exactly m malicious workers among `workers` drawn from `participants`, of whom
    `malicious` are malicious."""
    return _fraction(participants, malicious, workers, m, m)


def hypergeom_cdf(participants: int, malicious: int, workers: int, m: int) -> Fraction:
    """P(X ≤ m)."""
    return _fraction(participants, malicious, workers, 0, m)


def hypergeom_tail(participants: int, malicious: int, workers: int, k: int) -> Fraction:
    """P(X ≥ k)."""
    return _fraction(participants, malicious, workers, k, workers)


def expected_malicious(participants: int, malicious: int, workers: int) -> Fraction:
    """E[X] = n·M/P."""
    _check(participants, malicious, workers)
    return Fraction(workers * malicious, participants) if participants else Fraction(0)


def p_malicious_majority(participants: int, malicious: int, workers: int) -> Fraction:
    """P(X ≥ ⌊n/2⌋ + 1): the malicious workers are a strict majority."""
    return hypergeom_tail(participants, malicious, workers, workers // 2 + 1)


def p_threshold_reached(participants: int, malicious: int, workers: int, t: int) -> Fraction:
    """P(X ≥ t): the malicious workers hold enough shares to reconstruct (confidentiality lost)."""
    _check_threshold(t, workers)
    return hypergeom_tail(participants, malicious, workers, t)


def p_outcome_blocked(participants: int, malicious: int, workers: int, t: int) -> Fraction:
    """P(X > n − t): fewer than t honest workers, so withholding blocks the outcome."""
    _check_threshold(t, workers)
    return hypergeom_tail(participants, malicious, workers, workers - t + 1)


def t_max(workers: int) -> int:
    """The largest t with t² + t ≤ n + 1, i.e. ⌊(−1 + √(5 + 4n))/2⌋, in integers:
    (2t + 1)² ≤ 4n + 5 ⟺ 2t + 1 ≤ isqrt(4n + 5)."""
    if workers < 0:
        raise PnyxInputError(f"workers must be ≥ 0, got {workers}")
    return (isqrt(4 * workers + 5) - 1) // 2


def _fraction(participants: int, malicious: int, workers: int, low: int, high: int) -> Fraction:
    """P(low ≤ X ≤ high): the numerators share the denominator C(P, n), so they are summed as
    integers and reduced once."""
    _check(participants, malicious, workers)
    low = max(low, 0, workers - (participants - malicious))
    high = min(high, workers, malicious)
    honest = participants - malicious
    numerator = sum(comb(malicious, m) * comb(honest, workers - m) for m in range(low, high + 1))
    return Fraction(numerator, comb(participants, workers))


def _check(participants: int, malicious: int, workers: int) -> None:
    if not 0 <= malicious <= participants:
        raise PnyxInputError(f"{malicious} malicious out of {participants} participants")
    if not 0 <= workers <= participants:
        raise PnyxInputError(f"{workers} workers out of {participants} participants")


def _check_threshold(t: int, workers: int) -> None:
    if not 1 <= t <= workers:
        raise PnyxInputError(f"a threshold is in 1..{workers}, got {t}")
