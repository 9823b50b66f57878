"""The betting dApp's contract rules on anvil, with an aggregator as its result oracle."""

from __future__ import annotations

import pytest

from examples.betting.platform import BettingPlatform, Outcome, match_key
from pnyx.chain import contract_errors as errors
from pnyx.chain.oracles.feeds import AggregatorFeed
from pnyx.domain.feeds import FeedConfig
from tests.helpers.world import World

pytestmark = pytest.mark.integration

ETHER = 10**18


@pytest.fixture
def platform(world: World) -> tuple[BettingPlatform, AggregatorFeed]:
    feed = AggregatorFeed.deploy(
        world.client, world.owner, feed_id=match_key("final"), description="final",
        feed=FeedConfig(min_answer=0, max_answer=999_999), token=world.deployment.token,
    )  # fmt: skip
    reporter = world.workers[0].account
    feed.set_config(
        world.owner, [reporter.address], f=0, threshold=1, timeout_s=60, min_stake=0,
        payment=0, tolerance_bps=0, slash_amount=0,
    )  # fmt: skip
    betting = BettingPlatform.deploy(world.client, world.owner)
    kickoff = world.client.timestamp() + 100
    betting.add_match(world.owner, "final", "Ajax", "PSV", kickoff, feed.address)
    return betting, feed


def _jump(world: World, seconds: int) -> None:
    world.client.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
    world.client.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def test_only_the_operator_adds_matches(
    world: World, platform: tuple[BettingPlatform, AggregatorFeed]
) -> None:
    betting, feed = platform
    with pytest.raises(errors.BettingNotOperator):
        betting.add_match(world.stranger, "other", "A", "B", 10**10, feed.address)


def test_bets_close_at_kickoff_and_settlement_needs_the_oracles_result(
    world: World, platform: tuple[BettingPlatform, AggregatorFeed]
) -> None:
    betting, feed = platform
    home, away = world.workers[1].account, world.workers[2].account
    betting.bet(home, "final", Outcome.HOME, ETHER)
    betting.bet(away, "final", Outcome.AWAY, 3 * ETHER)
    with pytest.raises(errors.BettingNotStarted):
        betting.settle(home, "final")
    _jump(world, 200)
    with pytest.raises(errors.BettingClosed):
        betting.bet(home, "final", Outcome.DRAW, ETHER)
    with pytest.raises(errors.BettingResultUnavailable):  # the oracle has no value yet: 404
        betting.settle(home, "final")
    feed.submit(world.workers[0].account, 1, 3 * 1000 + 0)  # 3-0
    betting.settle(home, "final")
    assert betting.winnings(home.address) == 4 * ETHER
    assert betting.winnings(away.address) == 0
    with pytest.raises(errors.BettingAlreadySettled):
        betting.settle(home, "final")
    assert betting.standings()["Ajax"]["points"] == 3
