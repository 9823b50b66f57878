"""`pnyx run` and `pnyx result get`: buy an execution at market price, get its verified result."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.live import Live
from rich.table import Table

from pnyx.chain.protocol import MatchedDeal, Protocol
from pnyx.cli._context import (
    DeploymentOption,
    DevAccountOption,
    MarketOption,
    RpcOption,
    WalletOption,
    connect,
    market_url,
    output,
    signer,
)
from pnyx.clients.market import MarketClient
from pnyx.domain._hex import to_address, to_hex32
from pnyx.sdk.run import Progress, RunRequest, TaskResult, buy, fetch_result, follow

result_app = typer.Typer(help="Download results.", no_args_is_help=True)


def run(
    ctx: typer.Context,
    app_address: str = typer.Argument(..., metavar="APP", help="The app to run"),
    dataset: str = typer.Option(None, help="A dataset to run it on"),
    workerpool: str = typer.Option(None, help="Only this workerpool"),
    trust: int = typer.Option(
        1, help="Required trust: 1 = one worker; 8 = three agreeing fresh workers"
    ),
    category: int = typer.Option(0, help="Category (0 = XS, 300 s)"),
    args: str = typer.Option("", "--args", help="The app's arguments"),
    input_file: list[str] = typer.Option(
        [], "--input-file", help="URL of an input file (repeatable)"
    ),
    callback: str = typer.Option(None, help="EIP-1154 consumer contract"),
    tag: list[str] = typer.Option([], "--tag", help="Required tag (tee, gpu…)"),
    watch: bool = typer.Option(True, "--watch/--no-watch", help="Follow the task to its result"),
    out: Path = typer.Option(
        None, "--output", help="Where to extract the result (default ./pnyx-results/TASK)"
    ),
    timeout: float = typer.Option(600, help="Seconds to wait for the result"),
    market: str = MarketOption,
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Buy one execution of APP at market price, then follow it to its verified result."""
    protocol, key = connect(rpc, deployment), signer(wallet, dev_account)
    request = RunRequest(
        app=to_address(app_address),
        dataset=to_address(dataset) if dataset else None,
        workerpool=to_address(workerpool) if workerpool else None,
        trust=trust,
        category=category,
        args=args,
        input_files=tuple(input_file),
        callback=to_address(callback) if callback else to_address("0x" + "00" * 20),
        tags=tuple(tag),
    )
    client = MarketClient(market_url(market))
    try:
        matched = buy(protocol, client, key, request)
    finally:
        client.close()
    task_id = matched.task_ids[0]
    out_ = output(ctx)
    out_.message(f"deal {matched.deal_id}\ntask {task_id}")
    if not watch:
        out_.emit({"deal_id": matched.deal_id, "task_id": task_id})
        return
    view = _follow(ctx, protocol, matched, task_id, timeout)
    if view != "COMPLETED":
        out_.emit({"deal_id": matched.deal_id, "task_id": task_id, "status": view})
        raise typer.Exit(1)
    result = fetch_result(protocol, task_id, from_block=matched.block_number)
    _show_result(ctx, result, out, deal_id=matched.deal_id)


@result_app.command("get")
def get(
    ctx: typer.Context,
    task_id: str = typer.Argument(..., help="0x-hex task id"),
    out: Path = typer.Option(
        None, "--output", help="Where to extract it (default ./pnyx-results/TASK)"
    ),
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
) -> None:
    """Download a completed task's result archive, check it against the chain and extract it."""
    result = fetch_result(connect(rpc, deployment), to_hex32(task_id))
    _show_result(ctx, result, out)


def _follow(
    ctx: typer.Context, protocol: Protocol, matched: MatchedDeal, task_id: str, timeout: float
) -> str:
    out = output(ctx)
    if out.as_json:
        return follow(protocol, matched, task_id, timeout_s=timeout).status.name
    with Live(
        _progress_table(Progress(task_id)), console=out.console, refresh_per_second=8
    ) as live:
        view = follow(
            protocol,
            matched,
            task_id,
            timeout_s=timeout,
            on_progress=lambda progress: live.update(_progress_table(progress)),
        )
    if not out.console.is_terminal:
        out.console.line()  # Live leaves its last frame unterminated when not on a terminal
    return view.status.name


def _progress_table(progress: Progress) -> Table:
    table = Table(
        title=f"task {progress.task_id[:18]}…  {progress.elapsed_s:5.1f} s", show_header=False
    )
    table.add_row("on chain", progress.chain_status)
    table.add_row("scheduler", progress.scheduler_state)
    for worker, state in progress.replicates.items():
        table.add_row(f"worker {worker[:10]}…", state)
    return table


def _show_result(
    ctx: typer.Context, result: TaskResult, out: Path | None, *, deal_id: str | None = None
) -> None:
    folder = out or Path("pnyx-results") / result.task_id
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in result.files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    summary: dict[str, object] = {
        "task_id": result.task_id,
        "status": result.status.name,
        "digest": result.digest,
        "archive": result.link,
        "extracted_to": str(folder),
        "files": sorted(result.files),
    }
    if deal_id:
        summary["deal_id"] = deal_id
    for name in ("result.json", "error.txt"):
        if name in result.files:
            text = result.files[name].decode(errors="replace").strip()
            try:
                summary[name] = json.loads(text)
            except ValueError:
                summary[name] = text
    output(ctx).emit(summary, title="result")
