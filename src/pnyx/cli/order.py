"""`pnyx order sign|match|cancel|show|publish|unpublish`: signed orders as JSON files, on chain
and in the market."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import typer

from pnyx.api.schemas.market import OrderKind, OrderRead
from pnyx.chain.protocol import Protocol
from pnyx.cli._context import (
    DeploymentOption,
    DevAccountOption,
    MarketOption,
    RpcOption,
    WalletOption,
    connect,
    market_url,
    output,
    parse_tokens,
    signer,
)
from pnyx.clients.market import MarketClient
from pnyx.domain._hex import to_address
from pnyx.domain.orders import (
    ORDER_TYPES,
    AppOrder,
    DatasetOrder,
    Order,
    OrderOperation,
    RequestOrder,
    WorkerpoolOrder,
)
from pnyx.errors import PnyxInputError
from pnyx.sdk import Provider, Requester
from pnyx.sdk.market import publish as publish_order
from pnyx.sdk.market import unpublish as unpublish_order
from pnyx.types import ZERO_ADDRESS

_O = TypeVar("_O", bound=Order)

app = typer.Typer(
    help="Sign, match, cancel and inspect orders; publish them in the market.", no_args_is_help=True
)
sign_app = typer.Typer(
    help="Sign an order and print it (or write it with --out).", no_args_is_help=True
)
app.add_typer(sign_app, name="sign")

OutOption = typer.Option(None, "--out", help="Write the signed order to this file")
VolumeOption = typer.Option(1, help="How many tasks the order may feed")
TagOption = typer.Option(
    [], "--tag", help="Required tag bit: tee, scone, gramine, tdx, gpu (repeatable)"
)


def _address(value: str | None) -> Any:
    return to_address(value) if value else ZERO_ADDRESS


def _emit_order(ctx: typer.Context, protocol: Protocol, order: Order, out: Path | None) -> None:
    document = {
        "type": order.EIP712_NAME,
        "hash": order.digest(protocol.domain),
        "order": order.as_json(),
    }
    if out is not None:
        out.write_text(json.dumps(document, indent=2) + "\n")
    output(ctx).emit(document, title=order.EIP712_NAME)


def load_order(path: Path) -> Order:
    try:
        document = json.loads(path.read_text())
        return ORDER_TYPES[document["type"]].from_json(document["order"])
    except FileNotFoundError as exc:
        raise PnyxInputError(f"no order file {path}") from exc
    except (KeyError, ValueError, TypeError) as exc:
        raise PnyxInputError(f"{path} is not a signed order file ({exc})") from exc


@sign_app.command("app")
def sign_app_order(
    ctx: typer.Context,
    app_address: str = typer.Option(..., "--app"),
    price: str = typer.Option(..., help="Tokens per task"),
    volume: int = VolumeOption,
    tag: list[str] = TagOption,
    dataset_restrict: str = typer.Option(None),
    workerpool_restrict: str = typer.Option(None),
    requester_restrict: str = typer.Option(None),
    out: Path = OutOption,
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Sign an app order (as the app's owner)."""
    protocol = connect(rpc, deployment)
    order = Provider(protocol, signer(wallet, dev_account)).app_order(
        to_address(app_address),
        parse_tokens(price),
        volume=volume,
        tags=tuple(tag),
        dataset_restrict=_address(dataset_restrict),
        workerpool_restrict=_address(workerpool_restrict),
        requester_restrict=_address(requester_restrict),
    )
    _emit_order(ctx, protocol, order, out)


@sign_app.command("dataset")
def sign_dataset_order(
    ctx: typer.Context,
    dataset: str = typer.Option(...),
    price: str = typer.Option(..., help="Tokens per task"),
    volume: int = VolumeOption,
    tag: list[str] = TagOption,
    app_restrict: str = typer.Option(None),
    workerpool_restrict: str = typer.Option(None),
    requester_restrict: str = typer.Option(None),
    out: Path = OutOption,
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Sign a dataset order (as the dataset's owner)."""
    protocol = connect(rpc, deployment)
    order = Provider(protocol, signer(wallet, dev_account)).dataset_order(
        to_address(dataset),
        parse_tokens(price),
        volume=volume,
        tags=tuple(tag),
        app_restrict=_address(app_restrict),
        workerpool_restrict=_address(workerpool_restrict),
        requester_restrict=_address(requester_restrict),
    )
    _emit_order(ctx, protocol, order, out)


@sign_app.command("workerpool")
def sign_workerpool_order(
    ctx: typer.Context,
    workerpool: str = typer.Option(...),
    price: str = typer.Option(..., help="Tokens per task"),
    volume: int = VolumeOption,
    category: int = typer.Option(0),
    trust: int = typer.Option(1, help="Highest trust the pool accepts"),
    tag: list[str] = TagOption,
    app_restrict: str = typer.Option(None),
    dataset_restrict: str = typer.Option(None),
    requester_restrict: str = typer.Option(None),
    out: Path = OutOption,
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Sign a workerpool order (as the pool's owner, its scheduler)."""
    protocol = connect(rpc, deployment)
    order = Provider(protocol, signer(wallet, dev_account)).workerpool_order(
        to_address(workerpool),
        parse_tokens(price),
        volume=volume,
        category=category,
        trust=trust,
        tags=tuple(tag),
        app_restrict=_address(app_restrict),
        dataset_restrict=_address(dataset_restrict),
        requester_restrict=_address(requester_restrict),
    )
    _emit_order(ctx, protocol, order, out)


@sign_app.command("request")
def sign_request_order(
    ctx: typer.Context,
    app_address: str = typer.Option(..., "--app"),
    app_max_price: str = typer.Option("0"),
    dataset: str = typer.Option(None),
    dataset_max_price: str = typer.Option("0"),
    workerpool: str = typer.Option(None, help="Only this workerpool (default: any)"),
    workerpool_max_price: str = typer.Option("0"),
    volume: int = VolumeOption,
    category: int = typer.Option(0),
    trust: int = typer.Option(1),
    tag: list[str] = TagOption,
    params: str = typer.Option("", help="Execution parameters (JSON)"),
    beneficiary: str = typer.Option(None),
    callback: str = typer.Option(None, help="EIP-1154 consumer contract"),
    out: Path = OutOption,
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Sign a request order (as the requester)."""
    protocol = connect(rpc, deployment)
    requester = Requester(protocol, signer(wallet, dev_account))
    order = requester.request_order(
        to_address(app_address),
        app_max_price=parse_tokens(app_max_price),
        dataset=_address(dataset),
        dataset_max_price=parse_tokens(dataset_max_price),
        workerpool=_address(workerpool),
        workerpool_max_price=parse_tokens(workerpool_max_price),
        volume=volume,
        category=category,
        trust=trust,
        tags=tuple(tag),
        params=params,
        beneficiary=to_address(beneficiary) if beneficiary else None,
        callback=_address(callback),
    )
    _emit_order(ctx, protocol, order, out)


@app.command("match")
def match(
    ctx: typer.Context,
    app_file: Path = typer.Option(..., "--app", help="Signed app order file"),
    workerpool_file: Path = typer.Option(..., "--workerpool", help="Signed workerpool order file"),
    request_file: Path = typer.Option(..., "--request", help="Signed request order file"),
    dataset_file: Path = typer.Option(None, "--dataset", help="Signed dataset order file"),
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Match signed orders into a deal (anyone may send it; the requester pays)."""
    protocol = connect(rpc, deployment)
    orders = (
        _load_as(app_file, AppOrder),
        _load_as(dataset_file, DatasetOrder) if dataset_file else None,
        _load_as(workerpool_file, WorkerpoolOrder),
        _load_as(request_file, RequestOrder),
    )
    matched, _ = protocol.match_orders(signer(wallet, dev_account), *orders)
    output(ctx).emit(
        {"deal_id": matched.deal_id, "volume": matched.volume, "tasks": matched.task_ids},
        title="deal",
    )


def _load_as(path: Path, kind: type[_O]) -> _O:
    order = load_order(path)
    if not isinstance(order, kind):
        raise PnyxInputError(f"{path} holds a {order.EIP712_NAME}, not a {kind.EIP712_NAME}")
    return order


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Signed order file"),
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Close an order on chain so its remaining volume can never be matched (owner only)."""
    protocol, order = connect(rpc, deployment), load_order(file)
    protocol.manage_order(signer(wallet, dev_account), order, OrderOperation.CLOSE)
    _show(ctx, protocol, order)


@app.command("show")
def show(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Signed order file"),
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
) -> None:
    """Show an order's hash, consumed and remaining volume."""
    _show(ctx, connect(rpc, deployment), load_order(file))


def _show(ctx: typer.Context, protocol: Protocol, order: Order) -> None:
    digest = order.digest(protocol.domain)
    consumed = protocol.consumed(digest)
    volume = int(getattr(order, "volume"))  # noqa: B009 - every order type has a volume
    output(ctx).emit(
        {
            "type": order.EIP712_NAME,
            "hash": digest,
            "volume": volume,
            "consumed": consumed,
            "remaining": max(volume - consumed, 0),
            "presigned_by": protocol.presigner(digest),
        },
        title="order",
    )


@app.command("publish")
def publish(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Signed order file (from `pnyx order sign --out`)"),
    market: str = MarketOption,
) -> None:
    """Publish a signed order in the market's book, where buyers find it."""
    order = load_order(file)
    client = MarketClient(market_url(market))
    try:
        published = publish_order(client, order)
    finally:
        client.close()
    _emit_published(ctx, published)


@app.command("unpublish")
def unpublish(
    ctx: typer.Context,
    kind: OrderKind = typer.Argument(
        ..., metavar="KIND", help="The book: app, dataset, workerpool or request"
    ),
    order_hash: str = typer.Argument(..., metavar="HASH", help="The order's 0x-hex hash"),
    market: str = MarketOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Take an open order off the market's book (signed by its owner). It stays valid on chain:
    `pnyx order cancel` closes it there."""
    owner = signer(wallet, dev_account)
    client = MarketClient(market_url(market))
    try:
        withdrawn = unpublish_order(client, owner, kind, order_hash)
    finally:
        client.close()
    _emit_published(ctx, withdrawn)


def _emit_published(ctx: typer.Context, read: OrderRead) -> None:
    data: dict[str, object] = {
        "hash": read.hash,
        "kind": read.kind.value,
        "status": read.status.value,
        "remaining": read.remaining,
        "owner": read.owner,
    }
    if read.dead_reason:
        data["reason"] = read.dead_reason
    output(ctx).emit(data, title="order")
