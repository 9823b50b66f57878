"""The order-book helpers behind `pnyx orderbook` and `pnyx order publish|unpublish`, without a
market: filters become the market's query parameters, and published orders their columns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pnyx.api.schemas.market import OrderKind, OrderQuery, OrderRead, OrderStatus
from pnyx.domain.orders import WorkerpoolOrder
from pnyx.domain.tags import tag_from_names
from pnyx.errors import PnyxInputError
from pnyx.sdk.market import BookFilter, book_entry, tag_names
from pnyx.types import ZERO_ADDRESS, Address, Bytes32

pytestmark = pytest.mark.unit

POOL = Address("0x" + "11" * 20)
APP = "0x" + "22" * 20


def test_book_filter_gives_the_market_query_parameters() -> None:
    query = BookFilter(app=APP, category=5, min_trust=8, tags=("tee", "gpu")).query()
    assert query == {
        "app": "0x2222222222222222222222222222222222222222",
        "category": 5,
        "min_trust": 8,
        "min_tag": "0x" + "00" * 30 + "01" + "01",
    }
    OrderQuery.model_validate(query)  # the market accepts every parameter as given


def test_book_filter_rejects_a_malformed_address_with_its_name() -> None:
    with pytest.raises(PnyxInputError, match="requester must be a 0x-hex address"):
        BookFilter(requester="0x12").query()


def test_book_filter_rejects_an_unknown_tag() -> None:
    with pytest.raises(PnyxInputError, match="unknown tag 'fast'"):
        BookFilter(tags=("fast",)).query()


def test_tag_names_lists_known_then_unknown_bits() -> None:
    assert tag_names(tag_from_names(["gpu", "tee"])) == ("tee", "gpu")
    assert tag_names("0x" + "00" * 31 + "21") == ("tee", "bit5")
    assert tag_names("0x" + "00" * 32) == ()


def test_book_entry_reads_asset_price_terms_and_set_restrictions() -> None:
    order = WorkerpoolOrder(
        workerpool=POOL,
        workerpool_price=7,
        volume=3,
        category=2,
        trust=8,
        tag=tag_from_names(["tee"]),
        app_restrict=Address(APP),
        salt=Bytes32("0x" + "ab" * 32),
    )
    read = OrderRead(
        hash="0x" + "cd" * 32,
        kind=OrderKind.WORKERPOOL,
        status=OrderStatus.OPEN,
        remaining=2,
        owner="0x" + "33" * 20,
        published_at=datetime(2025, 1, 1, tzinfo=UTC),
        order=order.as_json(),
    )
    entry = book_entry(read)
    assert (entry.asset, entry.price, entry.remaining) == (POOL, 7, 2)
    assert (entry.category, entry.trust, entry.tags) == (2, 8, ("tee",))
    assert entry.restrictions == {"app": APP}
    assert ZERO_ADDRESS not in entry.as_json()["restrictions"].values()
