"""`matchOrders` and `depositAndMatchOrders`: every check in iExec order (0x00 … 0x60), each with
its own custom error and the Python exception of the same name, then what a successful match does
(locks, deal record, events, volume, partial fills) and the signature forms the hub accepts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3.contract import Contract
from web3.types import TxReceipt

from pnyx.chain import contract_errors as errors
from pnyx.chain.protocol import MatchedDeal
from pnyx.chain.signing import new_account, sign_order
from pnyx.domain._hex import keccak, to_bytes, to_hex32
from pnyx.domain.orders import AppOrder, DatasetOrder, Order, RequestOrder, WorkerpoolOrder
from pnyx.domain.tags import tag_from_names
from pnyx.types import ZERO_ADDRESS, ZERO_BYTES32, Address
from tests.helpers.contracts import deploy_test_contract
from tests.helpers.world import (
    APP_PRICE,
    DATASET_PRICE,
    DEPOSIT,
    PARAMS,
    WORKERPOOL_PRICE,
    World,
)

pytestmark = pytest.mark.integration

_O = TypeVar("_O", bound=Order)
Orders = tuple[AppOrder, DatasetOrder, WorkerpoolOrder, RequestOrder]

TASK_PRICE = APP_PRICE + DATASET_PRICE + WORKERPOOL_PRICE
SCHEDULER_STAKE = WORKERPOOL_PRICE * 30 // 100
UNREGISTERED = Address("0x00000000000000000000000000000000DeaDBeef")


# ─── Helpers ───


def _match(
    world: World, orders: Orders, *, sender: LocalAccount | None = None
) -> tuple[MatchedDeal, TxReceipt]:
    app, dataset, pool, request = orders
    return world.protocol.match_orders(
        sender or world.requester.account, app, dataset, pool, request
    )


def _orders_with(world: World, kind: str, **fields: Any) -> Orders:
    """The world's compatible orders, the `kind` one rebuilt (and re-signed) with `fields`."""
    builders: dict[str, Callable[..., Any]] = {
        "app": world.app_order,
        "dataset": world.dataset_order,
        "workerpool": world.workerpool_order,
        "request": world.request_order,
    }
    built = {name: build(**fields) if name == kind else build() for name, build in builders.items()}
    return built["app"], built["dataset"], built["workerpool"], built["request"]


def _index(kind: str) -> int:
    return ("app", "dataset", "workerpool", "request").index(kind)


def _replace_order(orders: Orders, kind: str, order: Order) -> Orders:
    out: list[Any] = list(orders)
    out[_index(kind)] = order
    return out[0], out[1], out[2], out[3]


def _signed_by(world: World, account: LocalAccount, order: _O) -> _O:
    return sign_order(account, order, world.protocol.domain)


def _digest(world: World, order: Order) -> str:
    return order.digest(world.protocol.domain)


def _participant(world: World, role: str) -> Address:
    """The address a restriction on `role` is checked against."""
    return {
        "app": world.app,
        "dataset": world.dataset,
        "workerpool": world.workerpool,
        "requester": world.requester.address,
    }[role]


def _compact(signature: bytes) -> bytes:
    """The EIP-2098 form of a 65-byte signature: r ‖ (s | (v - 27) << 255)."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (s | ((v - 27) << 255)).to_bytes(32, "big")


def _deploy_group(world: World, *members: str) -> Contract:
    group = deploy_test_contract(world.client, world.owner, "GroupRestriction")
    for member in members:
        world.client.transact(world.owner, group.functions.addMember(member))
    return group


def _permit(
    world: World, owner: LocalAccount, value: int, *, signer: LocalAccount | None = None
) -> tuple[int, int, bytes, bytes]:
    """An EIP-2612 permit letting the hub pull `value` tokens of `owner`: (deadline, v, r, s)."""
    token = world.protocol.token
    deadline = world.client.timestamp() + 3_600
    typed_data = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {
            "name": "Pnyx Token",
            "version": "1",
            "chainId": world.client.chain_id,
            "verifyingContract": token.address,
        },
        "message": {
            "owner": owner.address,
            "spender": world.deployment.hub,
            "value": value,
            "nonce": token.functions.nonces(owner.address).call(),
            "deadline": deadline,
        },
    }
    signed = Account.sign_typed_data((signer or owner).key, full_message=typed_data)
    return deadline, signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


def _prepare_permit_deposit(world: World) -> None:
    """Leaves the requester with no escrow balance and no allowance, so only a permit and the
    deposit made in the same transaction can pay for the match."""
    world.requester.withdraw(DEPOSIT)
    world.protocol.approve(world.requester.account, 0)


# ─── 0x00 – 0x11: terms ───


def test_match_reverts_with_category_mismatch_when_request_category_differs(
    world: World,
) -> None:
    orders = _orders_with(world, "request", category=1)
    with pytest.raises(errors.MarketCategoryMismatch) as caught:
        _match(world, orders)
    assert caught.value.args_by_name == {"requestCategory": 1, "workerpoolCategory": 0}


def test_match_reverts_with_unknown_category_when_category_does_not_exist(world: World) -> None:
    count = world.protocol.client.call(world.protocol.hub.functions.getCategoryCount())
    app, dataset, _, _ = world.orders()
    pool = world.workerpool_order(category=count)
    request = world.request_order(category=count)
    with pytest.raises(errors.MarketUnknownCategory) as caught:
        _match(world, (app, dataset, pool, request))
    assert caught.value.args_by_name == {"category": count}


def test_match_reverts_with_trust_too_high_when_request_trust_exceeds_pool_trust(
    world: World,
) -> None:
    app, dataset, _, _ = world.orders()
    pool = world.workerpool_order(trust=3)
    request = world.request_order(trust=4)
    with pytest.raises(errors.MarketTrustTooHigh) as caught:
        _match(world, (app, dataset, pool, request))
    assert caught.value.args_by_name == {"requested": 4, "offered": 3}


def test_match_reverts_with_app_price_too_high_when_app_exceeds_max_price(world: World) -> None:
    orders = _orders_with(world, "request", app_max_price=APP_PRICE - 1)
    with pytest.raises(errors.MarketAppPriceTooHigh) as caught:
        _match(world, orders)
    assert caught.value.args_by_name == {"price": APP_PRICE, "maxPrice": APP_PRICE - 1}


def test_match_reverts_with_dataset_price_too_high_when_dataset_exceeds_max_price(
    world: World,
) -> None:
    orders = _orders_with(world, "request", dataset_max_price=DATASET_PRICE - 1)
    with pytest.raises(errors.MarketDatasetPriceTooHigh) as caught:
        _match(world, orders)
    assert caught.value.args_by_name == {"price": DATASET_PRICE, "maxPrice": DATASET_PRICE - 1}


def test_match_reverts_with_workerpool_price_too_high_when_pool_exceeds_max_price(
    world: World,
) -> None:
    orders = _orders_with(world, "request", workerpool_max_price=WORKERPOOL_PRICE - 1)
    with pytest.raises(errors.MarketWorkerpoolPriceTooHigh) as caught:
        _match(world, orders)
    assert caught.value.args_by_name == {
        "price": WORKERPOOL_PRICE,
        "maxPrice": WORKERPOOL_PRICE - 1,
    }


def test_match_reverts_with_tag_not_offered_when_pool_lacks_a_requested_bit(world: World) -> None:
    orders = _orders_with(world, "request", tag=tag_from_names(["gpu"]))
    with pytest.raises(errors.MarketTagNotOffered) as caught:
        _match(world, orders)
    assert caught.value.args_by_name == {"tag": tag_from_names(["gpu"]), "offered": ZERO_BYTES32}


@pytest.mark.parametrize("kind", ["dataset", "request"])
def test_match_reverts_with_tee_not_allowed_when_tee_required_but_not_by_app(
    world: World, kind: str
) -> None:
    tee = tag_from_names(["tee"])
    app, dataset, _, request = _orders_with(world, kind, tag=tee)
    pool = world.workerpool_order(tag=tee)
    with pytest.raises(errors.MarketTeeNotAllowedByApp) as caught:
        _match(world, (app, dataset, pool, request))
    assert caught.value.args_by_name == {"tag": tee, "appTag": ZERO_BYTES32}


def test_match_ignores_dataset_tee_framework_bits_when_pool_does_not_offer_them(
    world: World,
) -> None:
    orders = _orders_with(world, "dataset", tag=tag_from_names(["scone", "gramine", "tdx"]))
    matched, _ = _match(world, orders)
    assert matched.deal.tag == ZERO_BYTES32


def test_match_reverts_with_app_mismatch_when_request_names_another_app(world: World) -> None:
    orders = _orders_with(world, "request", app=UNREGISTERED)
    with pytest.raises(errors.MarketAppMismatch) as caught:
        _match(world, orders)
    assert caught.value.args_by_name == {"requested": UNREGISTERED, "offered": world.app}


def test_match_reverts_with_dataset_mismatch_when_request_names_another_dataset(
    world: World,
) -> None:
    orders = _orders_with(world, "request", dataset=ZERO_ADDRESS)
    with pytest.raises(errors.MarketDatasetMismatch) as caught:
        _match(world, orders)
    assert caught.value.args_by_name == {"requested": ZERO_ADDRESS, "offered": world.dataset}


# ─── 0x12 – 0x1b: restrictions ───

RESTRICTIONS = [
    pytest.param(
        "request", "workerpool", errors.MarketRequestWorkerpoolRestricted, "workerpool", id="0x12"
    ),
    pytest.param(
        "app", "dataset_restrict", errors.MarketAppDatasetRestricted, "dataset", id="0x13"
    ),
    pytest.param(
        "app", "workerpool_restrict", errors.MarketAppWorkerpoolRestricted, "workerpool", id="0x14"
    ),
    pytest.param(
        "app", "requester_restrict", errors.MarketAppRequesterRestricted, "requester", id="0x15"
    ),
    pytest.param("dataset", "app_restrict", errors.MarketDatasetAppRestricted, "app", id="0x16"),
    pytest.param(
        "dataset",
        "workerpool_restrict",
        errors.MarketDatasetWorkerpoolRestricted,
        "workerpool",
        id="0x17",
    ),
    pytest.param(
        "dataset",
        "requester_restrict",
        errors.MarketDatasetRequesterRestricted,
        "requester",
        id="0x18",
    ),
    pytest.param(
        "workerpool", "app_restrict", errors.MarketWorkerpoolAppRestricted, "app", id="0x19"
    ),
    pytest.param(
        "workerpool",
        "dataset_restrict",
        errors.MarketWorkerpoolDatasetRestricted,
        "dataset",
        id="0x1a",
    ),
    pytest.param(
        "workerpool",
        "requester_restrict",
        errors.MarketWorkerpoolRequesterRestricted,
        "requester",
        id="0x1b",
    ),
]


@pytest.mark.parametrize(("kind", "field", "error", "role"), RESTRICTIONS)
def test_match_reverts_with_restriction_error_when_restricted_to_another_eoa(
    world: World, kind: str, field: str, error: type[errors.ContractRevert], role: str
) -> None:
    other = Address(world.stranger.address)
    orders = _orders_with(world, kind, **{field: other})
    with pytest.raises(error) as caught:
        _match(world, orders)
    assert caught.value.args_by_name == {"restriction": other, role: _participant(world, role)}


@pytest.mark.parametrize(("kind", "field", "error", "role"), RESTRICTIONS)
def test_match_succeeds_when_restriction_equals_the_account(
    world: World, kind: str, field: str, error: type[errors.ContractRevert], role: str
) -> None:
    orders = _orders_with(world, kind, **{field: _participant(world, role)})
    matched, _ = _match(world, orders)
    assert matched.volume == 1


@pytest.mark.parametrize(("kind", "field", "error", "role"), RESTRICTIONS)
def test_match_succeeds_when_restriction_is_a_group_the_account_belongs_to(
    world: World, kind: str, field: str, error: type[errors.ContractRevert], role: str
) -> None:
    group = _deploy_group(world, world.stranger.address, _participant(world, role))
    orders = _orders_with(world, kind, **{field: group.address})
    matched, _ = _match(world, orders)
    assert matched.volume == 1


@pytest.mark.parametrize(("kind", "field", "error", "role"), RESTRICTIONS)
def test_match_reverts_with_restriction_error_when_account_is_not_a_group_member(
    world: World, kind: str, field: str, error: type[errors.ContractRevert], role: str
) -> None:
    group = _deploy_group(world, world.stranger.address)
    orders = _orders_with(world, kind, **{field: group.address})
    with pytest.raises(error) as caught:
        _match(world, orders)
    assert caught.value.args_by_name == {
        "restriction": group.address,
        role: _participant(world, role),
    }


def test_match_reverts_with_restriction_error_when_restriction_contract_is_not_a_group(
    world: World,
) -> None:
    not_a_group = deploy_test_contract(world.client, world.owner, "ContractWallet", ZERO_ADDRESS)
    orders = _orders_with(world, "app", requester_restrict=not_a_group.address)
    with pytest.raises(errors.MarketAppRequesterRestricted) as caught:
        _match(world, orders)
    assert caught.value.args_by_name["restriction"] == not_a_group.address


# ─── 0x20 – 0x50: registration and signatures ───


def test_match_reverts_with_app_not_registered_when_app_is_unknown(world: World) -> None:
    app, dataset, pool, _ = world.orders()
    app = world.app_order(app=UNREGISTERED)
    request = world.request_order(app=UNREGISTERED)
    with pytest.raises(errors.MarketAppNotRegistered) as caught:
        _match(world, (app, dataset, pool, request))
    assert caught.value.args_by_name == {"app": UNREGISTERED}


def test_match_reverts_with_app_not_registered_when_app_is_a_dataset(world: World) -> None:
    _, dataset, pool, _ = world.orders()
    app = _signed_by(
        world, world.dataset_provider.account, replace(world.app_order(), app=world.dataset)
    )
    request = world.request_order(app=world.dataset)
    with pytest.raises(errors.MarketAppNotRegistered) as caught:
        _match(world, (app, dataset, pool, request))
    assert caught.value.args_by_name == {"app": world.dataset}


def test_match_reverts_with_dataset_not_registered_when_dataset_is_unknown(world: World) -> None:
    app, _, pool, _ = world.orders()
    dataset = world.dataset_order(dataset=UNREGISTERED)
    request = world.request_order(dataset=UNREGISTERED)
    with pytest.raises(errors.MarketDatasetNotRegistered) as caught:
        _match(world, (app, dataset, pool, request))
    assert caught.value.args_by_name == {"dataset": UNREGISTERED}


def test_match_reverts_with_workerpool_not_registered_when_pool_is_unknown(world: World) -> None:
    orders = _orders_with(world, "workerpool", workerpool=UNREGISTERED)
    with pytest.raises(errors.MarketWorkerpoolNotRegistered) as caught:
        _match(world, orders)
    assert caught.value.args_by_name == {"workerpool": UNREGISTERED}


SIGNATURE_ERRORS = [
    pytest.param("app", errors.MarketInvalidAppOrderSignature, id="0x21-app"),
    pytest.param("dataset", errors.MarketInvalidDatasetOrderSignature, id="0x31-dataset"),
    pytest.param("workerpool", errors.MarketInvalidWorkerpoolOrderSignature, id="0x41-workerpool"),
    pytest.param("request", errors.MarketInvalidRequestOrderSignature, id="0x50-request"),
]


@pytest.mark.parametrize(("kind", "error"), SIGNATURE_ERRORS)
def test_match_reverts_with_invalid_signature_when_order_signed_by_wrong_key(
    world: World, kind: str, error: type[errors.ContractRevert]
) -> None:
    orders = world.orders()
    forged = _signed_by(world, world.stranger, orders[_index(kind)])
    with pytest.raises(error) as caught:
        _match(world, _replace_order(orders, kind, forged))
    assert caught.value.args_by_name == {"orderHash": _digest(world, forged)}


@pytest.mark.parametrize(("kind", "error"), SIGNATURE_ERRORS)
def test_match_reverts_with_invalid_signature_when_signature_is_for_another_volume(
    world: World, kind: str, error: type[errors.ContractRevert]
) -> None:
    orders = world.orders()
    genuine = orders[_index(kind)]
    tampered = replace(genuine, volume=genuine.volume + 1)
    assert tampered.sign == genuine.sign
    with pytest.raises(error) as caught:
        _match(world, _replace_order(orders, kind, tampered))
    assert caught.value.args_by_name == {"orderHash": _digest(world, tampered)}


def test_match_reverts_with_invalid_signature_when_signature_is_for_another_price(
    world: World,
) -> None:
    app, dataset, pool, request = world.orders()
    cheaper = replace(app, app_price=0)
    with pytest.raises(errors.MarketInvalidAppOrderSignature) as caught:
        _match(world, (cheaper, dataset, pool, request))
    assert caught.value.args_by_name == {"orderHash": _digest(world, cheaper)}


# ─── 0x60: volume ───


@pytest.mark.parametrize("kind", ["app", "dataset", "workerpool", "request"])
def test_match_reverts_with_order_consumed_when_order_volume_is_used_up(
    world: World, kind: str
) -> None:
    first = world.orders()
    _match(world, first)
    reused = first[_index(kind)]
    second = _replace_order(world.orders(), kind, reused)
    with pytest.raises(errors.MarketOrderConsumed) as caught:
        _match(world, second)
    assert caught.value.args_by_name == {"orderHash": _digest(world, reused)}


# ─── A successful match ───


def test_match_locks_task_price_from_requester_and_stake_from_scheduler(world: World) -> None:
    requester_before = world.protocol.account(world.requester.address)
    scheduler_before = world.protocol.account(world.scheduler.address)
    _match(world, world.orders(volume=3))
    requester_after = world.protocol.account(world.requester.address)
    scheduler_after = world.protocol.account(world.scheduler.address)
    assert requester_after.free == requester_before.free - TASK_PRICE * 3
    assert requester_after.locked == requester_before.locked + TASK_PRICE * 3
    assert scheduler_after.free == scheduler_before.free - SCHEDULER_STAKE * 3
    assert scheduler_after.locked == scheduler_before.locked + SCHEDULER_STAKE * 3


def test_match_locks_nothing_from_app_and_dataset_providers(world: World) -> None:
    providers = (world.app_provider.address, world.dataset_provider.address)
    before = [world.protocol.account(p) for p in providers]
    _match(world, world.orders())
    assert [world.protocol.account(p) for p in providers] == before


def test_match_creates_deal_record_with_owners_prices_and_terms(world: World) -> None:
    app, dataset, _, _ = world.orders(volume=2)
    pool = world.workerpool_order(volume=2, category=2, trust=5)
    request = world.request_order(volume=2, category=2, trust=0)
    matched, receipt = _match(world, (app, dataset, pool, request))
    deal = matched.deal
    policy = world.protocol.workerpool(world.workerpool)
    block = world.client.w3.eth.get_block(receipt["blockNumber"])
    assert (deal.app, deal.app_owner, deal.app_price) == (
        world.app,
        world.app_provider.address,
        APP_PRICE,
    )
    assert (deal.dataset, deal.dataset_owner, deal.dataset_price) == (
        world.dataset,
        world.dataset_provider.address,
        DATASET_PRICE,
    )
    assert (deal.workerpool, deal.workerpool_owner, deal.workerpool_price) == (
        world.workerpool,
        world.scheduler.address,
        WORKERPOOL_PRICE,
    )
    assert (deal.requester, deal.beneficiary, deal.callback) == (
        world.requester.address,
        world.requester.address,
        ZERO_ADDRESS,
    )
    assert deal.trust == 1  # trust 0 in the request means 1
    assert deal.category == 2
    assert deal.time_ref == 3_600
    assert deal.start_time == block["timestamp"]
    assert (deal.bot_first, deal.bot_size) == (0, 2)
    assert deal.params_hash == to_hex32(keccak(PARAMS.encode()))
    assert matched.params == PARAMS
    assert deal.worker_stake == WORKERPOOL_PRICE * policy["worker_stake_ratio"] // 100
    assert deal.scheduler_reward_ratio == policy["scheduler_reward_ratio"]


def test_match_copies_the_current_workerpool_policy_into_the_deal(world: World) -> None:
    world.scheduler_provider.set_policy(world.workerpool, 45, 7)
    matched = world.match()
    assert matched.deal.worker_stake == WORKERPOOL_PRICE * 45 // 100
    assert matched.deal.scheduler_reward_ratio == 7


def test_match_keeps_request_trust_when_it_is_above_one(world: World) -> None:
    matched = world.match(trust=8)
    assert matched.deal.trust == 8


def test_match_combines_app_dataset_and_request_tags_into_deal_tag(world: World) -> None:
    app = world.app_order(tag=tag_from_names(["tee", "scone"]))
    dataset = world.dataset_order(tag=tag_from_names(["gramine"]))
    pool = world.workerpool_order(tag=tag_from_names(["tee", "scone", "gpu"]))
    request = world.request_order(tag=tag_from_names(["gpu"]))
    matched, _ = _match(world, (app, dataset, pool, request))
    assert matched.deal.tag == tag_from_names(["tee", "scone", "gpu"])


def test_match_stores_the_deal_commitment(world: World) -> None:
    several, _ = _match(world, world.orders(volume=2))
    single, _ = _match(world, world.orders(volume=1))
    low_160 = (1 << 160) - 1
    digest, bot_first, bot_size = world.protocol.deal_slot(several.deal_id)
    assert (digest, bot_first, bot_size) == (int(several.deal.commitment(), 16) & low_160, 0, 2)
    task = world.protocol.task(single.task_ids[0])
    assert task.deal_digest == int(single.deal.commitment(), 16) & low_160


def test_match_emits_orders_matched_with_the_order_hashes_and_volume(world: World) -> None:
    orders = world.orders(volume=2)
    matched, receipt = _match(world, orders)
    (event,) = world.client.events(world.protocol.hub, "OrdersMatched", receipt)
    args = event["args"]
    app, dataset, pool, request = orders
    assert to_hex32(bytes(args["dealId"])) == matched.deal_id
    assert to_hex32(bytes(args["appOrderHash"])) == _digest(world, app)
    assert to_hex32(bytes(args["datasetOrderHash"])) == _digest(world, dataset)
    assert to_hex32(bytes(args["workerpoolOrderHash"])) == _digest(world, pool)
    assert to_hex32(bytes(args["requestOrderHash"])) == _digest(world, request)
    assert args["volume"] == 2


def test_match_derives_deal_id_from_request_hash_and_its_consumption(world: World) -> None:
    orders = world.orders()
    matched, _ = _match(world, orders)
    request_hash = to_bytes(_digest(world, orders[3]), length=32)
    assert matched.deal_id == to_hex32(keccak(request_hash + (0).to_bytes(32, "big")))


@pytest.mark.parametrize("smallest", ["app", "dataset", "workerpool", "request"])
def test_match_takes_the_smallest_remaining_volume(world: World, smallest: str) -> None:
    volumes = {"app": 5, "dataset": 6, "workerpool": 7, "request": 8} | {smallest: 2}
    app = world.app_order(volume=volumes["app"])
    dataset = world.dataset_order(volume=volumes["dataset"])
    pool = world.workerpool_order(volume=volumes["workerpool"])
    request = world.request_order(volume=volumes["request"])
    matched, _ = _match(world, (app, dataset, pool, request))
    assert matched.volume == 2
    assert matched.deal.bot_size == 2
    for order in (app, dataset, pool, request):
        assert world.protocol.consumed(_digest(world, order)) == 2


def test_match_fills_a_request_partially_across_two_workerpool_orders(world: World) -> None:
    app = world.app_order(volume=3)
    dataset = world.dataset_order(volume=3)
    request = world.request_order(volume=3)
    first_pool = world.workerpool_order(volume=2)
    second_pool = world.workerpool_order(volume=2)

    first, _ = _match(world, (app, dataset, first_pool, request))
    second, _ = _match(world, (app, dataset, second_pool, request))

    assert (first.deal.bot_first, first.deal.bot_size) == (0, 2)
    assert (second.deal.bot_first, second.deal.bot_size) == (2, 1)
    assert first.deal_id != second.deal_id
    request_hash = to_bytes(_digest(world, request), length=32)
    assert second.deal_id == to_hex32(keccak(request_hash + (2).to_bytes(32, "big")))
    consumed = [world.protocol.consumed(_digest(world, o)) for o in (request, app, dataset)]
    assert consumed == [3, 3, 3]
    assert world.protocol.consumed(_digest(world, first_pool)) == 2
    assert world.protocol.consumed(_digest(world, second_pool)) == 1
    with pytest.raises(errors.MarketOrderConsumed):
        _match(world, (app, dataset, world.workerpool_order(volume=2), request))


def test_match_succeeds_without_dataset_and_charges_no_dataset_price(world: World) -> None:
    app, _, pool, _ = world.orders()
    request = world.request_order(dataset=ZERO_ADDRESS, dataset_max_price=0)
    before = world.protocol.account(world.requester.address)
    matched, receipt = _match(world, (app, DatasetOrder.empty(), pool, request))
    after = world.protocol.account(world.requester.address)
    assert (matched.deal.dataset, matched.deal.dataset_owner, matched.deal.dataset_price) == (
        ZERO_ADDRESS,
        ZERO_ADDRESS,
        0,
    )
    assert after.locked - before.locked == APP_PRICE + WORKERPOOL_PRICE
    (event,) = world.client.events(world.protocol.hub, "OrdersMatched", receipt)
    assert bytes(event["args"]["datasetOrderHash"]) == bytes(32)


def test_match_by_a_stranger_charges_the_requester(world: World) -> None:
    stranger_before = world.protocol.account(world.stranger.address)
    requester_before = world.protocol.account(world.requester.address)
    matched, _ = _match(world, world.orders(), sender=world.stranger)
    assert matched.deal.requester == world.requester.address
    assert world.protocol.account(world.stranger.address) == stranger_before
    requester_after = world.protocol.account(world.requester.address)
    assert requester_after.locked == requester_before.locked + TASK_PRICE


def test_match_reverts_with_insufficient_balance_when_requester_cannot_pay(world: World) -> None:
    world.requester.withdraw(DEPOSIT - TASK_PRICE + 1)
    with pytest.raises(errors.EscrowInsufficientBalance) as caught:
        _match(world, world.orders())
    assert caught.value.args_by_name == {
        "account": world.requester.address,
        "balance": TASK_PRICE - 1,
        "needed": TASK_PRICE,
    }


def test_match_reverts_with_insufficient_balance_when_scheduler_cannot_stake(
    world: World,
) -> None:
    world.protocol.withdraw(world.scheduler.account, DEPOSIT - SCHEDULER_STAKE + 1)
    with pytest.raises(errors.EscrowInsufficientBalance) as caught:
        _match(world, world.orders())
    assert caught.value.args_by_name == {
        "account": world.scheduler.address,
        "balance": SCHEDULER_STAKE - 1,
        "needed": SCHEDULER_STAKE,
    }


# ─── Signature forms ───


def _wallet_owned_app(world: World, signer: LocalAccount) -> tuple[Contract, Address]:
    wallet = deploy_test_contract(world.client, world.owner, "ContractWallet", signer.address)
    app = world.protocol.create_app(
        world.app_provider.account,
        name="wallet-app",
        app_type="WASM",
        multiaddr="file:///apps/wallet.wasm",
        checksum="0x" + "33" * 32,
        owner=wallet.address,
    )
    return wallet, app


def test_match_accepts_erc1271_signature_when_app_owner_is_a_contract(world: World) -> None:
    signer = new_account()
    wallet, app_address = _wallet_owned_app(world, signer)
    _, dataset, pool, _ = world.orders()
    app = _signed_by(world, signer, replace(world.app_order(), app=app_address))
    request = world.request_order(app=app_address)
    matched, _ = _match(world, (app, dataset, pool, request))
    assert (matched.deal.app, matched.deal.app_owner) == (app_address, wallet.address)


def test_match_rejects_erc1271_signature_when_signed_by_another_key(world: World) -> None:
    _, app_address = _wallet_owned_app(world, new_account())
    _, dataset, pool, _ = world.orders()
    app = _signed_by(world, new_account(), replace(world.app_order(), app=app_address))
    request = world.request_order(app=app_address)
    with pytest.raises(errors.MarketInvalidAppOrderSignature) as caught:
        _match(world, (app, dataset, pool, request))
    assert caught.value.args_by_name == {"orderHash": _digest(world, app)}


def test_match_accepts_compact_eip2098_signatures(world: World) -> None:
    orders = world.orders()
    app, dataset, pool, request = (o.with_sign(_compact(to_bytes(o.sign))) for o in orders)
    assert {len(to_bytes(o.sign)) for o in (app, dataset, pool, request)} == {64}
    matched, _ = _match(world, (app, dataset, pool, request))
    assert matched.volume == 1


def test_match_rejects_compact_signature_of_another_key(world: World) -> None:
    orders = world.orders()
    forged = _signed_by(world, world.stranger, orders[3])
    forged = forged.with_sign(_compact(to_bytes(forged.sign)))
    with pytest.raises(errors.MarketInvalidRequestOrderSignature):
        _match(world, (orders[0], orders[1], orders[2], forged))


# ─── depositAndMatchOrders ───


def test_deposit_and_match_deposits_with_permit_and_matches_in_one_transaction(
    world: World,
) -> None:
    _prepare_permit_deposit(world)
    requester = world.requester.account
    tokens_before = world.protocol.token_balance(requester.address)
    app, dataset, pool, request = world.orders()
    permit = _permit(world, requester, TASK_PRICE)

    matched, receipt = world.protocol.deposit_and_match_orders(
        requester, TASK_PRICE, permit, app, dataset, pool, request
    )

    assert matched.deal.requester == requester.address
    account = world.protocol.account(requester.address)
    assert (account.free, account.locked) == (0, TASK_PRICE)
    assert world.protocol.token_balance(requester.address) == tokens_before - TASK_PRICE
    assert world.protocol.token.functions.nonces(requester.address).call() == 1
    assert world.client.events(world.protocol.hub, "OrdersMatched", receipt)


def test_deposit_and_match_reverts_with_depositor_not_requester_when_sent_by_another(
    world: World,
) -> None:
    app, dataset, pool, request = world.orders()
    permit = _permit(world, world.stranger, TASK_PRICE)
    with pytest.raises(errors.EscrowDepositorNotRequester) as caught:
        world.protocol.deposit_and_match_orders(
            world.stranger, TASK_PRICE, permit, app, dataset, pool, request
        )
    assert caught.value.args_by_name == {
        "depositor": world.stranger.address,
        "requester": world.requester.address,
    }


def test_deposit_and_match_reverts_when_permit_is_signed_by_another_key(world: World) -> None:
    _prepare_permit_deposit(world)
    app, dataset, pool, request = world.orders()
    permit = _permit(world, world.requester.account, TASK_PRICE, signer=world.stranger)
    with pytest.raises(errors.ERC20InsufficientAllowance):
        world.protocol.deposit_and_match_orders(
            world.requester.account, TASK_PRICE, permit, app, dataset, pool, request
        )
    assert world.protocol.account(world.requester.address).locked == 0


# ─── Hashes: Python and the hub agree ───


@pytest.mark.parametrize(
    ("kind", "view"),
    [
        ("app", "hashAppOrder"),
        ("dataset", "hashDatasetOrder"),
        ("workerpool", "hashWorkerpoolOrder"),
        ("request", "hashRequestOrder"),
    ],
)
def test_order_digest_equals_hub_hash(world: World, kind: str, view: str) -> None:
    order = world.orders(volume=3)[_index(kind)]
    on_chain = world.client.call(getattr(world.protocol.hub.functions, view)(order.as_abi()))
    assert to_hex32(bytes(on_chain)) == _digest(world, order)


# ─── Presignature by the zero address ───


def test_match_rejects_unsigned_request_when_requester_is_zero_address(world: World) -> None:
    app = world.app_order(app_price=0)
    pool = world.workerpool_order(workerpool_price=0)
    request = replace(
        world.request_order(dataset=ZERO_ADDRESS),
        requester=ZERO_ADDRESS,
        beneficiary=ZERO_ADDRESS,
        sign="0x",
    )
    with pytest.raises(errors.MarketInvalidRequestOrderSignature):
        _match(world, (app, DatasetOrder.empty(), pool, request))
