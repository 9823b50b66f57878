"""`pnyx account deposit|withdraw|show`: the escrow account on the hub."""

from __future__ import annotations

from pathlib import Path

import typer

from pnyx.chain.protocol import Protocol
from pnyx.cli._context import (
    DeploymentOption,
    DevAccountOption,
    RpcOption,
    WalletOption,
    connect,
    format_tokens,
    output,
    parse_tokens,
    signer,
)
from pnyx.domain._hex import to_address

app = typer.Typer(help="Deposit to and withdraw from the escrow.", no_args_is_help=True)


@app.command("deposit")
def deposit(
    ctx: typer.Context,
    amount: str = typer.Argument(..., help="Tokens, e.g. 12.5"),
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Approve the hub and deposit tokens into your escrow account."""
    protocol, key, nano = (
        connect(rpc, deployment),
        signer(wallet, dev_account),
        parse_tokens(amount),
    )
    protocol.approve(key, nano)
    protocol.deposit(key, nano)
    _show(ctx, protocol, key.address)


@app.command("withdraw")
def withdraw(
    ctx: typer.Context,
    amount: str = typer.Argument(..., help="Tokens, e.g. 12.5"),
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Withdraw free tokens from your escrow account."""
    protocol, key = connect(rpc, deployment), signer(wallet, dev_account)
    protocol.withdraw(key, parse_tokens(amount))
    _show(ctx, protocol, key.address)


@app.command("show")
def show(
    ctx: typer.Context,
    address: str = typer.Argument(None, help="Account address (default: your key's)"),
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Show free, locked and wallet balances and the worker score."""
    protocol = connect(rpc, deployment)
    who = to_address(address) if address else signer(wallet, dev_account).address
    _show(ctx, protocol, who)


def _show(ctx: typer.Context, protocol: Protocol, address: str) -> None:
    view = protocol.account(address)
    output(ctx).emit(
        {
            "address": address,
            "free": format_tokens(view.free),
            "locked": format_tokens(view.locked),
            "wallet": format_tokens(protocol.token_balance(address)),
            "score": view.score,
        },
        title="account",
    )
