"""The market's wire format without a chain: order parsing and its messages, the query schema,
signature recovery mirroring the hub's `Signatures.recover`, the unpublish message, the funds a
match locks, and the settings read from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from pydantic import ValidationError

from pnyx.api.schemas.market import (
    ORDER_CLASSES,
    OrderCreate,
    OrderKind,
    OrderQuery,
    kind_of,
    unpublish_message,
)
from pnyx.chain.signing import new_account, sign_digest, sign_eip191
from pnyx.domain._hex import keccak, to_address
from pnyx.domain.orders import AppOrder, RequestOrder, WorkerpoolOrder
from pnyx.errors import ConfigError, PnyxInputError
from pnyx.services.market.config import MarketSettings
from pnyx.services.market.service import (
    eip191_digest,
    parse_order,
    recover_signer,
    required_funds,
)
from pnyx.types import Address, Bytes32

pytestmark = pytest.mark.unit

APP = to_address("0x1b2c3d4e5f60718293a4b5c6d7e8f90112233445")
SALT = Bytes32("0x" + "ab" * 32)
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _app_json(**changes: Any) -> dict[str, Any]:
    body = AppOrder(app=APP, app_price=5, volume=2, salt=SALT).with_sign(b"\x01" * 65).as_json()
    body.update(changes)
    return body


# ─── Parsing ───


def test_parse_order_round_trips_every_kind() -> None:
    orders = [
        AppOrder(app=APP, app_price=5, volume=2, salt=SALT),
        WorkerpoolOrder(workerpool=APP, workerpool_price=7, volume=3, salt=SALT, trust=4),
        RequestOrder(app=APP, requester=APP, volume=1, salt=SALT, params='{"a": 1}'),
    ]
    for order in orders:
        assert parse_order(kind_of(order), order.as_json()) == order


def test_parse_order_accepts_uint_as_decimal_string() -> None:
    order = parse_order(OrderKind.APP, _app_json(appPrice=str(2**200)))
    assert isinstance(order, AppOrder)
    assert order.app_price == 2**200


def test_parse_order_defaults_missing_sign_to_presigned() -> None:
    body = _app_json()
    body.pop("sign")
    assert parse_order(OrderKind.APP, body).sign == "0x"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"appPrice": True}, "appPrice must be an integer"),
        ({"appPrice": "12a"}, "appPrice must be an integer"),
        ({"appPrice": "١٢"}, "appPrice must be an integer"),
        ({"volume": -3}, "volume must be an integer"),
        ({"volume": 0}, "volume must be at least 1"),
        ({"app": 12}, "app must be a 0x-hex address"),
        ({"tag": "0x" + "0" * 63}, "tag must be 0x-hex of 32 bytes"),
        ({"sign": "0x123"}, "sign must be 0x-hex bytes"),
        ({"workerpoolPrice": 1}, "have no field(s): workerpoolPrice"),
    ],
)
def test_parse_order_refuses_when_field_malformed(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(PnyxInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_order(OrderKind.APP, _app_json(**changes))


def test_parse_order_refuses_when_body_is_another_kind() -> None:
    body = WorkerpoolOrder(workerpool=APP, workerpool_price=7, volume=3, salt=SALT).as_json()
    with pytest.raises(PnyxInputError, match="a workerpool order but the path says request"):
        parse_order(OrderKind.REQUEST, body)


def test_parse_order_refuses_when_params_too_long() -> None:
    body = RequestOrder(app=APP, requester=APP, volume=1, salt=SALT).as_json()
    body["params"] = "x" * 70_000
    with pytest.raises(PnyxInputError, match="params must be a string of at most"):
        parse_order(OrderKind.REQUEST, body)


def test_order_classes_cover_every_kind() -> None:
    assert set(ORDER_CLASSES) == set(OrderKind)
    assert all(kind_of(cls.__new__(cls)) is kind for kind, cls in ORDER_CLASSES.items())


# ─── Schemas ───


def test_order_create_refuses_extra_top_level_fields() -> None:
    with pytest.raises(ValidationError):
        OrderCreate.model_validate({"order": {}, "owner": "me"})


@pytest.mark.parametrize(
    "params",
    [
        {"owner": "0x12"},
        {"min_tag": "0x"},
        {"min_tag": "0x" + "1" * 65},
        {"category": -1},
        {"min_volume": 2**256},
        {"page": 0},
        {"page_size": 101},
        {"status": "closed"},
    ],
)
def test_order_query_refuses_when_out_of_range(params: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        OrderQuery.model_validate(params)


def test_order_query_defaults_to_first_page_of_open_orders() -> None:
    query = OrderQuery()
    assert (query.status.value, query.page, query.page_size) == ("open", 1, 20)


# ─── Signatures ───


def test_recover_signer_finds_eip712_signer() -> None:
    account = new_account()
    digest = keccak(b"an order")
    assert recover_signer(digest, sign_digest(account, digest)) == Address(account.address)


def test_recover_signer_accepts_eip2098_compact_signature() -> None:
    account = new_account()
    digest = keccak(b"an order")
    full = sign_digest(account, digest)
    vs = int.from_bytes(full[32:64], "big") | ((full[64] - 27) << 255)
    assert recover_signer(digest, full[:32] + vs.to_bytes(32, "big")) == Address(account.address)


def test_recover_signer_refuses_high_s_twin() -> None:
    account = new_account()
    digest = keccak(b"an order")
    full = sign_digest(account, digest)
    s = int.from_bytes(full[32:64], "big")
    twin = full[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - full[64]])
    assert recover_signer(digest, twin) is None


@pytest.mark.parametrize(
    "signature", [b"", b"\x01" * 63, b"\x00" * 65, b"\x01" * 64 + b"\x01", b"\xff" * 65]
)
def test_recover_signer_returns_none_when_malformed(signature: bytes) -> None:
    assert recover_signer(keccak(b"an order"), signature) is None


def test_unpublish_message_is_keccak_of_lowercase_text() -> None:
    order_hash = "0x" + "AB" * 32
    expected = keccak(f"pnyx-market:unpublish:0x{'ab' * 32}".encode())
    assert unpublish_message(order_hash) == expected


def test_eip191_digest_matches_eth_account_recovery() -> None:
    account = new_account()
    message = unpublish_message("0x" + "12" * 32)
    signature = sign_eip191(account, message)
    assert recover_signer(eip191_digest(message), signature) == Address(account.address)
    recovered = Account.recover_message(encode_defunct(primitive=message), signature=signature)
    assert recovered == account.address


# ─── Funds ───


@pytest.mark.parametrize(
    ("kind", "price", "remaining", "need"),
    [
        ("workerpool", 10, 3, 9),  # (10 × 30 / 100) × 3, rounded per task like the hub
        ("workerpool", 7, 10, 20),
        ("request", 13, 4, 52),
        ("app", 10, 3, 0),
        ("dataset", 10, 3, 0),
    ],
)
def test_required_funds_mirrors_hub_locks(kind: str, price: int, remaining: int, need: int) -> None:
    assert required_funds(kind, price, remaining) == need


# ─── Settings ───


def test_settings_read_environment_with_chain_fallbacks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PNYX_HOME", str(tmp_path))
    monkeypatch.setenv("PNYX_CHAIN_URL", "http://node:8545")
    monkeypatch.setenv("PNYX_MARKET_PORT", "9000")
    monkeypatch.setenv("PNYX_MARKET_POLL_INTERVAL_S", "0.25")
    monkeypatch.delenv("PNYX_MARKET_CHAIN_URL", raising=False)
    monkeypatch.delenv("PNYX_MARKET_DATABASE_URL", raising=False)
    settings = MarketSettings.from_env()
    assert settings.chain_url == "http://node:8545"
    assert (settings.port, settings.poll_interval_s) == (9000, 0.25)
    assert settings.database_url == f"sqlite:///{tmp_path / 'market' / 'market.db'}"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PNYX_MARKET_PORT", "eighty", "PNYX_MARKET_PORT='eighty' is not a valid int"),
        ("PNYX_MARKET_CONFIRMATIONS", "-1", "confirmations must be ≥ 0"),
        ("PNYX_MARKET_POLL_INTERVAL_S", "0", "poll_interval_s must be > 0"),
        ("PNYX_MARKET_MAX_OPEN_ORDERS_PER_OWNER", "0", "max_open_orders_per_owner must be ≥ 1"),
    ],
)
def test_settings_refuse_when_environment_invalid(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        MarketSettings.from_env()
