"""`make demo`: the whole marketplace on this machine, and three tasks bought through `pnyx run`.

A devnet starts (anvil, the deployed protocol, the market, the result store, a scheduler and three
workers, each its own process); example apps, a dataset and their orders are published. Then, as a
user would, `pnyx run` buys:

1. the WASM word-count app at trust 8 — three agreeing fresh workers, each running it in the
   wasmtime sandbox, commit their result; one reveal proves all three; the scheduler finalizes;
2. the native Python statistics app on the example dataset at trust 1 — one worker contributes and
   finalizes in one transaction;
3. the same app as a TEE task on an encrypted dataset: a (SIMULATED) enclave on a TEE-capable
   worker attests to the SMS, receives the dataset key, runs the app, seals the result for the
   requester and signs it; one `contributeAndFinalize`; the requester decrypts the result.

Each result is downloaded from the result store, checked against the chain and printed, then the
escrow balance of every party: what the requester paid is exactly what the app developer, the
dataset owner, the scheduler and the workers earned, and every stake is released. Everything stops
at the end (or on Ctrl-C).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pnyx.devnet.marketplace import FIRST_WORKER_ACCOUNT, Marketplace, start_marketplace
from pnyx.domain.views import AccountView
from pnyx.types import NANO_PER_TOKEN

WORDCOUNT_ARGS = "the quick brown fox jumps over the lazy dog the fox"
STATS_ARGS = "1.5 2.5"


@dataclass(frozen=True)
class DemoTask:
    name: str
    task_id: str
    status: str
    result: object


@dataclass(frozen=True)
class DemoOutcome:
    tasks: list[DemoTask]
    # party → (change of free balance, change of locked stake), in nano-tokens
    balance_changes: dict[str, tuple[int, int]]

    @property
    def completed(self) -> bool:
        return all(task.status == "COMPLETED" for task in self.tasks)


def run_demo(console: Console | None = None, *, workers: int = 3) -> DemoOutcome:
    console = console or Console()
    with tempfile.TemporaryDirectory(prefix="pnyx-demo-") as folder:
        home = Path(folder)
        console.print("[bold]Starting the devnet (anvil, contracts, services, workers)…[/bold]")
        with start_marketplace(home, workers=workers) as market:
            info = market.info()
            (home / "devnet.json").write_text(json.dumps(info, indent=2))
            for key in ("chain", "market_url", "results_url", "scheduler_url", "sms_url", "logs"):
                console.print(f"  {key:<14} {info[key]}")
            before = _balances(market)
            tasks = [
                _run(
                    console,
                    market,
                    "word count (WASM, trust 8: 3 workers)",
                    [
                        str(market.assets["wasm_app"]),
                        "--trust",
                        "8",
                        "--args",
                        WORDCOUNT_ARGS,
                    ],
                ),  # fmt: skip
                _run(
                    console,
                    market,
                    "statistics (Python, trust 1, dataset)",
                    [
                        str(market.assets["python_app"]),
                        "--dataset",
                        str(market.assets["dataset"]),
                        "--args",
                        STATS_ARGS,
                    ],
                ),  # fmt: skip
                _run(
                    console,
                    market,
                    "confidential statistics (TEE, simulated enclave, encrypted data and result)",
                    [
                        str(market.assets["tee_app"]),
                        "--dataset",
                        str(market.assets["confidential_dataset"]),
                        "--tag",
                        "tee",
                        "--decrypt",
                    ],
                    decrypt=True,
                ),  # fmt: skip
            ]
            changes = {
                party: (now.free - before[party].free, now.locked - before[party].locked)
                for party, now in _balances(market).items()
            }
            console.print(_balance_table(changes))
        console.print("[bold]Devnet stopped.[/bold]")
        return DemoOutcome(tasks, changes)


def _balances(market: Marketplace) -> dict[str, AccountView]:
    accounts = market.devnet.accounts
    parties = {
        "requester": accounts[4].address,
        "app developer": accounts[1].address,
        "dataset owner": accounts[2].address,
        "scheduler": accounts[3].address,
    }
    for i in range(len(market.workers)):
        parties[f"worker {i + 1}"] = accounts[FIRST_WORKER_ACCOUNT + i].address
    protocol = market.devnet.protocol
    return {party: protocol.account(address) for party, address in parties.items()}


def _balance_table(changes: dict[str, tuple[int, int]]) -> Table:
    table = Table(title="Escrow balance changes (tokens)")
    table.add_column("party")
    table.add_column("free", justify="right")
    table.add_column("locked", justify="right")
    for party, (free, locked) in changes.items():
        table.add_row(party, f"{free / NANO_PER_TOKEN:+.4f}", f"{locked / NANO_PER_TOKEN:+.4f}")
    total = sum(free for free, _ in changes.values())
    table.add_row("[bold]sum[/bold]", f"{total / NANO_PER_TOKEN:+.4f}", "")
    return table


def _run(
    console: Console, market: Marketplace, name: str, args: list[str], *, decrypt: bool = False
) -> DemoTask:
    console.rule(f"pnyx run — {name}")
    env = {
        **os.environ,
        "PNYX_HOME": str(market.home),
        "PNYX_CHAIN_URL": market.devnet.node.url,
        "PNYX_MARKET_URL": market.urls["market"],
        "COLUMNS": os.environ.get("COLUMNS", "110"),
    }
    command = [sys.executable, "-m", "pnyx.cli.main", "run", *args, "--dev-account", "4",
               "--output", str(market.home / "results-out" / name.split()[0])]  # fmt: skip
    console.print(
        "$ pnyx run " + " ".join(args[:1] + [a if " " not in a else repr(a) for a in args[1:]])
    )
    process = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    console.print(process.stdout.rstrip())
    if process.returncode != 0:
        console.print(f"[red]{process.stderr.strip()}[/red]")
        return DemoTask(name, "", "ERROR", process.stderr.strip())
    summary = _json_summary(env, process.stdout, decrypt=decrypt)
    return DemoTask(
        name,
        str(summary.get("task_id", "")),
        str(summary.get("status", "")),
        summary.get("result.json"),
    )


def _json_summary(env: dict[str, str], stdout: str, *, decrypt: bool) -> dict[str, object]:
    """The task id and result, read back with `pnyx --json result get` from the printed task id."""
    task_id = next(
        (line.split()[1] for line in stdout.splitlines() if line.startswith("task ")), ""
    )
    if not task_id:
        return {}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pnyx.cli.main",
            "--json",
            "result",
            "get",
            task_id,
            "--output",
            str(Path(env["PNYX_HOME"]) / "results-check" / task_id),
            *(["--decrypt"] if decrypt else []),
        ],  # fmt: skip
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        return {"task_id": task_id, "status": "UNVERIFIED"}
    data: dict[str, object] = json.loads(result.stdout)
    return data
