"""Numeric feeds on a real anvil: every acceptance rule and penalty of on-chain aggregation and of
off-chain reporting, and the shared reads (EIP-2362 valueFor, latestRoundData)."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from pnyx.chain import contract_errors as errors
from pnyx.chain.oracles.feeds import AggregatorFeed, ReportingConfig, ReportingFeed
from pnyx.domain.feeds import FeedConfig, Report, epoch_and_round, feed_id, median
from tests.helpers.world import World

pytestmark = pytest.mark.integration

ETH_USD = feed_id("Price", "ETH/USD", 8)
FEED = FeedConfig(min_answer=100 * 10**8, max_answer=100_000 * 10**8)
PRICE = 2_000 * 10**8
STAKE = 5 * 10**9
PAYMENT = 10**7
SLASH = 2 * 10**9
TOLERANCE_BPS = 100  # 1 %


# ─── On-chain aggregation ───
@pytest.fixture
def aggregator(world: World) -> tuple[AggregatorFeed, list[LocalAccount]]:
    nodes = [w.account for w in world.workers[:5]]
    feed = AggregatorFeed.deploy(
        world.client, world.owner, feed_id=ETH_USD, description="ETH/USD", feed=FEED,
        token=world.deployment.token,
    )  # fmt: skip
    for node in nodes:
        _approve(world, node, feed.address, STAKE)
        feed.stake(node, STAKE)
    _approve(world, world.owner, feed.address, 10**12)
    feed.fund(world.owner, 10**12)
    feed.set_config(
        world.owner, [n.address for n in nodes], f=1, threshold=5, timeout_s=600,
        min_stake=STAKE, payment=PAYMENT, tolerance_bps=TOLERANCE_BPS, slash_amount=SLASH,
    )  # fmt: skip
    return feed, nodes


def _approve(world: World, account: LocalAccount, spender: str, amount: int) -> None:
    world.client.transact(account, world.protocol.token.functions.approve(spender, amount))


def _round(
    feed: AggregatorFeed, nodes: list[LocalAccount], round_id: int, values: list[int]
) -> None:
    for node, value in zip(nodes, values, strict=True):
        feed.submit(node, round_id, value)


def test_a_full_round_publishes_the_median_with_its_time(
    aggregator: tuple[AggregatorFeed, list[LocalAccount]],
) -> None:
    feed, nodes = aggregator
    assert feed.value_for(ETH_USD) == (0, 0, 404)
    values = [PRICE + d for d in (3, -2, 0, 5, 1)]
    _round(feed, nodes, 1, values)
    latest = feed.latest()
    assert (latest.round_id, latest.answer) == (1, median(values))
    assert feed.value_for(ETH_USD) == (median(values), latest.updated_at, 200)
    assert feed.value_for(feed_id("Price", "BTC/USD", 8))[2] == 400


def test_a_submission_for_a_wrong_round_reverts(
    aggregator: tuple[AggregatorFeed, list[LocalAccount]],
) -> None:
    feed, nodes = aggregator
    with pytest.raises(errors.AggregatorWrongRound):
        feed.submit(nodes[0], 2, PRICE)  # round 1 has not started
    feed.submit(nodes[0], 1, PRICE)
    with pytest.raises(errors.AggregatorRoundOpen):
        feed.submit(nodes[1], 2, PRICE)  # round 1 is open and not timed out


def test_a_second_submission_in_a_round_reverts(
    aggregator: tuple[AggregatorFeed, list[LocalAccount]],
) -> None:
    feed, nodes = aggregator
    feed.submit(nodes[0], 1, PRICE)
    with pytest.raises(errors.AggregatorDuplicateSubmission):
        feed.submit(nodes[0], 1, PRICE + 1)


def test_a_value_out_of_bounds_reverts(
    aggregator: tuple[AggregatorFeed, list[LocalAccount]],
) -> None:
    feed, nodes = aggregator
    with pytest.raises(errors.OracleValueOutOfBounds):
        feed.submit(nodes[0], 1, FEED.max_answer + 1)
    with pytest.raises(errors.OracleValueOutOfBounds):
        feed.submit(nodes[0], 1, FEED.min_answer - 1)


def test_strangers_and_understaked_nodes_cannot_submit(
    world: World, aggregator: tuple[AggregatorFeed, list[LocalAccount]]
) -> None:
    feed, _ = aggregator
    with pytest.raises(errors.AggregatorNotNode):
        feed.submit(world.stranger, 1, PRICE)
    newcomer = world.workers[6].account
    feed.set_config(
        world.owner, [newcomer.address], f=0, threshold=1, timeout_s=600, min_stake=STAKE,
        payment=PAYMENT, tolerance_bps=TOLERANCE_BPS, slash_amount=SLASH,
    )  # fmt: skip
    with pytest.raises(errors.AggregatorInsufficientStake):
        feed.submit(newcomer, 1, PRICE)


def test_an_outlier_loses_stake_and_payment_honest_nodes_are_paid(
    world: World, aggregator: tuple[AggregatorFeed, list[LocalAccount]]
) -> None:
    feed, nodes = aggregator
    values = [PRICE, PRICE + 10, PRICE - 10, PRICE + 5, PRICE * 2]  # the last is 100 % off
    _round(feed, nodes, 1, values)
    liar, honest = feed.node(nodes[4].address), feed.node(nodes[0].address)
    assert liar["stake"] == STAKE - SLASH and liar["owed"] == 0
    assert honest["stake"] == STAKE and honest["owed"] == PAYMENT
    assert feed.latest().answer == median(values)  # the median ignored the outlier anyway
    before = world.protocol.token_balance(nodes[0].address)
    feed.withdraw_payment(nodes[0])
    assert world.protocol.token_balance(nodes[0].address) == before + PAYMENT


def test_a_node_within_tolerance_is_not_slashed(
    aggregator: tuple[AggregatorFeed, list[LocalAccount]],
) -> None:
    feed, nodes = aggregator
    near = PRICE * TOLERANCE_BPS // 10_000  # exactly at the tolerance
    _round(feed, nodes, 1, [PRICE, PRICE, PRICE, PRICE, PRICE + near])
    assert all(feed.node(n.address)["stake"] == STAKE for n in nodes)


def test_a_stake_stays_locked_while_the_node_is_configured(
    world: World, aggregator: tuple[AggregatorFeed, list[LocalAccount]]
) -> None:
    feed, nodes = aggregator
    with pytest.raises(errors.AggregatorStakeLocked):
        world.client.transact(nodes[0], feed.contract.functions.withdrawStake())


# ─── Off-chain reporting ───
@pytest.fixture
def reporting(world: World) -> tuple[ReportingFeed, list[LocalAccount]]:
    nodes = [w.account for w in world.workers[:7]]  # n = 7, f = 2, threshold 3
    feed = ReportingFeed.deploy(
        world.client, world.owner, feed_id=ETH_USD, description="ETH/USD", feed=FEED,
        reward_token=world.deployment.token, reward_per_unit=10**6,
    )  # fmt: skip
    feed.set_config(world.owner, [n.address for n in nodes], f=2, threshold=3)
    world.protocol.transfer_tokens(world.owner, feed.address, 10**12)
    return feed, nodes


def _report(feed: ReportingFeed, round_: int, observers: range = range(7)) -> Report:
    observed = {i: PRICE + 7 * i - round_ for i in observers}
    return Report.build(feed.current_digest(), epoch_and_round(1, round_), observed)


def _signed(
    feed: ReportingFeed, report: Report, nodes: list[LocalAccount], indices: list[int]
) -> bytes:
    return feed.sign(report, {i: nodes[i] for i in indices})


def test_a_signed_report_sets_the_median_and_credits_observers_and_signers(
    reporting: tuple[ReportingFeed, list[LocalAccount]],
) -> None:
    feed, nodes = reporting
    report = _report(feed, 1, observers=range(5))  # nodes 5 and 6 did not observe
    feed.transmit(nodes[6], report, _signed(feed, report, nodes, [0, 1, 6]))
    assert feed.latest().answer == report.median
    assert [feed.units_of(i) for i in range(7)] == [2, 2, 1, 1, 1, 0, 1]


def test_too_few_signatures_revert(reporting: tuple[ReportingFeed, list[LocalAccount]]) -> None:
    feed, nodes = reporting
    report = _report(feed, 1)
    with pytest.raises(errors.OracleTooFewSignatures):
        feed.transmit(nodes[0], report, _signed(feed, report, nodes, [0, 1]))


def test_a_duplicate_signer_reverts(reporting: tuple[ReportingFeed, list[LocalAccount]]) -> None:
    feed, nodes = reporting
    report = _report(feed, 1)
    one = _signed(feed, report, nodes, [2])
    signatures = _signed(feed, report, nodes, [0, 1]) + one + one
    with pytest.raises(errors.OracleDuplicateSigner):
        feed.transmit(nodes[0], report, signatures)


def test_a_signature_by_another_key_reverts(
    world: World, reporting: tuple[ReportingFeed, list[LocalAccount]]
) -> None:
    feed, nodes = reporting
    report = _report(feed, 1)
    forged = feed.sign(report, {0: nodes[0], 1: nodes[1], 2: world.stranger})
    with pytest.raises(errors.OracleBadSignature):
        feed.transmit(nodes[0], report, forged)


def test_a_replayed_report_reverts(reporting: tuple[ReportingFeed, list[LocalAccount]]) -> None:
    feed, nodes = reporting
    report = _report(feed, 1)
    signatures = _signed(feed, report, nodes, [0, 1, 2])
    feed.transmit(nodes[0], report, signatures)
    with pytest.raises(errors.ReportStale):
        feed.transmit(nodes[1], report, signatures)


def test_a_report_for_a_stale_config_digest_reverts(
    world: World, reporting: tuple[ReportingFeed, list[LocalAccount]]
) -> None:
    feed, nodes = reporting
    old_config = feed.config
    assert old_config is not None
    report = _report(feed, 1)
    signatures = _signed(feed, report, nodes, [0, 1, 2])
    feed.set_config(world.owner, [n.address for n in nodes], f=2, threshold=3)  # a new config
    with pytest.raises(errors.OracleWrongConfigDigest):
        feed.transmit(nodes[0], report, signatures, config=old_config)
    with pytest.raises(errors.OracleBadSignature):  # same nodes, new digest: old signatures fail
        feed.transmit(nodes[0], report, signatures)


def test_a_forged_node_list_is_refused_by_the_digest(
    world: World, reporting: tuple[ReportingFeed, list[LocalAccount]]
) -> None:
    feed, nodes = reporting
    assert feed.config is not None
    forged = ReportingConfig(
        feed.config.count, 2, 3, (world.stranger.address, *feed.config.nodes[1:])
    )
    report = _report(feed, 1)
    with pytest.raises(errors.OracleWrongConfigDigest):
        feed.transmit(nodes[1], report, _signed(feed, report, nodes, [1, 2, 3]), config=forged)


def test_only_a_node_may_transmit(
    world: World, reporting: tuple[ReportingFeed, list[LocalAccount]]
) -> None:
    feed, nodes = reporting
    report = _report(feed, 1)
    with pytest.raises(errors.ReportNotTransmitter):
        feed.transmit(world.stranger, report, _signed(feed, report, nodes, [0, 1, 2]))


def test_too_few_observations_or_unsorted_revert(
    reporting: tuple[ReportingFeed, list[LocalAccount]],
) -> None:
    feed, nodes = reporting
    few = _report(feed, 1, observers=range(4))  # 4 ≤ 2f
    with pytest.raises(errors.ReportBadObservations):
        feed.transmit(nodes[0], few, _signed(feed, few, nodes, [0, 1, 2]))
    good = _report(feed, 1)
    unsorted = Report(good.digest, good.epoch_and_round, good.observers, good.observations[::-1])
    with pytest.raises(errors.ReportNotSorted):
        feed.transmit(nodes[0], unsorted, _signed(feed, unsorted, nodes, [0, 1, 2]))


def test_a_median_out_of_bounds_reverts(
    reporting: tuple[ReportingFeed, list[LocalAccount]],
) -> None:
    feed, nodes = reporting
    report = Report.build(
        feed.current_digest(), epoch_and_round(1, 1), {i: FEED.max_answer + i for i in range(7)}
    )
    with pytest.raises(errors.OracleValueOutOfBounds):
        feed.transmit(nodes[0], report, _signed(feed, report, nodes, [0, 1, 2]))


def test_rewards_are_paid_to_participants_only(
    world: World, reporting: tuple[ReportingFeed, list[LocalAccount]]
) -> None:
    feed, nodes = reporting
    report = _report(feed, 1, observers=range(5))
    feed.transmit(nodes[0], report, _signed(feed, report, nodes, [0, 1, 2]))
    before = world.protocol.token_balance(nodes[0].address)
    world.client.transact(nodes[0], feed.contract.functions.withdrawRewards())
    assert world.protocol.token_balance(nodes[0].address) == before + 2 * 10**6
    assert feed.units_of(0) == 0
    with pytest.raises(errors.ReportNotPayee):
        world.client.transact(world.stranger, feed.contract.functions.withdrawRewards())


def test_a_config_needs_n_above_3f(
    world: World, reporting: tuple[ReportingFeed, list[LocalAccount]]
) -> None:
    feed, nodes = reporting
    with pytest.raises(errors.OracleBadQuorum):
        feed.set_config(world.owner, [n.address for n in nodes[:6]], f=2, threshold=3)
    with pytest.raises(errors.OracleBadNode):
        feed.set_config(world.owner, [nodes[0].address] * 4, f=1, threshold=2)


def test_a_new_configuration_closes_the_open_round(
    world: World, aggregator: tuple[AggregatorFeed, list[LocalAccount]]
) -> None:
    feed, nodes = aggregator
    feed.submit(nodes[0], 1, PRICE)
    feed.set_config(
        world.owner, [n.address for n in nodes[:3]], f=1, threshold=3, timeout_s=600,
        min_stake=STAKE, payment=PAYMENT, tolerance_bps=TOLERANCE_BPS, slash_amount=SLASH,
    )  # fmt: skip
    with pytest.raises(errors.AggregatorWrongRound):
        feed.submit(nodes[1], 1, PRICE)  # round 1 was closed by the change
    _round(feed, nodes[:3], 2, [PRICE, PRICE + 1, PRICE + 2])
    assert feed.latest().round_id == 2
    with pytest.raises(errors.AggregatorNotNode):
        feed.submit(nodes[4], 3, PRICE)  # removed from the configuration
