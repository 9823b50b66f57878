"""The PoCo-fed oracle (`PocoOracle`) on a real hub: a deal is accepted against the provenance
policy, its task completes, and the hub's result callback stores the keyed value, read back through
EIP-2362 `valueFor`, EIP-1154 `resultFor` and `latestRoundData(key)`.

The hub swallows a callback's revert (it only emits `ResultCallbackCalled(success=false)`), so each
refusal is checked three ways: the policy check reverts `acceptDeal` with its own error, the
delivered result leaves the oracle's state unchanged with `success` false, and an `eth_call` of
`receiveResult` from the hub's address names the error the callback hit. The callback's own gas is
measured from a call trace and must fit the hub's callback budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from pnyx.chain import contract_errors as errors
from pnyx.chain.oracles.poco_feed import (
    STATUS_BAD_REQUEST,
    STATUS_NOT_FOUND,
    STATUS_OK,
    KeyedRound,
    PocoFeed,
    ProvenancePolicy,
    deal_digest,
    decode_result,
    encode_result,
)
from pnyx.chain.protocol import MatchedDeal
from pnyx.chain.signing import new_account, sign_enclave_result
from pnyx.domain._hex import to_bytes
from pnyx.domain.consensus import replicas_needed
from pnyx.domain.feeds import feed_id
from pnyx.domain.tags import tag_from_names
from pnyx.domain.task import digest_of_callback, result_hash, result_seal
from pnyx.domain.views import TaskStatus
from pnyx.errors import ContractRevert, PnyxInputError
from pnyx.types import ZERO_ADDRESS, ZERO_BYTES32, Address, TaskId
from tests.helpers.world import RESULTS, World

pytestmark = pytest.mark.integration

KEY = "0x" + feed_id("Price", "ETH/USD", 3).hex()
OTHER_KEY = "0x" + feed_id("Price", "BTC/USD", 3).hex()
PRICE = 3_412_157  # 3412.157 USD, 3 decimals as the key says
TEE = tag_from_names(("tee",))


# ─── Helpers ───


def _deploy(world: World, **policy: Any) -> PocoFeed:
    """An oracle on the world's hub that allows the world's app, dataset and workerpool, trust 1
    and no tag, unless `policy` says otherwise."""
    fields: dict[str, Any] = {
        "app": world.app,
        "dataset": world.dataset,
        "workerpool": world.workerpool,
        **policy,
    }
    return PocoFeed.deploy(
        world.client, world.owner, hub=world.deployment.hub, policy=ProvenancePolicy(**fields)
    )


def _match(
    world: World, oracle: PocoFeed, *, trust: int = 1, volume: int = 1, tee: bool = False
) -> MatchedDeal:
    """A deal that calls `oracle` back (TEE-tagged if `tee`)."""
    if not tee:
        return world.match(trust=trust, volume=volume, callback=oracle.address)
    matched, _ = world.protocol.match_orders(
        world.requester.account,
        world.app_order(tag=TEE, volume=volume),
        world.dataset_order(volume=volume),
        world.workerpool_order(tag=TEE, trust=trust, volume=volume),
        world.request_order(tag=TEE, trust=trust, volume=volume, callback=oracle.address),
    )
    return matched


def _fast_path(world: World, matched: MatchedDeal, n: int, data: bytes) -> TxReceipt:
    """The deal's `n`-th task at trust 1, contributed and finalized in one transaction with `data`
    as its callback data (enclave-signed if the deal is TEE)."""
    worker, fn = _fast_path_call(world, matched, n, data)
    return world.client.transact(worker, fn)


def _fast_path_call(
    world: World, matched: MatchedDeal, n: int, data: bytes
) -> tuple[LocalAccount, ContractFunction]:
    """Initializes the task, and returns the `contributeAndFinalize` call that completes it."""
    task = world.scheduler.initialize(matched.deal_id, matched.deal.bot_first + n)
    worker, digest = world.workers[0], digest_of_callback(data)
    enclave_address: str = ZERO_ADDRESS
    enclave_sign = b""
    if matched.deal.is_tee:
        enclave = new_account()
        enclave_address = enclave.address
        seal = result_seal(worker.address, task, digest)
        enclave_sign = sign_enclave_result(enclave, result_hash(task, digest), seal)
    fn = world.protocol.hub.functions.contributeAndFinalize(
        to_bytes(task, length=32),
        matched.deal.as_abi(),
        to_bytes(digest, length=32),
        RESULTS,
        data,
        enclave_address,
        enclave_sign,
        world.scheduler.authorize(worker.address, task, enclave_address),
    )
    return worker.account, fn


def _replicated(world: World, matched: MatchedDeal, n: int, data: bytes) -> TxReceipt:
    """The deal's `n`-th task run by as many agreeing workers as its trust needs, revealed and
    finalized with `data` as its callback data."""
    task = world.scheduler.initialize(matched.deal_id, matched.deal.bot_first + n)
    digest = digest_of_callback(data)
    for worker in world.workers[: replicas_needed(matched.deal.trust)]:
        world.contribute(worker, task, matched, digest)
    world.protocol.reveal_all(world.stranger, task, digest)
    return world.protocol.finalize(world.scheduler.account, task, matched.deal, RESULTS, data)


def _task(matched: MatchedDeal, n: int) -> TaskId:
    return matched.task_ids[n]


def _callback_success(world: World, receipt: TxReceipt) -> bool:
    (called,) = world.client.events(world.protocol.hub, "ResultCallbackCalled", receipt)
    return bool(called["args"]["success"])


def _replay(world: World, oracle: PocoFeed, task: str, data: bytes) -> None:
    """`receiveResult` as the hub would call it now, simulated with an eth_call from its address."""
    fn = oracle.contract.functions.receiveResult(to_bytes(task, length=32), data)
    world.client.call(fn, sender=world.deployment.hub)


def _traced_callback_gas(
    world: World, sender: LocalAccount, fn: ContractFunction, callee: str
) -> int:
    """Gas the call into `callee` uses when `fn` runs now, from a call trace of it simulated on
    the latest state (the node prunes history, so mined transactions cannot be traced)."""
    call = {"from": sender.address, "to": fn.address, "data": fn._encode_transaction_data()}
    response = world.client.w3.provider.make_request(
        "debug_traceCall",  # type: ignore[arg-type]
        [call, "latest", {"tracer": "callTracer"}],
    )
    found = [
        int(frame["gasUsed"], 16)
        for frame in _calls(response["result"])
        if frame.get("to", "") == callee.lower()
    ]
    assert len(found) == 1, found
    return found[0]


def _calls(frame: dict[str, Any]) -> list[dict[str, Any]]:
    nested = [frame]
    for child in frame.get("calls", []):
        nested += _calls(child)
    return nested


@dataclass(frozen=True)
class _Refusal:
    """A deal the policy refuses, and the error `acceptDeal` names."""

    name: str
    policy: dict[str, Any]
    error: type[ContractRevert]
    args: dict[str, Any]


def _refusals(world: World, other_app: Address, other_pool: Address) -> list[_Refusal]:
    return [
        _Refusal("app", {"app": other_app}, errors.PocoOracleAppNotAllowed, {"app": world.app}),
        _Refusal(
            "dataset",
            {"dataset": ZERO_ADDRESS},
            errors.PocoOracleDatasetNotAllowed,
            {"dataset": world.dataset},
        ),
        _Refusal(
            "workerpool",
            {"workerpool": other_pool},
            errors.PocoOracleWorkerpoolNotAllowed,
            {"workerpool": world.workerpool},
        ),
        _Refusal(
            "trust", {"min_trust": 4}, errors.PocoOracleTrustTooLow, {"trust": 1, "minTrust": 4}
        ),
        _Refusal(
            "tag",
            {"required_tag": TEE},
            errors.PocoOracleTagMissing,
            {"tag": ZERO_BYTES32, "requiredTag": TEE},
        ),
    ]


# ─── Fixtures ───


@pytest.fixture
def oracle(world: World) -> PocoFeed:
    return _deploy(world)


@pytest.fixture
def accepted(world: World, oracle: PocoFeed) -> MatchedDeal:
    """A trust-1 deal of three tasks, calling `oracle` back, accepted by it."""
    matched = _match(world, oracle, volume=3)
    oracle.accept_deal(world.requester.account, matched.deal)
    return matched


# ─── Delivery ───


def test_receive_result_stores_value_when_replicated_task_of_accepted_deal_completes(
    world: World,
) -> None:
    oracle = _deploy(world, min_trust=4)
    matched = _match(world, oracle, trust=4)
    oracle.accept_deal(world.requester.account, matched.deal)
    observed = world.client.timestamp()
    data = encode_result(KEY, PRICE, observed)

    receipt = _replicated(world, matched, 0, data)

    assert _callback_success(world, receipt)
    task = matched.task_ids[0]
    assert world.protocol.task(task).status == TaskStatus.COMPLETED
    value = oracle.value_for(KEY)
    assert (value.value, value.observed_at, value.status) == (PRICE, observed, STATUS_OK)
    assert value.is_found
    assert oracle.result_for(KEY) == data == world.protocol.result_for(task)
    assert oracle.latest_round(KEY) == KeyedRound(round_id=1, answer=PRICE, observed_at=observed)
    (update,) = oracle.value_updates(receipt)
    assert "0x" + bytes(update["taskId"]).hex() == task
    assert (update["value"], update["observedAt"], update["roundId"]) == (PRICE, observed, 1)


def test_receive_result_updates_value_when_newer_result_arrives(
    world: World, oracle: PocoFeed, accepted: MatchedDeal
) -> None:
    first = world.client.timestamp()
    _fast_path(world, accepted, 0, encode_result(KEY, PRICE, first))
    world.client.increase_time(60)
    second = world.client.timestamp()

    receipt = _fast_path(world, accepted, 1, encode_result(KEY, -PRICE, second))

    assert _callback_success(world, receipt)
    assert oracle.latest_round(KEY) == KeyedRound(round_id=2, answer=-PRICE, observed_at=second)
    assert decode_result(oracle.result_for(KEY)) == (KEY, -PRICE, second)
    assert oracle.value_for(OTHER_KEY).status == STATUS_NOT_FOUND


def test_receive_result_stores_value_when_tee_task_meets_tee_policy(world: World) -> None:
    oracle = _deploy(world, required_tag=TEE)
    matched = _match(world, oracle, tee=True)
    oracle.accept_deal(world.requester.account, matched.deal)
    observed = world.client.timestamp()

    receipt = _fast_path(world, matched, 0, encode_result(KEY, PRICE, observed))

    assert _callback_success(world, receipt)
    assert oracle.value_for(KEY).status == STATUS_OK
    assert oracle.policy().required_tag == TEE


def test_accept_deal_records_commitment_the_hub_shows(
    world: World, oracle: PocoFeed, accepted: MatchedDeal
) -> None:
    assert oracle.is_deal_accepted(accepted.deal)
    task = world.scheduler.initialize(accepted.deal_id, accepted.deal.bot_first)
    assert world.protocol.task(task).deal_digest == deal_digest(accepted.deal)
    assert oracle.hub() == world.deployment.hub
    assert oracle.policy() == ProvenancePolicy(
        app=world.app, dataset=world.dataset, workerpool=world.workerpool
    )


# ─── Provenance: each check with its error ───


@pytest.mark.parametrize("case", ["app", "dataset", "workerpool", "trust", "tag"])
def test_receive_result_refused_when_deal_fails_policy(world: World, case: str) -> None:
    other_app = world.app_provider.register_app(
        "price-feed", "file:///apps/price.wasm", "0x" + "33" * 32
    )
    other_pool = world.scheduler_provider.register_workerpool("another pool")
    (refusal,) = [r for r in _refusals(world, other_app, other_pool) if r.name == case]
    oracle = _deploy(world, **refusal.policy)
    matched = _match(world, oracle)

    with pytest.raises(refusal.error) as caught:
        oracle.accept_deal(world.requester.account, matched.deal)
    assert caught.value.args_by_name == refusal.args
    assert not oracle.is_deal_accepted(matched.deal)

    # The task still completes; the oracle refuses its result and keeps nothing.
    data = encode_result(KEY, PRICE, world.client.timestamp())
    receipt = _fast_path(world, matched, 0, data)
    assert world.protocol.task(matched.task_ids[0]).status == TaskStatus.COMPLETED
    assert not _callback_success(world, receipt)
    assert oracle.value_updates(receipt) == []
    assert oracle.value_for(KEY).status == STATUS_NOT_FOUND
    with pytest.raises(errors.PocoOracleDealNotAccepted) as replayed:
        _replay(world, oracle, matched.task_ids[0], data)
    assert replayed.value.args_by_name == {
        "taskId": matched.task_ids[0],
        "dealDigest": deal_digest(matched.deal),
    }


def test_accept_deal_reverts_when_deal_calls_another_contract_back(
    world: World, oracle: PocoFeed
) -> None:
    matched = world.match()
    with pytest.raises(errors.PocoOracleWrongCallback) as caught:
        oracle.accept_deal(world.requester.account, matched.deal)
    assert caught.value.args_by_name == {"callback": ZERO_ADDRESS}


def test_receive_result_reverts_when_caller_not_hub(
    world: World, oracle: PocoFeed, accepted: MatchedDeal
) -> None:
    task = world.scheduler.initialize(accepted.deal_id, accepted.deal.bot_first)
    fn = oracle.contract.functions.receiveResult(
        to_bytes(task, length=32), encode_result(KEY, PRICE, world.client.timestamp())
    )
    with pytest.raises(errors.PocoOracleNotHub) as caught:
        world.client.transact(world.stranger, fn)
    assert caught.value.args_by_name == {"caller": world.stranger.address}
    assert oracle.value_for(KEY).status == STATUS_NOT_FOUND


def test_receive_result_reverts_when_task_not_completed(
    world: World, oracle: PocoFeed, accepted: MatchedDeal
) -> None:
    task = world.scheduler.initialize(accepted.deal_id, accepted.deal.bot_first)
    with pytest.raises(errors.PocoOracleTaskNotCompleted) as caught:
        _replay(world, oracle, task, encode_result(KEY, PRICE, world.client.timestamp()))
    assert caught.value.args_by_name == {"taskId": task, "status": TaskStatus.ACTIVE}


# ─── Result checks ───


def test_receive_result_refused_when_older_than_stored_value(
    world: World, oracle: PocoFeed, accepted: MatchedDeal
) -> None:
    first = world.client.timestamp()
    _fast_path(world, accepted, 0, encode_result(KEY, PRICE, first))
    older = encode_result(KEY, PRICE + 1, first - 1)

    receipt = _fast_path(world, accepted, 1, older)

    assert not _callback_success(world, receipt)
    assert oracle.latest_round(KEY) == KeyedRound(round_id=1, answer=PRICE, observed_at=first)
    with pytest.raises(errors.PocoOracleStaleResult) as caught:
        _replay(world, oracle, _task(accepted, 1), older)
    assert caught.value.args_by_name == {
        "key": KEY,
        "observedAt": first - 1,
        "latestObservedAt": first,
    }


def test_receive_result_refused_when_same_result_delivered_again(
    world: World, oracle: PocoFeed, accepted: MatchedDeal
) -> None:
    data = encode_result(KEY, PRICE, world.client.timestamp())
    _fast_path(world, accepted, 0, data)
    # EIP-1154: a second delivery of the same task (or a copy in another task) changes nothing.
    with pytest.raises(errors.PocoOracleStaleResult):
        _replay(world, oracle, _task(accepted, 0), data)
    assert not _callback_success(world, _fast_path(world, accepted, 1, data))
    assert oracle.latest_round(KEY).round_id == 1


def test_receive_result_refused_when_callback_data_malformed(
    world: World, oracle: PocoFeed, accepted: MatchedDeal
) -> None:
    data = b"not three ABI words"

    receipt = _fast_path(world, accepted, 0, data)

    assert not _callback_success(world, receipt)
    with pytest.raises(errors.PocoOracleMalformedResult) as caught:
        _replay(world, oracle, _task(accepted, 0), data)
    assert caught.value.args_by_name == {"taskId": _task(accepted, 0), "length": len(data)}


@pytest.mark.parametrize(
    ("key", "value", "error", "args"),
    [
        (ZERO_BYTES32, PRICE, errors.PocoOracleInvalidKey, {"key": ZERO_BYTES32}),
        (KEY, 2**191, errors.PocoOracleValueOutOfRange, {"key": KEY, "value": 2**191}),
        (
            KEY,
            -(2**191) - 1,
            errors.PocoOracleValueOutOfRange,
            {"key": KEY, "value": -(2**191) - 1},
        ),
    ],
    ids=["zero-key", "above-int192", "below-int192"],
)
def test_receive_result_refused_when_key_or_value_invalid(
    world: World,
    oracle: PocoFeed,
    accepted: MatchedDeal,
    key: str,
    value: int,
    error: type[ContractRevert],
    args: dict[str, Any],
) -> None:
    # Written without encode_result, which refuses such values before they reach the chain.
    data = abi_encode(["bytes32", "int256", "uint256"], [to_bytes(key), value, 1])

    receipt = _fast_path(world, accepted, 0, data)

    assert not _callback_success(world, receipt)
    with pytest.raises(error) as caught:
        _replay(world, oracle, _task(accepted, 0), data)
    assert caught.value.args_by_name == args


def test_receive_result_stores_int192_extremes(
    world: World, oracle: PocoFeed, accepted: MatchedDeal
) -> None:
    lowest, highest = -(2**191), 2**191 - 1
    _fast_path(world, accepted, 0, encode_result(KEY, lowest, world.client.timestamp()))
    _fast_path(world, accepted, 1, encode_result(OTHER_KEY, highest, world.client.timestamp()))
    assert oracle.value_for(KEY).value == lowest
    assert oracle.value_for(OTHER_KEY).value == highest
    with pytest.raises(PnyxInputError):
        encode_result(KEY, highest + 1, 1)


def test_receive_result_refused_when_observed_in_the_future(
    world: World, oracle: PocoFeed, accepted: MatchedDeal
) -> None:
    future = world.client.timestamp() + 3_600
    data = encode_result(KEY, PRICE, future)

    receipt = _fast_path(world, accepted, 0, data)

    assert not _callback_success(world, receipt)
    assert oracle.value_for(KEY).status == STATUS_NOT_FOUND
    with pytest.raises(errors.PocoOracleObservedInFuture) as caught:
        _replay(world, oracle, _task(accepted, 0), data)
    assert caught.value.args_by_name["observedAt"] == future


# ─── Reads and deployment ───


def test_reads_report_missing_and_invalid_keys(oracle: PocoFeed) -> None:
    assert oracle.value_for(KEY).status == STATUS_NOT_FOUND
    assert oracle.value_for(ZERO_BYTES32).status == STATUS_BAD_REQUEST
    assert oracle.latest_round(KEY) == KeyedRound(0, 0, 0)
    with pytest.raises(errors.PocoOracleNoValue) as caught:
        oracle.result_for(KEY)
    assert caught.value.args_by_name == {"key": KEY}


@pytest.mark.parametrize("missing", ["hub", "app"])
def test_deploy_reverts_when_hub_or_app_is_zero(world: World, missing: str) -> None:
    hub = ZERO_ADDRESS if missing == "hub" else world.deployment.hub
    policy = ProvenancePolicy(app=ZERO_ADDRESS if missing == "app" else world.app)
    with pytest.raises(errors.PocoOracleInvalidPolicy):
        PocoFeed.deploy(world.client, world.owner, hub=hub, policy=policy)


# ─── Gas: the callback must fit the hub's budget ───


def test_callback_gas_fits_budget_for_first_write_and_update(
    world: World, oracle: PocoFeed, accepted: MatchedDeal
) -> None:
    budget = world.protocol.callback_gas()
    sender, first = _fast_path_call(
        world, accepted, 0, encode_result(KEY, 1, world.client.timestamp())
    )
    first_gas = _traced_callback_gas(world, sender, first, oracle.address)
    world.client.transact(sender, first)
    world.client.increase_time(1)
    sender, update = _fast_path_call(
        world, accepted, 1, encode_result(KEY, 2, world.client.timestamp())
    )
    update_gas = _traced_callback_gas(world, sender, update, oracle.address)
    receipt = world.client.transact(sender, update)

    assert _callback_success(world, receipt)
    assert oracle.latest_round(KEY).round_id == 2
    assert first_gas < budget and update_gas < budget
    # A new key pays for one fresh slot (22.1k instead of 5k to rewrite it), nothing else.
    assert first_gas - update_gas <= 17_100
    # It would fit even the hub's minimum budget (50k) and iExec's historical default (100k).
    assert first_gas < 50_000
