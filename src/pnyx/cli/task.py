"""`pnyx task show`: a task on chain (status, consensus, contributions, results) and at its
workerpool's scheduler (state, each replicate's timeline and exit cause, and the app's logs for
the requester); `--watch` follows it until the chain says COMPLETED or FAILED."""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from pnyx.cli._context import (
    DeploymentOption,
    DevAccountOption,
    RpcOption,
    WalletOption,
    connect,
    optional_signer,
    output,
)
from pnyx.domain._hex import to_hex32
from pnyx.sdk.tasks import OffChainView, TaskReport, inspect_task, watch_task

app = typer.Typer(help="Inspect tasks.", no_args_is_help=True)

LOG_LINES = 20


@app.command("show")
def show(
    ctx: typer.Context,
    task_id: str = typer.Argument(..., help="0x-hex task id"),
    watch: bool = typer.Option(False, "--watch", help="Refresh until COMPLETED or FAILED"),
    timeout: float = typer.Option(600, help="Seconds --watch waits at most"),
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Show a task on chain and at its scheduler; the requester's key (--wallet, --dev-account)
    also shows the app's logs."""
    task = to_hex32(task_id)
    protocol = connect(rpc, deployment)
    reader = optional_signer(wallet, dev_account)
    out = output(ctx)
    if not watch:
        report = inspect_task(protocol, task, reader=reader)
    elif out.as_json:
        report = watch_task(protocol, task, reader=reader, timeout_s=timeout)
    else:
        with Live(console=out.console, refresh_per_second=4, transient=True) as live:
            report = watch_task(
                protocol,
                task,
                reader=reader,
                timeout_s=timeout,
                on_report=lambda r: live.update(render_report(r, with_logs=False)),
            )
    if out.as_json:
        out.emit(report.as_json())
    else:
        out.console.print(render_report(report))


def render_report(report: TaskReport, *, with_logs: bool = True) -> RenderableType:
    """The report as Rich renderables: the chain's view, then the scheduler's."""
    parts: list[RenderableType] = [_chain_table(report)]
    if report.contributions:
        parts.append(_contributions_table(report))
    offchain = report.offchain
    if offchain.task is None:
        parts.append(Text(f"off-chain view unavailable: {offchain.error}", style="yellow"))
        return Group(*parts)
    parts.append(_timeline_table(offchain))
    if offchain.task.replicates:
        parts.append(_replicates_table(report))
    if with_logs:
        parts.extend(_logs(report))
    return Group(*parts)


def _chain_table(report: TaskReport) -> Table:
    view = report.view
    table = Table(title="on chain", show_header=False, title_justify="left")
    table.add_row("task", view.task_id)
    table.add_row("status", _status(view.status.name))
    table.add_row("deal", report.deal_id or "— (not initialized yet)")
    counts = f"{view.contributor_count} / {view.reveal_count} / {view.winner_count}"
    table.add_row("contributors / revealed / winners", counts)
    if view.reveal_deadline:
        table.add_row("reveal deadline", _time(view.reveal_deadline))
    if int(view.consensus_value, 16):
        table.add_row("consensus", view.consensus_value)
    if report.results is not None:
        table.add_row("results", Text(report.results))
    if report.results_callback not in (None, "0x"):
        table.add_row("results callback", str(report.results_callback))
    return table


def _contributions_table(report: TaskReport) -> Table:
    table = Table(title="contributions", title_justify="left")
    for column in ("worker", "status", "result hash", "weight"):
        table.add_column(column)
    for c in report.contributions:
        table.add_row(c.worker, c.status.name, c.result_hash, str(c.weight))
    return table


def _timeline_table(offchain: OffChainView) -> Table:
    assert offchain.task is not None
    table = Table(
        title=f"scheduler {offchain.scheduler_url} — task {_status(offchain.task.state)}",
        show_header=False,
        title_justify="left",
    )
    table.add_row("timeline", _timeline(offchain.task.history))
    return table


def _replicates_table(report: TaskReport) -> Table:
    assert report.offchain.task is not None
    table = Table(title="replicates", title_justify="left")
    for column in ("worker", "state", "exit cause", "timeline"):
        table.add_column(column, overflow="fold")
    for replicate in report.offchain.task.replicates:
        table.add_row(
            replicate.worker,
            _status(replicate.state),
            replicate.exit_cause or "—",
            _timeline(replicate.history),
        )
    return table


def _logs(report: TaskReport) -> list[RenderableType]:
    offchain = report.offchain
    if offchain.logs_error is not None:
        return [Text(f"logs unavailable: {offchain.logs_error}", style="yellow")]
    if offchain.logs is None:
        return [Text("logs: the requester's key (--wallet, --dev-account) shows them", "dim")]
    panels: list[RenderableType] = []
    for replicate in offchain.logs.replicates:
        body = Text()
        for name, text in (("stdout", replicate.stdout), ("stderr", replicate.stderr)):
            lines = text.rstrip("\n").splitlines()
            if not lines:
                continue
            if len(lines) > LOG_LINES:
                lines = [f"… {len(lines) - LOG_LINES} earlier lines", *lines[-LOG_LINES:]]
            body.append(f"{name}\n", style="bold")
            body.append("\n".join(lines) + "\n")
        body.rstrip()
        if not body.plain:
            body.append("(no output)", style="dim")
        cause = f" — {replicate.exit_cause}" if replicate.exit_cause else ""
        panels.append(Panel(body, title=f"logs of {replicate.worker}{cause}", title_align="left"))
    return panels


def _timeline(history: list[dict[str, Any]]) -> Text:
    """`HH:MM:SS.mmm STATE (details)` per line, oldest first."""
    text = Text()
    for i, entry in enumerate(history):
        if i:
            text.append("\n")
        at = str(entry.get("at", ""))
        with contextlib.suppress(ValueError):
            at = datetime.fromisoformat(at).astimezone().strftime("%H:%M:%S.%f")[:-3]
        text.append(f"{at} ")
        text.append(str(entry.get("state", "?")), style="bold")
        details = {k: v for k, v in entry.items() if k not in ("at", "state")}
        if details:
            text.append(" (" + ", ".join(f"{k}={v}" for k, v in details.items()) + ")", "dim")
    return text


def _status(name: str) -> str:
    color = {"COMPLETED": "green", "FAILED": "red"}.get(name)
    return f"[{color}]{name}[/{color}]" if color else name


def _time(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
