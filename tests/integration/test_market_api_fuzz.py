"""Schemathesis fuzzes every market endpoint from its OpenAPI document, against the app with a
live chain behind it: whatever the request, valid or not, the answer is never a 5xx (every
refusal is a precise 4xx). Bounded by hypothesis settings so the run stays well under a minute.

`schemathesis.pytest.from_fixture` fails under pytest 9.2 (it reads `request.node._nodeid`, which
pytest removed), so each operation's strategy is driven by hypothesis directly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.python import asgi

from pnyx.domain.orders import Order
from pnyx.services.market.app import create_market_app
from pnyx.services.market.config import MarketSettings
from tests.helpers.world import World

pytestmark = pytest.mark.integration

OPERATIONS = [
    "GET /v1/health",
    "POST /v1/orders/{kind}",
    "GET /v1/orders/{kind}",
    "GET /v1/orders/{kind}/{order_hash}",
    "DELETE /v1/orders/{kind}/{order_hash}",
    "GET /v1/orderbook/{kind}",
    "GET /v1/categories",
]
EXAMPLES_PER_OPERATION = 60


@pytest.fixture
def market_app(world: World, tmp_path: Path) -> FastAPI:
    deployment_file = tmp_path / "deployment.json"
    world.deployment.save(deployment_file)
    return create_market_app(
        MarketSettings(
            chain_url=world.client.url,
            deployment_file=deployment_file,
            database_url=f"sqlite:///{tmp_path / 'market.db'}",
            poll_interval_s=0.2,
        )
    )


@pytest.fixture
def market_schema(market_app: FastAPI, world: World) -> Iterator[schemathesis.BaseSchema]:
    """The market's OpenAPI schema, loaded from the running app (schemathesis runs its lifespan),
    with one order of each book published so reads find something."""
    loaded = schemathesis.openapi.from_asgi("/openapi.json", market_app)
    seeder = TestClient(market_app)  # no `with`: the lifespan is schemathesis's
    for kind, order in zip(
        ["app", "dataset", "workerpool", "request"], world.orders(), strict=True
    ):
        response = seeder.post(f"/v1/orders/{kind}", json={"order": order.as_json()})
        assert response.status_code == 201, response.text
    yield loaded
    asgi.shutdown_lifespans()  # stops the watcher before the chain snapshot is reverted


def test_fuzzed_operations_cover_the_whole_api(market_schema: schemathesis.BaseSchema) -> None:
    labels = {result.ok().label for result in market_schema.get_all_operations()}  # type: ignore[union-attr]
    assert labels == set(OPERATIONS)


@pytest.mark.parametrize("label", OPERATIONS)
def test_api_answers_without_server_error_when_fuzzed(
    market_schema: schemathesis.BaseSchema, label: str
) -> None:
    operation = market_schema.find_operation_by_label(label)
    assert operation is not None
    modes = [GenerationMode.POSITIVE]
    if operation.path_parameters or operation.query or operation.headers or operation.body:
        modes.append(GenerationMode.NEGATIVE)
    strategy = st.one_of(*(operation.as_strategy(mode) for mode in modes))
    answered: list[int] = []

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def never_fails(case: schemathesis.Case[Any]) -> None:
        response = case.call()
        answered.append(response.status_code)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} → {response.status_code}: {response.text}"
        )

    never_fails()
    assert answered


# ─── Near-valid orders: reach the chain checks, not only the parser ───

_JSON_VALUES = st.one_of(
    st.integers(min_value=0, max_value=10**6),
    st.binary(min_size=20, max_size=20).map(lambda raw: "0x" + raw.hex()),
    st.binary(min_size=32, max_size=32).map(lambda raw: "0x" + raw.hex()),
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**300), max_value=2**300),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=80),
    st.binary(max_size=70).map(lambda raw: "0x" + raw.hex()),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
_SIGNATURES = st.one_of(
    st.binary(min_size=65, max_size=65),
    st.binary(min_size=64, max_size=64),
    st.binary(max_size=80),
).map(lambda raw: "0x" + raw.hex())


@pytest.fixture
def api(market_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(market_app) as client:
        yield client


@pytest.fixture
def signed_orders(world: World) -> dict[str, Order]:
    app, dataset, pool, request = world.orders(volume=2)
    return {"app": app, "dataset": dataset, "workerpool": pool, "request": request}


@given(data=st.data())
@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_publish_answers_4xx_or_201_when_orders_mutated(
    api: TestClient, signed_orders: dict[str, Order], data: st.DataObject
) -> None:
    kind = data.draw(st.sampled_from(sorted(signed_orders)), label="kind")
    body: dict[str, Any] = signed_orders[kind].as_json()
    for _ in range(data.draw(st.integers(min_value=0, max_value=2), label="mutations")):
        field = data.draw(st.sampled_from([*sorted(body), "extra"]), label="field")
        if field == "sign":
            body["sign"] = data.draw(_SIGNATURES, label="sign")
        else:
            body[field] = data.draw(_JSON_VALUES, label="value")
    path_kind = data.draw(st.sampled_from([kind, "app", "request"]), label="path")
    response = api.post(f"/v1/orders/{path_kind}", json={"order": body})
    assert response.status_code in (201, 401, 409, 422), response.text
    if response.status_code != 201:
        assert response.json()["detail"]
