"""`pnyx orderbook app|dataset|workerpool|request`: a market book's open orders, cheapest first."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from pnyx.api.schemas.market import MAX_PAGE_SIZE, OrderKind
from pnyx.cli._context import MarketOption, format_tokens, market_url, output
from pnyx.clients.market import MarketClient
from pnyx.sdk.market import Book, BookFilter, read_book

app = typer.Typer(help="Browse the market's open orders, cheapest first.", no_args_is_help=True)

OwnerOption = typer.Option(None, "--owner", help="Only orders signed by this address")
AppOption = typer.Option(None, "--app", help="The app (app book: its orders; else: usable with it)")
DatasetOption = typer.Option(
    None, "--dataset", help="The dataset (dataset book: its orders; else: usable with it)"
)
WorkerpoolOption = typer.Option(
    None, "--workerpool", help="The workerpool (its book: its orders; else: usable by it)"
)
RequesterOption = typer.Option(
    None, "--requester", help="Orders open to this requester (request book: its requests)"
)
CategoryOption = typer.Option(None, "--category", help="Only this category")
MinTrustOption = typer.Option(None, "--min-trust", help="Trust at least this")
MaxTrustOption = typer.Option(None, "--max-trust", help="Trust at most this")
MinVolumeOption = typer.Option(None, "--min-volume", help="At least this volume left")
TagOption = typer.Option(
    [], "--tag", help="Only orders with this tag bit: tee, scone, gramine, tdx, gpu (repeatable)"
)
PageOption = typer.Option(1, "--page", min=1, help="Page number, from 1")
PageSizeOption = typer.Option(20, "--page-size", min=1, max=MAX_PAGE_SIZE, help="Orders per page")


@app.command("app")
def app_book(
    ctx: typer.Context,
    app_address: str = AppOption,
    dataset: str = DatasetOption,
    workerpool: str = WorkerpoolOption,
    requester: str = RequesterOption,
    owner: str = OwnerOption,
    min_volume: int = MinVolumeOption,
    tag: list[str] = TagOption,
    page: int = PageOption,
    page_size: int = PageSizeOption,
    market: str = MarketOption,
) -> None:
    """App orders: the price of running an app."""
    book_filter = BookFilter(
        owner=owner,
        app=app_address,
        dataset=dataset,
        workerpool=workerpool,
        requester=requester,
        min_volume=min_volume,
        tags=tuple(tag),
    )
    _show(ctx, OrderKind.APP, book_filter, page, page_size, market)


@app.command("dataset")
def dataset_book(
    ctx: typer.Context,
    dataset: str = DatasetOption,
    app_address: str = AppOption,
    workerpool: str = WorkerpoolOption,
    requester: str = RequesterOption,
    owner: str = OwnerOption,
    min_volume: int = MinVolumeOption,
    tag: list[str] = TagOption,
    page: int = PageOption,
    page_size: int = PageSizeOption,
    market: str = MarketOption,
) -> None:
    """Dataset orders: the price of using a dataset."""
    book_filter = BookFilter(
        owner=owner,
        app=app_address,
        dataset=dataset,
        workerpool=workerpool,
        requester=requester,
        min_volume=min_volume,
        tags=tuple(tag),
    )
    _show(ctx, OrderKind.DATASET, book_filter, page, page_size, market)


@app.command("workerpool")
def workerpool_book(
    ctx: typer.Context,
    workerpool: str = WorkerpoolOption,
    app_address: str = AppOption,
    dataset: str = DatasetOption,
    requester: str = RequesterOption,
    owner: str = OwnerOption,
    category: int = CategoryOption,
    min_trust: int = MinTrustOption,
    max_trust: int = MaxTrustOption,
    min_volume: int = MinVolumeOption,
    tag: list[str] = TagOption,
    page: int = PageOption,
    page_size: int = PageSizeOption,
    market: str = MarketOption,
) -> None:
    """Workerpool orders: the price of computing power, per category and trust."""
    book_filter = BookFilter(
        owner=owner,
        app=app_address,
        dataset=dataset,
        workerpool=workerpool,
        requester=requester,
        category=category,
        min_trust=min_trust,
        max_trust=max_trust,
        min_volume=min_volume,
        tags=tuple(tag),
    )
    _show(ctx, OrderKind.WORKERPOOL, book_filter, page, page_size, market)


@app.command("request")
def request_book(
    ctx: typer.Context,
    app_address: str = typer.Option(None, "--app", help="Requests for this app"),
    dataset: str = typer.Option(None, "--dataset", help="Requests for this dataset"),
    workerpool: str = typer.Option(
        None, "--workerpool", help="Requests this workerpool may serve (named or any)"
    ),
    requester: str = typer.Option(None, "--requester", help="Requests of this requester"),
    owner: str = OwnerOption,
    category: int = CategoryOption,
    min_trust: int = MinTrustOption,
    max_trust: int = MaxTrustOption,
    min_volume: int = MinVolumeOption,
    tag: list[str] = TagOption,
    page: int = PageOption,
    page_size: int = PageSizeOption,
    market: str = MarketOption,
) -> None:
    """Request orders: what requesters offer to pay (app + dataset + workerpool maximum)."""
    book_filter = BookFilter(
        owner=owner,
        app=app_address,
        dataset=dataset,
        workerpool=workerpool,
        requester=requester,
        category=category,
        min_trust=min_trust,
        max_trust=max_trust,
        min_volume=min_volume,
        tags=tuple(tag),
    )
    _show(ctx, OrderKind.REQUEST, book_filter, page, page_size, market)


def _show(
    ctx: typer.Context,
    kind: OrderKind,
    book_filter: BookFilter,
    page: int,
    page_size: int,
    market: str | None,
) -> None:
    client = MarketClient(market_url(market))
    try:
        book = read_book(client, kind, book_filter, page=page, page_size=page_size)
    finally:
        client.close()
    out = output(ctx)
    if out.as_json:
        out.emit(book.as_json())
    else:
        out.console.print(_table(book))


def _table(book: Book) -> Table:
    shown = f"{len(book.entries)} of {book.total}"
    if book.total > book.page_size:
        shown += f", page {book.page}"
    table = Table(title=f"{book.kind.value} orders ({shown}), cheapest first")
    sized = book.kind in (OrderKind.WORKERPOOL, OrderKind.REQUEST)
    columns: list[tuple[str, dict[str, Any]]] = [
        ("hash", {"no_wrap": True}),
        ("app" if book.kind is OrderKind.REQUEST else book.kind.value, {"no_wrap": True}),
        ("max price" if book.kind is OrderKind.REQUEST else "price", {"justify": "right"}),
        ("left", {"justify": "right"}),
    ]
    if sized:
        columns += [("category", {"justify": "right"}), ("trust", {"justify": "right"})]
    columns += [("tags", {}), ("owner", {"no_wrap": True}), ("restricted to", {})]
    for name, style in columns:
        table.add_column(name, **style)
    for entry in book.entries:
        row = [
            entry.hash,
            _short(entry.asset),
            format_tokens(entry.price),
            str(entry.remaining),
        ]
        if sized:
            row += [str(entry.category), str(entry.trust)]
        restrictions = ", ".join(f"{k} {_short(v)}" for k, v in entry.restrictions.items())
        row += [",".join(entry.tags) or "—", _short(entry.owner), restrictions or "—"]
        table.add_row(*row)
    if not book.entries:
        table.caption = "no open order matches"
    return table


def _short(value: str) -> str:
    return f"{value[:10]}…{value[-4:]}" if len(value) > 16 else value
