"""What an oracle node decides, without I/O: when a feed update is due, which round an aggregation
node submits to, and the rules of off-chain reporting (Chainlink OCR style) that keep a leader
honest.

Off-chain reporting, one round:

1. Rounds are numbered by consecutive `epochAndRound` values (epoch ‖ round as one uint32, as the
   contract orders them); the leader of a round is node `epoch_and_round % n` (`leader_of`), so
   leadership rotates every round. Once an update is due (`is_update_due`) and while nobody
   transmits, a new round opens every `round_timeout_s`, so a dead leader is replaced by the next
   round's leader (`round_to_lead`).
2. The leader asks every node for its observation. Each node signs it (EIP-191 over
   `observation_message`): the leader can drop an observation but never alter or invent one.
3. The leader builds the report (`Report.build`: observers bitmap, sorted observations) from more
   than 2f observations and sends it, with the signed observations backing it, to every node.
4. A node signs the report only if `check_report` passes: every backing signature is its node's,
   the report is exactly what those observations make, its median is within the node's own
   tolerance of what the node itself observed, and the round is newer than any report the node
   signed before (a node never signs two different reports for one round).
5. With `threshold` report signatures the leader transmits; the contract checks them again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eth_abi.abi import encode

from pnyx.domain._hex import keccak, to_bytes
from pnyx.domain.feeds import Report
from pnyx.errors import (
    AuthenticationError,
    ConflictError,
    PermissionDeniedError,
    PnyxInputError,
)

INT192_MIN = -(1 << 191)
INT192_MAX = (1 << 191) - 1
MAX_EPOCH_AND_ROUND = (1 << 32) - 1

# (32-byte message, 65-byte signature) -> the EIP-191 signer's address, or "" when malformed.
# Injected (pnyx.chain.signing.recover_eip191) so this module stays free of key handling.
Recover = Callable[[bytes, bytes], str]


# ─── Errors ───


class ReportInvalidError(PnyxInputError):
    """A report or observation is malformed, or is not what its signed observations make."""


class ObservationForgedError(AuthenticationError):
    """A signed observation was not signed by the node it is attributed to."""


class ReportMedianOffError(PermissionDeniedError):
    """The report's median is farther from this node's own observation than its tolerance."""


class ReportAlreadySignedError(ConflictError):
    """This node already signed a report for this round or a later one."""


class ConfigDigestMismatchError(ConflictError):
    """The request is for another configuration than the one this node follows."""


# ─── When to update ───


def deviates(value: int, reference: int, deviation_bps: int) -> bool:
    """Whether `value` is more than `deviation_bps` (1/10,000) away from `reference`."""
    return abs(value - reference) * 10_000 > abs(reference) * deviation_bps


def is_update_due(
    value: int,
    *,
    answer: int,
    updated_at: int,
    now: float,
    heartbeat_s: int,
    deviation_bps: int,
) -> bool:
    """Whether the feed needs a new answer: it has none yet, its answer is `heartbeat_s` old
    (0 = no heartbeat), or `value` moved more than `deviation_bps` from it."""
    if updated_at == 0:
        return True
    if heartbeat_s > 0 and now - updated_at >= heartbeat_s:
        return True
    return deviates(value, answer, deviation_bps)


# ─── On-chain aggregation ───


@dataclass(frozen=True)
class AggregatorRound:
    """The aggregator's current round (`Aggregator.currentRound`)."""

    id: int
    submissions: int
    required: int
    started_at: int
    timeout_s: int

    @property
    def is_open(self) -> bool:
        return self.id != 0 and self.submissions < self.required

    def has_timed_out(self, now: float) -> bool:
        return now >= self.started_at + self.timeout_s


def round_to_submit(
    current: AggregatorRound, *, last_submitted: int, due: bool, now: float
) -> int | None:
    """The round an aggregation node submits its value to now, or None.

    It joins an open round it has not submitted to (whatever its own view of the value); it starts
    the next round when an update is due and the current one is closed or timed out; and it never
    submits twice to a round (`last_submitted` is the node's `lastRound` on chain)."""
    if current.is_open and last_submitted < current.id:
        return current.id
    startable = not current.is_open or current.has_timed_out(now)
    if due and startable and last_submitted < current.id + 1:
        return current.id + 1
    return None


# ─── Off-chain reporting: who leads ───


def leader_of(epoch_and_round: int, nodes: int) -> int:
    """The node that leads round `epoch_and_round`: leadership rotates every round."""
    if nodes <= 0:
        raise PnyxInputError(f"a configuration has at least one node, not {nodes}")
    return epoch_and_round % nodes


def newest_round(latest: int, *, elapsed_s: float, round_timeout_s: float) -> int:
    """The newest open round after an update has been due for `elapsed_s`: the one after the last
    transmitted, then one more per `round_timeout_s` nobody transmitted."""
    if round_timeout_s <= 0:
        raise PnyxInputError(f"the round timeout must be positive, not {round_timeout_s}")
    return min(latest + 1 + int(max(elapsed_s, 0) // round_timeout_s), MAX_EPOCH_AND_ROUND)


def round_to_lead(
    index: int, nodes: int, latest: int, *, elapsed_s: float, round_timeout_s: float
) -> int | None:
    """The round node `index` leads now, or None: the newest open round, if it is its leader."""
    newest = newest_round(latest, elapsed_s=elapsed_s, round_timeout_s=round_timeout_s)
    return newest if newest > latest and leader_of(newest, nodes) == index else None


# ─── Off-chain reporting: observations ───


def observation_message(config_digest: str | bytes, epoch_and_round: int, value: int) -> bytes:
    """What a node signs (EIP-191) to vouch for its observation:
    keccak256(abi.encode(bytes32 configDigest, uint32 epochAndRound, int192 value))."""
    _check_round(epoch_and_round)
    if not INT192_MIN <= value <= INT192_MAX:
        raise ReportInvalidError(f"observation {value} does not fit an int192")
    return keccak(
        encode(
            ["bytes32", "uint32", "int192"],
            [to_bytes(config_digest, length=32), epoch_and_round, value],
        )
    )


@dataclass(frozen=True)
class SignedObservation:
    """A node's observation for one round, with its signature of `observation_message`."""

    index: int
    epoch_and_round: int
    value: int
    signature: bytes


def check_observation(
    observation: SignedObservation,
    *,
    config_digest: str | bytes,
    epoch_and_round: int,
    nodes: Sequence[str],
    recover: Recover,
) -> None:
    """Raises unless `observation` is for this round and signed by the node it names."""
    if observation.epoch_and_round != epoch_and_round:
        raise ReportInvalidError(
            f"observation of node {observation.index} is for round "
            f"{observation.epoch_and_round}, not {epoch_and_round}"
        )
    if not 0 <= observation.index < len(nodes):
        raise ReportInvalidError(f"no node {observation.index} among {len(nodes)}")
    message = observation_message(config_digest, epoch_and_round, observation.value)
    signer = recover(message, observation.signature)
    expected = nodes[observation.index]
    if not signer or signer.lower() != expected.lower():
        raise ObservationForgedError(
            f"the observation {observation.value} of node {observation.index} is signed by "
            f"{signer or 'nobody (malformed signature)'}, not by {expected}"
        )


# ─── Off-chain reporting: reports ───


def within_tolerance(value: int, reference: int, tolerance_bps: int) -> bool:
    return not deviates(value, reference, tolerance_bps)


def check_report(
    report: Report,
    observations: Sequence[SignedObservation],
    *,
    config_digest: str | bytes,
    nodes: Sequence[str],
    f: int,
    own_value: int,
    tolerance_bps: int,
    last_signed: int,
    recover: Recover,
) -> None:
    """Raises unless a node may sign `report`.

    Args:
        report: what the leader asks the node to sign.
        observations: the signed observations the report claims to be made of.
        config_digest: the digest of the configuration the node follows.
        nodes: that configuration's node addresses, by index.
        f: the faults it tolerates; a report needs more than 2f observations.
        own_value: what this node observed for the round.
        tolerance_bps: how far (1/10,000) the median may be from `own_value`.
        last_signed: the newest round this node signed a report for (0: none).
        recover: EIP-191 signer recovery.

    Raises:
        ConfigDigestMismatchError: the report is for another configuration.
        ReportAlreadySignedError: the round is not newer than `last_signed`.
        ReportInvalidError: too few observations, duplicates, or a report that is not what
            the observations make (observers bitmap, sorted values).
        ObservationForgedError: a backing observation is not signed by its node.
        ReportMedianOffError: the median is outside this node's tolerance.
    """
    digest = to_bytes(config_digest, length=32)
    if report.digest != digest:
        raise ConfigDigestMismatchError(
            f"the report is for configuration 0x{report.digest.hex()}, this node follows "
            f"0x{digest.hex()}"
        )
    _check_round(report.epoch_and_round)
    if report.epoch_and_round <= last_signed:
        raise ReportAlreadySignedError(
            f"this node already signed a report for round {last_signed}; it signs round "
            f"{report.epoch_and_round} only if it is newer"
        )
    if len(observations) <= 2 * f:
        raise ReportInvalidError(
            f"a report needs more than 2f = {2 * f} observations, this one has {len(observations)}"
        )
    if len({o.index for o in observations}) != len(observations):
        raise ReportInvalidError("each node observes at most once per report")
    for observation in observations:
        check_observation(
            observation,
            config_digest=digest,
            epoch_and_round=report.epoch_and_round,
            nodes=nodes,
            recover=recover,
        )
    expected = Report.build(
        digest, report.epoch_and_round, {o.index: o.value for o in observations}
    )
    if expected != report:
        raise ReportInvalidError(
            "the report is not what its signed observations make: expected observers "
            f"{expected.observers:#x} and observations {list(expected.observations)}, got "
            f"{report.observers:#x} and {list(report.observations)}"
        )
    if not within_tolerance(report.median, own_value, tolerance_bps):
        raise ReportMedianOffError(
            f"the report's median {report.median} is more than {tolerance_bps} bps from this "
            f"node's observation {own_value}"
        )


def _check_round(epoch_and_round: int) -> None:
    if not 0 < epoch_and_round <= MAX_EPOCH_AND_ROUND:
        raise ReportInvalidError(f"epochAndRound {epoch_and_round} is outside 1..2^32-1")
