"""Tasks completed per second by one workerpool of 8 workers on 1-second blocks, next to what the
chain itself could carry.

A whole marketplace starts (anvil mining a block every second, the market, the result store, the
scheduler and 8 worker processes, each taking up to WORKER_SLOTS tasks at once). The requester
buys one bag of TASKS trust-1 executions of the word-count WASM app at market price — one match —
and the benchmark waits until every task is COMPLETED on chain.

Baseline measured in the same run: the chain's gas-limited capacity, i.e. the block gas limit ÷
the gas the run actually spent per task (every transaction mined from the match to the last
finalization, summed from the blocks, divided by the tasks) ÷ the block time. The ratio says how
much of what the chain allows the off-chain stack delivers (goal ≥ 0.8).

Writes benchmarks/results/throughput.json and throughput.png (completions over time).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from _results import RESULTS_DIR, append_section, write_json
from pnyx.chain.protocol import Protocol
from pnyx.clients.market import MarketClient
from pnyx.devnet.marketplace import start_marketplace
from pnyx.devnet.processes import ServiceProcess
from pnyx.domain.orders import AppOrder, WorkerpoolOrder
from pnyx.domain.views import TaskStatus
from pnyx.sdk import Requester

BLOCK_TIME_S = 1.0
WORKERS = 8
WORKER_SLOTS = 16
TASKS = 240
GOAL_RATIO = 0.8
TIMEOUT_S = 600.0


def measure(console: Console) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="pnyx-bench-throughput-") as folder:
        home = Path(folder)
        console.print(f"starting a devnet with {BLOCK_TIME_S:.0f}-s blocks and {WORKERS} workers…")
        with start_marketplace(
            home, workers=0, block_time_s=BLOCK_TIME_S, heartbeat_s=1.0
        ) as market:
            market.worker_env["PNYX_WORKER_MAX_TASKS"] = str(WORKER_SLOTS)
            for _ in range(WORKERS):
                market.add_worker()
            protocol = market.devnet.protocol
            w3 = protocol.client.w3
            client = MarketClient(market.urls["market"])
            try:
                app = client.best("app", asset=market.assets["wasm_app"])
                pool = client.best("workerpool", category=0, min_trust=1)
            finally:
                client.close()
            assert isinstance(app, AppOrder) and isinstance(pool, WorkerpoolOrder)
            requester = Requester(protocol, market.requester)
            request = requester.request_order(
                app.app,
                app_max_price=app.app_price,
                workerpool_max_price=pool.workerpool_price,
                volume=TASKS,
                params=json.dumps({"iexec_args": "the quick brown fox"}),
            )
            time.sleep(3 * BLOCK_TIME_S)  # every worker logged in and asking for work
            pids = {
                "anvil": [market.devnet.node.pid or 0],
                **{
                    name: [_pid(p)]
                    for name, p in market.services.items()
                    if p not in market.workers
                },
                "workers": [_pid(w) for w in market.workers],
            }
            cpu_before = {name: _cpu_s(ids) for name, ids in pids.items()}
            started = time.perf_counter()
            matched = requester.match(app, pool, request)
            first_block = matched.block_number
            done_at = _wait_for_completion(console, protocol, matched.task_ids, started)
            cpu = {name: _cpu_s(ids) - cpu_before[name] for name, ids in pids.items()}
            last_block = w3.eth.block_number
            gas = sum(
                int(w3.eth.get_block(n)["gasUsed"]) for n in range(first_block, last_block + 1)
            )
            gas_limit = int(w3.eth.get_block("latest")["gasLimit"])
    elapsed = max(done_at.values())
    # The steady rate: between the 10th and the 90th percentile completion, ramp-up and tail apart.
    ordered = sorted(done_at.values())
    low, high = ordered[len(ordered) // 10], ordered[(len(ordered) * 9) // 10]
    steady = (len(ordered) * 8 // 10) / (high - low) if high > low else float("nan")
    gas_per_task = gas / TASKS
    capacity = gas_limit / gas_per_task / BLOCK_TIME_S
    tasks_per_second = TASKS / elapsed
    return {
        "tasks": TASKS,
        "workers": WORKERS,
        "worker_slots": WORKER_SLOTS,
        "block_time_s": BLOCK_TIME_S,
        "seconds": round(elapsed, 2),
        "tasks_per_second": round(tasks_per_second, 2),
        "steady_tasks_per_second": round(steady, 2),
        "gas_per_task": round(gas_per_task),
        "block_gas_limit": gas_limit,
        "capacity_tasks_per_second": round(capacity, 2),
        "ratio": round(tasks_per_second / capacity, 3),
        "steady_ratio": round(steady / capacity, 3),
        # Where the two cores went: CPU seconds per task of each process (children included).
        "cpu_ms_per_task": {name: round(1000 * s / TASKS, 1) for name, s in cpu.items()},
        "completion_times_s": [round(t, 2) for t in ordered],
    }


def _pid(service: ServiceProcess) -> int:
    return service.process.pid if service.process else 0


def _cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of processes and their waited-for children, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return total / ticks


def _wait_for_completion(
    console: Console, protocol: Protocol, task_ids: list[str], started: float
) -> dict[str, float]:
    """Seconds from the match to each task's completion on chain, polled in batches."""
    done_at: dict[str, float] = {}
    with Progress(console=console) as progress:
        job = progress.add_task("tasks completed", total=len(task_ids))
        while len(done_at) < len(task_ids):
            if time.perf_counter() - started > TIMEOUT_S:
                raise RuntimeError(f"only {len(done_at)}/{len(task_ids)} tasks completed in time")
            pending = [t for t in task_ids if t not in done_at]
            now = time.perf_counter() - started
            for view in protocol.tasks(pending):
                if view.status == TaskStatus.FAILED:
                    raise RuntimeError(f"task {view.task_id} failed")
                if view.status == TaskStatus.COMPLETED:
                    done_at[view.task_id] = now
            progress.update(job, completed=len(done_at))
            time.sleep(0.2)
    return done_at


def report(console: Console, row: dict[str, object]) -> None:
    table = Table(title=f"One workerpool, {WORKERS} workers, {BLOCK_TIME_S:.0f}-s blocks")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("tasks (trust 1, one bag)", str(row["tasks"]))
    table.add_row("seconds, match → last completed", f"{row['seconds']}")
    table.add_row("tasks / s", f"{row['tasks_per_second']}")
    table.add_row("tasks / s, steady (10–90 %)", f"{row['steady_tasks_per_second']}")
    table.add_row("gas per task (all transactions)", f"{row['gas_per_task']:,}")
    table.add_row("block gas limit", f"{row['block_gas_limit']:,}")
    table.add_row("chain capacity, tasks / s", f"{row['capacity_tasks_per_second']}")
    table.add_row("ratio", f"{row['ratio']}")
    table.add_row("ratio, steady", f"{row['steady_ratio']}")
    cpu: dict[str, float] = row["cpu_ms_per_task"]  # type: ignore[assignment]
    for name, ms in cpu.items():
        table.add_row(f"CPU ms per task: {name}", f"{ms}")
    table.add_row("CPU ms per task: total (2 cores)", f"{sum(cpu.values()):.0f}")
    console.print(table)
    met = float(row["ratio"]) >= GOAL_RATIO  # type: ignore[arg-type]
    verdict = "[green]met[/green]" if met else "[red]missed[/red]"
    console.print(f"goal ratio ≥ {GOAL_RATIO}: {row['ratio']} — {verdict}")


def plot(row: dict[str, object], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    times = list(row["completion_times_s"])  # type: ignore[call-overload]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.step(times, range(1, len(times) + 1), where="post", label="tasks completed", color="#3b6fb6")
    capacity = float(row["capacity_tasks_per_second"])  # type: ignore[arg-type]
    ax.plot(
        [0, len(times) / capacity], [0, len(times)], "--", color="#999999", label="chain capacity"
    )
    ax.set_xlabel("seconds since the match")
    ax.set_ylabel("tasks completed on chain")
    ax.set_title(f"{WORKERS} workers, {BLOCK_TIME_S:.0f}-s blocks, trust 1")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main() -> int:
    console = Console()
    console.print("[bold]bench-throughput[/bold]: tasks per second vs the chain's capacity")
    row = measure(console)
    report(console, row)
    path = write_json("throughput.json", row)
    if plot(row, RESULTS_DIR / "throughput.png"):
        console.print(f"chart: {RESULTS_DIR / 'throughput.png'}")
    cpu: dict[str, float] = row["cpu_ms_per_task"]  # type: ignore[assignment]
    verdict = "met" if float(row["ratio"]) >= GOAL_RATIO else "MISSED"  # type: ignore[arg-type]
    append_section(
        "bench-throughput",
        [
            f"- {row['tasks']} trust-1 tasks, {WORKERS} workers, {BLOCK_TIME_S:.0f}-s blocks: "
            f"{row['tasks_per_second']} tasks/s ({row['steady_tasks_per_second']} steady)",
            f"- gas per task {row['gas_per_task']:,}; chain capacity "
            f"{row['capacity_tasks_per_second']} tasks/s; ratio {row['ratio']} "
            f"(goal ≥ {GOAL_RATIO}, {verdict})",
            "- CPU ms per task: "
            + ", ".join(f"{name} {ms}" for name, ms in cpu.items() if not name[-1].isdigit()),
        ],
    )
    console.print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
