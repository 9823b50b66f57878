"""The market's HTTP endpoints: thin wrappers over `service`, which holds every rule."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request

from pnyx.api.schemas.market import (
    HASH_PATTERN,
    UNPUBLISH_HEADER,
    CategoryRead,
    ErrorRead,
    OrderbookQuery,
    OrderCreate,
    OrderKind,
    OrderPage,
    OrderQuery,
    OrderRead,
)
from pnyx.errors import ChainError
from pnyx.services.market import service
from pnyx.services.market.service import Market

router = APIRouter(prefix="/v1", tags=["market"])


def get_market(request: Request) -> Market:
    market = getattr(request.app.state, "market", None)
    if not isinstance(market, Market):
        raise ChainError("the market is not connected to its chain yet: retry shortly")
    return market


MarketDep = Annotated[Market, Depends(get_market)]
KindPath = Annotated[
    OrderKind, Path(description="The order book: app, dataset, workerpool, request.")
]
HashPath = Annotated[
    str, Path(pattern=HASH_PATTERN, description="The order's EIP-712 hash, 0x-hex of 32 bytes.")
]


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    meanings = {
        401: "Missing, malformed or wrong signature.",
        404: "No such order in this book.",
        409: "The order clashes with the chain or the book (consumed, underfunded, duplicate).",
        422: "Malformed request or order.",
        503: "The chain node cannot be read.",
    }
    return {status: {"model": ErrorRead, "description": meanings[status]} for status in statuses}


@router.post(
    "/orders/{kind}",
    status_code=201,
    summary="Publish a signed order",
    responses=_errors(401, 409, 422, 503),
)
def publish_order(kind: KindPath, body: OrderCreate, market: MarketDep) -> OrderRead:
    """Checks the order against the chain (owner's signature or presignature, remaining volume,
    the owner's escrow balance) and opens it in the `kind` book."""
    return service.publish_order(market=market, kind=kind, data=body.order)


@router.get("/orders/{kind}", summary="List orders, cheapest first", responses=_errors(422, 503))
def list_orders(
    kind: KindPath, query: Annotated[OrderQuery, Query()], market: MarketDep
) -> OrderPage:
    return service.list_orders(market=market, kind=kind, query=query)


@router.get("/orders/{kind}/{order_hash}", summary="Read one order", responses=_errors(404, 422))
def get_order(kind: KindPath, order_hash: HashPath, market: MarketDep) -> OrderRead:
    return service.get_order(market=market, kind=kind, order_hash=order_hash)


@router.delete(
    "/orders/{kind}/{order_hash}",
    summary="Unpublish an open order (owner only)",
    responses=_errors(401, 404, 409, 422),
)
def unpublish_order(
    kind: KindPath,
    order_hash: HashPath,
    market: MarketDep,
    signature: Annotated[
        str | None,
        Header(
            alias=UNPUBLISH_HEADER,
            description=(
                "The owner's EIP-191 signature (0x-hex, 65 bytes) of the 32-byte keccak256 of "
                "`pnyx-market:unpublish:<order hash in lowercase>`."
            ),
        ),
    ] = None,
) -> OrderRead:
    """Takes the order off the book. It stays valid on chain until its owner closes it there."""
    return service.unpublish_order(
        market=market, kind=kind, order_hash=order_hash, signature=signature
    )


@router.get(
    "/orderbook/{kind}",
    summary="Open orders of one book, cheapest first",
    responses=_errors(422, 503),
)
def orderbook(
    kind: KindPath, query: Annotated[OrderbookQuery, Query()], market: MarketDep
) -> OrderPage:
    return service.list_orders(market=market, kind=kind, query=query, open_only=True)


@router.get("/categories", summary="The hub's work categories", responses=_errors(503))
def categories(market: MarketDep) -> list[CategoryRead]:
    return service.list_categories(market=market)
