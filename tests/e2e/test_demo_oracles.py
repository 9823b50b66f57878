"""`make demo-oracles`: the betting dApp through the four oracle types, with real processes (a
devnet marketplace, a worker running the match-result app, three aggregation node daemons)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from examples.betting.demo import run_oracle_demo

pytestmark = pytest.mark.e2e

ETHER = 10**18


def test_the_betting_demo_settles_both_matches_from_their_oracles() -> None:
    outcome = run_oracle_demo(Console(file=io.StringIO()))

    # pull-inbound: the PoCo task's callback and the aggregator's round delivered the scores
    assert outcome.values == {"m1": 2 * 1000 + 1, "m2": 1 * 1000 + 1}
    # push-outbound: the listener saw both settlements and both winners
    assert sum("settled" in n for n in outcome.notifications) == 2
    assert sum(" won " in n for n in outcome.notifications) == 2
    # winners are credited the whole pool of their match, losers nothing
    assert outcome.winnings == {
        "bettor 1": 1.75 * ETHER,
        "bettor 2": 1.0 * ETHER,
        "bettor 3": 0,
    }
    # pull-outbound: the standings computed on chain
    assert outcome.standings["Ajax"]["points"] == 4
    assert outcome.standings["PSV"]["lost"] == 1
    assert outcome.standings["Feyenoord"]["drawn"] == 1
