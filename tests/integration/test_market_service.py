"""The market service in-process on a real anvil: publishing with every refusal the hub would
make, listing with filters cheapest first, unpublishing, the chain watcher keeping orders in step
with matches, cancellations, NFT transfers and balances, a restart that resumes from its cursor,
and `MarketClient` against the service run as `python -m pnyx.services.market`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from fastapi.testclient import TestClient

from pnyx.api.schemas.market import kind_of
from pnyx.chain.signing import new_account, sign_order
from pnyx.clients._http import ServiceAuthError, ServiceConflictError
from pnyx.clients.market import MarketClient, sign_unpublish
from pnyx.domain.orders import AppOrder, Order
from pnyx.domain.tags import tag_from_names
from pnyx.sdk import Provider
from pnyx.services.market import watcher as watcher_module
from pnyx.services.market.app import create_market_app
from pnyx.services.market.config import MarketSettings
from pnyx.services.market.service import apply_event
from pnyx.services.market.watcher import MarketWatcher
from pnyx.store.market import OrderRow
from pnyx.types import NANO_PER_TOKEN, Address
from tests.helpers.world import DEPOSIT, World

pytestmark = pytest.mark.integration

TOKEN = NANO_PER_TOKEN
KINDS = ["app", "dataset", "workerpool", "request"]
UNREGISTERED = Address("0x00000000000000000000000000000000DeaDBeef")


# ─── Fixtures and helpers ───


@pytest.fixture
def settings(world: World, tmp_path: Path) -> MarketSettings:
    """The market on the world's chain, with its own database; the watcher thread polls once at
    start, then only when a test calls `poll`."""
    deployment_file = tmp_path / "deployment.json"
    world.deployment.save(deployment_file)
    return MarketSettings(
        chain_url=world.client.url,
        deployment_file=deployment_file,
        database_url=f"sqlite:///{tmp_path / 'market.db'}",
        poll_interval_s=3600,
    )


@pytest.fixture
def api(settings: MarketSettings) -> Iterator[TestClient]:
    with TestClient(create_market_app(settings)) as client:
        yield client


def _order_of(world: World, kind: str, **fields: Any) -> Order:
    builders: dict[str, Callable[..., Order]] = {
        "app": world.app_order,
        "dataset": world.dataset_order,
        "workerpool": world.workerpool_order,
        "request": world.request_order,
    }
    return builders[kind](**fields)


def _publish(api: TestClient, order: Order, kind: str | None = None) -> httpx.Response:
    response: httpx.Response = api.post(
        f"/v1/orders/{kind or kind_of(order)}", json={"order": order.as_json()}
    )
    return response


def _published(api: TestClient, order: Order) -> dict[str, Any]:
    response = _publish(api, order)
    assert response.status_code == 201, response.text
    return cast(dict[str, Any], response.json())


def _hash(world: World, order: Order) -> str:
    return order.digest(world.protocol.domain)


def _read(api: TestClient, world: World, order: Order) -> dict[str, Any]:
    response = api.get(f"/v1/orders/{kind_of(order)}/{_hash(world, order)}")
    assert response.status_code == 200, response.text
    return cast(dict[str, Any], response.json())


def _watcher(api: TestClient) -> MarketWatcher:
    return cast(MarketWatcher, api.app.state.watcher)  # type: ignore[attr-defined]


def _poll(api: TestClient) -> int:
    return _watcher(api).poll()


def _hashes(page: dict[str, Any]) -> list[str]:
    return [order["hash"] for order in page["orders"]]


def _refusal(response: httpx.Response, status: int, *fragments: str) -> None:
    assert response.status_code == status, response.text
    detail = str(response.json()["detail"])
    for fragment in fragments:
        assert fragment in detail, detail


def _transfer_app(world: World, to: str) -> None:
    seller = world.app_provider.account
    fn = world.protocol.apps.functions.transferFrom(seller.address, to, int(world.app, 16))
    world.client.transact(seller, fn)


# ─── Publish ───


@pytest.mark.parametrize("kind", KINDS)
def test_publish_returns_created_open_order_when_valid(
    api: TestClient, world: World, kind: str
) -> None:
    order = _order_of(world, kind, volume=3)
    created = _published(api, order)
    assert created["hash"] == _hash(world, order)
    assert created["kind"] == kind
    assert created["status"] == "open"
    assert created["remaining"] == 3
    assert created["order"] == order.as_json()
    assert _read(api, world, order) == created


def test_publish_records_requester_as_owner_of_request_orders(
    api: TestClient, world: World
) -> None:
    created = _published(api, world.request_order())
    assert created["owner"] == world.requester.address


def test_publish_accepts_unsigned_order_when_presigned_on_chain(
    api: TestClient, world: World
) -> None:
    order = world.app_order().with_sign(b"")
    world.app_provider.presign(order)
    assert _published(api, order)["status"] == "open"


def test_publish_reopens_order_when_republished_after_unpublish(
    api: TestClient, world: World
) -> None:
    order = world.app_order()
    order_hash = _published(api, order)["hash"]
    signature = sign_unpublish(world.app_provider.account, order_hash)
    response = api.delete(f"/v1/orders/app/{order_hash}", headers={"X-Pnyx-Signature": signature})
    assert response.json()["status"] == "canceled"
    assert _published(api, order)["status"] == "open"


def test_publish_counts_remaining_volume_when_partly_consumed(
    api: TestClient, world: World
) -> None:
    app, dataset, pool, _ = world.orders(volume=5)
    request = world.request_order(volume=2)
    world.protocol.match_orders(world.requester.account, app, dataset, pool, request)
    assert _published(api, app)["remaining"] == 3


# ─── Publish refusals ───


def test_publish_refuses_401_when_signature_tampered(api: TestClient, world: World) -> None:
    order = world.app_order()
    raw = bytearray(bytes.fromhex(order.sign[2:]))
    raw[64] = 55 - raw[64]  # v 27 ↔ 28: a valid signature of someone else
    _refusal(_publish(api, order.with_sign(bytes(raw))), 401, "is signed by", "not by the app")


def test_publish_refuses_401_when_signature_is_not_a_valid_signature(
    api: TestClient, world: World
) -> None:
    order = world.app_order().with_sign(b"\xff" * 64 + b"\x1b")
    _refusal(_publish(api, order), 401, "not a valid low-s secp256k1 signature")


def test_publish_refuses_401_when_signed_by_non_owner(api: TestClient, world: World) -> None:
    order = sign_order(world.stranger, world.app_order(), world.protocol.domain)
    _refusal(
        _publish(api, order),
        401,
        f"signed by {world.stranger.address}",
        f"the app's current owner {world.app_provider.address}",
    )


def test_publish_refuses_401_when_request_signed_by_someone_else(
    api: TestClient, world: World
) -> None:
    order = sign_order(world.stranger, world.request_order(), world.protocol.domain)
    _refusal(_publish(api, order), 401, f"not by the requester {world.requester.address}")


def test_publish_refuses_401_when_unsigned_and_not_presigned(api: TestClient, world: World) -> None:
    order = world.workerpool_order().with_sign(b"")
    _refusal(_publish(api, order), 401, "not presigned on chain")


def test_publish_refuses_422_when_signature_has_wrong_length(api: TestClient, world: World) -> None:
    order = world.app_order().with_sign(b"\x01" * 30)
    _refusal(_publish(api, order), 422, "got 30 bytes")


def test_publish_refuses_409_when_consumed_on_chain(api: TestClient, world: World) -> None:
    app, dataset, pool, request = world.orders()
    world.protocol.match_orders(world.requester.account, app, dataset, pool, request)
    for order in (app, pool, request):
        _refusal(_publish(api, order), 409, "no volume left on chain", "consumed 1 of 1")


def test_publish_refuses_409_when_cancelled_on_chain(api: TestClient, world: World) -> None:
    order = world.dataset_order(volume=4)
    world.dataset_provider.cancel(order)
    _refusal(_publish(api, order), 409, "consumed 4 of 4", "filled or cancelled")


def test_publish_refuses_409_when_pool_balance_below_stake(api: TestClient, world: World) -> None:
    order = world.workerpool_order(workerpool_price=1_000 * TOKEN, volume=4)
    need = 300 * TOKEN * 4
    _refusal(
        _publish(api, order),
        409,
        f"has {DEPOSIT} nano-tokens free",
        f"needs a stake of {need} (30% of the price",
        f"deposit {need - DEPOSIT} more",
    )


def test_publish_refuses_409_when_requester_balance_below_price(
    api: TestClient, world: World
) -> None:
    order = world.request_order(workerpool_max_price=DEPOSIT, volume=2)
    _refusal(_publish(api, order), 409, "the requester", "max total price", "deposit")


def test_publish_refuses_409_when_duplicate(api: TestClient, world: World) -> None:
    order = world.request_order()
    _published(api, order)
    _refusal(_publish(api, order), 409, "already published")


def test_publish_refuses_409_when_owner_has_too_many_open_orders(
    world: World, settings: MarketSettings
) -> None:
    limited = replace(settings, max_open_orders_per_owner=2)
    with TestClient(create_market_app(limited)) as api:
        _published(api, world.app_order())
        _published(api, world.dataset_order())  # another owner: not counted
        _published(api, world.app_order())
        _refusal(_publish(api, world.app_order()), 409, "already has 2 open orders")


def test_publish_refuses_422_when_path_names_another_kind(api: TestClient, world: World) -> None:
    _refusal(
        _publish(api, world.workerpool_order(), kind="app"),
        422,
        "a workerpool order but the path says app",
    )


def test_publish_refuses_422_when_path_kind_unknown(api: TestClient, world: World) -> None:
    response = _publish(api, world.app_order(), kind="apps")
    assert response.status_code == 422
    assert response.json()["error"] == "InvalidRequest"


def test_publish_refuses_422_when_body_is_not_json(api: TestClient) -> None:
    response = api.post(
        "/v1/orders/app", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "InvalidRequest"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"appPrice": None}, "missing field(s): appPrice"),
        ({"colour": "red"}, "have no field(s): colour"),
        ({"app": "0x1234"}, "app must be a 0x-hex address"),
        ({"appPrice": -1}, "appPrice must be an integer in 0..2**256-1"),
        ({"appPrice": 1.5}, "appPrice must be an integer"),
        ({"volume": 2**256}, "volume must be an integer"),
        ({"volume": 0}, "volume must be at least 1"),
        ({"salt": "0x12"}, "salt must be 0x-hex of 32 bytes"),
        ({"sign": "0xzz"}, "sign must be 0x-hex bytes"),
        ({"tag": ["not", "hex"]}, "tag must be 0x-hex of 32 bytes"),
    ],
)
def test_publish_refuses_422_when_field_malformed(
    api: TestClient, world: World, change: dict[str, Any], fragment: str
) -> None:
    body = world.app_order().as_json()
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    _refusal(api.post("/v1/orders/app", json={"order": body}), 422, fragment)


def test_publish_refuses_422_when_order_is_not_an_object(api: TestClient) -> None:
    response = api.post("/v1/orders/app", json={"order": [1, 2]})
    assert response.status_code == 422


def test_publish_refuses_422_when_asset_not_registered(api: TestClient, world: World) -> None:
    order = world.app_order(app=UNREGISTERED)
    _refusal(_publish(api, order), 422, "is not registered on this hub")


def test_publish_refuses_422_when_asset_is_of_another_kind(api: TestClient, world: World) -> None:
    order = world.app_order(app=world.dataset)
    _refusal(_publish(api, order), 422, "is a dataset on this hub, not a registered app")


def test_publish_refuses_422_when_category_unknown(api: TestClient, world: World) -> None:
    _refusal(_publish(api, world.workerpool_order(category=99)), 422, "category 99 does not exist")


# ─── Listing ───


def test_list_orders_sorts_cheapest_first_then_oldest(api: TestClient, world: World) -> None:
    prices = [5, 1, 3, 1]
    orders = [world.app_order(app_price=p * TOKEN) for p in prices]
    for order in orders:
        _published(api, order)
    expected = [_hash(world, orders[i]) for i in (1, 3, 2, 0)]
    assert _hashes(api.get("/v1/orders/app").json()) == expected
    assert _hashes(api.get("/v1/orderbook/app").json()) == expected


def test_list_orders_paginates_with_total(api: TestClient, world: World) -> None:
    orders = [world.app_order(app_price=p * TOKEN) for p in (4, 2, 3)]
    for order in orders:
        _published(api, order)
    page = api.get("/v1/orders/app", params={"page": 2, "page_size": 2}).json()
    assert page["total"] == 3
    assert (page["page"], page["page_size"]) == (2, 2)
    assert _hashes(page) == [_hash(world, orders[0])]


@pytest.fixture
def pools(api: TestClient, world: World) -> dict[str, str]:
    """Three workerpool orders with different terms, by name → hash."""
    stranger = world.stranger.address
    orders = {
        "plain": world.workerpool_order(workerpool_price=10 * TOKEN, trust=1, volume=1),
        "tee": world.workerpool_order(
            workerpool_price=20 * TOKEN,
            trust=5,
            category=1,
            tag=tag_from_names(["tee"]),
            volume=5,
            requester_restrict=world.requester.address,
        ),
        "gpu": world.workerpool_order(
            workerpool_price=30 * TOKEN,
            trust=10,
            tag=tag_from_names(["tee", "gpu"]),
            volume=3,
            app_restrict=stranger,
        ),
    }
    return {name: _published(api, order)["hash"] for name, order in orders.items()}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["plain", "tee", "gpu"]),
        ({"category": 1}, ["tee"]),
        ({"min_trust": 5}, ["tee", "gpu"]),
        ({"max_trust": 5}, ["plain", "tee"]),
        ({"min_trust": 2, "max_trust": 9}, ["tee"]),
        ({"min_tag": "0x1"}, ["tee", "gpu"]),
        ({"max_tag": "0x1"}, ["plain", "tee"]),
        ({"min_tag": "0x100"}, ["gpu"]),
        ({"min_tag": "0x1", "max_tag": "0x1"}, ["tee"]),
        ({"min_volume": 3}, ["tee", "gpu"]),
        ({"requester": "requester"}, ["plain", "tee", "gpu"]),
        ({"requester": "stranger"}, ["plain", "gpu"]),
        ({"app": "app"}, ["plain", "tee"]),
        ({"asset": "workerpool"}, ["plain", "tee", "gpu"]),
        ({"asset": UNREGISTERED}, []),
        ({"owner": "scheduler"}, ["plain", "tee", "gpu"]),
        ({"owner": "stranger"}, []),
    ],
)
def test_list_orders_keeps_only_matching_when_filtered(
    api: TestClient,
    world: World,
    pools: dict[str, str],
    params: dict[str, Any],
    expected: list[str],
) -> None:
    names = {
        "requester": world.requester.address,
        "stranger": world.stranger.address,
        "app": world.app,
        "workerpool": world.workerpool,
        "scheduler": world.scheduler.address,
    }
    query = {key: names.get(value, value) for key, value in params.items()}
    for path in ("/v1/orders/workerpool", "/v1/orderbook/workerpool"):
        page = api.get(path, params=query).json()
        assert _hashes(page) == [pools[name] for name in expected], (path, params)
        assert page["total"] == len(expected)


def test_list_orders_filters_requests_by_requester_app_dataset_and_pool(
    api: TestClient, world: World
) -> None:
    anywhere = _published(api, world.request_order())["hash"]
    pinned = _published(api, world.request_order(workerpool=world.workerpool))["hash"]

    def listed(**params: str) -> list[str]:
        return _hashes(api.get("/v1/orders/request", params=params).json())

    assert set(listed(requester=world.requester.address)) == {anywhere, pinned}
    assert listed(requester=world.stranger.address) == []
    assert set(listed(app=world.app, dataset=world.dataset)) == {anywhere, pinned}
    assert listed(dataset=UNREGISTERED) == []
    assert set(listed(workerpool=world.workerpool)) == {anywhere, pinned}
    assert listed(workerpool=UNREGISTERED) == [anywhere]


def test_list_orders_refuses_422_when_filter_does_not_apply(api: TestClient) -> None:
    response = api.get("/v1/orders/app", params={"category": 1})
    _refusal(response, 422, "app orders have no category or trust")


@pytest.mark.parametrize(
    "params",
    [{"owner": "0x12"}, {"min_tag": "tee"}, {"page_size": 101}, {"page": 0}, {"status": "gone"}],
)
def test_list_orders_refuses_422_when_query_malformed(
    api: TestClient, params: dict[str, Any]
) -> None:
    response = api.get("/v1/orders/app", params=params)
    assert response.status_code == 422
    assert response.json()["error"] == "InvalidRequest"


def test_get_order_refuses_404_when_unknown_or_in_another_book(
    api: TestClient, world: World
) -> None:
    order_hash = _published(api, world.app_order())["hash"]
    _refusal(api.get(f"/v1/orders/dataset/{order_hash}"), 404, f"no dataset order {order_hash}")
    _refusal(api.get(f"/v1/orders/app/0x{'ab' * 32}"), 404, "no app order")


def test_categories_lists_the_hub_categories(api: TestClient) -> None:
    categories = api.get("/v1/categories").json()
    assert [c["name"] for c in categories][:1] == ["XS"]
    assert categories[0]["work_clock_time_ref_s"] == 300


# ─── Unpublish ───


def test_unpublish_cancels_order_when_signed_by_owner(api: TestClient, world: World) -> None:
    order_hash = _published(api, world.workerpool_order())["hash"]
    signature = sign_unpublish(world.scheduler.account, order_hash)
    response = api.delete(
        f"/v1/orders/workerpool/{order_hash}", headers={"X-Pnyx-Signature": signature}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "canceled"
    assert response.json()["dead_reason"] == "unpublished by its owner"
    assert _hashes(api.get("/v1/orderbook/workerpool").json()) == []
    listed = api.get("/v1/orders/workerpool", params={"status": "canceled"}).json()
    assert _hashes(listed) == [order_hash]


def test_unpublish_refuses_401_when_signed_by_someone_else(api: TestClient, world: World) -> None:
    order_hash = _published(api, world.app_order())["hash"]
    signature = sign_unpublish(world.stranger, order_hash)
    response = api.delete(f"/v1/orders/app/{order_hash}", headers={"X-Pnyx-Signature": signature})
    _refusal(response, 401, f"is by {world.stranger.address}", "only the order's owner")
    assert api.get(f"/v1/orders/app/{order_hash}").json()["status"] == "open"


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        ({}, "missing X-Pnyx-Signature header"),
        ({"X-Pnyx-Signature": "hello"}, "must be 0x-hex"),
        ({"X-Pnyx-Signature": "0x" + "00" * 65}, "not a valid 65-byte secp256k1 signature"),
    ],
)
def test_unpublish_refuses_401_when_signature_missing_or_malformed(
    api: TestClient, world: World, headers: dict[str, str], fragment: str
) -> None:
    order_hash = _published(api, world.app_order())["hash"]
    _refusal(api.delete(f"/v1/orders/app/{order_hash}", headers=headers), 401, fragment)


def test_unpublish_refuses_409_when_already_unpublished(api: TestClient, world: World) -> None:
    order_hash = _published(api, world.app_order())["hash"]
    headers = {"X-Pnyx-Signature": sign_unpublish(world.app_provider.account, order_hash)}
    assert api.delete(f"/v1/orders/app/{order_hash}", headers=headers).status_code == 200
    _refusal(api.delete(f"/v1/orders/app/{order_hash}", headers=headers), 409, "is canceled")


# ─── Watcher ───


def test_watcher_decrements_remaining_and_fills_when_orders_matched(
    api: TestClient, world: World
) -> None:
    app, dataset = world.app_order(volume=3), world.dataset_order(volume=3)
    pool = world.workerpool_order(volume=3)
    request = world.request_order(volume=1)
    for order in (app, dataset, pool, request):
        _published(api, order)
    world.protocol.match_orders(world.requester.account, app, dataset, pool, request)
    assert _poll(api) > 0
    for order in (app, dataset, pool):
        assert (_read(api, world, order)["status"], _read(api, world, order)["remaining"]) == (
            "open",
            2,
        )
    assert _read(api, world, request)["status"] == "filled"
    assert _read(api, world, request)["remaining"] == 0
    assert _hashes(api.get("/v1/orderbook/request").json()) == []


def test_watcher_cancels_order_when_closed_on_chain(api: TestClient, world: World) -> None:
    order = world.app_order(volume=2)
    _published(api, order)
    world.app_provider.cancel(order)
    _poll(api)
    read = _read(api, world, order)
    assert (read["status"], read["dead_reason"], read["remaining"]) == (
        "canceled",
        "closed on chain",
        0,
    )


def test_watcher_kills_app_orders_when_app_nft_transferred(api: TestClient, world: World) -> None:
    app_orders = [world.app_order(), world.app_order(volume=2)]
    request = world.request_order()
    for order in (*app_orders, request):
        _published(api, order)
    _transfer_app(world, world.stranger.address)
    _poll(api)
    for order in app_orders:
        read = _read(api, world, order)
        assert (read["status"], read["dead_reason"]) == ("dead", "owner changed")
    assert _read(api, world, request)["status"] == "open"


def test_watcher_accepts_new_owner_orders_when_app_nft_transferred(
    api: TestClient, world: World
) -> None:
    _transfer_app(world, world.stranger.address)
    _poll(api)
    buyer = Provider(world.protocol, world.stranger)
    order = buyer.app_order(world.app, 1 * TOKEN)
    assert _published(api, order)["owner"] == world.stranger.address
    _refusal(_publish(api, world.app_order()), 401, "current owner")


def test_watcher_keeps_app_orders_open_when_app_nft_comes_back(
    api: TestClient, world: World
) -> None:
    order = world.app_order()
    _published(api, order)
    _transfer_app(world, world.stranger.address)
    fn = world.protocol.apps.functions.transferFrom(
        world.stranger.address, world.app_provider.address, int(world.app, 16)
    )
    world.client.transact(world.stranger, fn)
    _poll(api)
    assert _read(api, world, order)["status"] == "open"


def test_watcher_kills_and_revives_request_when_balance_withdrawn_and_redeposited(
    api: TestClient, world: World
) -> None:
    order = world.request_order(volume=2)
    _published(api, order)
    free = world.protocol.account(world.requester.address).free
    world.requester.withdraw(free)
    _poll(api)
    read = _read(api, world, order)
    assert (read["status"], read["dead_reason"]) == ("dead", "balance too low")
    assert _hashes(api.get("/v1/orderbook/request").json()) == []
    world.requester.deposit(free)
    _poll(api)
    read = _read(api, world, order)
    assert (read["status"], read["dead_reason"]) == ("open", None)


def test_watcher_kills_pool_order_when_stake_no_longer_covered(
    api: TestClient, world: World
) -> None:
    order = world.workerpool_order(workerpool_price=100 * TOKEN, volume=10)  # stake 300 tokens
    _published(api, order)
    world.protocol.withdraw(world.scheduler.account, DEPOSIT - 200 * TOKEN)
    _poll(api)
    assert _read(api, world, order)["dead_reason"] == "balance too low"


def test_watcher_thread_updates_orders_in_background(
    world: World, settings: MarketSettings
) -> None:
    with TestClient(create_market_app(replace(settings, poll_interval_s=0.05))) as api:
        order = world.app_order()
        _published(api, order)
        world.app_provider.cancel(order)
        deadline = time.monotonic() + 15
        while _read(api, world, order)["status"] != "canceled":
            assert time.monotonic() < deadline, "the watcher thread did not see the cancel"
            time.sleep(0.05)
        assert _watcher(api).running


def test_watcher_thread_survives_and_retries_when_a_poll_fails(
    world: World,
    settings: MarketSettings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    failures: list[str] = []

    def flaky(**kwargs: Any) -> None:
        if not failures:
            failures.append(kwargs["event"].name)
            raise RuntimeError("node hiccup")
        apply_event(**kwargs)

    monkeypatch.setattr(watcher_module, "apply_event", flaky)
    with TestClient(create_market_app(replace(settings, poll_interval_s=0.05))) as api:
        order = world.app_order()
        _published(api, order)
        world.app_provider.cancel(order)
        deadline = time.monotonic() + 15
        while _read(api, world, order)["status"] != "canceled":
            assert time.monotonic() < deadline, "the watcher did not retry after its failure"
            time.sleep(0.05)
        assert _watcher(api).running
    assert len(failures) == 1
    assert "market watcher poll failed" in caplog.text


def test_watcher_stops_when_app_shuts_down(settings: MarketSettings) -> None:
    with TestClient(create_market_app(settings)) as api:
        watcher = _watcher(api)
        assert watcher.running
    assert not watcher.running


def test_restart_resumes_from_cursor_and_catches_events_missed_while_down(
    world: World, settings: MarketSettings
) -> None:
    first, second = world.app_order(), world.app_order()
    with TestClient(create_market_app(settings)) as api:
        _published(api, first)
        _published(api, second)
        world.app_provider.cancel(first)
        _poll(api)
        first_row = cast(OrderRow, api.app.state.market.store.get(_hash(world, first)))  # type: ignore[attr-defined]
        assert first_row.status == "canceled"
    world.app_provider.cancel(second)  # while the market is down
    with TestClient(create_market_app(settings)) as api:
        watcher = _watcher(api)
        watcher.poll()
        assert watcher.delivered == 1  # only the missed OrderClosed, nothing replayed
        assert _read(api, world, second)["status"] == "canceled"
        again = api.app.state.market.store.get(_hash(world, first))  # type: ignore[attr-defined]
        assert again.updated_at == first_row.updated_at


def test_store_update_leaves_order_alone_when_status_changed_meanwhile(
    api: TestClient, world: World
) -> None:
    order_hash = _published(api, world.app_order())["hash"]
    store = api.app.state.market.store  # type: ignore[attr-defined]
    assert not store.update(order_hash, only_if_status="dead", status="open", remaining=0)
    assert store.update(order_hash, only_if_status="open", status="dead", dead_reason="test")
    assert not store.update(order_hash, status="dead", dead_reason="test")  # nothing differs
    read = api.get(f"/v1/orders/app/{order_hash}").json()
    assert (read["status"], read["remaining"]) == ("dead", 1)


# ─── Client against the running service ───


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def market_url(settings: MarketSettings, tmp_path: Path) -> Iterator[str]:
    """`python -m pnyx.services.market` in a subprocess, configured by environment."""
    port = _free_port()
    env = {
        **os.environ,
        "PNYX_HOME": str(tmp_path / "home"),
        "PNYX_MARKET_CHAIN_URL": settings.chain_url,
        "PNYX_MARKET_DEPLOYMENT_FILE": str(settings.deployment_file),
        "PNYX_MARKET_DATABASE_URL": settings.database_url,
        "PNYX_MARKET_POLL_INTERVAL_S": "0.05",
    }
    log = (tmp_path / "market.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "pnyx.services.market", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/v1/health", trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (tmp_path / "market.log").read_text()
            assert time.monotonic() < deadline, "the market did not start"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def test_client_publishes_reads_finds_best_and_unpublishes(market_url: str, world: World) -> None:
    client = MarketClient(market_url)
    try:
        cheap, dear = world.app_order(app_price=1 * TOKEN), world.app_order(app_price=9 * TOKEN)
        created = client.publish(dear)
        client.publish(cheap)
        assert client.get("app", created.hash).order == dear.as_json()
        assert client.query("app", status="any").total == 2
        assert [o.hash for o in client.orderbook("app", asset=world.app).orders][0] == _hash(
            world, cheap
        )
        best = client.best("app", asset=world.app)
        assert isinstance(best, AppOrder)
        assert best == cheap
        assert client.best("app", asset=UNREGISTERED) is None
        with pytest.raises(ServiceConflictError, match="already published"):
            client.publish(cheap)
        with pytest.raises(ServiceAuthError, match="only the order's owner"):
            client.unpublish("app", created.hash, sign_unpublish(new_account(), created.hash))
        gone = client.unpublish(
            "app", created.hash, sign_unpublish(world.app_provider.account, created.hash)
        )
        assert gone.status == "canceled"
        assert client.categories()[0].name == "XS"
    finally:
        client.close()


def test_client_sees_watcher_updates_when_service_runs(market_url: str, world: World) -> None:
    client = MarketClient(market_url)
    try:
        order = world.app_order()
        client.publish(order)
        world.app_provider.cancel(order)
        deadline = time.monotonic() + 15
        while client.get("app", _hash(world, order)).status != "canceled":
            assert time.monotonic() < deadline, "the service's watcher did not see the cancel"
            time.sleep(0.05)
        assert client.orderbook("app").total == 0
    finally:
        client.close()
