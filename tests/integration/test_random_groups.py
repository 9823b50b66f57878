"""DOS-style random groups on a real anvil: the group the contract draws is the Python draw, a
result needs t distinct members' signatures, and only the members who signed are paid."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3.contract.contract import ContractFunction

from pnyx.chain import contract_errors as errors
from pnyx.chain.client import ChainClient
from pnyx.chain.oracles.groups import RandomGroupOracle, RequestStatus
from pnyx.chain.signing import account_from_key
from pnyx.domain._hex import keccak
from pnyx.domain.groups import fee_shares, pack_signatures, signer_bitmap
from pnyx.types import NANO_PER_TOKEN, Address, Bytes32
from tests.helpers.contracts import deploy_test_contract
from tests.helpers.world import World

pytestmark = pytest.mark.integration

NODES = 20
STAKE = 100 * NANO_PER_TOKEN
FEE = 7 * NANO_PER_TOKEN + 3  # not a multiple of the signer counts: the remainder is tested
TIMEOUT_S = 600
QUERY_ID = "0x" + "51" * 32
QUERY = b'{"url": "https://example.org/price", "path": "usd"}'
RESULT = (2_000 * 10**8).to_bytes(32, "big")


@dataclass
class Groups:
    world: World
    client: ChainClient
    nodes: list[LocalAccount]
    keys: dict[Address, LocalAccount]
    small: RandomGroupOracle  # n = 7, t = 4
    large: RandomGroupOracle  # n = 15, t = 8

    @property
    def requester(self) -> LocalAccount:
        return self.world.requester.account

    def members(self, oracle: RandomGroupOracle, request: str) -> list[LocalAccount]:
        return [self.keys[a] for a in oracle.group_of(request)]

    def signed(
        self, oracle: RandomGroupOracle, request: str, indexes: list[int], result: bytes = RESULT
    ) -> bytes:
        members = self.members(oracle, request)
        return oracle.signatures(request, result, [(i, members[i]) for i in indexes])

    def requested(
        self,
        oracle: RandomGroupOracle,
        query_id: str = QUERY_ID,
        sender: LocalAccount | None = None,
    ) -> Bytes32:
        """A request whose seed block is mined (its group is known)."""
        request, _ = oracle.request(sender or self.requester, query_id, QUERY)
        self.client.mine()  # the seed block
        self.client.mine()  # views run in the latest block: the seed block must be behind it
        return request


def _approve(world: World, account: LocalAccount, spender: str) -> None:
    world.client.transact(account, world.protocol.token.functions.approve(spender, 2**255))


def _rpc(client: ChainClient, method: str, params: list[Any]) -> Any:
    return client.w3.provider.make_request(method, params)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def deployed(session_world: World) -> Iterator[Groups]:
    """Two oracles (7-of-4 and 15-of-8) sharing 20 registered nodes, set up once per module."""
    world = session_world
    client = world.client
    snapshot = client.snapshot()
    try:
        oracles = [
            RandomGroupOracle.deploy(
                client,
                world.owner,
                token=world.deployment.token,
                stake=STAKE,
                fee=FEE,
                group_size=n,
                threshold=t,
                response_timeout_s=TIMEOUT_S,
            )  # fmt: skip
            for n, t in ((7, 4), (15, 8))
        ]
        nodes = [account_from_key(keccak(b"group node %d" % i)) for i in range(NODES)]
        for node in nodes:
            _rpc(client, "anvil_setBalance", [node.address, hex(10**20)])
            world.protocol.transfer_tokens(world.owner, node.address, 10 * STAKE)
            for oracle in oracles:
                _approve(world, node, oracle.address)
                oracle.register(node)
        for oracle in oracles:
            _approve(world, world.requester.account, oracle.address)
        yield Groups(
            world=world,
            client=client,
            nodes=nodes,
            keys={Address(n.address): n for n in nodes},
            small=oracles[0],
            large=oracles[1],
        )
    finally:
        client.revert(snapshot)


@pytest.fixture
def groups(deployed: Groups) -> Iterator[Groups]:
    snapshot = deployed.client.snapshot()
    try:
        yield deployed
    finally:
        deployed.client.revert(snapshot)


@pytest.fixture(params=["small", "large"])
def oracle(request: pytest.FixtureRequest, groups: Groups) -> RandomGroupOracle:
    found: RandomGroupOracle = getattr(groups, request.param)
    return found


# ─── The draw ───
def test_group_of_equals_the_python_draw(groups: Groups, oracle: RandomGroupOracle) -> None:
    for k in range(3):
        request = groups.requested(oracle, query_id="0x" + f"{k:064x}")
        group = oracle.group_of(request)
        assert group == oracle.expected_group(request)
        assert len(set(group)) == oracle.group_size()
        assert set(group) <= set(groups.keys)
        assert oracle.request_id(groups.requester.address, "0x" + f"{k:064x}") == request


def test_group_leaves_out_nodes_that_left_before_the_request(groups: Groups) -> None:
    oracle = groups.small
    gone = groups.nodes[:13]  # 7 nodes left: exactly a group
    for node in gone:
        oracle.unregister(node)
    request = groups.requested(oracle)
    group = oracle.group_of(request)
    assert group == oracle.expected_group(request)
    assert not {n.address for n in gone} & set(group)


def _table_entries(seed: bytes, pool: int, size: int, eligible: set[int]) -> int:
    """How many swapped positions the contract's memory table holds when its draw ends."""
    swapped: dict[int, int] = {}
    found = 0
    for i in range(pool):
        j = i + int.from_bytes(keccak(seed + i.to_bytes(32, "big")), "big") % (pool - i)
        picked = swapped.get(j, j)
        if j != i:
            swapped[j] = swapped.get(i, i)
        found += picked in eligible
        if found == size:
            break
    return len(swapped)


def test_group_equals_the_python_draw_when_the_draw_walks_far_into_the_pool(
    groups: Groups,
) -> None:
    """A 1-member group, 3 eligible nodes among 20: the draw goes deep into the shuffle and the
    contract's swap table (4 entries at first) grows; requests repeat until it grew twice."""
    oracle = RandomGroupOracle.deploy(
        groups.client, groups.world.owner, token=groups.world.deployment.token, stake=STAKE,
        fee=FEE, group_size=1, threshold=1, response_timeout_s=TIMEOUT_S,
    )  # fmt: skip
    for node in groups.nodes:
        _approve(groups.world, node, oracle.address)
        oracle.register(node)
    for node in groups.nodes[:-3]:
        oracle.unregister(node)
    _approve(groups.world, groups.requester, oracle.address)
    eligible = {NODES - 3, NODES - 2, NODES - 1}
    for k in range(40):
        request = groups.requested(oracle, query_id="0x" + f"{k:064x}")
        assert oracle.group_of(request) == oracle.expected_group(request)
        if _table_entries(oracle.seed_of(request), NODES, 1, eligible) > 4:
            break
    else:
        pytest.fail("no draw grew the table twice in 40 requests")
    acceptance, _ = oracle.respond(
        groups.requester, request, RESULT, groups.signed(oracle, request, [0])
    )
    assert acceptance.signers == 1


def test_group_keeps_members_that_leave_after_the_request(groups: Groups) -> None:
    oracle = groups.small
    request = groups.requested(oracle)
    before = oracle.group_of(request)
    for address in before[:3]:
        oracle.unregister(groups.keys[address])
    newcomer = account_from_key(keccak(b"late node"))
    _rpc(groups.client, "anvil_setBalance", [newcomer.address, hex(10**20)])
    groups.world.protocol.transfer_tokens(groups.world.owner, newcomer.address, STAKE)
    _approve(groups.world, newcomer, oracle.address)
    oracle.register(newcomer)
    assert oracle.group_of(request) == before  # the pool was frozen at the request
    oracle.respond(groups.requester, request, RESULT, groups.signed(oracle, request, [0, 1, 2, 3]))


def test_respond_reverts_before_the_seed_block_is_mined(groups: Groups) -> None:
    request, _ = groups.small.request(groups.requester, QUERY_ID, QUERY)
    with pytest.raises(errors.GroupSeedNotReady):
        groups.small.group_of(request)


def test_group_of_reverts_for_an_unknown_request(groups: Groups) -> None:
    unknown = "0x" + "77" * 32
    with pytest.raises(errors.GroupRequestNotPending):
        groups.small.group_of(unknown)
    with pytest.raises(errors.GroupRequestNotPending):
        groups.small.seed_of(unknown)
    with pytest.raises(errors.GroupRequestNotPending):
        groups.small.respond(groups.requester, unknown, RESULT, b"")


def test_request_reverts_when_fewer_nodes_than_a_group(groups: Groups) -> None:
    for node in groups.nodes[: NODES - 6]:
        groups.small.unregister(node)
    with pytest.raises(errors.GroupPoolTooSmall):
        groups.small.request(groups.requester, QUERY_ID, QUERY)


def test_request_reverts_when_the_query_id_is_reused(groups: Groups) -> None:
    groups.small.request(groups.requester, QUERY_ID, QUERY)
    with pytest.raises(errors.GroupDuplicateRequest):
        groups.small.request(groups.requester, QUERY_ID, QUERY)


# ─── Acceptance ───
def test_respond_accepts_a_result_signed_by_threshold_members(
    groups: Groups, oracle: RandomGroupOracle
) -> None:
    request = groups.requested(oracle)
    t = oracle.threshold()
    acceptance, _ = oracle.respond(
        groups.nodes[0], request, RESULT, groups.signed(oracle, request, list(range(t)))
    )
    assert acceptance.signers == signer_bitmap(range(t))
    assert acceptance.result_hash == "0x" + keccak(RESULT).hex()
    assert acceptance.seed == "0x" + oracle.seed_of(request).hex()
    assert oracle.result_for(request) == RESULT
    assert oracle.get_request(request).status is RequestStatus.ANSWERED


def test_respond_reverts_when_one_signature_short_of_the_threshold(
    groups: Groups, oracle: RandomGroupOracle
) -> None:
    request = groups.requested(oracle)
    t = oracle.threshold()
    with pytest.raises(errors.GroupTooFewSignatures) as caught:
        oracle.respond(
            groups.requester, request, RESULT, groups.signed(oracle, request, list(range(t - 1)))
        )
    assert caught.value.args_by_name == {"given": t - 1, "required": t}
    with pytest.raises(errors.GroupNoResult):
        oracle.result_for(request)


def test_respond_reverts_when_a_member_signs_twice(groups: Groups) -> None:
    oracle = groups.small
    request = groups.requested(oracle)
    with pytest.raises(errors.GroupDuplicateSigner):
        oracle.respond(
            groups.requester, request, RESULT, groups.signed(oracle, request, [0, 1, 2, 2])
        )


def test_respond_reverts_when_a_non_member_signs(groups: Groups) -> None:
    oracle = groups.small
    request = groups.requested(oracle)
    members = groups.members(oracle, request)
    outsider = next(n for n in groups.nodes if n not in members)
    honest = [(i, oracle.sign_response(members[i], request, RESULT)) for i in range(3)]
    # A registered node outside the group signs in a member's place...
    forged = pack_signatures([*honest, (3, oracle.sign_response(outsider, request, RESULT))])
    with pytest.raises(errors.GroupBadSignature) as caught:
        oracle.respond(groups.requester, request, RESULT, forged)
    assert caught.value.args_by_name == {"position": 3}
    # ...or claims an index beyond the group.
    beyond = pack_signatures([*honest, (7, oracle.sign_response(outsider, request, RESULT))])
    with pytest.raises(errors.GroupNotMember):
        oracle.respond(groups.requester, request, RESULT, beyond)


def test_respond_reverts_when_members_signed_another_result(groups: Groups) -> None:
    oracle = groups.small
    request = groups.requested(oracle)
    signatures = groups.signed(oracle, request, [0, 1, 2, 3], result=b"another answer")
    with pytest.raises(errors.GroupBadSignature):
        oracle.respond(groups.requester, request, RESULT, signatures)


def test_respond_reverts_when_the_signatures_are_malformed(groups: Groups) -> None:
    oracle = groups.small
    request = groups.requested(oracle)
    signatures = groups.signed(oracle, request, [0, 1, 2, 3])
    with pytest.raises(errors.GroupMalformedSignatures):
        oracle.respond(groups.requester, request, RESULT, signatures[:-1])


# ─── Payment ───
def test_respond_pays_the_signers_and_not_the_member_who_did_not_sign(groups: Groups) -> None:
    oracle = groups.small
    request = groups.requested(oracle)
    members = groups.members(oracle, request)
    signing = [4, 0, 2, 6, 5]  # member 1 and member 3 stay silent
    token = groups.world.protocol
    oracle.respond(groups.requester, request, RESULT, groups.signed(oracle, request, signing))

    share, first = fee_shares(FEE, len(signing))
    assert oracle.node(members[4].address).earned == first  # first listed: gets the remainder
    for i in signing[1:]:
        assert oracle.node(members[i].address).earned == share
    for silent in (1, 3):
        assert oracle.node(members[silent].address).earned == 0
        before = token.token_balance(members[silent].address)
        oracle.withdraw_earnings(members[silent])
        assert token.token_balance(members[silent].address) == before
    assert sum(oracle.node(m.address).earned for m in members) == FEE

    before = token.token_balance(members[0].address)
    oracle.withdraw_earnings(members[0])
    assert token.token_balance(members[0].address) == before + share
    assert oracle.node(members[0].address).earned == 0


def test_the_oracle_holds_exactly_stakes_earnings_and_open_fees(groups: Groups) -> None:
    oracle = groups.small
    answered = groups.requested(oracle)
    groups.requested(oracle, query_id="0x" + "52" * 32)  # stays open
    oracle.respond(
        groups.requester, answered, RESULT, groups.signed(oracle, answered, [0, 1, 2, 3])
    )
    earned = sum(oracle.node(n.address).earned for n in groups.nodes)
    held = groups.world.protocol.token_balance(oracle.address)
    assert held == NODES * STAKE + earned + FEE


# ─── Replay ───
def test_respond_reverts_when_a_response_is_replayed(groups: Groups) -> None:
    oracle = groups.small
    request = groups.requested(oracle)
    signatures = groups.signed(oracle, request, [0, 1, 2, 3])
    oracle.respond(groups.requester, request, RESULT, signatures)
    with pytest.raises(errors.GroupRequestNotPending) as caught:
        oracle.respond(groups.requester, request, RESULT, signatures)
    assert caught.value.args_by_name["status"] == RequestStatus.ANSWERED


def test_signatures_for_one_request_are_refused_for_another(groups: Groups) -> None:
    oracle = groups.small
    first = groups.requested(oracle)
    second = groups.requested(oracle, query_id="0x" + "52" * 32)
    signatures = groups.signed(oracle, first, [0, 1, 2, 3])
    with pytest.raises(errors.GroupBadSignature):
        oracle.respond(groups.requester, second, RESULT, signatures)


# ─── Delivery ───
def _as(client: ChainClient, address: str, fn: ContractFunction) -> None:
    """Sends `fn` from a contract address (anvil impersonation): a consumer contract requests."""
    _rpc(client, "anvil_impersonateAccount", [address])
    _rpc(client, "anvil_setBalance", [address, hex(10**20)])
    try:
        receipt = client.wait_for_receipt(fn.transact({"from": address}))
        assert receipt["status"] == 1
    finally:
        _rpc(client, "anvil_stopImpersonatingAccount", [address])


def _consumer_request(groups: Groups, mode: int) -> tuple[Any, Bytes32]:
    consumer = deploy_test_contract(groups.client, groups.world.owner, "ResultConsumer")
    consumer_address = str(consumer.address)
    groups.client.transact(
        groups.world.owner, consumer.functions.configure(mode, consumer_address, b"")
    )
    groups.world.protocol.transfer_tokens(groups.world.owner, consumer_address, FEE)
    token = groups.world.protocol.token
    _as(groups.client, consumer_address, token.functions.approve(groups.small.address, FEE))
    _as(
        groups.client,
        consumer_address,
        groups.small.contract.functions.request(bytes.fromhex(QUERY_ID[2:]), QUERY),
    )
    groups.client.mine()
    groups.client.mine()
    return consumer, groups.small.request_id(consumer_address, QUERY_ID)


def test_respond_pushes_the_result_to_the_consumer_contract(groups: Groups) -> None:
    consumer, request = _consumer_request(groups, mode=0)  # RECORD
    _, receipt = groups.small.respond(
        groups.requester, request, RESULT, groups.signed(groups.small, request, [0, 1, 2, 3])
    )
    assert bytes(consumer.functions.lastId().call()) == bytes.fromhex(request[2:])
    assert bytes(consumer.functions.lastResult().call()) == RESULT
    [called] = groups.client.events(groups.small.contract, "CallbackCalled", receipt)
    assert called["args"]["success"] is True


def test_a_reverting_consumer_does_not_block_the_answer(groups: Groups) -> None:
    consumer, request = _consumer_request(groups, mode=1)  # REVERT
    _, receipt = groups.small.respond(
        groups.requester, request, RESULT, groups.signed(groups.small, request, [0, 1, 2, 3])
    )
    [called] = groups.client.events(groups.small.contract, "CallbackCalled", receipt)
    assert called["args"]["success"] is False
    assert consumer.functions.calls().call() == 0
    assert groups.small.result_for(request) == RESULT  # pull still works


# ─── The beacon's 256-block window ───
def test_a_drawn_group_outlives_the_seed_block_hash(groups: Groups) -> None:
    oracle = groups.small
    request = groups.requested(oracle)
    group = oracle.group_of(request)
    drawn, _ = oracle.draw(groups.nodes[0], request)
    assert drawn == group
    with pytest.raises(errors.GroupAlreadyDrawn):
        oracle.draw(groups.nodes[0], request)
    _rpc(groups.client, "anvil_mine", [hex(300)])
    with pytest.raises(errors.GroupSeedUnavailable):
        oracle.seed_of(request)
    assert oracle.group_of(request) == group
    acceptance, _ = oracle.respond(
        groups.requester, request, RESULT, groups.signed(oracle, request, [0, 1, 2, 3])
    )
    assert acceptance.seed == "0x" + "00" * 32  # GroupDrawn carried it


def test_respond_reverts_when_the_seed_is_forgotten_and_the_group_not_drawn(
    groups: Groups,
) -> None:
    oracle = groups.small
    request = groups.requested(oracle)
    signatures = groups.signed(oracle, request, [0, 1, 2, 3])
    _rpc(groups.client, "anvil_mine", [hex(300)])
    with pytest.raises(errors.GroupSeedUnavailable):
        oracle.respond(groups.requester, request, RESULT, signatures)


# ─── Deadline and cancellation ───
def test_cancel_refunds_the_fee_after_the_deadline_and_closes_the_request(
    groups: Groups,
) -> None:
    oracle = groups.small
    request = groups.requested(oracle)
    signatures = groups.signed(oracle, request, [0, 1, 2, 3])
    with pytest.raises(errors.GroupRequestNotExpired):
        oracle.cancel(groups.requester, request)
    groups.client.increase_time(TIMEOUT_S + 1)
    with pytest.raises(errors.GroupRequestExpired):
        oracle.respond(groups.requester, request, RESULT, signatures)
    with pytest.raises(errors.GroupNotConsumer):
        oracle.cancel(groups.nodes[0], request)
    before = groups.world.protocol.token_balance(groups.requester.address)
    oracle.cancel(groups.requester, request)
    assert groups.world.protocol.token_balance(groups.requester.address) == before + FEE
    assert oracle.get_request(request).status is RequestStatus.CANCELLED
    with pytest.raises(errors.GroupRequestNotPending):
        oracle.cancel(groups.requester, request)


# ─── Nodes ───
def test_a_node_gets_its_stake_back_only_after_leaving_and_the_lock(groups: Groups) -> None:
    oracle = groups.small
    node = groups.nodes[0]
    with pytest.raises(errors.GroupAlreadyRegistered):
        oracle.register(node)
    with pytest.raises(errors.GroupStillRegistered):
        oracle.withdraw_stake(node)
    oracle.unregister(node)
    with pytest.raises(errors.GroupNotRegistered):
        oracle.unregister(node)
    with pytest.raises(errors.GroupStakeLocked):
        oracle.withdraw_stake(node)
    groups.client.increase_time(TIMEOUT_S)
    before = groups.world.protocol.token_balance(node.address)
    oracle.withdraw_stake(node)
    assert groups.world.protocol.token_balance(node.address) == before + STAKE
    with pytest.raises(errors.GroupNotRegistered):
        oracle.withdraw_stake(node)
    oracle.register(node)  # a fresh registration, at a new registry position
    assert oracle.node(node.address).id == NODES


@pytest.mark.parametrize(("n", "t"), [(0, 0), (7, 3), (7, 8), (33, 17)])
def test_deploy_reverts_when_the_threshold_is_not_a_majority_of_the_group(
    groups: Groups, n: int, t: int
) -> None:
    with pytest.raises(errors.GroupBadSize):
        RandomGroupOracle.deploy(
            groups.client, groups.world.owner, token=groups.world.deployment.token, stake=STAKE,
            fee=FEE, group_size=n, threshold=t, response_timeout_s=TIMEOUT_S,
        )  # fmt: skip


# ─── Gas ───
@pytest.mark.parametrize(("size", "budget"), [("small", 140_000), ("large", 215_000)])
def test_respond_with_threshold_signatures_stays_within_its_gas_budget(
    groups: Groups, size: str, budget: int
) -> None:
    """respond with t signatures, the draw done inside, an EOA consumer (no push); figures in
    docs/oracles-groups.md."""
    oracle: RandomGroupOracle = getattr(groups, size)
    for k in range(2):  # the second request: every signer's record already non-zero
        request = groups.requested(oracle, query_id="0x" + f"{k:064x}")
        signatures = groups.signed(oracle, request, list(range(oracle.threshold())))
        _, receipt = oracle.respond(groups.nodes[0], request, RESULT, signatures)
    assert receipt["gasUsed"] < budget
