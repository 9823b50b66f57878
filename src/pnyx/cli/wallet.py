"""`pnyx wallet create|import|show`: encrypted keystore files under ~/.pnyx/wallets."""

from __future__ import annotations

import typer

from pnyx.chain.signing import account_from_key, new_account
from pnyx.chain.wallet import list_wallets, save_wallet, wallet_address
from pnyx.cli._context import output, wallets_dir
from pnyx.config import setting
from pnyx.errors import PnyxInputError

app = typer.Typer(help="Manage encrypted keystore wallets.", no_args_is_help=True)

NameArgument = typer.Argument(..., help="Wallet name")


def _password() -> str:
    from_env = setting("wallet", "password")
    if from_env is not None:
        return from_env
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@app.command("create")
def create(ctx: typer.Context, name: str = NameArgument) -> None:
    """Create a new key and store it encrypted."""
    path = save_wallet(wallets_dir(), name, new_account(), _password())
    output(ctx).emit(
        {"name": name, "address": wallet_address(wallets_dir(), name), "file": str(path)}
    )


@app.command("import")
def import_(
    ctx: typer.Context,
    name: str = NameArgument,
    private_key: str = typer.Option(
        ..., "--private-key", prompt=True, hide_input=True, help="0x-hex key"
    ),
) -> None:
    """Store an existing private key encrypted."""
    try:
        account = account_from_key(private_key)
    except (ValueError, TypeError) as exc:
        raise PnyxInputError("not a valid private key") from exc
    path = save_wallet(wallets_dir(), name, account, _password())
    output(ctx).emit({"name": name, "address": account.address, "file": str(path)})


@app.command("show")
def show(
    ctx: typer.Context, name: str = typer.Argument(None, help="Wallet name (all if omitted)")
) -> None:
    """Show a wallet's address (no password needed), or list the wallets."""
    names = [name] if name else list_wallets(wallets_dir())
    rows = {n: wallet_address(wallets_dir(), n) for n in names}
    output(ctx).emit(rows, title=f"wallets in {wallets_dir()}")
