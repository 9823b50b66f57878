"""Wire schemas of the market (the off-chain order book), shared by the service and `MarketClient`.

Orders travel as `Order.as_json()` dicts (Solidity field names, `sign` as 0x-hex), so what a
wallet signed and what the hub checks are the same bytes. The unpublish message is defined here,
beside the header that carries it, because both the server and the clients must build it the same
way."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from eth_utils.crypto import keccak
from pydantic import BaseModel, ConfigDict, Field

from pnyx.domain.orders import AppOrder, DatasetOrder, Order, RequestOrder, WorkerpoolOrder

UINT256_MAX = 2**256 - 1
ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"
HASH_PATTERN = r"^0x[0-9a-fA-F]{64}$"
TAG_PATTERN = r"^0x[0-9a-fA-F]{1,64}$"
UNPUBLISH_HEADER = "X-Pnyx-Signature"
MAX_PAGE_SIZE = 100


class OrderKind(StrEnum):
    """The four order books, as they appear in paths (`/v1/orders/{kind}`)."""

    APP = "app"
    DATASET = "dataset"
    WORKERPOOL = "workerpool"
    REQUEST = "request"


class OrderStatus(StrEnum):
    """iExec's order statuses: `open` orders can be matched; the others are kept for history."""

    OPEN = "open"
    FILLED = "filled"
    CANCELED = "canceled"
    DEAD = "dead"


class StatusFilter(StrEnum):
    """A status to list, or `any`."""

    OPEN = "open"
    FILLED = "filled"
    CANCELED = "canceled"
    DEAD = "dead"
    ANY = "any"


ORDER_CLASSES: dict[OrderKind, type[Order]] = {
    OrderKind.APP: AppOrder,
    OrderKind.DATASET: DatasetOrder,
    OrderKind.WORKERPOOL: WorkerpoolOrder,
    OrderKind.REQUEST: RequestOrder,
}
ORDER_KINDS: dict[type[Order], OrderKind] = {cls: kind for kind, cls in ORDER_CLASSES.items()}


def kind_of(order: Order) -> OrderKind:
    """The book an order belongs to."""
    return ORDER_KINDS[type(order)]


def unpublish_message(order_hash: str) -> bytes:
    """The 32 bytes an order's owner signs (EIP-191) to unpublish it:
    keccak256 of the UTF-8 text `pnyx-market:unpublish:<order hash in lowercase>`."""
    return bytes(keccak(f"pnyx-market:unpublish:{order_hash.lower()}".encode()))


_EXAMPLE_APP_ORDER: dict[str, Any] = {
    "app": "0x1b2c3d4e5f60718293a4b5c6d7e8f90112233445",
    "appPrice": 1_000_000_000,
    "volume": 10,
    "tag": "0x" + "00" * 32,
    "datasetRestrict": "0x" + "00" * 20,
    "workerpoolRestrict": "0x" + "00" * 20,
    "requesterRestrict": "0x" + "00" * 20,
    "salt": "0x" + "ab" * 32,
    "sign": "0x" + "11" * 65,
}


class OrderCreate(BaseModel):
    """A signed order to publish."""

    model_config = ConfigDict(extra="forbid")

    order: dict[str, Any] = Field(
        description=(
            "The order as `Order.as_json()` gives it: the EIP-712 fields under their Solidity "
            "names (addresses and bytes32 as 0x-hex, uint256 as JSON integers or decimal "
            "strings) and `sign`, the owner's 65-byte EIP-712 signature as 0x-hex, or `0x` for "
            "an order presigned on chain."
        ),
        examples=[_EXAMPLE_APP_ORDER],
    )


class OrderRead(BaseModel):
    """A published order and what the market knows of it."""

    hash: str = Field(description="The order's EIP-712 hash (0x-hex), its id on chain and here.")
    kind: OrderKind = Field(description="Which book the order is in.")
    status: OrderStatus = Field(
        description=(
            "`open` (matchable), `filled` (no volume left), `canceled` (closed on chain or "
            "unpublished) or `dead` (can no longer be matched: owner changed, balance too low)."
        )
    )
    remaining: int = Field(description="Volume not yet consumed on chain.", ge=0)
    owner: str = Field(
        description="Who signed it: the asset's owner at publication, or the requester."
    )
    published_at: datetime = Field(description="When the order was (last) published, UTC.")
    dead_reason: str | None = Field(
        default=None, description="Why a dead or canceled order left the book."
    )
    order: dict[str, Any] = Field(description="The signed order, as published.")


class OrderPage(BaseModel):
    """One page of orders, cheapest first."""

    orders: list[OrderRead] = Field(description="The orders of this page.")
    total: int = Field(description="How many orders match the filters, on all pages.", ge=0)
    page: int = Field(description="This page's number, from 1.", ge=1)
    page_size: int = Field(description="The most orders a page holds.", ge=1)


class CategoryRead(BaseModel):
    """A work category of the hub: how long a task of that category may take."""

    id: int = Field(description="The category id orders name.")
    name: str = Field(description="Short name (XS … XL).")
    description: str = Field(description="What the category is for.")
    work_clock_time_ref_s: int = Field(
        description="Reference duration; deadlines are multiples of it."
    )


class ErrorRead(BaseModel):
    """Every refusal: the error's name and a message saying what to change."""

    error: str = Field(description="The error class, e.g. `ConflictError`.")
    detail: Any = Field(description="What was wrong, in words (or a list of field problems).")


_Address = Annotated[str, Field(pattern=ADDRESS_PATTERN)] | None
_Tag = Annotated[str, Field(pattern=TAG_PATTERN)] | None
_Uint = Annotated[int, Field(ge=0, le=UINT256_MAX)] | None


class OrderbookQuery(BaseModel):
    """Filters shared by the order listing and the order book (query parameters)."""

    asset: _Address = Field(
        default=None,
        description="The order's asset: app, dataset or workerpool (for requests, the app).",
    )
    owner: _Address = Field(
        default=None, description="The signer: the asset's owner, or the requester."
    )
    min_tag: _Tag = Field(
        default=None, description="0x-hex bitmask: only orders whose tag has all these bits."
    )
    max_tag: _Tag = Field(
        default=None, description="0x-hex bitmask: only orders whose tag has no other bits."
    )
    category: _Uint = Field(
        default=None, description="Workerpool and request orders of this category."
    )
    min_trust: _Uint = Field(
        default=None, description="Workerpool and request orders of at least this trust."
    )
    max_trust: _Uint = Field(
        default=None, description="Workerpool and request orders of at most this trust."
    )
    min_volume: _Uint = Field(default=None, description="Orders with at least this volume left.")
    app: _Address = Field(
        default=None,
        description=(
            "Orders usable with this app: their app restriction is this app or open (requests: "
            "requests for this app)."
        ),
    )
    dataset: _Address = Field(
        default=None,
        description=(
            "Orders usable with this dataset: restriction is this dataset or open (requests: "
            "requests for this dataset)."
        ),
    )
    workerpool: _Address = Field(
        default=None,
        description="Orders usable by this workerpool: restriction is this pool or open.",
    )
    requester: _Address = Field(
        default=None,
        description=(
            "Orders usable by this requester: restriction is this account or open (requests: "
            "requests of this requester)."
        ),
    )
    page: int = Field(default=1, ge=1, le=1_000_000, description="Page number, from 1.")
    page_size: int = Field(
        default=20, ge=1, le=MAX_PAGE_SIZE, description="Orders per page (at most 100)."
    )


class OrderQuery(OrderbookQuery):
    """The order listing's filters: the order book's plus a status."""

    status: StatusFilter = Field(
        default=StatusFilter.OPEN, description="Orders of this status, or `any`."
    )
