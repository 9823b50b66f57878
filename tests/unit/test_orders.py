"""EIP-712 on the Python side: type strings equal the Solidity ones, digests equal eth_account's
reference implementation of typed-data hashing, and the domain binds chain id and hub address."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

from pnyx.config import CONTRACTS_DIR
from pnyx.domain.orders import (
    ORDER_TYPES,
    AppOrder,
    DatasetOrder,
    Eip712Domain,
    Order,
    RequestOrder,
    WorkerpoolOrder,
)
from pnyx.types import Address, Bytes32

pytestmark = pytest.mark.unit

DOMAIN = Eip712Domain(
    chain_id=31337, verifying_contract=Address("0x5FC8d32690cc91D4c39d9d3abcBD16989F875707")
)
A = Address("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
B = Address("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC")
SALT = Bytes32("0x" + "ab" * 32)
EXAMPLES: list[Order] = [
    AppOrder(app=A, app_price=5, volume=3, salt=SALT, requester_restrict=B),
    DatasetOrder(
        dataset=A, dataset_price=7, volume=1, salt=SALT, tag=Bytes32("0x" + "00" * 31 + "01")
    ),
    WorkerpoolOrder(workerpool=A, workerpool_price=10, volume=9, salt=SALT, category=2, trust=8),
    RequestOrder(app=A, requester=B, volume=1, salt=SALT, params='{"args": "ünïcode"}', trust=5),
]


def _solidity_type_strings() -> dict[str, str]:
    source = (CONTRACTS_DIR / "src" / "libraries" / "Orders.sol").read_text()
    strings: dict[str, str] = {}
    for match in re.finditer(r'string internal constant (\w+)_TYPE =\s*((?:"[^"]*"\s*)+);', source):
        text = "".join(re.findall(r'"([^"]*)"', match.group(2)))
        strings[text.split("(")[0]] = text
    return strings


def test_type_strings_equal_solidity_ones() -> None:
    solidity = _solidity_type_strings()
    assert set(solidity) == set(ORDER_TYPES)
    for name, cls in ORDER_TYPES.items():
        assert cls.type_string() == solidity[name]


@pytest.mark.parametrize("order", EXAMPLES, ids=lambda o: type(o).__name__)
def test_digest_equals_eth_account_typed_data_hash(order: Order) -> None:
    signable = encode_typed_data(full_message=order.as_typed_data(DOMAIN))
    expected = keccak(b"\x19" + signable.version + signable.header + signable.body)
    assert order.digest(DOMAIN) == "0x" + expected.hex()


@pytest.mark.parametrize("order", EXAMPLES, ids=lambda o: type(o).__name__)
def test_digest_changes_when_chain_or_hub_changes(order: Order) -> None:
    other_chain = replace(DOMAIN, chain_id=1)
    other_hub = replace(DOMAIN, verifying_contract=B)
    digests = {order.digest(DOMAIN), order.digest(other_chain), order.digest(other_hub)}
    assert len(digests) == 3


@pytest.mark.parametrize("order", EXAMPLES, ids=lambda o: type(o).__name__)
def test_json_round_trip_keeps_the_digest(order: Order) -> None:
    signed = order.with_sign(b"\x01" * 65)
    again = type(order).from_json(signed.as_json())
    assert again == signed
    assert again.digest(DOMAIN) == order.digest(DOMAIN)


def test_signature_is_not_part_of_the_digest() -> None:
    order = EXAMPLES[0]
    assert order.with_sign(b"\x02" * 65).digest(DOMAIN) == order.digest(DOMAIN)
