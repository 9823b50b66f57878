"""`make demo-oracles`: the betting dApp end to end, through the four kinds of oracle.

A devnet marketplace starts (anvil, then a block at least every second; the protocol, market,
result store, scheduler, workers), plus a local results service (the outside world). Then:

1. push-inbound — the operator pushes two matches into `BettingPlatform`;
2. three bettors bet; the matches are played (the chain's clock jumps past kick-off) and their
   results appear at the results service;
3. pull-inbound, served by a PoCo task — the requester buys the match-result app on match 1 with
   the `PocoOracle` as callback; a worker runs it, the hub calls the oracle back, the oracle checks
   the task's provenance (app, workerpool, trust) and stores the score;
4. pull-inbound, served by an aggregator — three staked oracle nodes (separate processes) read
   match 2's result and submit it; the median becomes the answer;
5. `settle` pulls each result from its oracle (EIP-2362 `valueFor`), credits the winners and
   broadcasts `MatchSettled` / `WinnerPaid` — push-outbound, which an off-chain listener turns into
   notifications;
6. pull-outbound — anyone reads the standings.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from examples.betting.platform import BettingPlatform, Notifier, Outcome, match_key
from examples.betting.results_service import ResultsService
from pnyx.chain.node import free_port
from pnyx.chain.oracles.feeds import AggregatorFeed
from pnyx.chain.oracles.poco_feed import PocoFeed, ProvenancePolicy
from pnyx.clients.market import MarketClient
from pnyx.config import REPO_DIR
from pnyx.devnet.marketplace import APP_PRICE, Marketplace, start_marketplace
from pnyx.devnet.processes import ServiceProcess
from pnyx.domain.feeds import FeedConfig
from pnyx.domain.views import TaskStatus
from pnyx.sdk import Provider
from pnyx.sdk.run import RunRequest, buy, follow

MATCH_APP = REPO_DIR / "apps" / "match-result" / "app.py"
ETHER = 10**18
# Dev accounts: 0–4 the marketplace, 5–6 its workers; the demo uses the next ones.
BETTORS = (7, 8, 9)
NODES = (10, 11, 12)
NODE_STAKE = 5 * 10**9
SCORE_FEED = FeedConfig(
    min_answer=0, max_answer=999_999, heartbeat_s=86_400, deviation_bps=1, decimals=0
)
MATCHES = {
    # id: (home, away, home goals, away goals, source of its result)
    "m1": ("Ajax", "PSV", 2, 1, "PoCo task"),
    "m2": ("Feyenoord", "Ajax", 1, 1, "aggregator"),
}
BETS = (  # (bettor, match, outcome, ether)
    (0, "m1", Outcome.HOME, 1.0),
    (1, "m1", Outcome.AWAY, 0.5),
    (2, "m1", Outcome.DRAW, 0.25),
    (0, "m2", Outcome.HOME, 0.4),
    (1, "m2", Outcome.DRAW, 0.6),
)


@dataclass
class OracleDemoOutcome:
    values: dict[str, int] = field(default_factory=dict)
    standings: dict[str, dict[str, int]] = field(default_factory=dict)
    winnings: dict[str, int] = field(default_factory=dict)
    notifications: list[str] = field(default_factory=list)


def run_oracle_demo(console: Console | None = None) -> OracleDemoOutcome:
    console = console or Console()
    outcome = OracleDemoOutcome()
    with tempfile.TemporaryDirectory(prefix="pnyx-oracles-") as folder:
        home = Path(folder)
        console.print("[bold]Starting the devnet and the results service…[/bold]")
        source = ResultsService().start()
        with start_marketplace(home, workers=2, tee_workers=0) as market:
            # Transactions still mine at once; a block also comes every second, as on a live chain
            # (the oracle nodes and the listener follow blocks).
            market.devnet.client.w3.provider.make_request("evm_setIntervalMining", [1])  # type: ignore[arg-type]
            try:
                _play(console, market, source, home, outcome)
            finally:
                source.stop()
        console.print("[bold]Devnet stopped.[/bold]")
    return outcome


def _play(
    console: Console,
    market: Marketplace,
    source: ResultsService,
    home: Path,
    outcome: OracleDemoOutcome,
) -> None:
    devnet = market.devnet
    client, protocol, accounts = devnet.client, devnet.protocol, devnet.accounts
    operator = accounts[0]
    bettors = [accounts[i] for i in BETTORS]

    console.rule("setting up: the match-result app, a PoCo-fed oracle, an aggregator")
    app = _register_match_app(market)
    poco = PocoFeed.deploy(
        client, operator, hub=protocol.deployment.hub,
        policy=ProvenancePolicy(app=app, workerpool=market.assets["workerpool"], min_trust=1),
    )  # fmt: skip
    aggregator = _aggregator(market)
    platform = BettingPlatform.deploy(client, operator)
    notifier = Notifier(platform, notify=lambda text: _notify(console, outcome, text))
    console.print(f"  PocoOracle {poco.address} (only app {app})")
    console.print(f"  Aggregator {aggregator.address} (3 staked nodes)")
    console.print(f"  BettingPlatform {platform.address}")

    console.rule("1. push-inbound: the operator adds the matches")
    kickoff = client.timestamp() + 60
    oracles = {"PoCo task": poco.address, "aggregator": aggregator.address}
    for match, (home_team, away_team, _, _, via) in MATCHES.items():
        platform.add_match(operator, match, home_team, away_team, kickoff, oracles[via])
        notifier.label(match)
        console.print(f"  {match}: {home_team} – {away_team}, result from the {via}")

    console.rule("2. bets, then the matches are played")
    for bettor, match, side, ether in BETS:
        platform.bet(bettors[bettor], match, side, int(ether * ETHER))
        console.print(f"  bettor {bettor + 1} bets {ether} ETH on {side.name} in {match}")
    client.w3.provider.make_request("evm_increaseTime", [120])  # type: ignore[arg-type]
    played_at = client.timestamp() + 120
    for match, (home_team, away_team, home_goals, away_goals, _) in MATCHES.items():
        source.publish(match, home_team, away_team, home_goals, away_goals, played_at)
        console.print(f"  {match} ended {home_goals}-{away_goals} (at {source.url(match)})")

    console.rule("3. pull-inbound, served by a PoCo task with callback")
    outcome.values["m1"] = _poco_result(console, market, poco, app, source.url("m1"))

    console.rule("4. pull-inbound, served by an aggregator of staked nodes")
    outcome.values["m2"] = _aggregated_result(console, market, aggregator, source, home)

    console.rule("5. settle: pull the results, credit winners, broadcast (push-outbound)")
    for match in MATCHES:
        platform.settle(bettors[2], match)
    # two results and one winning bettor per match
    _wait(lambda: notifier.poll() >= 0 and len(outcome.notifications) >= 4, 15, "notifications")
    for i, bettor in enumerate(bettors):
        outcome.winnings[f"bettor {i + 1}"] = platform.winnings(bettor.address)

    console.rule("6. pull-outbound: anyone reads the standings")
    outcome.standings = platform.standings()
    console.print(_standings_table(outcome.standings))


def _register_match_app(market: Marketplace) -> str:
    developer = Provider(market.devnet.protocol, market.devnet.accounts[1])
    checksum = "0x" + hashlib.sha256(MATCH_APP.read_bytes()).hexdigest()
    app = developer.register_app("match-result", MATCH_APP.as_uri(), checksum, app_type="PYTHON")
    client = MarketClient(market.urls["market"])
    try:
        client.publish(developer.app_order(app, APP_PRICE, volume=100))
    finally:
        client.close()
    return app


def _poco_result(console: Console, market: Marketplace, poco: PocoFeed, app: str, url: str) -> int:
    protocol = market.devnet.protocol
    key = "0x" + match_key("m1").hex()
    request = RunRequest(app=app, args=key, input_files=(url,), callback=poco.address)
    client = MarketClient(market.urls["market"])
    try:
        matched = buy(protocol, client, market.requester, request)
    finally:
        client.close()
    # The oracle learns the deal's record once (the hub keeps only its fingerprint) and checks its
    # provenance policy; the task's callback then only re-reads the task from the hub.
    poco.accept_deal(market.requester, matched.deal)
    task = matched.task_ids[0]
    console.print(f"  deal {matched.deal_id[:18]}… accepted by the oracle; task {task[:18]}…")
    view = follow(protocol, matched, task, timeout_s=120)
    if view.status != TaskStatus.COMPLETED:
        raise RuntimeError(f"the match-result task ended {view.status.name}")
    value = poco.value_for(match_key("m1"))
    console.print(
        f"  the hub called the oracle back: valueFor = {value.value} (status {value.status})"
    )
    return value.value


def _aggregator(market: Marketplace) -> AggregatorFeed:
    devnet = market.devnet
    client, protocol, owner = devnet.client, devnet.protocol, devnet.accounts[0]
    feed = AggregatorFeed.deploy(
        client, owner, feed_id=match_key("m2"), description="m2 score", feed=SCORE_FEED,
        token=protocol.deployment.token,
    )  # fmt: skip
    nodes = [devnet.accounts[i] for i in NODES]
    token = protocol.token.functions
    for node in nodes:
        protocol.transfer_tokens(owner, node.address, NODE_STAKE)
        client.transact(node, token.approve(feed.address, NODE_STAKE))
        feed.stake(node, NODE_STAKE)
    feed.set_config(
        owner, [n.address for n in nodes], f=1, threshold=3, timeout_s=600,
        min_stake=NODE_STAKE, payment=0, tolerance_bps=0, slash_amount=10**9,
    )  # fmt: skip
    return feed


def _aggregated_result(
    console: Console,
    market: Marketplace,
    feed: AggregatorFeed,
    source: ResultsService,
    home: Path,
) -> int:
    devnet = market.devnet
    processes = []
    try:
        for index, account in enumerate(devnet.accounts[i] for i in NODES):
            port = free_port()
            env = {
                "PNYX_HOME": str(home),
                "PNYX_CHAIN_URL": devnet.node.url,
                "PNYX_ORACLE_MECHANISM": "aggregation",
                "PNYX_ORACLE_FEED": feed.address,
                "PNYX_ORACLE_PRIVATE_KEY": "0x" + bytes(account.key).hex(),
                "PNYX_ORACLE_INDEX": str(index),
                "PNYX_ORACLE_SOURCE_URL": source.url("m2"),
                "PNYX_ORACLE_PORT": str(port),
                "PNYX_ORACLE_POLL_INTERVAL_S": "0.3",
                "PNYX_ORACLE_DIR": str(home / f"oracle-node{index}"),
            }
            log = home / "logs" / f"oracle{index}.log"
            health = f"http://127.0.0.1:{port}/v1/health"
            process = ServiceProcess(f"oracle-{index}", "pnyx.services.oracle", env, log, health)
            process.start()
            processes.append(process)
        for process in processes:
            process.wait_healthy()
        console.print("  3 oracle nodes running; waiting for their round…")
        _wait(lambda: feed.latest().round_id >= 1, 60, "the aggregator's first round")
        latest = feed.latest()
        console.print(f"  round {latest.round_id} answered: {latest.answer}")
        return latest.answer
    finally:
        for process in processes:
            process.stop()


def _notify(console: Console, outcome: OracleDemoOutcome, text: str) -> None:
    outcome.notifications.append(text)
    console.print(f"  notification: {text}")


def _standings_table(standings: dict[str, dict[str, int]]) -> Table:
    table = Table(title="Standings (read from the chain)")
    for column in ("team", "P", "W", "D", "L", "GF", "GA", "Pts"):
        table.add_column(column, justify="left" if column == "team" else "right")
    ordered = sorted(standings.items(), key=lambda item: (-item[1]["points"], item[0]))
    for team, row in ordered:
        table.add_row(team, *(str(row[k]) for k in (
            "played", "won", "drawn", "lost", "goals_for", "goals_against", "points")))  # fmt: skip
    return table


def _wait(probe: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if probe():  # type: ignore[operator]
            return
        time.sleep(0.3)
    raise RuntimeError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def main() -> int:
    outcome = run_oracle_demo()
    ok = outcome.values == {"m1": 2001, "m2": 1001} and len(outcome.notifications) >= 4
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
