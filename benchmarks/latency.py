"""Latency from `pnyx run` to the downloaded, verified result, on a devnet with 1-second blocks.

A whole marketplace starts (anvil mining a block every second, the deployed protocol, the market,
the result store, a scheduler and three workers, each its own process) and the requester runs the
word-count WASM app — a trivial app — exactly as a user would: `pnyx run` in a fresh process, which
buys at market price, matches, follows the task and downloads the checked result.

Scenarios: `trust1` (one worker, `contributeAndFinalize`), `replicated3` (trust 8: three agreeing
fresh workers, commit, one `revealAll`, finalize) and `tee` (the statistics app on the encrypted
dataset in the last worker's SIMULATED enclave: attestation to the SMS, sealed and enclave-signed
result, one `contributeAndFinalize`, decrypted by the CLI). Each runs REPEATS times after one
unmeasured warm-up of each; the median is reported.

Baselines measured in the same run:
- the protocol floor: the transactions that must follow one another, one block each (trust 1:
  match, initialize, contributeAndFinalize; replicated: match, initialize, contribute, revealAll,
  finalize) times the block time. What is above it is off-chain overhead.
- the CLI's own start-up (`pnyx --help` in a fresh process), part of what the user waits for.
iExec's reference figure (about 5 minutes from order to result, reference/offchain.md) is shown
for comparison, not re-measured.

Writes benchmarks/results/latency.json (a list of {scenario, seconds, blocks, …}) and latency.png.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from _results import RESULTS_DIR, append_section, write_json
from pnyx.devnet.marketplace import Marketplace, start_marketplace

BLOCK_TIME_S = 1.0
REPEATS = 3
GOAL_TRUST1_S = 6.0
IEXEC_REFERENCE_S = 300.0
WORDS = "the quick brown fox"
GOAL_TEE_S = 4.0
# scenario → (what `pnyx run` is given, transactions that must land one block after another)
SCENARIOS: dict[str, tuple[Callable[[Marketplace], list[str]], int]] = {
    "trust1": (lambda m: [m.assets["wasm_app"], "--trust", "1", "--args", WORDS], 3),
    "replicated3": (lambda m: [m.assets["wasm_app"], "--trust", "8", "--args", WORDS], 5),
    # TEE: the SIMULATED enclave attests to the SMS, decrypts the dataset, seals and signs the
    # result; one contributeAndFinalize; the CLI decrypts the downloaded result.
    "tee": (
        lambda m: [
            m.assets["tee_app"],
            "--dataset",
            m.assets["confidential_dataset"],
            "--tag",
            "tee",
            "--decrypt",
        ],  # fmt: skip
        3,
    ),
}
GOALS_S = {"trust1": GOAL_TRUST1_S, "tee": GOAL_TEE_S}


def run_once(
    market: Marketplace, args: list[str], out: Path
) -> tuple[float, int, dict[str, object]]:
    """One `pnyx run` in a fresh process: wall seconds, blocks mined meanwhile, its JSON summary."""
    env = {
        **os.environ,
        "PNYX_HOME": str(market.home),
        "PNYX_CHAIN_URL": market.devnet.node.url,
        "PNYX_MARKET_URL": market.urls["market"],
        "PNYX_SMS_URL": market.urls["sms"],
    }
    command = [
        sys.executable, "-m", "pnyx.cli.main", "--json", "run", *args,
        "--dev-account", "4", "--output", str(out),
    ]  # fmt: skip
    w3 = market.devnet.protocol.client.w3
    first_block = w3.eth.block_number
    started = time.perf_counter()
    process = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - started
    blocks = w3.eth.block_number - first_block
    if process.returncode != 0:
        raise RuntimeError(f"pnyx run failed: {process.stderr.strip() or process.stdout.strip()}")
    summary: dict[str, object] = json.loads(process.stdout)
    if summary.get("status") != "COMPLETED":
        raise RuntimeError(f"task did not complete: {summary}")
    return seconds, blocks, summary


def cli_startup_s(repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pnyx.cli.main", "--help"], capture_output=True, check=True
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(console: Console) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="pnyx-bench-latency-") as folder:
        home = Path(folder)
        console.print("starting a devnet with 1-second blocks and 3 workers…")
        with start_marketplace(
            home, workers=3, block_time_s=BLOCK_TIME_S, heartbeat_s=1.0
        ) as market:
            startup = cli_startup_s()
            with Progress(console=console) as progress:
                job = progress.add_task("tasks", total=len(SCENARIOS) * (REPEATS + 1))
                for scenario, (arguments, sequential_txs) in SCENARIOS.items():
                    args = arguments(market)
                    run_once(market, args, home / "warm-up" / scenario)  # caches, first compile
                    progress.advance(job)
                    samples = []
                    for i in range(REPEATS):
                        samples.append(run_once(market, args, home / scenario / str(i)))
                        progress.advance(job)
                    seconds = statistics.median(s for s, _, _ in samples)
                    blocks = int(statistics.median(b for _, b, _ in samples))
                    floor = sequential_txs * BLOCK_TIME_S
                    rows.append(
                        {
                            "scenario": scenario,
                            "seconds": round(seconds, 2),
                            "blocks": blocks,
                            "samples_s": [round(s, 2) for s, _, _ in samples],
                            "samples_blocks": [b for _, b, _ in samples],
                            "block_time_s": BLOCK_TIME_S,
                            "protocol_floor_s": floor,
                            "ratio_to_floor": round(seconds / floor, 2),
                            "cli_startup_s": round(startup, 2),
                            "iexec_reference_s": IEXEC_REFERENCE_S,
                            "speedup_vs_iexec": round(IEXEC_REFERENCE_S / seconds, 1),
                        }
                    )
    return rows


def report(console: Console, rows: list[dict[str, object]]) -> None:
    table = Table(title=f"pnyx run → verified result, {BLOCK_TIME_S:.0f}-s blocks (median)")
    for column in ("scenario", "seconds", "blocks", "floor", "÷ floor", "CLI start", "vs iExec"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for row in rows:
        table.add_row(
            str(row["scenario"]),
            f"{row['seconds']:.2f}",
            str(row["blocks"]),
            f"{row['protocol_floor_s']:.0f} s",
            f"{row['ratio_to_floor']:.2f}",
            f"{row['cli_startup_s']:.2f} s",
            f"{row['speedup_vs_iexec']:.0f}× faster",
        )
    console.print(table)
    for row in rows:
        goal = GOALS_S.get(str(row["scenario"]))
        if goal is None:
            continue
        met = float(row["seconds"]) <= goal  # type: ignore[arg-type]
        verdict = "[green]met[/green]" if met else "[red]missed[/red]"
        console.print(f"goal {row['scenario']} ≤ {goal:.0f} s: {row['seconds']} s — {verdict}")


def plot(rows: list[dict[str, object]], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    names = [str(r["scenario"]) for r in rows]
    measured = [float(r["seconds"]) for r in rows]  # type: ignore[arg-type]
    floors = [float(r["protocol_floor_s"]) for r in rows]  # type: ignore[arg-type]
    fig, ax = plt.subplots(figsize=(6, 4))
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], floors, width=0.4, label="protocol floor", color="#bbbbbb")
    ax.bar([x + 0.2 for x in xs], measured, width=0.4, label="Pnyx, measured", color="#3b6fb6")
    ax.axhline(GOAL_TRUST1_S, color="#c0392b", linestyle="--", label="trust-1 goal")
    ax.set_xticks(list(xs), names)
    ax.set_ylabel(f"seconds ({BLOCK_TIME_S:.0f}-s blocks)")
    ax.set_title("pnyx run → verified result (iExec: ~300 s)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main() -> int:
    console = Console()
    console.print("[bold]bench-latency[/bold]: time from `pnyx run` to the verified result")
    rows = measure(console)
    report(console, rows)
    path = write_json("latency.json", rows)
    if plot(rows, RESULTS_DIR / "latency.png"):
        console.print(f"chart: {RESULTS_DIR / 'latency.png'}")
    append_section(
        "bench-latency",
        [
            "| scenario | seconds (median) | blocks | protocol floor (s) | vs floor "
            "| vs iExec ~300 s |",
            "|---|---:|---:|---:|---:|---:|",
            *(
                f"| {r['scenario']} | {r['seconds']} | {r['blocks']} | {r['protocol_floor_s']} "
                f"| {r['ratio_to_floor']}× | {r['speedup_vs_iexec']}× faster |"
                for r in rows
            ),
            "",
            f"- 1-s blocks, word-count WASM app, `pnyx run` in a fresh process (CLI start-up "
            f"{rows[0]['cli_startup_s']} s included); goals: "
            + ", ".join(f"{name} ≤ {goal:.0f} s" for name, goal in GOALS_S.items()),
        ],
    )
    console.print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
