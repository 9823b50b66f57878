"""`pnyx chain up`: a local chain with the protocol deployed, until Ctrl-C."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import FrameType

import typer

from pnyx.cli._context import deployment_file, format_tokens, output
from pnyx.devnet.network import start_devnet

app = typer.Typer(help="Run a local chain.", no_args_is_help=True)


@app.command("up")
def up(
    ctx: typer.Context,
    port: int = typer.Option(8545, help="Port on 127.0.0.1 (0 picks a free one)"),
    block_time: float = typer.Option(
        0, "--block-time", help="Seconds per block (0: mine on every tx)"
    ),
    deployment: Path = typer.Option(
        None, "--deployment", help="Where to write the deployment file"
    ),
) -> None:
    """Start anvil, deploy the protocol, fund the dev accounts; Ctrl-C stops everything."""
    out = output(ctx)
    path = deployment_file(deployment)
    # SIGTERM (kill, service managers) must stop anvil too, like Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    devnet = start_devnet(port=port or None, block_time_s=block_time or None, deployment_file=path)
    try:
        token = devnet.protocol
        accounts = [
            {"index": i, "address": a.address, "private_key": "0x" + bytes(a.key).hex(),
             "tokens": format_tokens(token.token_balance(a.address))}
            for i, a in enumerate(devnet.accounts)
        ]  # fmt: skip
        info = {
            "rpc": devnet.node.url,
            "chain_id": devnet.client.chain_id,
            "deployment_file": str(path),
            **{key: value for key, value in vars(devnet.deployment).items() if key != "chain_id"},
        }
        if out.as_json:
            out.emit({**info, "accounts": accounts})
        else:
            out.emit(info, title="Pnyx local chain")
            for account in accounts:
                index, address, tokens = account["index"], account["address"], account["tokens"]
                out.message(f"  dev account {index}: {address}  {tokens} PNYX")
            out.message("Development keys are public (anvil's mnemonic): never use them elsewhere.")
            out.message("Ctrl-C stops the chain.")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        out.message("stopping")
    finally:
        devnet.stop()


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt
