"""Shamir secret sharing (`pnyx.domain.shamir`): reconstruction from every t-subset, the exact
distribution of t − 1 shares over small fields (identical for every secret, and uniform), the
additive homomorphism, and Berlekamp–Welch error correction."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from itertools import combinations, product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pnyx.domain.shamir import (
    PRIME,
    Share,
    add_shares,
    decode,
    evaluate,
    interpolate,
    lies_on_polynomial,
    reconstruct,
    split,
    sum_shares,
)
from pnyx.errors import PnyxInputError

pytestmark = pytest.mark.unit

SMALL_PRIMES = [5, 7, 11, 13]


def is_probable_prime(n: int) -> bool:
    """Miller–Rabin with 40 fixed bases (an error probability below 4⁻⁴⁰)."""
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in range(2, 42):
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def fixed(values: list[int]) -> Iterator[int]:
    return iter(values)


def test_default_prime_is_prime_and_one_evm_word() -> None:
    assert PRIME == 2**255 - 19
    assert is_probable_prime(PRIME)
    assert PRIME < 2**256
    assert not is_probable_prime(PRIME - 2)  # the test itself can say no


@pytest.mark.parametrize("n", range(1, 7))
def test_reconstruct_recovers_secret_from_every_t_subset(n: int) -> None:
    rng = random.Random(n)
    for t in range(1, n + 1):
        secret = rng.randrange(PRIME)
        shares = split(secret, t, n, rng.randrange)
        assert [s.x for s in shares] == list(range(1, n + 1))
        for size in range(t, n + 1):
            for subset in combinations(shares, size):
                assert reconstruct(subset) == secret


@given(
    secret=st.integers(0, PRIME - 1),
    n=st.integers(1, 20),
    data=st.data(),
)
@settings(max_examples=60, deadline=None)
def test_reconstruct_recovers_secret_from_random_t_subset(
    secret: int, n: int, data: st.DataObject
) -> None:
    t = data.draw(st.integers(1, n))
    seed = data.draw(st.integers(0, 2**32))
    shares = split(secret, t, n, random.Random(seed).randrange)
    subset = data.draw(st.permutations(shares))[:t]
    assert reconstruct(subset) == secret


@pytest.mark.parametrize(
    ("prime", "t", "n"),
    [(p, t, n) for p in SMALL_PRIMES for t, n in [(2, 3), (3, 4), (3, 5), (4, 5)] if n < p],
)
def test_t_minus_one_shares_are_uniform_whatever_the_secret(prime: int, t: int, n: int) -> None:
    """Exact test: over all p^(t−1) coefficient vectors, for each (t−1)-subset of points, the
    shares take every value vector exactly once — for every secret, so they reveal nothing."""
    for positions in combinations(range(n), t - 1):
        for secret in range(prime):
            counts: Counter[tuple[int, ...]] = Counter()
            for coefficients in product(range(prime), repeat=t - 1):
                it = fixed(list(coefficients))
                shares = split(secret, t, n, lambda _k, it=it: next(it), prime=prime)
                counts[tuple(shares[i].y for i in positions)] += 1
            assert len(counts) == prime ** (t - 1)
            assert set(counts.values()) == {1}


def test_t_shares_do_reveal_the_secret_in_the_small_field() -> None:
    """Control for the test above: with t shares the distributions for 0 and 1 are disjoint."""
    prime, t, n = 7, 2, 3
    by_secret = {}
    for secret in (0, 1):
        vectors = set()
        for a in range(prime):
            shares = split(secret, t, n, lambda _k, a=a: a, prime=prime)
            vectors.add((shares[0].y, shares[1].y))
        by_secret[secret] = vectors
    assert not by_secret[0] & by_secret[1]


def test_t_minus_one_shares_pass_chi_square_with_a_seeded_rng() -> None:
    """Statistical counterpart with a real RNG: share 1 of a 2-of-3 sharing over F₁₁ is uniform
    for secret 0 and for secret 1 (χ², 10 degrees of freedom, critical value 29.6 at 0.001)."""
    prime, draws = 11, 11_000
    rng = random.Random(2024)
    for secret in (0, 1):
        counts = Counter(split(secret, 2, 3, rng.randrange, prime=prime)[0].y for _ in range(draws))
        expected = draws / prime
        chi2 = sum((counts[v] - expected) ** 2 / expected for v in range(prime))
        assert chi2 < 29.6


def test_split_uses_secrets_by_default() -> None:
    shares = split(42, 3, 5)
    assert reconstruct(shares[2:]) == 42
    assert split(42, 3, 5) != shares  # fresh randomness (equal with probability p⁻²)


@given(
    secrets_=st.lists(st.integers(0, PRIME - 1), min_size=1, max_size=8),
    n=st.integers(1, 10),
    data=st.data(),
)
@settings(max_examples=40, deadline=None)
def test_sum_of_share_vectors_reconstructs_sum_of_secrets(
    secrets_: list[int], n: int, data: st.DataObject
) -> None:
    t = data.draw(st.integers(1, n))
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    vectors = [split(s, t, n, rng.randrange) for s in secrets_]
    total = sum_shares(vectors)
    assert reconstruct(total[n - t :]) == sum(secrets_) % PRIME
    assert lies_on_polynomial(total, t)


def test_add_shares_rejects_different_points() -> None:
    with pytest.raises(PnyxInputError, match="same points"):
        add_shares([Share(1, 1), Share(2, 2)], [Share(1, 1), Share(3, 2)])
    with pytest.raises(PnyxInputError, match="nothing"):
        sum_shares([])


def test_interpolate_rejects_duplicate_zero_and_empty_points() -> None:
    with pytest.raises(PnyxInputError, match="same point"):
        reconstruct([Share(1, 1), Share(1, 2)])
    with pytest.raises(PnyxInputError, match="x = 0"):
        reconstruct([Share(0, 1), Share(1, 2)])
    with pytest.raises(PnyxInputError, match="no shares"):
        reconstruct([])


def test_split_rejects_out_of_range_arguments() -> None:
    with pytest.raises(PnyxInputError):
        split(PRIME, 2, 3)
    with pytest.raises(PnyxInputError):
        split(-1, 2, 3)
    with pytest.raises(PnyxInputError):
        split(1, 0, 3)
    with pytest.raises(PnyxInputError):
        split(1, 4, 3)
    with pytest.raises(PnyxInputError):
        split(1, 2, 7, prime=7)


def test_interpolate_evaluates_the_polynomial_anywhere() -> None:
    coefficients = [5, 3, 2]
    shares = [Share(x, evaluate(coefficients, x)) for x in (1, 4, 9)]
    for x in (0, 2, 100, PRIME - 1):
        assert interpolate(shares, x) == evaluate(coefficients, x)


def test_lies_on_polynomial_detects_one_changed_share() -> None:
    shares = split(1, 3, 5, random.Random(0).randrange)
    assert lies_on_polynomial(shares, 3)
    shares[4] = Share(5, (shares[4].y + 1) % PRIME)
    assert not lies_on_polynomial(shares, 3)
    assert lies_on_polynomial(shares[:3], 3)  # t points always fit


@given(
    n=st.integers(2, 14),
    data=st.data(),
)
@settings(max_examples=80, deadline=None)
def test_decode_corrects_up_to_half_the_redundancy(n: int, data: st.DataObject) -> None:
    t = data.draw(st.integers(1, n))
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    secret = rng.randrange(PRIME)
    shares = split(secret, t, n, rng.randrange)
    errors = data.draw(st.integers(0, (n - t) // 2))
    wrong = sorted(rng.sample(range(n), errors))
    for i in wrong:
        shares[i] = Share(shares[i].x, (shares[i].y + 1 + rng.randrange(PRIME - 1)) % PRIME)
    decoded = decode(shares, t)
    assert decoded is not None
    coefficients, culprits = decoded
    assert coefficients[0] == secret
    assert culprits == wrong


def test_decode_gives_up_beyond_the_radius_without_a_nearby_codeword() -> None:
    """t = 2, n = 4: one error is correctable, two random errors are not (no polynomial of
    degree ≤ 1 is within distance 1 of the received word, with overwhelming probability)."""
    rng = random.Random(7)
    shares = split(1, 2, 4, rng.randrange)
    shares[0] = Share(1, shares[0].y + 5)
    shares[1] = Share(2, shares[1].y + 9)
    assert decode(shares, 2) is None


def test_decode_needs_t_shares() -> None:
    with pytest.raises(PnyxInputError, match="at least 3"):
        decode([Share(1, 1), Share(2, 2)], 3)
