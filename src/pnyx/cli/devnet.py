"""`pnyx devnet up`: the whole marketplace on this machine, until Ctrl-C."""

from __future__ import annotations

import json
import signal
import time
from types import FrameType

import typer

from pnyx.cli._context import output
from pnyx.config import home_dir
from pnyx.devnet.marketplace import start_marketplace

app = typer.Typer(help="Run a local marketplace.", no_args_is_help=True)


@app.command("up")
def up(
    ctx: typer.Context,
    workers: int = typer.Option(3, min=1, max=12, help="Workers in the devnet's workerpool"),
    block_time: float = typer.Option(
        0, "--block-time", help="Seconds per block (0: a block per transaction)"
    ),
    port: int = typer.Option(8545, help="The chain's port on 127.0.0.1"),
) -> None:
    """Start anvil, deploy, fund dev accounts, register example apps and a dataset, publish their
    orders, and run the market, the result store, a scheduler and its workers as processes."""
    out = output(ctx)
    home = home_dir()
    signal.signal(signal.SIGTERM, _interrupt)
    out.message("[bold]Starting the devnet…[/bold]")
    market = start_marketplace(home, workers=workers, block_time_s=block_time or None, port=port)
    try:
        info = market.info()
        (home / "devnet.json").write_text(json.dumps(info, indent=2) + "\n")
        out.emit(info, title="Pnyx devnet")
        out.message(
            "Try: pnyx run "
            + str(market.assets["wasm_app"])
            + " --trust 8 --args 'hello pnyx hello' --dev-account 4"
        )
        out.message("Ctrl-C stops every process.")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        out.message("stopping")
    finally:
        market.stop()
        (home / "devnet.json").unlink(missing_ok=True)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt
