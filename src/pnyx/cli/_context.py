"""What every command shares: output mode, where the chain and the deployment are, which key signs.

Options come from the command line or from `PNYX_CHAIN_*` / `PNYX_WALLET_*` environment variables.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import typer
from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.table import Table

from pnyx.chain.client import ChainClient
from pnyx.chain.deploy import Deployment
from pnyx.chain.node import DEV_MNEMONIC
from pnyx.chain.protocol import Protocol
from pnyx.chain.signing import account_from_key, dev_account
from pnyx.chain.wallet import load_wallet
from pnyx.config import home_dir, setting
from pnyx.domain._hex import to_address
from pnyx.errors import NotFoundError, PnyxInputError, WalletError
from pnyx.types import NANO_PER_TOKEN, Address

DEFAULT_RPC = "http://127.0.0.1:8545"

RpcOption = typer.Option(None, "--rpc", help="JSON-RPC URL of the chain [env PNYX_CHAIN_URL]")
DeploymentOption = typer.Option(
    None,
    "--deployment",
    help="Deployment file [env PNYX_CHAIN_DEPLOYMENT, default ~/.pnyx/deployment.json]",
)
WalletOption = typer.Option(None, "--wallet", help="Keystore wallet name [env PNYX_WALLET_NAME]")
DevAccountOption = typer.Option(
    None, "--dev-account", help="Use development account N of a local chain (anvil's funded keys)"
)


@dataclass
class Output:
    """Prints for humans (Rich) or for machines (`--json`)."""

    as_json: bool
    console: Console

    def emit(self, data: Any, *, title: str | None = None) -> None:
        if self.as_json:
            typer.echo(json.dumps(data, indent=2, default=str))
            return
        if isinstance(data, dict):
            table = Table(title=title, show_header=False)
            for key, value in data.items():
                table.add_row(str(key), _render(value))
            self.console.print(table)
        else:
            self.console.print(_render(data))

    def message(self, text: str) -> None:
        if not self.as_json:
            self.console.print(text)


def _render(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def output(ctx: typer.Context) -> Output:
    return ctx.obj["output"]  # type: ignore[no-any-return]


def deployment_file(path: Path | None) -> Path:
    chosen = path or setting("chain", "deployment")
    return Path(chosen) if chosen else home_dir() / "deployment.json"


def connect(rpc: str | None, deployment: Path | None) -> Protocol:
    return Protocol(chain_client(rpc), Deployment.load(deployment_file(deployment)))


def chain_client(rpc: str | None) -> ChainClient:
    """The chain at the option, PNYX_CHAIN_URL, or the default local node."""
    return ChainClient(rpc or setting("chain", "url") or DEFAULT_RPC)


def parse_address(text: str) -> Address:
    try:
        return to_address(text.strip())
    except PnyxInputError:
        raise PnyxInputError(f"not an address: {text!r}") from None


def require_contract(client: ChainClient, address: str) -> Address:
    """The checked address, once there is code at it: a clear error beats a failing call."""
    checked = parse_address(address)
    if not client.w3.eth.get_code(checked):  # type: ignore[arg-type]
        raise NotFoundError(f"no contract at {checked} on chain {client.chain_id}")
    return checked


def signer(wallet: str | None, dev_account_index: int | None) -> LocalAccount:
    """The signing key: a dev account, a keystore wallet, or PNYX_WALLET_PRIVATE_KEY."""
    if dev_account_index is not None:
        return dev_account(dev_account_index, DEV_MNEMONIC)
    name = wallet or setting("wallet", "name")
    if name:
        password = setting("wallet", "password")
        if password is None:
            password = typer.prompt(f"password for wallet {name}", hide_input=True)
        return load_wallet(wallets_dir(), name, password)
    key = os.environ.get("PNYX_WALLET_PRIVATE_KEY")
    if key:
        return account_from_key(key)
    raise WalletError(
        "no signing key: pass --wallet NAME, --dev-account N or set PNYX_WALLET_PRIVATE_KEY"
    )


def optional_signer(wallet: str | None, dev_account_index: int | None) -> LocalAccount | None:
    """The signing key if one is configured (see `signer`), else None: for commands that only
    need a key for part of what they show."""
    configured = (
        dev_account_index is not None
        or wallet
        or setting("wallet", "name")
        or os.environ.get("PNYX_WALLET_PRIVATE_KEY")
    )
    return signer(wallet, dev_account_index) if configured else None


MarketOption = typer.Option(
    None, "--market", help="Market URL [env PNYX_MARKET_URL, else the running devnet's]"
)


def market_url(url: str | None) -> str:
    """The market to use: the option, PNYX_MARKET_URL, or the devnet started by `pnyx devnet up`."""
    chosen = url or setting("market", "url")
    if chosen:
        return chosen
    info = devnet_info()
    if "market_url" in info:
        return str(info["market_url"])
    raise PnyxInputError(
        "no market: pass --market URL, set PNYX_MARKET_URL, or start `pnyx devnet up`"
    )


SmsOption = typer.Option(
    None, "--sms", help="SMS URL [env PNYX_SMS_URL, else the running devnet's]"
)


def sms_url(url: str | None) -> str:
    """The secret management service to use: the option, PNYX_SMS_URL, or the devnet's."""
    chosen = url or setting("sms", "url")
    if chosen:
        return chosen
    info = devnet_info()
    if "sms_url" in info:
        return str(info["sms_url"])
    raise PnyxInputError("no SMS: pass --sms URL, set PNYX_SMS_URL, or start `pnyx devnet up`")


def devnet_info() -> dict[str, Any]:
    path = home_dir() / "devnet.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data


def wallets_dir() -> Path:
    return home_dir() / "wallets"


def parse_tokens(text: str) -> int:
    """A token amount ("1.5") in nano-tokens; the token has 9 decimals."""
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise PnyxInputError(f"not an amount: {text!r}") from exc
    nano = value * NANO_PER_TOKEN
    if value < 0 or nano != nano.to_integral_value():
        raise PnyxInputError(f"amount must be positive with at most 9 decimals: {text!r}")
    return int(nano)


def format_tokens(nano: int) -> str:
    return f"{Decimal(nano) / NANO_PER_TOKEN:f}"
