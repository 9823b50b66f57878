"""The oracle nodes' pure rules (pnyx.domain.reporting): when an update is due, where an aggregation
node submits, who leads an off-chain reporting round, and what a node refuses to sign."""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from pnyx.chain.signing import account_from_key, recover_eip191, sign_eip191
from pnyx.domain.feeds import Report, epoch_and_round
from pnyx.domain.reporting import (
    AggregatorRound,
    ConfigDigestMismatchError,
    ObservationForgedError,
    ReportAlreadySignedError,
    ReportInvalidError,
    ReportMedianOffError,
    SignedObservation,
    check_observation,
    check_report,
    is_update_due,
    leader_of,
    observation_message,
    round_to_lead,
    round_to_submit,
)

pytestmark = pytest.mark.unit

DIGEST = b"\x42" * 32
KEYS: list[LocalAccount] = [account_from_key(bytes([i + 1]) * 32) for i in range(4)]
NODES = [k.address for k in KEYS]
F = 1
PRICE = 2_000 * 10**8
ROUND = epoch_and_round(3, 7)
TOLERANCE_BPS = 100


def _observe(
    index: int, value: int, round_: int = ROUND, key: LocalAccount | None = None
) -> SignedObservation:
    signer = key or KEYS[index]
    signature = sign_eip191(signer, observation_message(DIGEST, round_, value))
    return SignedObservation(index, round_, value, signature)


def _observations(values: dict[int, int]) -> list[SignedObservation]:
    return [_observe(i, v) for i, v in values.items()]


def _check(
    report: Report,
    observations: list[SignedObservation],
    *,
    own_value: int = PRICE,
    last_signed: int = 0,
) -> None:
    check_report(
        report,
        observations,
        config_digest=DIGEST,
        nodes=NODES,
        f=F,
        own_value=own_value,
        tolerance_bps=TOLERANCE_BPS,
        last_signed=last_signed,
        recover=recover_eip191,
    )


VALUES = {0: PRICE - 5, 1: PRICE, 2: PRICE + 5, 3: PRICE + 9}


def _honest() -> tuple[Report, list[SignedObservation]]:
    return Report.build(DIGEST, ROUND, VALUES), _observations(VALUES)


# ─── Leader rotation ───
def test_leader_of_rotates_every_round() -> None:
    assert [leader_of(r, 4) for r in range(1, 9)] == [1, 2, 3, 0, 1, 2, 3, 0]


def test_round_to_lead_names_exactly_one_leader_per_timeout_window() -> None:
    latest = epoch_and_round(0, 9)
    for elapsed in (0.0, 0.9, 1.0, 2.5, 3.99, 4.0, 7.2):
        leading = {
            i: r
            for i in range(4)
            if (r := round_to_lead(i, 4, latest, elapsed_s=elapsed, round_timeout_s=1.0))
            is not None
        }
        assert len(leading) == 1
        ((leader, round_),) = leading.items()
        assert round_ == latest + 1 + int(elapsed) and leader == round_ % 4


def test_round_to_lead_hands_over_to_the_next_leader_after_a_timeout() -> None:
    latest = 4  # round 5 is led by node 1, round 6 by node 2
    assert round_to_lead(1, 4, latest, elapsed_s=0.5, round_timeout_s=2.0) == 5
    assert round_to_lead(2, 4, latest, elapsed_s=0.5, round_timeout_s=2.0) is None
    assert round_to_lead(1, 4, latest, elapsed_s=2.0, round_timeout_s=2.0) is None
    assert round_to_lead(2, 4, latest, elapsed_s=2.0, round_timeout_s=2.0) == 6


# ─── When an update is due ───
@pytest.mark.parametrize(
    ("value", "updated_at", "now", "due"),
    [
        (PRICE, 0, 10, True),  # no answer yet
        (PRICE, 1_000, 1_000 + 3_599, False),
        (PRICE, 1_000, 1_000 + 3_600, True),  # heartbeat
        (PRICE + PRICE * 50 // 10_000, 1_000, 1_001, False),  # exactly at the deviation threshold
        (PRICE + PRICE * 50 // 10_000 + 1, 1_000, 1_001, True),
        (PRICE - PRICE * 51 // 10_000, 1_000, 1_001, True),
    ],
)
def test_is_update_due_follows_heartbeat_and_deviation(
    value: int, updated_at: int, now: int, due: bool
) -> None:
    assert (
        is_update_due(
            value, answer=PRICE, updated_at=updated_at, now=now, heartbeat_s=3_600, deviation_bps=50
        )
        is due
    )


def test_is_update_due_ignores_time_when_heartbeat_is_zero() -> None:
    assert not is_update_due(
        PRICE, answer=PRICE, updated_at=1, now=10**9, heartbeat_s=0, deviation_bps=50
    )


# ─── Aggregation: where to submit ───
CLOSED = AggregatorRound(id=4, submissions=3, required=3, started_at=100, timeout_s=60)
OPEN = replace(CLOSED, submissions=1)


def test_round_to_submit_joins_an_open_round_even_when_not_due() -> None:
    assert round_to_submit(OPEN, last_submitted=3, due=False, now=120) == 4


def test_round_to_submit_never_submits_twice_to_a_round() -> None:
    assert round_to_submit(OPEN, last_submitted=4, due=True, now=120) is None
    assert round_to_submit(CLOSED, last_submitted=5, due=True, now=120) is None


def test_round_to_submit_starts_the_next_round_when_due_and_closed() -> None:
    assert round_to_submit(CLOSED, last_submitted=4, due=True, now=120) == 5
    assert round_to_submit(CLOSED, last_submitted=4, due=False, now=120) is None


def test_round_to_submit_supersedes_an_open_round_only_after_its_timeout() -> None:
    assert round_to_submit(OPEN, last_submitted=4, due=True, now=159) is None
    assert round_to_submit(OPEN, last_submitted=4, due=True, now=160) == 5


def test_round_to_submit_starts_round_one_on_a_fresh_feed() -> None:
    fresh = AggregatorRound(id=0, submissions=0, required=3, started_at=0, timeout_s=60)
    assert round_to_submit(fresh, last_submitted=0, due=True, now=1) == 1


# ─── Observations ───
def test_observation_message_is_keccak_of_abi_encoded_digest_round_value() -> None:
    expected = keccak(encode(["bytes32", "uint32", "int192"], [DIGEST, ROUND, -7]))
    assert observation_message(DIGEST, ROUND, -7) == expected


def test_check_observation_refuses_a_signature_by_another_key() -> None:
    forged = _observe(2, PRICE, key=KEYS[0])  # the leader (node 0) signs "node 2's" value
    with pytest.raises(ObservationForgedError, match="not by"):
        check_observation(
            forged, config_digest=DIGEST, epoch_and_round=ROUND, nodes=NODES, recover=recover_eip191
        )


def test_check_observation_refuses_an_observation_of_another_round() -> None:
    old = _observe(2, PRICE, round_=ROUND - 1)
    with pytest.raises(ReportInvalidError):
        check_observation(
            old, config_digest=DIGEST, epoch_and_round=ROUND, nodes=NODES, recover=recover_eip191
        )
    relabelled = replace(old, epoch_and_round=ROUND)  # the signature still binds the old round
    with pytest.raises(ObservationForgedError):
        check_observation(
            relabelled,
            config_digest=DIGEST,
            epoch_and_round=ROUND,
            nodes=NODES,
            recover=recover_eip191,
        )


# ─── Reports ───
def test_check_report_accepts_an_honest_report() -> None:
    _check(*_honest())


def test_check_report_refuses_a_forged_observation() -> None:
    report, observations = _honest()
    observations[3] = _observe(3, VALUES[3], key=KEYS[1])
    with pytest.raises(ObservationForgedError):
        _check(report, observations)


def test_check_report_refuses_an_altered_value() -> None:
    values = {**VALUES, 3: PRICE * 2}
    altered = [replace(o, value=values[o.index]) for o in _observations(VALUES)]
    with pytest.raises(ObservationForgedError):
        _check(Report.build(DIGEST, ROUND, values), altered)


def test_check_report_refuses_a_report_that_is_not_its_observations() -> None:
    report, observations = _honest()
    inflated = replace(report, observations=(*report.observations[:3], PRICE * 2))
    with pytest.raises(ReportInvalidError, match="not what its signed observations make"):
        _check(inflated, observations)
    unsorted = replace(report, observations=report.observations[::-1])
    with pytest.raises(ReportInvalidError):
        _check(unsorted, observations)
    wrong_observers = replace(report, observers=0b0111)
    with pytest.raises(ReportInvalidError):
        _check(wrong_observers, observations)


def test_check_report_refuses_too_few_or_duplicate_observations() -> None:
    few = {0: PRICE, 1: PRICE}  # 2 ≤ 2f
    with pytest.raises(ReportInvalidError, match="more than 2f"):
        _check(Report.build(DIGEST, ROUND, few), _observations(few))
    report, observations = _honest()
    with pytest.raises(ReportInvalidError, match="at most once"):
        _check(report, [*observations[:3], observations[0]])


def test_check_report_refuses_a_median_outside_the_tolerance() -> None:
    report, observations = _honest()
    # The tolerance is relative to the node's own observation: the lowest own value that accepts
    # the median m is ceil(m / (1 + 1 %)).
    lowest = -(-report.median * 10_000 // (10_000 + TOLERANCE_BPS))
    _check(report, observations, own_value=lowest)
    with pytest.raises(ReportMedianOffError, match="bps"):
        _check(report, observations, own_value=lowest - 1)
    with pytest.raises(ReportMedianOffError):
        _check(report, observations, own_value=report.median * 2)


def test_check_report_refuses_a_second_report_for_a_signed_round() -> None:
    report, observations = _honest()
    with pytest.raises(ReportAlreadySignedError):
        _check(report, observations, last_signed=ROUND)
    with pytest.raises(ReportAlreadySignedError):
        _check(report, observations, last_signed=ROUND + 1)
    _check(report, observations, last_signed=ROUND - 1)


def test_check_report_refuses_another_configuration() -> None:
    values = dict(VALUES)
    other = Report.build(b"\x07" * 32, ROUND, values)
    with pytest.raises(ConfigDigestMismatchError):
        _check(other, _observations(values))
