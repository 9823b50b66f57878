"""On-chain order management (`manage{App,Dataset,Workerpool,Request}Order`): presign (SIGN) and
cancel (CLOSE), sent by the order's owner or carrying its EIP-712 operation signature, and the
hub's registry mirror deciding who that owner is after an asset NFT changes hands."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from pnyx.chain import contract_errors as errors
from pnyx.chain.protocol import MatchedDeal
from pnyx.chain.signing import new_account, sign_order, sign_order_operation
from pnyx.domain._hex import to_address, to_hex32
from pnyx.domain.orders import (
    AppOrder,
    DatasetOrder,
    Order,
    OrderOperation,
    RequestOrder,
    WorkerpoolOrder,
)
from pnyx.types import ZERO_ADDRESS, Address
from tests.helpers.contracts import deploy_test_contract
from tests.helpers.world import World

pytestmark = pytest.mark.integration

Orders = tuple[AppOrder, DatasetOrder, WorkerpoolOrder, RequestOrder]

KINDS = ["app", "dataset", "workerpool", "request"]
ASSET_KINDS = ["app", "dataset", "workerpool"]
UNREGISTERED = Address("0x00000000000000000000000000000000DeaDBeef")

SIGNATURE_ERRORS: dict[str, type[errors.ContractRevert]] = {
    "app": errors.MarketInvalidAppOrderSignature,
    "dataset": errors.MarketInvalidDatasetOrderSignature,
    "workerpool": errors.MarketInvalidWorkerpoolOrderSignature,
    "request": errors.MarketInvalidRequestOrderSignature,
}
NOT_REGISTERED_ERRORS: dict[str, tuple[type[errors.ContractRevert], str]] = {
    "app": (errors.MarketAppNotRegistered, "app"),
    "dataset": (errors.MarketDatasetNotRegistered, "dataset"),
    "workerpool": (errors.MarketWorkerpoolNotRegistered, "workerpool"),
}


# ─── Helpers ───


def _index(kind: str) -> int:
    return KINDS.index(kind)


def _owner(world: World, kind: str) -> LocalAccount:
    """The account that owns orders of `kind` in the world (asset owner or requester)."""
    return {
        "app": world.app_provider.account,
        "dataset": world.dataset_provider.account,
        "workerpool": world.scheduler.account,
        "request": world.requester.account,
    }[kind]


def _with(orders: Orders, kind: str, order: Order) -> Orders:
    out: list[Any] = list(orders)
    out[_index(kind)] = order
    return out[0], out[1], out[2], out[3]


def _unsigned(world: World, kind: str, *, volume: int = 1) -> tuple[Orders, Order]:
    """Compatible orders whose `kind` order carries no signature, and that order."""
    orders = world.orders(volume=volume)
    order = orders[_index(kind)].with_sign(b"")
    return _with(orders, kind, order), order


def _match(world: World, orders: Orders) -> MatchedDeal:
    app, dataset, pool, request = orders
    deal, _ = world.protocol.match_orders(world.requester.account, app, dataset, pool, request)
    return deal


def _manage(
    world: World,
    sender: LocalAccount,
    order: Order,
    operation: OrderOperation,
    *,
    sign: bytes = b"",
) -> TxReceipt:
    return world.protocol.manage_order(sender, order, operation, sign=sign)


def _operation_signature(
    world: World, signer: LocalAccount, order: Order, operation: OrderOperation
) -> bytes:
    return sign_order_operation(signer, order, operation, world.protocol.domain)


def _digest(world: World, order: Order) -> str:
    return order.digest(world.protocol.domain)


def _transfer_app(world: World, to: str) -> None:
    """Moves the world's app NFT from its provider to `to` (ERC-721 transferFrom)."""
    seller = world.app_provider.account
    fn = world.protocol.apps.functions.transferFrom(seller.address, to, int(world.app, 16))
    world.client.transact(seller, fn)


# ─── Presign ───


@pytest.mark.parametrize("kind", KINDS)
def test_presign_by_owner_makes_unsigned_order_matchable(world: World, kind: str) -> None:
    orders, order = _unsigned(world, kind)
    owner = _owner(world, kind)
    _manage(world, owner, order, OrderOperation.SIGN)
    assert world.protocol.presigner(_digest(world, order)) == owner.address
    matched = _match(world, orders)
    assert matched.volume == 1
    assert world.protocol.consumed(_digest(world, order)) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_match_reverts_with_invalid_signature_when_unsigned_order_is_not_presigned(
    world: World, kind: str
) -> None:
    orders, order = _unsigned(world, kind)
    with pytest.raises(SIGNATURE_ERRORS[kind]) as caught:
        _match(world, orders)
    assert caught.value.args_by_name == {"orderHash": _digest(world, order)}


@pytest.mark.parametrize("kind", KINDS)
def test_presign_reverts_with_unauthorized_operation_when_sender_is_not_owner(
    world: World, kind: str
) -> None:
    _, order = _unsigned(world, kind)
    with pytest.raises(errors.MarketUnauthorizedOrderOperation) as caught:
        _manage(world, world.stranger, order, OrderOperation.SIGN)
    assert caught.value.args_by_name == {
        "orderHash": _digest(world, order),
        "sender": world.stranger.address,
    }
    assert world.protocol.presigner(_digest(world, order)) == ZERO_ADDRESS


@pytest.mark.parametrize("kind", KINDS)
def test_presign_succeeds_when_owner_signed_operation_is_sent_by_another(
    world: World, kind: str
) -> None:
    orders, order = _unsigned(world, kind)
    owner = _owner(world, kind)
    signature = _operation_signature(world, owner, order, OrderOperation.SIGN)
    _manage(world, world.stranger, order, OrderOperation.SIGN, sign=signature)
    assert world.protocol.presigner(_digest(world, order)) == owner.address
    assert _match(world, orders).volume == 1


def test_presign_succeeds_with_provider_operation_signature(world: World) -> None:
    orders, order = _unsigned(world, "app")
    signature = world.app_provider.operation_signature(order, OrderOperation.SIGN)
    _manage(world, world.stranger, order, OrderOperation.SIGN, sign=signature)
    assert _match(world, orders).deal.app_owner == world.app_provider.address


@pytest.mark.parametrize("kind", KINDS)
def test_presign_reverts_with_unauthorized_operation_when_signed_by_non_owner(
    world: World, kind: str
) -> None:
    _, order = _unsigned(world, kind)
    signature = _operation_signature(world, world.stranger, order, OrderOperation.SIGN)
    with pytest.raises(errors.MarketUnauthorizedOrderOperation):
        _manage(world, world.stranger, order, OrderOperation.SIGN, sign=signature)
    assert world.protocol.presigner(_digest(world, order)) == ZERO_ADDRESS


def test_cancel_reverts_with_unauthorized_operation_when_signature_is_for_presign(
    world: World,
) -> None:
    order = world.app_order(volume=2)
    presign = world.app_provider.operation_signature(order, OrderOperation.SIGN)
    with pytest.raises(errors.MarketUnauthorizedOrderOperation):
        _manage(world, world.stranger, order, OrderOperation.CLOSE, sign=presign)
    assert world.protocol.consumed(_digest(world, order)) == 0


def test_presign_reverts_with_unauthorized_operation_when_signature_is_for_another_order(
    world: World,
) -> None:
    order = world.app_order()
    other = world.app_order()
    signature = world.app_provider.operation_signature(other, OrderOperation.SIGN)
    with pytest.raises(errors.MarketUnauthorizedOrderOperation):
        _manage(world, world.stranger, order, OrderOperation.SIGN, sign=signature)


@pytest.mark.parametrize("kind", KINDS)
def test_presign_emits_order_presigned(world: World, kind: str) -> None:
    _, order = _unsigned(world, kind)
    owner = _owner(world, kind)
    receipt = _manage(world, owner, order, OrderOperation.SIGN)
    (event,) = world.client.events(world.protocol.hub, "OrderPresigned", receipt)
    assert to_hex32(bytes(event["args"]["orderHash"])) == _digest(world, order)
    assert event["args"]["owner"] == owner.address
    assert world.client.events(world.protocol.hub, "OrderClosed", receipt) == []


def test_match_rejects_signed_order_with_garbage_signature_even_if_presigned(
    world: World,
) -> None:
    # A non-empty `sign` is verified as a signature; the presignature is only for an empty one.
    orders, order = _unsigned(world, "app")
    _manage(world, world.app_provider.account, order, OrderOperation.SIGN)
    garbage = order.with_sign(b"\x01" * 65)
    with pytest.raises(errors.MarketInvalidAppOrderSignature):
        _match(world, _with(orders, "app", garbage))


# ─── Cancel ───


@pytest.mark.parametrize("kind", KINDS)
def test_cancel_by_owner_consumes_whole_volume_and_blocks_matching(world: World, kind: str) -> None:
    orders = world.orders(volume=3)
    order = orders[_index(kind)]
    _manage(world, _owner(world, kind), order, OrderOperation.CLOSE)
    assert world.protocol.consumed(_digest(world, order)) == 3
    with pytest.raises(errors.MarketOrderConsumed) as caught:
        _match(world, orders)
    assert caught.value.args_by_name == {"orderHash": _digest(world, order)}


@pytest.mark.parametrize("kind", KINDS)
def test_cancel_emits_order_closed(world: World, kind: str) -> None:
    order = world.orders()[_index(kind)]
    owner = _owner(world, kind)
    receipt = _manage(world, owner, order, OrderOperation.CLOSE)
    (event,) = world.client.events(world.protocol.hub, "OrderClosed", receipt)
    assert to_hex32(bytes(event["args"]["orderHash"])) == _digest(world, order)
    assert event["args"]["owner"] == owner.address


def test_cancel_by_requester_closes_its_request(world: World) -> None:
    orders = world.orders(volume=4)
    request = orders[3]
    world.requester.cancel(request)
    assert world.protocol.consumed(_digest(world, request)) == 4
    with pytest.raises(errors.MarketOrderConsumed):
        _match(world, orders)


def test_cancel_reverts_with_unauthorized_operation_when_stranger_cancels_request(
    world: World,
) -> None:
    request = world.request_order(volume=2)
    with pytest.raises(errors.MarketUnauthorizedOrderOperation):
        _manage(world, world.stranger, request, OrderOperation.CLOSE)
    assert world.protocol.consumed(_digest(world, request)) == 0


@pytest.mark.parametrize("kind", KINDS)
def test_cancel_succeeds_when_owner_signed_operation_is_sent_by_another(
    world: World, kind: str
) -> None:
    order = world.orders(volume=2)[_index(kind)]
    signature = _operation_signature(world, _owner(world, kind), order, OrderOperation.CLOSE)
    _manage(world, world.stranger, order, OrderOperation.CLOSE, sign=signature)
    assert world.protocol.consumed(_digest(world, order)) == 2


def test_cancel_after_partial_fill_consumes_the_remaining_volume(world: World) -> None:
    app, dataset, _, request = world.orders(volume=3)
    first = _match(world, (app, dataset, world.workerpool_order(volume=1), request))
    assert first.volume == 1
    world.requester.cancel(request)
    assert world.protocol.consumed(_digest(world, request)) == 3
    with pytest.raises(errors.MarketOrderConsumed):
        _match(world, (app, dataset, world.workerpool_order(volume=2), request))


def test_cancel_of_presigned_order_blocks_matching(world: World) -> None:
    orders, order = _unsigned(world, "workerpool")
    _manage(world, world.scheduler.account, order, OrderOperation.SIGN)
    _manage(world, world.scheduler.account, order, OrderOperation.CLOSE)
    with pytest.raises(errors.MarketOrderConsumed):
        _match(world, orders)


# ─── Unregistered assets ───


@pytest.mark.parametrize("operation", [OrderOperation.SIGN, OrderOperation.CLOSE])
@pytest.mark.parametrize("kind", ASSET_KINDS)
def test_manage_order_reverts_with_not_registered_when_asset_is_unknown(
    world: World, kind: str, operation: OrderOperation
) -> None:
    builder = {
        "app": world.app_order,
        "dataset": world.dataset_order,
        "workerpool": world.workerpool_order,
    }[kind]
    order = builder(**{kind: UNREGISTERED})
    error, field = NOT_REGISTERED_ERRORS[kind]
    with pytest.raises(error) as caught:
        _manage(world, _owner(world, kind), order, operation)
    assert caught.value.args_by_name == {field: UNREGISTERED}


def test_manage_app_order_reverts_with_not_registered_when_address_is_a_dataset(
    world: World,
) -> None:
    order = world.app_order(app=world.dataset)
    with pytest.raises(errors.MarketAppNotRegistered) as caught:
        _manage(world, world.dataset_provider.account, order, OrderOperation.SIGN)
    assert caught.value.args_by_name == {"app": world.dataset}


# ─── Contract owners ───


def test_presign_succeeds_with_erc1271_operation_signature_of_contract_owner(
    world: World,
) -> None:
    signer = new_account()
    wallet = deploy_test_contract(world.client, world.owner, "ContractWallet", signer.address)
    app = world.protocol.create_app(
        world.app_provider.account,
        name="wallet-app",
        app_type="WASM",
        multiaddr="file:///apps/wallet.wasm",
        checksum="0x" + "44" * 32,
        owner=wallet.address,
    )
    orders, _ = _unsigned(world, "app")
    order = world.app_order(app=app).with_sign(b"")
    request = world.request_order(app=app)
    signature = _operation_signature(world, signer, order, OrderOperation.SIGN)
    _manage(world, world.stranger, order, OrderOperation.SIGN, sign=signature)
    assert world.protocol.presigner(_digest(world, order)) == wallet.address
    matched = _match(world, (order, orders[1], orders[2], request))
    assert matched.deal.app_owner == wallet.address


# ─── Ownership follows the asset NFT ───


def test_app_transfer_updates_the_hub_registry_mirror(world: World) -> None:
    buyer = world.stranger
    _transfer_app(world, buyer.address)
    owner, kind, _, _ = world.client.call(world.protocol.hub.functions.getAsset(world.app))
    assert (to_address(owner), kind) == (buyer.address, 1)  # AssetKind.APP


def test_app_transfer_invalidates_the_previous_owner_signature(world: World) -> None:
    orders = world.orders()
    _transfer_app(world, world.stranger.address)
    with pytest.raises(errors.MarketInvalidAppOrderSignature) as caught:
        _match(world, orders)
    assert caught.value.args_by_name == {"orderHash": _digest(world, orders[0])}


def test_app_transfer_lets_the_new_owner_sign_app_orders(world: World) -> None:
    buyer = world.stranger
    _transfer_app(world, buyer.address)
    orders = world.orders()
    app = sign_order(buyer, orders[0], world.protocol.domain)
    matched = _match(world, _with(orders, "app", app))
    assert matched.deal.app_owner == buyer.address


def test_app_transfer_moves_the_right_to_presign(world: World) -> None:
    buyer = world.stranger
    _transfer_app(world, buyer.address)
    orders, order = _unsigned(world, "app")
    with pytest.raises(errors.MarketUnauthorizedOrderOperation):
        _manage(world, world.app_provider.account, order, OrderOperation.SIGN)
    _manage(world, buyer, order, OrderOperation.SIGN)
    assert _match(world, orders).deal.app_owner == buyer.address


def test_app_transfer_voids_the_previous_owner_presignature(world: World) -> None:
    orders, order = _unsigned(world, "app")
    _manage(world, world.app_provider.account, order, OrderOperation.SIGN)
    _transfer_app(world, world.stranger.address)
    with pytest.raises(errors.MarketInvalidAppOrderSignature):
        _match(world, orders)
