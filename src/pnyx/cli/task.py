"""`pnyx task show`: a task's status, consensus and contributions."""

from __future__ import annotations

from pathlib import Path

import typer

from pnyx.cli._context import DeploymentOption, RpcOption, connect, output
from pnyx.domain._hex import to_hex32
from pnyx.domain.views import TaskStatus

app = typer.Typer(help="Inspect tasks.", no_args_is_help=True)


@app.command("show")
def show(
    ctx: typer.Context,
    task_id: str = typer.Argument(..., help="0x-hex task id"),
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
) -> None:
    """Show a task: status, counters, consensus, contributions, and its results once completed."""
    protocol = connect(rpc, deployment)
    task = protocol.task(to_hex32(task_id))
    data: dict[str, object] = {
        "task_id": task.task_id,
        "status": task.status.name,
        "contributors": task.contributor_count,
        "revealed": task.reveal_count,
        "winners": task.winner_count,
        "reveal_deadline": task.reveal_deadline,
        "consensus": task.consensus_value,
        "contributions": [
            {
                "worker": c.worker,
                "status": c.status.name,
                "result_hash": c.result_hash,
                "weight": c.weight,
            }
            for c in protocol.contributions(task.task_id)
        ],
    }
    if task.status == TaskStatus.COMPLETED:
        finalized = protocol.task_events(task.task_id, "TaskFinalized")
        if finalized:
            data["results"] = bytes(finalized[-1]["results"]).decode(errors="replace")
        data["results_callback"] = "0x" + protocol.result_for(task.task_id).hex()
    output(ctx).emit(data, title="task")
