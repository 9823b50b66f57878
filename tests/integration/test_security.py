"""Security tests: what an attacker may try against the hub, each rejected with its named error.

Covers order over-consumption and replay (same hub, another hub, another chain), signature
malleability, reentrancy through the escrow token and through result callbacks, griefing callbacks,
unauthorized callers, deadlines, result copying between workers and forged deal records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from enum import IntEnum
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3.contract import Contract
from web3.types import TxReceipt

from pnyx.chain import contract_errors as errors
from pnyx.chain.artifacts import load_artifact
from pnyx.chain.client import ChainClient
from pnyx.chain.deploy import deploy_protocol
from pnyx.chain.node import AnvilNode
from pnyx.chain.protocol import MatchedDeal, Protocol
from pnyx.chain.signing import sign_authorization, sign_order
from pnyx.domain._hex import to_address, to_bytes, to_hex32
from pnyx.domain.deal import Deal
from pnyx.domain.orders import Eip712Domain, Order, OrderOperation
from pnyx.domain.task import digest_of_callback, digest_of_file, result_hash, result_seal
from pnyx.domain.views import ContributionStatus, TaskStatus
from pnyx.errors import ContractRevert
from pnyx.sdk import Provider
from pnyx.types import ZERO_ADDRESS
from tests.helpers.contracts import deploy_test_contract
from tests.helpers.world import (
    APP_PRICE,
    DATASET_PRICE,
    DEPOSIT,
    DIGEST,
    RESULTS,
    TOKEN,
    WORKER_COUNT,
    WORKERPOOL_PRICE,
    World,
    build_world,
)

pytestmark = pytest.mark.integration

# ─── Constants ───
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
ECRECOVER = "0x0000000000000000000000000000000000000001"
HUB_REENTRANT_CALL = keccak(text="HubReentrantCall()")[:4]
KINDS = ("app", "dataset", "workerpool", "request")
SIGNATURE_ERRORS: dict[str, type[ContractRevert]] = {
    "app": errors.MarketInvalidAppOrderSignature,
    "dataset": errors.MarketInvalidDatasetOrderSignature,
    "workerpool": errors.MarketInvalidWorkerpoolOrderSignature,
    "request": errors.MarketInvalidRequestOrderSignature,
}
CALLBACK_DATA = b"\x00" * 31 + b"\x2a" + b"the oracle value"
CALLBACK_DIGEST = digest_of_callback(CALLBACK_DATA)
WRONG_DIGEST = digest_of_file(b"a result the worker never computed")
DEFAULT_CALLBACK_GAS = 200_000
MAX_CALLBACK_GAS = 5_000_000
XS_TIME_REF = 300
# Enough for finalize to reach the callback (~150k) but less than the callback's 200k budget on top.
STARVING_GAS = 150_000 + 40_000
# The REENTER consumer copies its ~1 KB payload from storage: more than the default budget.
REENTRY_CALLBACK_GAS = 1_000_000
OTHER_CHAIN_ID = 1337


class ConsumerMode(IntEnum):
    """`ResultConsumer.Mode`, same order."""

    RECORD = 0
    REVERT = 1
    BURN_GAS = 2
    REENTER = 3
    RETURN_BOMB = 4


# ─── Helpers ───
def _signers(world: World) -> dict[str, LocalAccount]:
    return {
        "app": world.app_provider.account,
        "dataset": world.dataset_provider.account,
        "workerpool": world.scheduler.account,
        "request": world.requester.account,
    }


def _orders(world: World, *, volume: int = 1) -> dict[str, Any]:
    return dict(zip(KINDS, world.orders(volume=volume), strict=True))


def _match(protocol: Protocol, sender: LocalAccount, orders: dict[str, Any]) -> MatchedDeal:
    matched, _ = protocol.match_orders(
        sender, orders["app"], orders["dataset"], orders["workerpool"], orders["request"]
    )
    return matched


def _resigned(world: World, orders: dict[str, Any], domain: Eip712Domain) -> dict[str, Any]:
    """The same orders, each signed by its owner for `domain`."""
    signers = _signers(world)
    return {kind: sign_order(signers[kind], order, domain) for kind, order in orders.items()}


def _high_s(signature: bytes) -> bytes:
    """The other valid ECDSA signature of the same digest: (r, n - s, v flipped)."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    assert s <= SECP256K1_N // 2, "eth-account signs low-s"
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])


def _compact(signature: bytes) -> bytes:
    """The EIP-2098 64-byte form r ‖ (yParity << 255 | s)."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (((v - 27) << 255) | s).to_bytes(32, "big")


def _truncated(signature: bytes) -> bytes:
    return signature[:63]


def _padded(signature: bytes) -> bytes:
    return signature + b"\x00"


def _emptied(_signature: bytes) -> bytes:
    """No signature at all: the hub then looks for an on-chain presignature."""
    return b""


def _wrong_parity_compact(signature: bytes) -> bytes:
    """A 64-byte compact signature with the other y parity: it recovers another key."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (((28 - v) << 255) | s).to_bytes(32, "big")


def _ecrecover(client: ChainClient, digest: bytes, signature: bytes) -> str:
    """What the ecrecover precompile (which has no low-s rule) recovers."""
    r, s, v = signature[:32], signature[32:64], signature[64]
    data = digest + v.to_bytes(32, "big") + r + s
    out = bytes(client.w3.eth.call({"to": ECRECOVER, "data": "0x" + data.hex()}))  # type: ignore[typeddict-item]
    return to_address(out[12:])


def _order_digest(order: Order, protocol: Protocol) -> bytes:
    return to_bytes(order.digest(protocol.domain), length=32)


def _second_protocol(world: World) -> Protocol:
    """Another hub on the same chain and token, with the same assets registered to the same owners
    and the requester and scheduler funded there."""
    protocol = Protocol(
        world.client, deploy_protocol(world.client, world.owner, token=world.deployment.token)
    )
    for account in (world.requester.account, world.scheduler.account):
        protocol.approve(account, 2**255)
        protocol.deposit(account, DEPOSIT)
    app = Provider(protocol, world.app_provider.account).register_app(
        "hello-wasm", "file:///apps/hello.wasm", "0x" + "11" * 32
    )
    dataset = Provider(protocol, world.dataset_provider.account).register_dataset(
        "cities", "file:///data/cities.csv", "0x" + "22" * 32
    )
    pool = Provider(protocol, world.scheduler.account).register_workerpool("the test pool")
    assert (app, dataset, pool) == (world.app, world.dataset, world.workerpool)
    return protocol


def _reentrant_protocol(world: World) -> tuple[Protocol, Contract]:
    """A hub whose escrow token is a ReentrantToken (disarmed), with the requester funded."""
    token = deploy_test_contract(
        world.client, world.owner, "ReentrantToken", world.owner.address, 1_000_000 * TOKEN
    )
    protocol = Protocol(
        world.client, deploy_protocol(world.client, world.owner, token=token.address)
    )
    protocol.transfer_tokens(world.owner, world.requester.address, 1_000 * TOKEN)
    protocol.approve(world.requester.account, 2**255)
    protocol.deposit(world.requester.account, 100 * TOKEN)
    return protocol, token


def _arm(world: World, token: Contract, target: str, payload: str | bytes) -> None:
    world.client.transact(world.owner, token.functions.arm(target, to_bytes(payload)))


def _consumer(world: World) -> Contract:
    return deploy_test_contract(world.client, world.stranger, "ResultConsumer")


def _configure(world: World, consumer: Contract, mode: ConsumerMode, payload: str | bytes) -> None:
    fn = consumer.functions.configure(int(mode), world.deployment.hub, to_bytes(payload))
    world.client.transact(world.stranger, fn)


def _callback_task(world: World, consumer: Contract) -> tuple[MatchedDeal, str]:
    """A started trust-1 task whose deal calls `consumer` back."""
    return world.started_task(callback=to_address(consumer.address))


def _reveal_callback_task(world: World, matched: MatchedDeal, task_id: str) -> None:
    world.contribute(world.workers[0], task_id, matched, CALLBACK_DIGEST)
    world.workers[0].reveal(task_id, CALLBACK_DIGEST)


def _finalize_callback_task(
    world: World, matched: MatchedDeal, task_id: str, *, gas: int | None = None
) -> TxReceipt:
    return world.protocol.finalize(
        world.scheduler.account, task_id, matched.deal, RESULTS, CALLBACK_DATA, gas=gas
    )


def _contribute_and_finalize_callback_task(
    world: World, matched: MatchedDeal, task_id: str
) -> TxReceipt:
    worker = world.workers[0]
    return world.protocol.contribute_and_finalize(
        worker.account,
        task_id,
        matched.deal,
        CALLBACK_DIGEST,
        RESULTS,
        world.scheduler.authorize(worker.address, task_id),
        results_callback=CALLBACK_DATA,
    )


def _callback_success(world: World, receipt: TxReceipt) -> bool:
    events = world.client.events(world.protocol.hub, "ResultCallbackCalled", receipt)
    assert len(events) == 1
    return bool(events[0]["args"]["success"])


def _task_arg(task_id: str) -> bytes:
    return to_bytes(task_id, length=32)


def _advance_past(world: World, deadline: int) -> None:
    world.client.increase_time(max(deadline - world.client.timestamp(), 0) + 1)


def _contribute_raw(
    world: World,
    worker_index: int,
    task_id: str,
    deal: Deal,
    digest: str = DIGEST,
    *,
    authorization: bytes | None = None,
) -> None:
    worker = world.workers[worker_index]
    world.protocol.contribute(
        worker.account,
        task_id,
        deal,
        result_hash(task_id, digest),
        result_seal(worker.address, task_id, digest),
        authorization
        if authorization is not None
        else world.scheduler.authorize(worker.address, task_id),
    )


# ─── 1. Order over-consumption ───
def test_match_reverts_with_order_consumed_when_app_order_volume_exhausted(world: World) -> None:
    app = world.app_order(volume=2)
    dataset = world.dataset_order(volume=3)
    pool = world.workerpool_order(volume=3)
    for _ in range(2):
        request = world.request_order()
        world.protocol.match_orders(world.requester.account, app, dataset, pool, request)
    third = world.request_order()
    with pytest.raises(errors.MarketOrderConsumed) as caught:
        world.protocol.match_orders(world.requester.account, app, dataset, pool, third)
    app_hash = app.digest(world.protocol.domain)
    assert caught.value.args_by_name == {"orderHash": app_hash}
    assert world.protocol.consumed(app_hash) == 2
    assert world.protocol.consumed(third.digest(world.protocol.domain)) == 0


def test_match_caps_deal_volume_at_app_order_volume_when_request_asks_more(world: World) -> None:
    app = world.app_order(volume=2)
    dataset = world.dataset_order(volume=5)
    pool = world.workerpool_order(volume=5)
    request = world.request_order(volume=5)
    matched, _ = world.protocol.match_orders(world.requester.account, app, dataset, pool, request)
    assert matched.volume == 2
    assert world.protocol.account(world.requester.address).locked == 2 * (
        APP_PRICE + DATASET_PRICE + WORKERPOOL_PRICE
    )
    with pytest.raises(errors.MarketOrderConsumed) as caught:
        world.protocol.match_orders(world.requester.account, app, dataset, pool, request)
    assert caught.value.args_by_name == {"orderHash": app.digest(world.protocol.domain)}


def test_initialize_reverts_with_task_not_found_when_index_outside_deal(world: World) -> None:
    matched = world.match(volume=2)
    first = matched.deal.bot_first
    world.scheduler.initialize_all(matched.deal_id, matched.deal)
    with pytest.raises(errors.PocoTaskNotFound) as caught:
        world.scheduler.initialize(matched.deal_id, first + 2)
    assert caught.value.args_by_name == {"dealId": matched.deal_id, "idx": first + 2}
    with pytest.raises(errors.PocoInvalidTaskStatus):
        world.scheduler.initialize(matched.deal_id, first)


def test_match_reverts_with_order_consumed_when_request_replayed(world: World) -> None:
    orders = _orders(world)
    _match(world.protocol, world.requester.account, orders)
    locked = world.protocol.account(world.requester.address).locked
    fresh = _orders(world, volume=5)
    replay = {**fresh, "request": orders["request"]}
    with pytest.raises(errors.MarketOrderConsumed) as caught:
        _match(world.protocol, world.stranger, replay)
    assert caught.value.args_by_name == {
        "orderHash": orders["request"].digest(world.protocol.domain)
    }
    assert world.protocol.account(world.requester.address).locked == locked


@pytest.mark.parametrize("kind", KINDS)
def test_match_reverts_with_order_consumed_when_order_cancelled(world: World, kind: str) -> None:
    orders = _orders(world)
    owner = _signers(world)[kind]
    world.protocol.manage_order(owner, orders[kind], OrderOperation.CLOSE)
    with pytest.raises(errors.MarketOrderConsumed) as caught:
        _match(world.protocol, world.requester.account, orders)
    order_hash = orders[kind].digest(world.protocol.domain)
    assert caught.value.args_by_name == {"orderHash": order_hash}
    assert world.protocol.consumed(order_hash) == orders[kind].volume


@pytest.mark.parametrize("kind", KINDS)
def test_cancel_reverts_when_sender_not_owner(world: World, kind: str) -> None:
    orders = _orders(world)
    with pytest.raises(errors.MarketUnauthorizedOrderOperation) as caught:
        world.protocol.manage_order(world.stranger, orders[kind], OrderOperation.CLOSE)
    order_hash = orders[kind].digest(world.protocol.domain)
    assert caught.value.args_by_name == {"orderHash": order_hash, "sender": world.stranger.address}
    assert world.protocol.consumed(order_hash) == 0
    _match(world.protocol, world.requester.account, orders)


# ─── 2. Replay on another hub or another chain ───
@pytest.mark.parametrize("kind", KINDS)
def test_match_reverts_with_invalid_signature_when_order_signed_for_another_hub(
    world: World, kind: str
) -> None:
    other = _second_protocol(world)
    original = _orders(world)
    replay = {**_resigned(world, original, other.domain), kind: original[kind]}
    with pytest.raises(SIGNATURE_ERRORS[kind]) as caught:
        _match(other, world.requester.account, replay)
    assert caught.value.args_by_name == {"orderHash": original[kind].digest(other.domain)}
    assert other.consumed(original[kind].digest(other.domain)) == 0


def test_match_succeeds_on_another_hub_when_orders_signed_for_it(world: World) -> None:
    other = _second_protocol(world)
    matched = _match(other, world.requester.account, _resigned(world, _orders(world), other.domain))
    assert matched.volume == 1
    assert matched.deal.app == world.app


def test_match_reverts_with_invalid_signature_when_orders_replayed_on_another_chain(
    world: World,
) -> None:
    original = _orders(world)
    with AnvilNode(chain_id=OTHER_CHAIN_ID, accounts=6 + WORKER_COUNT) as node:
        other = build_world(ChainClient(node.url))
        # An identical deployment: only the chain id differs between the two signing domains.
        assert other.deployment.hub == world.deployment.hub
        assert (other.app, other.dataset, other.workerpool) == (
            world.app,
            world.dataset,
            world.workerpool,
        )
        assert other.protocol.domain.chain_id == OTHER_CHAIN_ID != world.client.chain_id
        with pytest.raises(errors.MarketInvalidAppOrderSignature) as caught:
            _match(other.protocol, other.requester.account, original)
        assert caught.value.args_by_name == {
            "orderHash": original["app"].digest(other.protocol.domain)
        }
        resigned = _resigned(world, original, other.protocol.domain)
        with pytest.raises(errors.MarketInvalidRequestOrderSignature):
            _match(
                other.protocol,
                other.requester.account,
                {**resigned, "request": original["request"]},
            )
        matched = _match(other.protocol, other.requester.account, resigned)
        assert matched.volume == 1


def test_order_digest_differs_when_chain_id_or_hub_differs(world: World) -> None:
    other = _second_protocol(world)
    app = world.app_order()
    domain = world.protocol.domain
    other_chain = Eip712Domain(
        chain_id=OTHER_CHAIN_ID, verifying_contract=domain.verifying_contract
    )
    digests = {app.digest(domain), app.digest(other.domain), app.digest(other_chain)}
    assert len(digests) == 3
    # Python and each hub agree on the digest under that hub's own domain.
    for protocol in (world.protocol, other):
        on_chain = bytes(world.client.call(protocol.hub.functions.hashAppOrder(app.as_abi())))
        assert "0x" + on_chain.hex() == app.digest(protocol.domain)
        separator = bytes(world.client.call(protocol.hub.functions.domainSeparator()))
        assert separator == protocol.domain.separator()


def test_cancel_reverts_when_operation_signed_for_another_hub(world: World) -> None:
    other = _second_protocol(world)
    app = sign_order(world.app_provider.account, world.app_order(), other.domain)
    signature = Provider(world.protocol, world.app_provider.account).operation_signature(
        app, OrderOperation.CLOSE
    )
    with pytest.raises(errors.MarketUnauthorizedOrderOperation):
        other.manage_order(world.stranger, app, OrderOperation.CLOSE, sign=signature)
    assert other.consumed(app.digest(other.domain)) == 0


# ─── 3. Signature malleability and malformed signatures ───
@pytest.mark.parametrize("kind", KINDS)
def test_match_reverts_with_invalid_signature_when_order_signature_has_high_s(
    world: World, kind: str
) -> None:
    orders = _orders(world)
    order = orders[kind]
    malleated = _high_s(to_bytes(order.sign))
    # The flipped signature is a valid secp256k1 signature of the same digest by the same key…
    signer = _signers(world)[kind].address
    assert _ecrecover(world.client, _order_digest(order, world.protocol), malleated) == signer
    # …but the hub only accepts the low-s form.
    with pytest.raises(SIGNATURE_ERRORS[kind]) as caught:
        _match(
            world.protocol, world.requester.account, {**orders, kind: order.with_sign(malleated)}
        )
    assert caught.value.args_by_name == {"orderHash": order.digest(world.protocol.domain)}
    assert _match(world.protocol, world.requester.account, orders).volume == 1


@pytest.mark.parametrize(
    "mangle",
    [_truncated, _padded, _emptied, _wrong_parity_compact],
    ids=["truncated-63", "padded-66", "empty", "compact-wrong-parity"],
)
@pytest.mark.parametrize("kind", KINDS)
def test_match_reverts_with_invalid_signature_when_order_signature_malformed(
    world: World, kind: str, mangle: Callable[[bytes], bytes]
) -> None:
    orders = _orders(world)
    order = orders[kind]
    original = to_bytes(order.sign)
    with pytest.raises(SIGNATURE_ERRORS[kind]):
        _match(
            world.protocol,
            world.requester.account,
            {**orders, kind: order.with_sign(mangle(original))},
        )


@pytest.mark.parametrize("kind", KINDS)
def test_match_succeeds_when_order_signature_is_compact_eip2098(world: World, kind: str) -> None:
    orders = _orders(world)
    compact = _compact(to_bytes(orders[kind].sign))
    assert len(compact) == 64
    matched = _match(
        world.protocol, world.requester.account, {**orders, kind: orders[kind].with_sign(compact)}
    )
    assert matched.volume == 1


@pytest.mark.parametrize(
    "mangle",
    [_high_s, _truncated, _padded, _emptied],
    ids=["high-s", "truncated-63", "padded-66", "empty"],
)
def test_contribute_reverts_with_unauthorized_worker_when_authorization_malformed(
    world: World, mangle: Callable[[bytes], bytes]
) -> None:
    matched, task_id = world.started_task()
    worker = world.workers[0]
    authorization = world.scheduler.authorize(worker.address, task_id)
    with pytest.raises(errors.PocoUnauthorizedWorker) as caught:
        _contribute_raw(world, 0, task_id, matched.deal, authorization=mangle(authorization))
    assert caught.value.args_by_name == {"taskId": task_id, "worker": worker.address}
    assert world.protocol.task(task_id).contributor_count == 0
    _contribute_raw(world, 0, task_id, matched.deal, authorization=authorization)
    assert world.protocol.task(task_id).status == TaskStatus.REVEALING


# ─── 4. Reentrancy through the escrow token ───
@pytest.mark.parametrize(
    ("outer", "reentry", "args"),
    [
        ("deposit", "withdraw", [1]),
        ("deposit", "initialize", [b"\x00" * 32, 0]),
        ("withdraw", "withdraw", [1]),
        ("withdraw", "depositFor", ["requester", 1]),
        ("withdraw", "withdrawTo", ["requester", 1]),
    ],
    ids=[
        "deposit-then-withdraw",
        "deposit-then-initialize",
        "withdraw-then-withdraw",
        "withdraw-then-depositFor",
        "withdraw-then-withdrawTo",
    ],
)
def test_escrow_reverts_with_hub_reentrant_call_when_token_reenters(
    world: World, outer: str, reentry: str, args: list[Any]
) -> None:
    protocol, token = _reentrant_protocol(world)
    hub = protocol.deployment.hub
    requester = world.requester.address
    reentry_args = [requester if a == "requester" else a for a in args]
    _arm(world, token, hub, protocol.hub.encode_abi(reentry, args=reentry_args))
    before = (protocol.account(requester), protocol.token_balance(requester))
    fn = getattr(protocol.hub.functions, outer)(10 * TOKEN)
    # A fixed gas limit: the transaction is mined and reverts on chain, not only in estimation.
    with pytest.raises(ContractRevert) as caught:
        world.client.transact(world.requester.account, fn, gas=1_000_000)
    assert caught.value.name == "HubReentrantCall"
    assert isinstance(caught.value, errors.HubReentrantCall)
    assert (protocol.account(requester), protocol.token_balance(requester)) == before


def test_escrow_moves_funds_when_reentrant_token_disarmed(world: World) -> None:
    protocol, token = _reentrant_protocol(world)
    requester = world.requester.address
    _arm(world, token, protocol.deployment.hub, protocol.hub.encode_abi("withdraw", args=[1]))
    _arm(world, token, ZERO_ADDRESS, b"")
    balance = protocol.token_balance(requester)
    protocol.deposit(world.requester.account, 10 * TOKEN)
    protocol.withdraw(world.requester.account, 4 * TOKEN)
    assert protocol.account(requester).free == 106 * TOKEN
    assert protocol.token_balance(requester) == balance - 6 * TOKEN
    assert protocol.token_balance(protocol.deployment.hub) == 106 * TOKEN


# ─── 5. Reentrant and griefing result callbacks ───
def test_finalize_delivers_callback_data_when_consumer_records(world: World) -> None:
    consumer = _consumer(world)
    matched, task_id = _callback_task(world, consumer)
    _reveal_callback_task(world, matched, task_id)
    receipt = _finalize_callback_task(world, matched, task_id)
    assert _callback_success(world, receipt)
    assert consumer.functions.calls().call() == 1
    assert "0x" + bytes(consumer.functions.lastId().call()).hex() == task_id
    assert bytes(consumer.functions.lastResult().call()) == CALLBACK_DATA


@pytest.mark.parametrize(
    "mode", [ConsumerMode.REVERT, ConsumerMode.BURN_GAS, ConsumerMode.RETURN_BOMB]
)
def test_finalize_completes_task_when_callback_misbehaves(world: World, mode: ConsumerMode) -> None:
    consumer = _consumer(world)
    _configure(world, consumer, mode, b"")
    matched, task_id = _callback_task(world, consumer)
    _reveal_callback_task(world, matched, task_id)
    receipt = _finalize_callback_task(world, matched, task_id)
    assert world.protocol.task(task_id).status == TaskStatus.COMPLETED
    assert world.protocol.result_for(task_id) == CALLBACK_DATA
    assert not _callback_success(world, receipt)
    assert consumer.functions.calls().call() == 0
    assert receipt["gasUsed"] < DEFAULT_CALLBACK_GAS + 400_000


@pytest.mark.parametrize(
    "mode", [ConsumerMode.REVERT, ConsumerMode.BURN_GAS, ConsumerMode.RETURN_BOMB]
)
def test_contribute_and_finalize_completes_task_when_callback_misbehaves(
    world: World, mode: ConsumerMode
) -> None:
    consumer = _consumer(world)
    _configure(world, consumer, mode, b"")
    matched, task_id = _callback_task(world, consumer)
    receipt = _contribute_and_finalize_callback_task(world, matched, task_id)
    assert world.protocol.task(task_id).status == TaskStatus.COMPLETED
    assert world.protocol.result_for(task_id) == CALLBACK_DATA
    assert not _callback_success(world, receipt)
    assert receipt["gasUsed"] < DEFAULT_CALLBACK_GAS + 400_000


def _reentering_consumer(world: World, function: str) -> tuple[Contract, MatchedDeal, str]:
    """A consumer that calls `function` on the hub from its callback. The callback budget is raised
    (by the owner) so that copying the payload from storage does not run it out of gas first."""
    hub = world.protocol.hub.functions
    world.client.transact(world.owner, hub.setCallbackGas(REENTRY_CALLBACK_GAS))
    consumer = _consumer(world)
    matched, task_id = _callback_task(world, consumer)
    payload = _reentry_payload(world, function, task_id, matched.deal)
    _configure(world, consumer, ConsumerMode.REENTER, payload)
    return consumer, matched, task_id


def _reentry_payload(world: World, function: str, task_id: str, deal: Deal) -> str:
    hub = world.protocol.hub
    task = _task_arg(task_id)
    arguments: dict[str, list[Any]] = {
        "finalize": [task, deal.as_abi(), RESULTS, CALLBACK_DATA],
        "claim": [task, deal.as_abi()],
        "reopen": [task, deal.as_abi()],
        "revealAll": [task, to_bytes(CALLBACK_DIGEST, length=32)],
        "withdraw": [1],
        "claimBatch": [[task], deal.as_abi()],
    }
    return str(hub.encode_abi(function, args=arguments[function]))


@pytest.mark.parametrize(
    "function", ["finalize", "claim", "reopen", "revealAll", "withdraw", "claimBatch"]
)
def test_finalize_callback_reentry_fails_with_hub_reentrant_call(
    world: World, function: str
) -> None:
    consumer, matched, task_id = _reentering_consumer(world, function)
    _reveal_callback_task(world, matched, task_id)
    scheduler_before = world.protocol.account(world.scheduler.address)
    receipt = _finalize_callback_task(world, matched, task_id)
    assert _callback_success(world, receipt)
    assert consumer.functions.reentrySucceeded().call() is False
    assert bytes(consumer.functions.reentryError().call()) == HUB_REENTRANT_CALL
    assert consumer.functions.calls().call() == 1
    assert world.protocol.task(task_id).status == TaskStatus.COMPLETED
    scheduler_after = world.protocol.account(world.scheduler.address)
    # Paid once: its stake unlocked plus its share, nothing more.
    stake = matched.deal.scheduler_stake
    assert scheduler_after.locked == scheduler_before.locked - stake
    assert scheduler_after.free - scheduler_before.free == stake + WORKERPOOL_PRICE // 100


@pytest.mark.parametrize("function", ["claim", "finalize", "withdraw"])
def test_contribute_and_finalize_callback_reentry_fails_with_hub_reentrant_call(
    world: World, function: str
) -> None:
    consumer, matched, task_id = _reentering_consumer(world, function)
    receipt = _contribute_and_finalize_callback_task(world, matched, task_id)
    assert _callback_success(world, receipt)
    assert consumer.functions.reentrySucceeded().call() is False
    assert bytes(consumer.functions.reentryError().call()) == HUB_REENTRANT_CALL
    assert world.protocol.task(task_id).status == TaskStatus.COMPLETED


def test_finalize_reverts_with_callback_gas_starved_when_gas_too_low_for_callback_budget(
    world: World,
) -> None:
    consumer = _consumer(world)
    _configure(world, consumer, ConsumerMode.BURN_GAS, b"")
    matched, task_id = _callback_task(world, consumer)
    _reveal_callback_task(world, matched, task_id)
    fn = world.protocol.hub.functions.finalize(
        _task_arg(task_id), matched.deal.as_abi(), RESULTS, CALLBACK_DATA
    )
    full = fn.estimate_gas({"from": world.scheduler.address})
    assert full > STARVING_GAS
    # Enough gas to reach the callback, not enough to hand it its whole budget.
    with pytest.raises(errors.PocoCallbackGasStarved) as caught:
        _finalize_callback_task(world, matched, task_id, gas=STARVING_GAS)
    assert caught.value.args_by_name == {"taskId": task_id}
    assert world.protocol.task(task_id).status == TaskStatus.REVEALING
    _finalize_callback_task(world, matched, task_id)
    assert world.protocol.task(task_id).status == TaskStatus.COMPLETED


@pytest.mark.parametrize("shortfall", [1_000, 5_000, 20_000])
def test_finalize_reverts_with_callback_gas_starved_when_gas_just_short(
    world: World, shortfall: int
) -> None:
    consumer = _consumer(world)
    _configure(world, consumer, ConsumerMode.BURN_GAS, b"")
    matched, task_id = _callback_task(world, consumer)
    _reveal_callback_task(world, matched, task_id)
    fn = world.protocol.hub.functions.finalize(
        _task_arg(task_id), matched.deal.as_abi(), RESULTS, CALLBACK_DATA
    )
    full = fn.estimate_gas({"from": world.scheduler.address})
    with pytest.raises(errors.PocoCallbackGasStarved):
        _finalize_callback_task(world, matched, task_id, gas=full - shortfall)
    assert world.protocol.task(task_id).status == TaskStatus.REVEALING


def test_finalize_gives_callback_its_full_budget_and_no_more_when_callback_burns_gas(
    world: World,
) -> None:
    consumer = _consumer(world)
    _configure(world, consumer, ConsumerMode.BURN_GAS, b"")
    matched, task_id = _callback_task(world, consumer)
    _reveal_callback_task(world, matched, task_id)
    receipt = _finalize_callback_task(world, matched, task_id, gas=5_000_000)
    callback_gas = world.client.call(world.protocol.hub.functions.getCallbackGas())
    assert callback_gas == DEFAULT_CALLBACK_GAS
    # All of the budget was burnt (the callee got it all), and the rest of finalize is bounded.
    assert callback_gas < receipt["gasUsed"] < callback_gas + 400_000
    assert world.protocol.task(task_id).status == TaskStatus.COMPLETED


# ─── 6. Unauthorized callers ───
def _authorization_for(world: World, case: str, task_id: str, other_task: str) -> bytes:
    worker = world.workers[0].address
    if case == "stranger-signer":
        return sign_authorization(world.stranger, worker, task_id)
    if case == "requester-signer":
        return sign_authorization(world.requester.account, worker, task_id)
    if case == "other-worker":
        return world.scheduler.authorize(world.workers[1].address, task_id)
    if case == "other-task":
        return world.scheduler.authorize(worker, other_task)
    assert case == "other-enclave"
    return world.scheduler.authorize(worker, task_id, world.stranger.address)


@pytest.mark.parametrize(
    "case",
    ["stranger-signer", "requester-signer", "other-worker", "other-task", "other-enclave"],
)
def test_contribute_reverts_with_unauthorized_worker_when_authorization_invalid(
    world: World, case: str
) -> None:
    matched, task_id = world.started_task()
    _, other_task = world.started_task()
    authorization = _authorization_for(world, case, task_id, other_task)
    worker = world.workers[0]
    with pytest.raises(errors.PocoUnauthorizedWorker) as caught:
        _contribute_raw(world, 0, task_id, matched.deal, authorization=authorization)
    assert caught.value.args_by_name == {"taskId": task_id, "worker": worker.address}
    assert world.protocol.task(task_id).contributor_count == 0
    assert world.protocol.account(worker.address).locked == 0


def test_contribute_and_finalize_reverts_with_unauthorized_worker_when_signed_by_stranger(
    world: World,
) -> None:
    matched, task_id = world.started_task()
    worker = world.workers[0]
    with pytest.raises(errors.PocoUnauthorizedWorker):
        worker.contribute_and_finalize(
            task_id,
            matched.deal,
            DIGEST,
            RESULTS,
            sign_authorization(world.stranger, worker.address, task_id),
        )
    assert world.protocol.task(task_id).status == TaskStatus.ACTIVE


@pytest.mark.parametrize("caller", ["stranger", "worker", "requester"])
def test_finalize_reverts_with_unauthorized_scheduler_when_sender_not_scheduler(
    world: World, caller: str
) -> None:
    matched, task_id = world.started_task()
    world.contribute(world.workers[0], task_id, matched)
    world.workers[0].reveal(task_id, DIGEST)
    sender = {
        "stranger": world.stranger,
        "worker": world.workers[0].account,
        "requester": world.requester.account,
    }[caller]
    with pytest.raises(errors.PocoUnauthorizedScheduler) as caught:
        world.protocol.finalize(sender, task_id, matched.deal, RESULTS)
    assert caught.value.args_by_name == {"taskId": task_id, "caller": sender.address}
    assert world.protocol.task(task_id).status == TaskStatus.REVEALING


def test_reopen_reverts_with_unauthorized_scheduler_when_sender_not_scheduler(
    world: World,
) -> None:
    matched, task_id = world.started_task()
    world.contribute(world.workers[0], task_id, matched)
    _advance_past(world, world.protocol.task(task_id).reveal_deadline)
    with pytest.raises(errors.PocoUnauthorizedScheduler) as caught:
        world.protocol.reopen(world.stranger, task_id, matched.deal)
    assert caught.value.args_by_name == {"taskId": task_id, "caller": world.stranger.address}
    assert world.protocol.task(task_id).status == TaskStatus.REVEALING
    world.scheduler.reopen(task_id, matched.deal)
    assert world.protocol.task(task_id).status == TaskStatus.ACTIVE


def _extension_call(world: World, function: str) -> tuple[LocalAccount, Any]:
    extension = world.client.contract(
        world.deployment.hub_extension, load_artifact("PnyxHubExtension").abi
    )
    app = world.app_order()
    calls: dict[str, tuple[LocalAccount, Any]] = {
        "manageAppOrder": (
            world.app_provider.account,
            extension.functions.manageAppOrder((app.as_abi(), int(OrderOperation.CLOSE), b"")),
        ),
        "setCallbackGas": (world.owner, extension.functions.setCallbackGas(300_000)),
        "createCategory": (world.owner, extension.functions.createCategory("X", "x", 60)),
        "syncAsset": (
            world.stranger,
            extension.functions.syncAsset(world.app, world.stranger.address, 0, 0),
        ),
        "depositFor": (
            world.requester.account,
            extension.functions.depositFor(world.requester.address, 1),
        ),
        "withdrawTo": (
            world.requester.account,
            extension.functions.withdrawTo(world.requester.address, 1),
        ),
    }
    return calls[function]


@pytest.mark.parametrize(
    "function",
    ["manageAppOrder", "setCallbackGas", "createCategory", "syncAsset", "depositFor", "withdrawTo"],
)
def test_extension_reverts_with_direct_call_when_called_outside_hub(
    world: World, function: str
) -> None:
    sender, fn = _extension_call(world, function)
    with pytest.raises(errors.HubExtensionDirectCall):
        world.client.transact(sender, fn)
    assert world.client.call(world.protocol.hub.functions.getCallbackGas()) == DEFAULT_CALLBACK_GAS


@pytest.mark.parametrize("function", ["createCategory", "setCallbackGas", "transferOwnership"])
def test_owner_config_reverts_with_ownable_unauthorized_when_sender_not_owner(
    world: World, function: str
) -> None:
    hub = world.protocol.hub.functions
    fn = {
        "createCategory": hub.createCategory("free", "free tasks", 1),
        "setCallbackGas": hub.setCallbackGas(MAX_CALLBACK_GAS),
        "transferOwnership": hub.transferOwnership(world.stranger.address),
    }[function]
    categories = world.client.call(hub.getCategoryCount())
    with pytest.raises(errors.OwnableUnauthorizedAccount) as caught:
        world.client.transact(world.stranger, fn)
    assert caught.value.args_by_name == {"account": world.stranger.address}
    assert world.client.call(hub.getCategoryCount()) == categories
    assert world.client.call(hub.getCallbackGas()) == DEFAULT_CALLBACK_GAS
    assert world.client.call(hub.owner()) == world.owner.address


def test_owner_config_succeeds_when_sender_is_owner(world: World) -> None:
    hub = world.protocol.hub.functions
    world.client.transact(world.owner, hub.setCallbackGas(300_000))
    assert world.client.call(hub.getCallbackGas()) == 300_000


@pytest.mark.parametrize("sender", ["stranger", "asset-owner"])
def test_sync_asset_reverts_with_not_registry_when_sender_not_registry(
    world: World, sender: str
) -> None:
    account = world.stranger if sender == "stranger" else world.app_provider.account
    fn = world.protocol.hub.functions.syncAsset(world.app, account.address, 0, 0)
    with pytest.raises(errors.HubNotRegistry) as caught:
        world.client.transact(account, fn)
    assert caught.value.args_by_name == {"caller": account.address}
    owner, kind, _, _ = world.client.call(world.protocol.hub.functions.getAsset(world.app))
    assert (owner, kind) == (world.app_provider.address, 1)


def test_rogue_registry_cannot_sync_assets_into_hub(world: World) -> None:
    rogue = world.client.contract(
        world.client.deploy(world.stranger, load_artifact("AppRegistry")),
        load_artifact("AppRegistry").abi,
    )
    world.client.transact(world.stranger, rogue.functions.bindHub(world.deployment.hub))
    fn = rogue.functions.createApp(
        world.stranger.address, "evil", "WASM", b"file:///evil", b"\x33" * 32, b""
    )
    with pytest.raises(errors.HubNotRegistry) as caught:
        world.client.transact(world.stranger, fn)
    assert caught.value.args_by_name == {"caller": rogue.address}


@pytest.mark.parametrize("registry", ["apps", "datasets", "workerpools"])
def test_bind_hub_reverts_with_not_binder_when_sender_not_deployer(
    world: World, registry: str
) -> None:
    contract: Contract = getattr(world.protocol, registry)
    with pytest.raises(errors.RegistryNotBinder) as caught:
        world.client.transact(world.stranger, contract.functions.bindHub(world.stranger.address))
    assert caught.value.args_by_name == {"caller": world.stranger.address}
    with pytest.raises(errors.RegistryAlreadyBound) as rebind:
        world.client.transact(world.owner, contract.functions.bindHub(world.stranger.address))
    assert rebind.value.args_by_name == {"hub": world.deployment.hub}
    assert world.client.call(contract.functions.getHub()) == world.deployment.hub


# ─── 7. Deadlines ───
def test_contribute_reverts_with_deadline_reached_when_contribution_deadline_passed(
    world: World,
) -> None:
    matched, task_id = world.started_task()
    assert matched.deal.time_ref == XS_TIME_REF
    _advance_past(world, matched.deal.contribution_deadline)
    with pytest.raises(errors.PocoContributionDeadlineReached) as caught:
        world.contribute(world.workers[0], task_id, matched)
    assert caught.value.args_by_name == {
        "taskId": task_id,
        "deadline": matched.deal.contribution_deadline,
    }
    with pytest.raises(errors.PocoContributionDeadlineReached):
        world.workers[0].contribute_and_finalize(
            task_id,
            matched.deal,
            DIGEST,
            RESULTS,
            world.scheduler.authorize(world.workers[0].address, task_id),
        )
    assert world.protocol.task(task_id).contributor_count == 0


def test_reveal_reverts_with_deadline_reached_when_reveal_deadline_passed(world: World) -> None:
    matched, task_id = world.started_task()
    world.contribute(world.workers[0], task_id, matched)
    deadline = world.protocol.task(task_id).reveal_deadline
    _advance_past(world, deadline)
    with pytest.raises(errors.PocoRevealDeadlineReached) as caught:
        world.workers[0].reveal(task_id, DIGEST)
    assert caught.value.args_by_name == {"taskId": task_id, "deadline": deadline}
    with pytest.raises(errors.PocoRevealDeadlineReached):
        world.scheduler.reveal_all(task_id, DIGEST)
    assert world.protocol.task(task_id).reveal_count == 0


def test_finalize_reverts_with_deadline_reached_when_final_deadline_passed(world: World) -> None:
    matched, task_id = world.started_task()
    world.contribute(world.workers[0], task_id, matched)
    world.workers[0].reveal(task_id, DIGEST)
    _advance_past(world, matched.deal.final_deadline)
    with pytest.raises(errors.PocoFinalDeadlineReached) as caught:
        world.scheduler.finalize(task_id, matched.deal, RESULTS)
    assert caught.value.args_by_name == {"taskId": task_id, "deadline": matched.deal.final_deadline}
    assert world.protocol.task(task_id).status == TaskStatus.REVEALING
    # Past the final deadline the requester gets its refund instead.
    world.requester.claim(task_id, matched.deal)
    assert world.protocol.task(task_id).status == TaskStatus.FAILED
    assert world.protocol.account(world.requester.address).free == DEPOSIT


def test_claim_reverts_with_deadline_not_reached_before_final_deadline(world: World) -> None:
    matched, task_id = world.started_task()
    with pytest.raises(errors.PocoFinalDeadlineNotReached):
        world.requester.claim(task_id, matched.deal)
    assert world.protocol.task(task_id).status == TaskStatus.ACTIVE


# ─── 8. Copying another worker's result ───
def _copy_setup(world: World, seal_of: str) -> tuple[MatchedDeal, str]:
    """A trust-3 task where worker 0 commits honestly and worker 1 commits the result hash it
    read from worker 0's contribution, with a seal it could not compute for that digest."""
    matched, task_id = world.started_task(trust=3)
    honest, copier = world.workers[0], world.workers[1]
    world.contribute(honest, task_id, matched)
    copied_hash = to_hex32(
        bytes(world.protocol.task_events(task_id, "TaskContributed")[0]["resultHash"])
    )
    seal = (
        result_seal(honest.address, task_id, DIGEST)
        if seal_of == "honest-seal"
        else result_seal(copier.address, task_id, WRONG_DIGEST)
    )
    world.protocol.contribute(
        copier.account,
        task_id,
        matched.deal,
        copied_hash,
        seal,
        world.scheduler.authorize(copier.address, task_id),
    )
    task = world.protocol.task(task_id)
    assert (task.status, task.winner_count) == (TaskStatus.REVEALING, 2)
    return matched, task_id


SEALS = ["honest-seal", "own-seal-over-wrong-digest"]


@pytest.mark.parametrize("seal_of", SEALS)
def test_reveal_reverts_with_seal_mismatch_when_worker_copied_result_hash(
    world: World, seal_of: str
) -> None:
    _, task_id = _copy_setup(world, seal_of)
    copier = world.workers[1]
    with pytest.raises(errors.PocoResultSealMismatch) as caught:
        copier.reveal(task_id, DIGEST)
    assert caught.value.args_by_name == {"taskId": task_id, "worker": copier.address}
    with pytest.raises(errors.PocoResultHashMismatch):
        copier.reveal(task_id, WRONG_DIGEST)
    world.workers[0].reveal(task_id, DIGEST)
    assert world.protocol.task(task_id).reveal_count == 1


@pytest.mark.parametrize("path", ["reveal-all", "reveal-deadline"])
@pytest.mark.parametrize("seal_of", SEALS)
def test_finalize_seizes_copier_stake_when_worker_copied_result_hash(
    world: World, seal_of: str, path: str
) -> None:
    matched, task_id = _copy_setup(world, seal_of)
    honest, copier = world.workers[0], world.workers[1]
    stake = matched.deal.worker_stake
    assert stake == WORKERPOOL_PRICE * 30 // 100
    if path == "reveal-all":
        world.scheduler.reveal_all(task_id, DIGEST)
        statuses = [c.status for c in world.protocol.contributions(task_id)]
        assert statuses == [ContributionStatus.PROVED, ContributionStatus.REJECTED]
        with pytest.raises(errors.PocoInvalidContributionStatus):
            copier.reveal(task_id, DIGEST)
    else:
        honest.reveal(task_id, DIGEST)
        with pytest.raises(errors.PocoRevealsPending):
            world.scheduler.finalize(task_id, matched.deal, RESULTS)
        _advance_past(world, world.protocol.task(task_id).reveal_deadline)
    world.scheduler.finalize(task_id, matched.deal, RESULTS)
    assert world.protocol.task(task_id).status == TaskStatus.COMPLETED
    copier_account = world.protocol.account(copier.address)
    assert (copier_account.free, copier_account.locked) == (DEPOSIT - stake, 0)
    honest_account = world.protocol.account(honest.address)
    # The honest worker gets the whole workers' reward, including the copier's seized stake.
    assert honest_account.free == DEPOSIT + (WORKERPOOL_PRICE + stake) * 99 // 100
    assert honest_account.locked == 0
    faulty = world.protocol.task_events(task_id, "FaultyContribution")
    assert [e["worker"] for e in faulty] == [copier.address]


def test_reveal_all_rejects_every_winner_when_digest_matches_no_seal(world: World) -> None:
    matched, task_id = world.started_task(trust=3)
    copier_hash = result_hash(task_id, DIGEST)
    for index in (0, 1):
        worker = world.workers[index]
        world.protocol.contribute(
            worker.account,
            task_id,
            matched.deal,
            copier_hash,
            result_seal(worker.address, task_id, WRONG_DIGEST),
            world.scheduler.authorize(worker.address, task_id),
        )
    world.scheduler.reveal_all(task_id, DIGEST)
    task = world.protocol.task(task_id)
    assert (task.winner_count, task.reveal_count) == (0, 0)
    statuses = [c.status for c in world.protocol.contributions(task_id)]
    assert statuses == [ContributionStatus.REJECTED, ContributionStatus.REJECTED]
    # Nobody proved the result: the task cannot be finalized, nor revealed again…
    with pytest.raises(errors.PocoRevealsPending):
        world.scheduler.finalize(task_id, matched.deal, RESULTS)
    with pytest.raises(errors.PocoNothingToReveal):
        world.scheduler.reveal_all(task_id, DIGEST)
    # …and the scheduler reopens it once the reveal deadline has passed.
    world.client.increase_time(task.reveal_deadline - world.client.timestamp() + 1)
    world.scheduler.reopen(task_id, matched.deal)
    assert world.protocol.task(task_id).status == TaskStatus.ACTIVE


def test_reveal_all_rejects_copier_when_honest_worker_already_revealed(world: World) -> None:
    matched, task_id = _copy_setup(world, "own-seal-over-wrong-digest")
    world.workers[0].reveal(task_id, DIGEST)
    world.scheduler.reveal_all(task_id, DIGEST)
    statuses = [c.status for c in world.protocol.contributions(task_id)]
    assert statuses == [ContributionStatus.PROVED, ContributionStatus.REJECTED]
    world.scheduler.finalize(task_id, matched.deal, RESULTS)
    assert world.protocol.task(task_id).status == TaskStatus.COMPLETED


# ─── 9. Forged deal records ───
def _forged(world: World, deal: Deal, fields: dict[str, Any]) -> Deal:
    resolved = {k: world.stranger.address if v == "stranger" else v for k, v in fields.items()}
    return replace(deal, **resolved)


FORGERIES = {
    "zero-worker-stake": {"worker_stake": 0},
    "trust-one": {"trust": 1},
    "stranger-scheduler": {"workerpool_owner": "stranger"},
    "zero-app-price": {"app_price": 0},
    "higher-price": {"workerpool_price": 100 * TOKEN},
    "stranger-requester": {"requester": "stranger"},
    "start-time-zero": {"start_time": 0},
}


@pytest.mark.parametrize("forgery", ["zero-worker-stake", "trust-one", "stranger-scheduler"])
def test_contribute_reverts_with_deal_mismatch_when_deal_forged(world: World, forgery: str) -> None:
    matched, task_id = world.started_task(trust=3)
    deal = _forged(world, matched.deal, FORGERIES[forgery])
    # With a forged scheduler the attacker signs the worker's authorization itself.
    signer = world.stranger if forgery == "stranger-scheduler" else world.scheduler.account
    authorization = sign_authorization(signer, world.workers[0].address, task_id)
    with pytest.raises(errors.PocoDealMismatch) as caught:
        _contribute_raw(world, 0, task_id, deal, authorization=authorization)
    assert caught.value.args_by_name == {"id": task_id}
    assert world.protocol.task(task_id).contributor_count == 0


@pytest.mark.parametrize("forgery", ["stranger-scheduler", "zero-app-price", "higher-price"])
def test_finalize_reverts_with_deal_mismatch_when_deal_forged(world: World, forgery: str) -> None:
    matched, task_id = world.started_task()
    world.contribute(world.workers[0], task_id, matched)
    world.workers[0].reveal(task_id, DIGEST)
    deal = _forged(world, matched.deal, FORGERIES[forgery])
    sender = world.stranger if forgery == "stranger-scheduler" else world.scheduler.account
    with pytest.raises(errors.PocoDealMismatch) as caught:
        world.protocol.finalize(sender, task_id, deal, RESULTS)
    assert caught.value.args_by_name == {"id": task_id}
    assert world.protocol.task(task_id).status == TaskStatus.REVEALING


@pytest.mark.parametrize("forgery", ["trust-one", "higher-price", "zero-app-price"])
def test_contribute_and_finalize_reverts_with_deal_mismatch_when_deal_forged(
    world: World, forgery: str
) -> None:
    matched, task_id = world.started_task(trust=3)
    worker = world.workers[0]
    deal = _forged(world, matched.deal, FORGERIES[forgery])
    with pytest.raises(errors.PocoDealMismatch):
        worker.contribute_and_finalize(
            task_id, deal, DIGEST, RESULTS, world.scheduler.authorize(worker.address, task_id)
        )
    assert world.protocol.task(task_id).status == TaskStatus.ACTIVE


@pytest.mark.parametrize("forgery", ["start-time-zero", "stranger-requester", "higher-price"])
def test_claim_reverts_with_deal_mismatch_when_deal_forged(world: World, forgery: str) -> None:
    matched, task_id = world.started_task()
    if forgery != "start-time-zero":
        _advance_past(world, matched.deal.final_deadline)
    deal = _forged(world, matched.deal, FORGERIES[forgery])
    with pytest.raises(errors.PocoDealMismatch) as caught:
        world.protocol.claim(world.stranger, task_id, deal)
    assert caught.value.args_by_name == {"id": task_id}
    with pytest.raises(errors.PocoDealMismatch):
        world.protocol.claim_batch(world.stranger, [task_id], deal)
    assert world.protocol.task(task_id).status == TaskStatus.ACTIVE
    stranger = world.protocol.account(world.stranger.address)
    assert (stranger.free, stranger.locked) == (DEPOSIT, 0)


def test_reopen_reverts_with_deal_mismatch_when_deal_forged(world: World) -> None:
    matched, task_id = world.started_task()
    world.contribute(world.workers[0], task_id, matched)
    _advance_past(world, world.protocol.task(task_id).reveal_deadline)
    deal = _forged(world, matched.deal, FORGERIES["stranger-scheduler"])
    with pytest.raises(errors.PocoDealMismatch):
        world.protocol.reopen(world.stranger, task_id, deal)
    assert world.protocol.task(task_id).status == TaskStatus.REVEALING


# ─── Presignature by the zero address ───
def test_match_reverts_with_invalid_signature_when_request_unsigned_with_zero_requester(
    world: World,
) -> None:
    """Every order hash is 'presigned' by address(0) (the mapping's default): an unsigned request
    with requester 0 must not pass for presigned and spend what address(0)'s escrow holds."""
    # Tokens credited to address(0) by mistake (depositFor accepts it).
    world.protocol.deposit(world.stranger, 50 * TOKEN, beneficiary=ZERO_ADDRESS)
    app, dataset, pool, _ = world.orders()
    request = replace(
        world.request_order(), requester=ZERO_ADDRESS, beneficiary=world.stranger.address
    ).with_sign(b"")
    with pytest.raises(errors.MarketInvalidRequestOrderSignature) as caught:
        world.protocol.match_orders(world.stranger, app, dataset, pool, request)
    assert caught.value.args_by_name == {"orderHash": request.digest(world.protocol.domain)}
    zero = world.protocol.account(ZERO_ADDRESS)
    assert (zero.free, zero.locked) == (50 * TOKEN, 0)
