"""`pnyx deal show`: a deal's record (read back from its DealCreated event) and its tasks."""

from __future__ import annotations

from pathlib import Path

import typer

from pnyx.cli._context import DeploymentOption, RpcOption, connect, output
from pnyx.domain._hex import to_hex32

app = typer.Typer(help="Inspect deals.", no_args_is_help=True)


@app.command("show")
def show(
    ctx: typer.Context,
    deal_id: str = typer.Argument(..., help="0x-hex deal id"),
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
) -> None:
    """Show a deal's record and the status of each of its tasks."""
    protocol = connect(rpc, deployment)
    matched = protocol.find_deal(to_hex32(deal_id))
    tasks = {task_id: protocol.task(task_id).status.name for task_id in matched.task_ids}
    output(ctx).emit(
        {
            "deal_id": matched.deal_id,
            **matched.deal.as_json(),
            "params": matched.params,
            "tasks": tasks,
        },
        title="deal",
    )
