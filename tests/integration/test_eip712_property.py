"""EIP-712: for all four order types and arbitrary field values, the Python digest equals the
hub's."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pnyx.domain.orders import AppOrder, DatasetOrder, Order, RequestOrder, WorkerpoolOrder
from pnyx.types import Address, Bytes32
from tests.helpers.world import World

pytestmark = pytest.mark.integration

addresses = st.binary(min_size=20, max_size=20).map(lambda b: Address("0x" + b.hex()))
words = st.binary(min_size=32, max_size=32).map(lambda b: Bytes32("0x" + b.hex()))
uints = st.integers(min_value=0, max_value=2**256 - 1)
small = st.integers(min_value=0, max_value=2**64)


def _checksummed(order: Order) -> Order:
    return type(order).from_json(order.as_json())


app_orders = st.builds(
    AppOrder, app=addresses, app_price=uints, volume=uints, salt=words, tag=words,
    dataset_restrict=addresses, workerpool_restrict=addresses, requester_restrict=addresses,
)  # fmt: skip
dataset_orders = st.builds(
    DatasetOrder, dataset=addresses, dataset_price=uints, volume=uints, salt=words, tag=words,
    app_restrict=addresses, workerpool_restrict=addresses, requester_restrict=addresses,
)  # fmt: skip
workerpool_orders = st.builds(
    WorkerpoolOrder, workerpool=addresses, workerpool_price=uints, volume=uints, salt=words,
    tag=words, category=uints, trust=uints, app_restrict=addresses, dataset_restrict=addresses,
    requester_restrict=addresses,
)  # fmt: skip
request_orders = st.builds(
    RequestOrder, app=addresses, requester=addresses, volume=uints, salt=words, app_max_price=uints,
    dataset=addresses, dataset_max_price=uints, workerpool=addresses, workerpool_max_price=small,
    tag=words, category=uints, trust=uints, beneficiary=addresses, callback=addresses,
    params=st.text(max_size=300),
)  # fmt: skip

_HASH_FUNCTIONS = {
    AppOrder: "hashAppOrder",
    DatasetOrder: "hashDatasetOrder",
    WorkerpoolOrder: "hashWorkerpoolOrder",
    RequestOrder: "hashRequestOrder",
}


def _on_chain_digest(world: World, order: Order) -> str:
    function: Any = getattr(world.protocol.hub.functions, _HASH_FUNCTIONS[type(order)])
    return "0x" + bytes(world.client.call(function(order.as_abi()))).hex()


@given(order=st.one_of(app_orders, dataset_orders, workerpool_orders, request_orders))
def test_python_digest_equals_hub_digest_for_any_order(session_world: World, order: Order) -> None:
    order = _checksummed(order)
    assert order.digest(session_world.protocol.domain) == _on_chain_digest(session_world, order)


def test_hub_domain_separator_binds_chain_id_and_hub_address(session_world: World) -> None:
    separator = bytes(
        session_world.client.call(session_world.protocol.hub.functions.domainSeparator())
    )
    assert separator == session_world.protocol.domain.separator()
