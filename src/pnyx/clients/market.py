"""Client of the market (the off-chain order book), returning its wire schemas and domain orders.

Refusals arrive as the matching `ServiceError` subclasses of `pnyx.clients._http`
(`ServiceConflictError` for 409, `ServiceAuthError` for 401, …) carrying the market's message."""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount

from pnyx.api.schemas.market import (
    ORDER_CLASSES,
    UNPUBLISH_HEADER,
    CategoryRead,
    OrderKind,
    OrderPage,
    OrderRead,
    kind_of,
    unpublish_message,
)
from pnyx.chain.signing import sign_eip191
from pnyx.clients._http import HttpClient
from pnyx.domain.orders import Order


def sign_unpublish(account: LocalAccount, order_hash: str) -> str:
    """The `X-Pnyx-Signature` value that lets `account` (the order's owner) unpublish it."""
    return "0x" + sign_eip191(account, unpublish_message(order_hash)).hex()


class MarketClient(HttpClient):
    def __init__(self, base_url: str, *, timeout_s: float = 10.0) -> None:
        super().__init__(base_url, timeout_s=timeout_s, service="market")

    def publish(self, order: Order) -> OrderRead:
        """Publishes a signed (or presigned) order in its book."""
        body = self.post_json(f"/v1/orders/{kind_of(order)}", {"order": order.as_json()})
        return OrderRead.model_validate(body)

    def get(self, kind: OrderKind | str, order_hash: str) -> OrderRead:
        return OrderRead.model_validate(self.get_json(f"/v1/orders/{_kind(kind)}/{order_hash}"))

    def query(self, kind: OrderKind | str, **filters: Any) -> OrderPage:
        """Orders of any status (`status=` filter, default open), cheapest first. Filters are the
        query parameters of `OrderQuery` (asset, owner, min_tag, category, page, …)."""
        params = _params(filters)
        return OrderPage.model_validate(self.get_json(f"/v1/orders/{_kind(kind)}", params=params))

    def orderbook(self, kind: OrderKind | str, **filters: Any) -> OrderPage:
        """Open orders only, cheapest first."""
        params = _params(filters)
        return OrderPage.model_validate(
            self.get_json(f"/v1/orderbook/{_kind(kind)}", params=params)
        )

    def best(self, kind: OrderKind | str, **filters: Any) -> Order | None:
        """The cheapest open order matching the filters, as a domain order ready to match."""
        page = self.orderbook(kind, **{**filters, "page": 1, "page_size": 1})
        if not page.orders:
            return None
        return ORDER_CLASSES[_kind(kind)].from_json(page.orders[0].order)

    def unpublish(
        self, kind: OrderKind | str, order_hash: str, signature: str | bytes
    ) -> OrderRead:
        """Takes an open order off the book; `signature` comes from `sign_unpublish`."""
        header = signature if isinstance(signature, str) else "0x" + signature.hex()
        response = self.request(
            "DELETE",
            f"/v1/orders/{_kind(kind)}/{order_hash}",
            headers={UNPUBLISH_HEADER: header},
        )
        return OrderRead.model_validate(response.json())

    def categories(self) -> list[CategoryRead]:
        return [CategoryRead.model_validate(item) for item in self.get_json("/v1/categories")]


def _kind(kind: OrderKind | str) -> OrderKind:
    return OrderKind(kind)


def _params(filters: dict[str, Any]) -> dict[str, str]:
    return {
        key: str(value.value if isinstance(value, OrderKind) else value)
        for key, value in filters.items()
        if value is not None
    }
