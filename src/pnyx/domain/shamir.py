"""Shamir secret sharing over a prime field, with the additive homomorphism the referendum relies on
(Schiedermeier et al. 2019; reference/papers.md §2).

The field. `PRIME` = 2²⁵⁵ − 19 (the Curve25519 base field): prime, well known, and below 2²⁵⁶ so
that every element is one EVM word and a contract can check shares with `addmod`/`mulmod`. The
referendum adds one 0/1 vote per voter, so its tally never wraps for fewer than 2²⁵⁵ − 19 voters.
Every function takes the prime as a keyword so that tests can use a tiny field and enumerate it.

The sharing. A secret s is the constant term of a random polynomial f of degree ≤ t − 1,
f(x) = s + a₁x + … + a_{t−1}x^{t−1} with a₁…a_{t−1} uniform in the field; share i (i = 1..n) is
(i, f(i)). Any t shares determine f, hence s = f(0) (Lagrange interpolation); any t − 1 shares are
uniformly distributed whatever s is, so they reveal nothing: for t − 1 fixed non-zero points, the
map (a₁…a_{t−1}) ↦ (f(x₁)…f(x_{t−1})) − s is a bijection (a Vandermonde system).

The homomorphism. Shares of f and g at the same points add to shares of f + g, whose constant term
is the sum of the secrets and whose degree is still ≤ t − 1."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pnyx.errors import PnyxInputError

PRIME = 2**255 - 19
"""The default field: 2²⁵⁵ − 19, one EVM word per element."""

RandBelow = Callable[[int], int]
"""A source of uniform integers in [0, k) for a given k (`secrets.randbelow`, or a seeded
`random.Random(...).randrange` in tests)."""


@dataclass(frozen=True)
class Share:
    """A point (x, y) of a sharing polynomial; x ≠ 0."""

    x: int
    y: int


def split(
    secret: int,
    t: int,
    n: int,
    rng: RandBelow | None = None,
    *,
    prime: int = PRIME,
) -> list[Share]:
    """Share `secret` into n shares at x = 1..n, any t of which reconstruct it.

    Args:
        secret: an element of the field, 0 ≤ secret < prime.
        t: the threshold, 1 ≤ t ≤ n; the polynomial has degree ≤ t − 1.
        n: the number of shares, n < prime (the points 1..n must be distinct and non-zero).
        rng: draws the t − 1 random coefficients a₁…a_{t−1}, in that order; `secrets.randbelow`
            by default.
        prime: the field's modulus.

    Raises:
        PnyxInputError: the secret is outside the field, or t, n are out of range.
    """
    if not 0 <= secret < prime:
        raise PnyxInputError(f"a secret is in 0..p−1, got {secret}")
    if not 1 <= t <= n:
        raise PnyxInputError(f"a threshold is in 1..n = 1..{n}, got {t}")
    if n >= prime:
        raise PnyxInputError(f"{n} shares need {n} distinct non-zero points, the field has {prime}")
    draw = secrets.randbelow if rng is None else rng
    coefficients = [secret] + [draw(prime) for _ in range(t - 1)]
    return [Share(x, evaluate(coefficients, x, prime=prime)) for x in range(1, n + 1)]


def evaluate(coefficients: Sequence[int], x: int, *, prime: int = PRIME) -> int:
    """The polynomial Σ cₖ xᵏ (coefficients from the constant term up) at x, by Horner's rule."""
    value = 0
    for coefficient in reversed(coefficients):
        value = (value * x + coefficient) % prime
    return value


def interpolate(shares: Iterable[Share], x: int = 0, *, prime: int = PRIME) -> int:
    """The value at x of the unique polynomial of degree < len(shares) through `shares` (Lagrange).

    With at least t shares of a degree ≤ t − 1 polynomial this is that polynomial; with fewer it is
    *some* polynomial and the result means nothing (nothing here can tell).

    Raises:
        PnyxInputError: no shares, or two shares at the same point (mod prime).
    """
    points = _distinct(shares, prime)
    total = 0
    for i, (xi, yi) in enumerate(points):
        numerator, denominator = 1, 1
        for j, (xj, _) in enumerate(points):
            if j != i:
                numerator = numerator * (x - xj) % prime
                denominator = denominator * (xi - xj) % prime
        total = (total + yi * numerator * pow(denominator, -1, prime)) % prime
    return total


def reconstruct(shares: Iterable[Share], *, prime: int = PRIME) -> int:
    """The secret f(0) from at least t shares (Lagrange interpolation at 0).

    Raises:
        PnyxInputError: no shares, or two shares at the same point.
    """
    return interpolate(shares, 0, prime=prime)


def lies_on_polynomial(shares: Sequence[Share], t: int, *, prime: int = PRIME) -> bool:
    """Whether all `shares` lie on one polynomial of degree ≤ t − 1: every share agrees with the
    interpolation of the first t. Vacuously true for at most t shares."""
    basis = list(shares[:t])
    return all(interpolate(basis, s.x, prime=prime) == s.y % prime for s in shares[t:])


def add_shares(left: Sequence[Share], right: Sequence[Share], *, prime: int = PRIME) -> list[Share]:
    """Point-wise sum of two share vectors: shares of f + g, whose secret is the sum.

    Raises:
        PnyxInputError: the vectors differ in length or in their points.
    """
    if [s.x for s in left] != [s.x for s in right]:
        raise PnyxInputError("share vectors must be at the same points, in the same order")
    return [Share(a.x, (a.y + b.y) % prime) for a, b in zip(left, right, strict=True)]


def sum_shares(vectors: Iterable[Sequence[Share]], *, prime: int = PRIME) -> list[Share]:
    """Point-wise sum of any number of share vectors at the same points.

    Raises:
        PnyxInputError: no vectors, or they are not at the same points.
    """
    iterator = iter(vectors)
    try:
        total = list(next(iterator))
    except StopIteration:
        raise PnyxInputError("nothing to sum") from None
    for vector in iterator:
        total = add_shares(total, vector, prime=prime)
    return [Share(s.x, s.y % prime) for s in total]


def decode(
    shares: Sequence[Share], t: int, *, prime: int = PRIME
) -> tuple[list[int], list[int]] | None:
    """Error correction (Berlekamp–Welch): the polynomial of degree ≤ t − 1 that disagrees with at
    most e = ⌊(m − t)/2⌋ of the m shares, as (coefficients from the constant term up, indexes of
    the disagreeing shares), or None if there is none.

    If at most e shares are wrong, this returns the true polynomial and exactly the wrong ones (the
    shares form a Reed–Solomon codeword of minimum distance m − t + 1). If more are wrong, it
    returns None, or — when the wrong values happen to lie near another polynomial — a different
    polynomial and the wrong culprits: the posts alone cannot tell these cases apart.

    Raises:
        PnyxInputError: fewer than t shares, t < 1, or two shares at the same point.
    """
    points = _distinct(shares, prime)
    m = len(points)
    if not 1 <= t <= m:
        raise PnyxInputError(f"decoding with threshold {t} needs at least {t} shares, got {m}")
    e = (m - t) // 2
    # Unknowns: Q = q₀ … q_{e+t−1} and E = x^e + e₀ … e_{e−1}; equations Q(xᵢ) = yᵢ E(xᵢ).
    rows = [
        [pow(x, k, prime) for k in range(e + t)]
        + [(-y * pow(x, j, prime)) % prime for j in range(e)]
        + [y * pow(x, e, prime) % prime]
        for x, y in points
    ]
    solution = _solve(rows, e + t + e, prime)
    if solution is None:
        return None
    q, error_locator = solution[: e + t], solution[e + t :] + [1]
    quotient, remainder = _divide(q, error_locator, prime)
    if any(remainder):
        return None
    coefficients = (quotient + [0] * t)[:t]
    wrong = [i for i, (x, y) in enumerate(points) if evaluate(coefficients, x, prime=prime) != y]
    if len(wrong) > e:
        return None
    return coefficients, wrong


def _distinct(shares: Iterable[Share], prime: int) -> list[tuple[int, int]]:
    points = [(s.x % prime, s.y % prime) for s in shares]
    if not points:
        raise PnyxInputError("no shares")
    xs = [x for x, _ in points]
    if len(set(xs)) != len(xs):
        raise PnyxInputError(f"two shares at the same point: {sorted(xs)}")
    if 0 in xs:
        raise PnyxInputError("a share at x = 0 would be the secret itself")
    return points


def _solve(rows: list[list[int]], unknowns: int, prime: int) -> list[int] | None:
    """One solution of the augmented system `rows` mod prime (free variables set to 0), or None
    if it is inconsistent. Gauss–Jordan elimination."""
    matrix = [row[:] for row in rows]
    pivots: list[int] = []
    r = 0
    for c in range(unknowns):
        pivot = next((i for i in range(r, len(matrix)) if matrix[i][c]), None)
        if pivot is None:
            continue
        matrix[r], matrix[pivot] = matrix[pivot], matrix[r]
        inverse = pow(matrix[r][c], -1, prime)
        matrix[r] = [v * inverse % prime for v in matrix[r]]
        for i in range(len(matrix)):
            if i != r and matrix[i][c]:
                factor = matrix[i][c]
                matrix[i] = [
                    (a - factor * b) % prime for a, b in zip(matrix[i], matrix[r], strict=True)
                ]
        pivots.append(c)
        r += 1
    if any(row[unknowns] for row in matrix[r:]):
        return None
    solution = [0] * unknowns
    for i, c in enumerate(pivots):
        solution[c] = matrix[i][unknowns]
    return solution


def _divide(
    numerator: list[int], denominator: list[int], prime: int
) -> tuple[list[int], list[int]]:
    """Polynomial long division mod prime (coefficients from the constant term up; the leading
    coefficient of `denominator` is non-zero)."""
    remainder = numerator[:]
    degree = len(denominator) - 1
    inverse = pow(denominator[-1], -1, prime)
    quotient = [0] * max(len(numerator) - degree, 1)
    for k in range(len(numerator) - 1 - degree, -1, -1):
        factor = remainder[k + degree] * inverse % prime
        quotient[k] = factor
        for j, d in enumerate(denominator):
            remainder[k + j] = (remainder[k + j] - factor * d) % prime
    return quotient, remainder[:degree]
