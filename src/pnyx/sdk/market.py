"""The market's order books as a requester or a provider uses them: read a book with filters,
publish a signed order, take one off the book.

The market is only an index: publishing or unpublishing changes what others find, never what the
hub would accept. Closing an order for good is `Provider.cancel` / `Requester.cancel` (on chain).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eth_account.signers.local import LocalAccount

from pnyx.api.schemas.market import ORDER_CLASSES, OrderKind, OrderRead, kind_of
from pnyx.clients.market import MarketClient, sign_unpublish
from pnyx.domain._hex import to_address, to_hex32
from pnyx.domain.orders import AppOrder, DatasetOrder, Order, RequestOrder, WorkerpoolOrder
from pnyx.domain.tags import TAG_BITS, tag_from_names, tag_to_int
from pnyx.errors import PnyxInputError
from pnyx.types import ZERO_ADDRESS, Address


@dataclass(frozen=True)
class BookFilter:
    """What to look for in a book; `None` means any. The asset filters follow the market's rule:
    the one named after the book is its asset (`app` in the app book), the others keep the orders
    usable with that asset (restriction to it or none); in the request book they name the request's
    app, dataset and requester, and `workerpool` keeps requests open to that pool."""

    owner: str | None = None
    app: str | None = None
    dataset: str | None = None
    workerpool: str | None = None
    requester: str | None = None
    category: int | None = None
    min_trust: int | None = None
    max_trust: int | None = None
    min_volume: int | None = None
    tags: tuple[str, ...] = ()

    def query(self) -> dict[str, Any]:
        """The market's query parameters (`OrderbookQuery`); addresses checked here, so a typo
        is a one-line input error rather than the market's 422."""
        params: dict[str, Any] = {
            name: _address(name, getattr(self, name))
            for name in ("owner", "app", "dataset", "workerpool", "requester")
        }
        params |= {
            "category": self.category,
            "min_trust": self.min_trust,
            "max_trust": self.max_trust,
            "min_volume": self.min_volume,
        }
        if self.tags:
            params["min_tag"] = to_hex32(tag_to_int(tag_from_names(self.tags)))
        return {key: value for key, value in params.items() if value is not None}


@dataclass(frozen=True)
class BookEntry:
    """One open order of a book, with the columns a buyer compares."""

    hash: str
    kind: OrderKind
    asset: Address
    price: int
    remaining: int
    owner: Address
    tags: tuple[str, ...]
    category: int | None
    trust: int | None
    restrictions: dict[str, Address]
    published_at: datetime
    order: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "hash": self.hash,
            "kind": self.kind.value,
            "asset": self.asset,
            "price": self.price,
            "remaining": self.remaining,
            "owner": self.owner,
            "tags": list(self.tags),
            "category": self.category,
            "trust": self.trust,
            "restrictions": self.restrictions,
            "published_at": self.published_at.isoformat(),
            "order": self.order,
        }


@dataclass(frozen=True)
class Book:
    """A page of a book, cheapest first."""

    kind: OrderKind
    entries: list[BookEntry]
    total: int
    page: int
    page_size: int

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "total": self.total,
            "page": self.page,
            "page_size": self.page_size,
            "orders": [entry.as_json() for entry in self.entries],
        }


def read_book(
    market: MarketClient,
    kind: OrderKind | str,
    book_filter: BookFilter | None = None,
    *,
    page: int = 1,
    page_size: int = 20,
) -> Book:
    """One page of the open orders of a book matching the filter, cheapest first."""
    book = _kind(kind)
    query = (book_filter or BookFilter()).query()
    result = market.orderbook(book, **query, page=page, page_size=page_size)
    return Book(
        kind=book,
        entries=[book_entry(read) for read in result.orders],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )


def book_entry(read: OrderRead) -> BookEntry:
    """The comparable columns of a published order."""
    order = ORDER_CLASSES[read.kind].from_json(read.order)
    asset, price, restrictions = _terms(order)
    return BookEntry(
        hash=read.hash,
        kind=read.kind,
        asset=asset,
        price=price,
        remaining=read.remaining,
        owner=to_address(read.owner),
        tags=tag_names(str(getattr(order, "tag"))),  # noqa: B009 - every order type has a tag
        category=getattr(order, "category", None),
        trust=getattr(order, "trust", None),
        restrictions={name: to_address(a) for name, a in restrictions.items() if a != ZERO_ADDRESS},
        published_at=read.published_at,
        order=read.order,
    )


def publish(market: MarketClient, order: Order) -> OrderRead:
    """Opens a signed (or presigned) order in its book; the market checks it against the chain."""
    return market.publish(order)


def unpublish(
    market: MarketClient, owner: LocalAccount, kind: OrderKind | str, order_hash: str
) -> OrderRead:
    """Takes an open order off its book, signed by `owner` (who must be the order's owner)."""
    digest = to_hex32(order_hash)
    return market.unpublish(_kind(kind), digest, sign_unpublish(owner, digest))


def order_kind(order: Order) -> OrderKind:
    return kind_of(order)


def tag_names(tag: str) -> tuple[str, ...]:
    """The names of the known bits set in a tag; unknown bits as `bitN`."""
    value = tag_to_int(tag)
    names = [name for name, bit in sorted(TAG_BITS.items(), key=lambda i: i[1]) if value >> bit & 1]
    known = set(TAG_BITS.values())
    names += [f"bit{bit}" for bit in range(256) if value >> bit & 1 and bit not in known]
    return tuple(names)


def _terms(order: Order) -> tuple[Address, int, dict[str, Address]]:
    """(asset, price, restrictions) of an order: a request's price is its total maximum price."""
    if isinstance(order, AppOrder):
        return (
            order.app,
            order.app_price,
            {
                "dataset": order.dataset_restrict,
                "workerpool": order.workerpool_restrict,
                "requester": order.requester_restrict,
            },
        )
    if isinstance(order, DatasetOrder):
        return (
            order.dataset,
            order.dataset_price,
            {
                "app": order.app_restrict,
                "workerpool": order.workerpool_restrict,
                "requester": order.requester_restrict,
            },
        )
    if isinstance(order, WorkerpoolOrder):
        return (
            order.workerpool,
            order.workerpool_price,
            {
                "app": order.app_restrict,
                "dataset": order.dataset_restrict,
                "requester": order.requester_restrict,
            },
        )
    if isinstance(order, RequestOrder):
        price = order.app_max_price + order.dataset_max_price + order.workerpool_max_price
        return order.app, price, {"dataset": order.dataset, "workerpool": order.workerpool}
    raise PnyxInputError(f"not an order: {type(order).__name__}")


def _kind(kind: OrderKind | str) -> OrderKind:
    try:
        return OrderKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in OrderKind)
        raise PnyxInputError(f"no {kind!r} order book (books: {known})") from None


def _address(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return to_address(value)
    except ValueError as exc:
        raise PnyxInputError(f"{name} must be a 0x-hex address of 20 bytes: {value!r}") from exc
