"""Gas per oracle update: on-chain aggregation (a whole round: one submission per node) and
off-chain reporting (one transmitted report), for n = 4, 7 and 15 nodes, beside Chainlink's
measured figures for the same n (reference/oracles.md §4: FluxAggregator rounds and OCR2Aggregator
transmits, real contracts, steady state).

Method, as the reference's: a fresh anvil; every figure is `receipt.gasUsed` (intrinsic + calldata
+ execution − refunds) of the 4th round, once storage slots are warm from earlier rounds; the first
round is shown too. Aggregation: threshold = n submissions, median, stakes checked, payment
credited. Reporting: f = ⌊(n−1)/3⌋, f+1 signatures, n observations, rewards credited.

Goals (issue 5): reporting ≤ 80k at n = 7 and ≤ 110k at n = 15; aggregation ≤ 60 % of Flux.
Writes benchmarks/results/oracles.json (a list of {mechanism, nodes, gas, chainlink_gas, ratio}),
oracles.png and a section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import sys

from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.table import Table

from _results import RESULTS_DIR, append_section, write_json
from pnyx.chain.artifacts import load_artifact
from pnyx.chain.client import ChainClient
from pnyx.chain.node import DEV_MNEMONIC, AnvilNode
from pnyx.chain.oracles.feeds import AggregatorFeed, ReportingFeed
from pnyx.chain.signing import dev_account
from pnyx.domain.feeds import FeedConfig, Report, epoch_and_round, feed_id

NODES = (4, 7, 15)
ROUNDS = 4
CHAINLINK = {
    "aggregation": {4: 410_800, 7: 655_600, 15: 1_313_100},
    "reporting": {4: 95_000, 7: 104_200, 15: 124_000},
}
GOALS = {
    ("reporting", 7): 80_000,
    ("reporting", 15): 110_000,
    **{("aggregation", n): int(0.6 * gas) for n, gas in CHAINLINK["aggregation"].items()},
}
PRICE = 2_000 * 10**8  # 2,000.00000000
FEED = FeedConfig(min_answer=1, max_answer=10**15, heartbeat_s=3600, deviation_bps=50)
TOKEN_SUPPLY = 10**9 * 10**9


def measure() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with AnvilNode(accounts=max(NODES) + 2) as node:
        client = ChainClient(node.url)
        owner = dev_account(0, DEV_MNEMONIC)
        keys = [dev_account(1 + i, DEV_MNEMONIC) for i in range(max(NODES))]
        token = client.deploy(owner, load_artifact("PnyxToken"), owner.address, TOKEN_SUPPLY)
        for n in NODES:
            rows.append(_aggregation(client, owner, keys[:n], token))
            rows.append(_reporting(client, owner, keys[:n], token))
    return rows


def _aggregation(
    client: ChainClient, owner: LocalAccount, nodes: list[LocalAccount], token: str
) -> dict[str, object]:
    n = len(nodes)
    feed = AggregatorFeed.deploy(
        client, owner, feed_id=feed_id("Price", "ETH/USD", 8), description="bench", feed=FEED,
        token=token,
    )  # fmt: skip
    erc20 = client.contract(token, load_artifact("PnyxToken").abi)
    stake = 10 * 10**9
    for key in nodes:
        client.transact(owner, erc20.functions.transfer(key.address, stake))
        client.transact(key, erc20.functions.approve(feed.address, stake))
        feed.stake(key, stake)
    client.transact(owner, erc20.functions.approve(feed.address, 10**15))
    feed.fund(owner, 10**15)
    feed.set_config(
        owner, [k.address for k in nodes], f=(n - 1) // 2, threshold=n, timeout_s=3600,
        min_stake=stake, payment=10**7, tolerance_bps=500, slash_amount=10**9,
    )  # fmt: skip
    totals = []
    for round_id in range(1, ROUNDS + 1):
        gas = 0
        for i, key in enumerate(nodes):
            receipt = feed.submit(key, round_id, PRICE + i * 10**6 + round_id)
            gas += int(receipt["gasUsed"])
        totals.append(gas)
    return _row("aggregation", n, totals)


def _reporting(
    client: ChainClient, owner: LocalAccount, nodes: list[LocalAccount], token: str
) -> dict[str, object]:
    n = len(nodes)
    f = (n - 1) // 3
    feed = ReportingFeed.deploy(
        client, owner, feed_id=feed_id("Price", "ETH/USD", 8), description="bench", feed=FEED,
        reward_token=token, reward_per_unit=10**6,
    )  # fmt: skip
    feed.set_config(owner, [k.address for k in nodes], f=f, threshold=f + 1)
    digest = feed.current_digest()
    totals = []
    for round_id in range(1, ROUNDS + 1):
        observed = {i: PRICE + i * 10**6 + round_id for i in range(n)}
        report = Report.build(digest, epoch_and_round(1, round_id), observed)
        leader = (round_id - 1) % n  # the rotating leader; any node may transmit
        signers = {(leader + j) % n: nodes[(leader + j) % n] for j in range(f + 1)}
        receipt = feed.transmit(nodes[leader], report, feed.sign(report, signers))
        totals.append(int(receipt["gasUsed"]))
    return _row("reporting", n, totals)


def _row(mechanism: str, n: int, totals: list[int]) -> dict[str, object]:
    gas = totals[-1]
    chainlink = CHAINLINK[mechanism][n]
    goal = GOALS.get((mechanism, n))
    return {
        "mechanism": mechanism,
        "nodes": n,
        "gas": gas,
        "chainlink_gas": chainlink,
        "ratio": round(gas / chainlink, 3),
        "first_round_gas": totals[0],
        "goal_gas": goal,
        "goal_met": goal is None or gas <= goal,
    }


def report(console: Console, rows: list[dict[str, object]]) -> None:
    table = Table(title="Gas per oracle update (steady state, 4th round) vs Chainlink")
    for column in ("mechanism", "n", "Pnyx", "first round", "Chainlink", "ratio", "goal"):
        table.add_column(column, justify="left" if column == "mechanism" else "right")
    for row in rows:
        goal = row["goal_gas"]
        verdict = "" if goal is None else ("✓ " if row["goal_met"] else "✗ ") + f"≤ {goal:,}"
        table.add_row(
            str(row["mechanism"]),
            str(row["nodes"]),
            f"{row['gas']:,}",
            f"{row['first_round_gas']:,}",
            f"{row['chainlink_gas']:,}",
            f"{row['ratio']:.2f}",
            verdict,
        )
    console.print(table)


def plot(rows: list[dict[str, object]]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for mechanism, color in (("aggregation", "#3b6fb6"), ("reporting", "#2e8b57")):
        mine = [r for r in rows if r["mechanism"] == mechanism]
        ns = [r["nodes"] for r in mine]
        ours = [float(str(r["gas"])) / 1000 for r in mine]
        theirs = [float(str(r["chainlink_gas"])) / 1000 for r in mine]
        baseline = "Flux" if mechanism == "aggregation" else "OCR2"
        ax.plot(ns, ours, "o-", color=color, label=f"Pnyx {mechanism}")
        ax.plot(ns, theirs, "s--", color=color, alpha=0.5, label=f"Chainlink {baseline}")
    ax.set_xlabel("nodes")
    ax.set_ylabel("thousand gas per update")
    ax.set_yscale("log")
    ax.set_title("Oracle update gas, steady state (anvil)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS_DIR / "oracles.png", dpi=120)
    plt.close(fig)


def main() -> int:
    console = Console()
    console.print("[bold]bench-oracles[/bold]: gas per update for n = 4, 7, 15 on a fresh anvil…")
    rows = measure()
    report(console, rows)
    path = write_json("oracles.json", rows)
    plot(rows)
    lines = [
        "| mechanism | nodes | Pnyx gas | Chainlink gas | ratio | goal |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        goal = row["goal_gas"]
        verdict = "—" if goal is None else f"≤ {goal:,} {'met' if row['goal_met'] else 'MISSED'}"
        lines.append(
            f"| {row['mechanism']} | {row['nodes']} | {row['gas']:,} | {row['chainlink_gas']:,} "
            f"| {row['ratio']:.2f} | {verdict} |"
        )
    append_section("bench-oracles", lines)
    console.print(f"wrote {path} and {RESULTS_DIR / 'oracles.png'}")
    return 0 if all(row["goal_met"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
