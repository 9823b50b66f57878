"""`pnyx devnet up`: the whole marketplace on this machine (and, with `--oracles`, an off-chain
reporting feed and its nodes), until Ctrl-C."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from types import FrameType

import typer

from pnyx.cli._context import output
from pnyx.config import home_dir
from pnyx.devnet.marketplace import start_marketplace
from pnyx.devnet.oracles import OracleNodes, start_oracle_nodes
from pnyx.services.oracle.config import Mechanism
from pnyx.services.scheduler.config import POLICY_NAMES

app = typer.Typer(help="Run a local marketplace.", no_args_is_help=True)


@app.command("up")
def up(
    ctx: typer.Context,
    workers: int = typer.Option(3, min=1, max=12, help="Workers in the devnet's workerpool"),
    block_time: float = typer.Option(
        0, "--block-time", help="Seconds per block (0: a block per transaction)"
    ),
    port: int = typer.Option(8545, help="The chain's port on 127.0.0.1"),
    oracles: bool = typer.Option(
        False, "--oracles", help="Also run an off-chain reporting feed: 4 nodes and a price source"
    ),
    scheduler_policy: str = typer.Option(
        "least-loaded",
        "--scheduler-policy",
        help=f"Who gets a task's replicates: {', '.join(POLICY_NAMES)}",
    ),
    social_graph: Path | None = typer.Option(
        None,
        "--social-graph",
        help="Edge list of worker addresses ('addrA addrB' per line), for social-distance",
    ),
) -> None:
    """Start anvil, deploy, fund dev accounts, register example apps and a dataset, publish their
    orders, and run the market, the result store, a scheduler and its workers as processes; with
    --oracles, also deploy an ETH/USD reporting feed and run its 4 nodes and a local price
    source."""
    out = output(ctx)
    home = home_dir()
    _check_policy(scheduler_policy, social_graph)
    signal.signal(signal.SIGTERM, _interrupt)
    out.message("[bold]Starting the devnet…[/bold]")
    market = start_marketplace(
        home,
        workers=workers,
        block_time_s=block_time or None,
        port=port,
        scheduler_policy=scheduler_policy,
        social_graph=social_graph,
    )
    nodes: OracleNodes | None = None
    try:
        info = market.info()
        if oracles:
            out.message("[bold]Starting the oracle nodes…[/bold]")
            nodes = start_oracle_nodes(market.devnet, home, mechanism=Mechanism.REPORTING)
            info["oracles"] = nodes.info()
        (home / "devnet.json").write_text(json.dumps(info, indent=2) + "\n")
        if out.as_json or nodes is None:
            out.emit(info, title="Pnyx devnet")
        else:
            out.emit({k: v for k, v in info.items() if k != "oracles"}, title="Pnyx devnet")
            shown = {
                **nodes.info(),
                "nodes": "\n".join(nodes.urls),
                "node_addresses": "\n".join(a.address for a in nodes.accounts),
            }
            out.emit(shown, title="Oracle feed")
        out.message(
            "Try: pnyx run "
            + str(market.assets["wasm_app"])
            + " --trust 8 --args 'hello pnyx hello' --dev-account 4"
        )
        if nodes is not None:
            out.message(f"Try: pnyx oracle status {nodes.feed_address}")
        out.message("Ctrl-C stops every process.")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        out.message("stopping")
    finally:
        if nodes is not None:
            nodes.stop()
        market.stop()
        (home / "devnet.json").unlink(missing_ok=True)


def _check_policy(policy: str, social_graph: Path | None) -> None:
    """Refuses a bad choice before anything starts (the scheduler would only fail at start-up)."""
    if policy not in POLICY_NAMES:
        raise typer.BadParameter(
            f"unknown policy {policy!r}: choose one of {', '.join(POLICY_NAMES)}",
            param_hint="--scheduler-policy",
        )
    if policy == "social-distance" and (social_graph is None or not social_graph.is_file()):
        raise typer.BadParameter(
            "the social-distance policy needs an existing edge-list file",
            param_hint="--social-graph",
        )


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt
