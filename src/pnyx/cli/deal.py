"""`pnyx deal show|claim`: a deal's record (read back from its DealCreated event) and its tasks;
the requester's refund for the tasks that missed the final deadline."""

from __future__ import annotations

from pathlib import Path

import typer

from pnyx.cli._context import (
    DeploymentOption,
    DevAccountOption,
    RpcOption,
    WalletOption,
    connect,
    format_tokens,
    output,
    signer,
)
from pnyx.domain._hex import to_hex32
from pnyx.sdk.refunds import claim_deal

app = typer.Typer(help="Inspect deals; claim refunds.", no_args_is_help=True)


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


@app.command("claim")
def claim(
    ctx: typer.Context,
    deal_id: str = typer.Argument(..., help="0x-hex deal id"),
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Claim every unfinished task of a deal past its final deadline: the requester is refunded.

    Anyone may send the claim (the refund always goes to the deal's requester)."""
    deal = to_hex32(deal_id)
    refund = claim_deal(connect(rpc, deployment), signer(wallet, dev_account), deal)
    out = output(ctx)
    if out.as_json:
        data = refund.as_json()
        for key in ("refunded", "requester_free", "requester_locked"):
            data[key] = format_tokens(data[key])
        out.emit(data)
        return
    out.message(
        f"claimed {len(refund.claimed)} task(s) of deal {refund.deal_id}: "
        f"{format_tokens(refund.refunded)} tokens back to {refund.requester}"
    )
    out.emit(
        {
            "claimed": "\n".join(refund.claimed),
            **{f"skipped {task}": status for task, status in refund.skipped.items()},
            "requester free": format_tokens(refund.requester_account.free),
            "requester locked": format_tokens(refund.requester_account.locked),
        },
        title="refund",
    )
