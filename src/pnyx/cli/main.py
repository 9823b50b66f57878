"""`pnyx`: the command-line entry point and its error boundary.

Any Pnyx error (a revert, bad input, no node) is printed as one line `error: …` with exit code 1;
`--debug` shows the traceback instead.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from pnyx.cli import (
    account,
    asset,
    chain,
    deal,
    devnet,
    oracle,
    order,
    orderbook,
    run,
    task,
    vote,
    wallet,
)
from pnyx.cli._context import Output
from pnyx.errors import PnyxError

app = typer.Typer(
    name="pnyx",
    help="Pnyx: a decentralized marketplace for computing and oracles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(chain.app, name="chain")
app.add_typer(wallet.app, name="wallet")
app.add_typer(account.app, name="account")
app.add_typer(asset.app_cli, name="app")
app.add_typer(asset.dataset_cli, name="dataset")
app.add_typer(asset.workerpool_cli, name="workerpool")
app.add_typer(order.app, name="order")
app.add_typer(orderbook.app, name="orderbook")
app.add_typer(deal.app, name="deal")
app.add_typer(task.app, name="task")
app.add_typer(run.result_app, name="result")
app.add_typer(devnet.app, name="devnet")
app.add_typer(oracle.app, name="oracle")
app.add_typer(vote.app, name="vote")
app.command("run")(run.run)


@app.callback()
def options(
    ctx: typer.Context,
    json_output: bool = typer.Option(False, "--json", help="Print machine-readable JSON"),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks instead of one-line errors"),
) -> None:
    ctx.obj = {"output": Output(as_json=json_output, console=Console()), "debug": debug}


@app.command()
def demo() -> None:
    """Start a devnet, buy two tasks with `pnyx run`, print their results, stop (`make demo`)."""
    from pnyx.devnet.demo import run_demo

    if not run_demo().completed:
        raise typer.Exit(1)


def main() -> None:
    debug = "--debug" in sys.argv
    try:
        # Typer ≥ 0.29 vendors click: in non-standalone mode `typer.Exit(n)` comes back as the
        # return value, and usage errors are `typer.TyperException`s (not click's).
        code = app(standalone_mode=False)
    except PnyxError as exc:
        if debug:
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except (ConnectionError, OSError) as exc:
        if debug:
            raise
        typer.echo(f"error: {exc.__class__.__name__}: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors keep their message and code
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"Error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
