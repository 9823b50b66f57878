"""The arithmetic of the transparent referendum (Schiedermeier et al. 2019; reference/papers.md §2):
votes shared among workers, workers' intermediate results, the tally, and a verifier that needs
only what is posted on chain. The contract, the per-worker encryption of shares and the CLI are
elsewhere; everything here is pure and serializes to JSON-compatible dicts (field elements as
32-byte 0x-hex, the EVM word a contract stores).

Protocol.
1. Setup: n selected workers in share-slot order (`WorkerSelection.workers`) and a threshold t;
   worker in slot i holds the evaluation point x = i + 1.
2. Each voter shares its vote v ∈ {0, 1} with a fresh random polynomial fᵥ of degree ≤ t − 1
   (`cast_ballot`); share i goes (encrypted) to the worker in slot i.
3. Each worker posts rᵢ = Σ_voters fᵥ(i + 1) (`compute_intermediate_result`): a share of
   F = Σ fᵥ, whose constant term is the number of yes votes.
4. Anyone interpolates F(0) from any t posted results (`tally`) and checks the posts (`verify`).

The paper's analysis bounds t by t² + t ≤ n + 1 (`collusion.t_max`, "n − t² inactive workers");
that bound is not enforced here (its origin is unverified), `ReferendumSetup.within_t_max` reports
it.

What the verifier can and cannot do, with m results posted, e of them tampered (wrong values):
- m < t: no tally at all (`InsufficientResultsError`).
- m = t: any t values lie on some polynomial of degree ≤ t − 1, so nothing is detectable from the
  points; only a tally outside 0..#ballots gives a naive tampering away (`in_range`).
- m > t, **detection**: if e ≤ m − t (at least t honest results posted), the tampering is always
  detected: the honest points fix F, and no other polynomial of degree ≤ t − 1 agrees with t of
  them. If e > m − t, colluders can choose values on another polynomial through the honest points
  and move the tally undetectably.
- m > t, **identification**: if e ≤ ⌊(m − t)/2⌋, the culprits are identified exactly and the true
  tally recovered (Reed–Solomon unique decoding, Berlekamp–Welch); e.g. one tampered result needs
  m ≥ t + 2, i.e. at least t + 1 honest ones. For ⌊(m − t)/2⌋ < e ≤ m − t the tampering is
  detected but the culprits are not identifiable in general; a coordinated group in that range
  can even make the decoder blame honest workers, and the posts alone cannot reveal that, so a
  `CORRECTED` verdict presumes at most ⌊(m − t)/2⌋ tampered results.
- A voter who shares a value other than 0 or 1 is invisible to all of this (its shares are
  secret and still lie on a polynomial); only the range check can catch a gross excess."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pnyx.domain._hex import to_hex32
from pnyx.domain.collusion import t_max
from pnyx.domain.shamir import (
    PRIME,
    RandBelow,
    Share,
    decode,
    evaluate,
    interpolate,
    lies_on_polynomial,
    split,
)
from pnyx.errors import PnyxInputError


class InsufficientResultsError(PnyxInputError):
    """Fewer than t distinct intermediate results: the tally cannot be interpolated."""


@dataclass(frozen=True)
class ReferendumSetup:
    """The workers in share-slot order (slot i ↔ evaluation point i + 1), the threshold t and the
    field's prime."""

    workers: tuple[str, ...]
    threshold: int
    prime: int = PRIME

    def __post_init__(self) -> None:
        n = len(self.workers)
        if len(set(self.workers)) != n:
            raise PnyxInputError("a worker is listed twice")
        if not 1 <= self.threshold <= n:
            raise PnyxInputError(f"a threshold is in 1..n = 1..{n}, got {self.threshold}")
        if not n < self.prime < 2**256:
            raise PnyxInputError(f"the prime must exceed n = {n} and fit in 256 bits")

    @property
    def n(self) -> int:
        return len(self.workers)

    @property
    def within_t_max(self) -> bool:
        """Whether t² + t ≤ n + 1, the paper's bound (`collusion.t_max`)."""
        return self.threshold <= t_max(self.n)

    def to_dict(self) -> dict[str, Any]:
        return {
            "workers": list(self.workers),
            "threshold": self.threshold,
            "prime": to_hex32(self.prime),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReferendumSetup:
        return cls(
            workers=tuple(str(w) for w in data["workers"]),
            threshold=int(data["threshold"]),
            prime=_from_hex(data["prime"]),
        )


@dataclass(frozen=True)
class Ballot:
    """A voter's vote as n shares, `shares[i]` = f(i + 1) for the worker in slot i. On chain each
    share is encrypted to its worker; this is the plaintext."""

    voter: str
    shares: tuple[int, ...]

    def share_for(self, slot: int) -> int:
        return self.shares[slot]

    def to_dict(self) -> dict[str, Any]:
        return {"voter": self.voter, "shares": [to_hex32(s) for s in self.shares]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Ballot:
        return cls(voter=str(data["voter"]), shares=tuple(_from_hex(s) for s in data["shares"]))


@dataclass(frozen=True)
class IntermediateResult:
    """What the worker in `slot` posts: the sum of the shares it received from `ballots` ballots,
    a point (slot + 1, value) of the tally polynomial."""

    slot: int
    worker: str
    value: int
    ballots: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "slot": self.slot,
            "worker": self.worker,
            "value": to_hex32(self.value),
            "ballots": self.ballots,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IntermediateResult:
        return cls(
            slot=int(data["slot"]),
            worker=str(data["worker"]),
            value=_from_hex(data["value"]),
            ballots=int(data["ballots"]),
        )


class Verdict(StrEnum):
    CONSISTENT = "consistent"  # more than t results, all on one polynomial of degree ≤ t − 1
    UNCHECKED = "unchecked"  # exactly t results: nothing to check them against
    CORRECTED = "corrected"  # inconsistent; culprits identified, tally from the decoded polynomial
    TAMPERED = "tampered"  # inconsistent; culprits not identifiable, no trustworthy tally


@dataclass(frozen=True)
class Verification:
    """The verifier's conclusion. `tally` is None when it cannot be trusted (`TAMPERED`);
    `culprits` are share slots; `in_range` is whether the tally is in 0..ballots (None when the
    number of ballots was not given or there is no tally)."""

    verdict: Verdict
    threshold: int
    posted: int
    tally: int | None
    culprits: tuple[int, ...]
    in_range: bool | None

    @property
    def detectable(self) -> int:
        """Tampered results up to this many are always detected: m − t."""
        return self.posted - self.threshold

    @property
    def identifiable(self) -> int:
        """Tampered results up to this many are identified: ⌊(m − t)/2⌋."""
        return (self.posted - self.threshold) // 2

    @property
    def is_valid(self) -> bool:
        """Nothing wrong was found: no inconsistency and no out-of-range tally."""
        return (
            self.verdict in (Verdict.CONSISTENT, Verdict.UNCHECKED) and self.in_range is not False
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "threshold": self.threshold,
            "posted": self.posted,
            "tally": self.tally,
            "culprits": list(self.culprits),
            "in_range": self.in_range,
            "detectable": self.detectable,
            "identifiable": self.identifiable,
        }


def cast_ballot(
    voter: str, vote: int | bool, setup: ReferendumSetup, rng: RandBelow | None = None
) -> Ballot:
    """Share a yes (1/True) or no (0/False) vote among the setup's workers.

    Raises:
        PnyxInputError: the vote is not 0/1.
    """
    if vote not in (0, 1):
        raise PnyxInputError(f"a vote is 1 (yes) or 0 (no), got {vote!r}")
    shares = split(int(vote), setup.threshold, setup.n, rng, prime=setup.prime)
    return Ballot(voter=voter, shares=tuple(s.y for s in shares))


def compute_intermediate_result(
    setup: ReferendumSetup, slot: int, ballots: Iterable[Ballot]
) -> IntermediateResult:
    """The sum of the slot's shares of every ballot: the worker's intermediate result.

    Raises:
        PnyxInputError: the slot is out of range, a ballot has the wrong number of shares, or a
            voter appears twice.
    """
    received: dict[str, int] = {}
    for ballot in ballots:
        if len(ballot.shares) != setup.n:
            raise PnyxInputError(
                f"{ballot.voter}'s ballot has {len(ballot.shares)} shares, not {setup.n}"
            )
        if ballot.voter in received:
            raise PnyxInputError(f"{ballot.voter} voted twice")
        received[ballot.voter] = ballot.share_for(slot) if 0 <= slot < setup.n else 0
    return combine_shares(setup, slot, received)


def combine_shares(
    setup: ReferendumSetup, slot: int, shares: Mapping[str, int]
) -> IntermediateResult:
    """What a worker posts from the shares it received (voter → its share for `slot`), e.g. after
    decrypting them: their sum in the field.

    Raises:
        PnyxInputError: the slot is out of range or a share is not a field element.
    """
    _check_slot(setup, slot)
    total = 0
    for voter, share in shares.items():
        if not 0 <= share < setup.prime:
            raise PnyxInputError(f"{voter}'s share is not an element of the field")
        total = (total + share) % setup.prime
    return IntermediateResult(
        slot=slot, worker=setup.workers[slot], value=total, ballots=len(shares)
    )


def tally(setup: ReferendumSetup, results: Iterable[IntermediateResult]) -> int:
    """The number of yes votes, interpolated at 0 from the t lowest-slot results. Assumes the
    results are honest; `verify` checks them.

    Raises:
        InsufficientResultsError: fewer than t results.
        PnyxInputError: a result is for an unknown slot, names the wrong worker, or a slot twice.
    """
    points = _points(setup, results)
    if len(points) < setup.threshold:
        raise InsufficientResultsError(
            f"the tally needs {setup.threshold} intermediate results, {len(points)} posted"
        )
    return interpolate(points[: setup.threshold], 0, prime=setup.prime)


def verify(
    setup: ReferendumSetup, results: Iterable[IntermediateResult], *, ballots: int | None = None
) -> Verification:
    """Recompute the outcome from all posted intermediate results and check them (see the module
    docstring for what is detectable and what is identifiable).

    Args:
        setup: the workers and threshold.
        results: the posted intermediate results, at most one per slot.
        ballots: the number of ballots posted, if known: the tally must lie in 0..ballots.

    Raises:
        InsufficientResultsError: fewer than t results.
        PnyxInputError: a result is for an unknown slot, names the wrong worker, or a slot twice.
    """
    points = _points(setup, results)
    t, m = setup.threshold, len(points)
    if m < t:
        raise InsufficientResultsError(f"the tally needs {t} intermediate results, {m} posted")
    value: int | None
    culprits: tuple[int, ...] = ()
    if lies_on_polynomial(points, t, prime=setup.prime):  # the common case, without elimination
        value = interpolate(points[:t], 0, prime=setup.prime)
        verdict = Verdict.CONSISTENT if m > t else Verdict.UNCHECKED
    elif (decoded := decode(points, t, prime=setup.prime)) is not None:
        coefficients, wrong = decoded
        value = evaluate(coefficients, 0, prime=setup.prime)
        culprits = tuple(points[i].x - 1 for i in wrong)
        verdict = Verdict.CORRECTED
    else:
        value, verdict = None, Verdict.TAMPERED
    in_range = None if ballots is None or value is None else 0 <= value <= ballots
    return Verification(
        verdict=verdict, threshold=t, posted=m, tally=value, culprits=culprits, in_range=in_range
    )


def _points(setup: ReferendumSetup, results: Iterable[IntermediateResult]) -> list[Share]:
    seen: dict[int, IntermediateResult] = {}
    for result in results:
        _check_slot(setup, result.slot)
        if result.worker != setup.workers[result.slot]:
            raise PnyxInputError(
                f"slot {result.slot} belongs to {setup.workers[result.slot]}, not {result.worker}"
            )
        if result.slot in seen:
            raise PnyxInputError(f"two intermediate results for slot {result.slot}")
        seen[result.slot] = result
    return [Share(slot + 1, seen[slot].value % setup.prime) for slot in sorted(seen)]


def _check_slot(setup: ReferendumSetup, slot: int) -> None:
    if not 0 <= slot < setup.n:
        raise PnyxInputError(f"a share slot is in 0..{setup.n - 1}, got {slot}")


def _from_hex(value: object) -> int:
    if not isinstance(value, str) or not value.startswith(("0x", "0X")):
        raise PnyxInputError(f"expected a 0x-hex field element, got {value!r}")
    try:
        return int(value, 16)
    except ValueError as exc:
        raise PnyxInputError(f"not hexadecimal: {value!r}") from exc
