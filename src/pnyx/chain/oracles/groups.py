"""DOS-style random groups on chain (`RandomGroupOracle`): staked nodes, requests served by a group
drawn from the block-hash beacon, results accepted with t-of-n member signatures, the fee paid to
the actual signers only. The draw itself is `pnyx.domain.groups`; `expected_group` replays it from
chain data so a node can learn its membership without trusting `groupOf`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3.types import TxReceipt

from pnyx.chain.binding import ContractBinding
from pnyx.chain.client import ChainClient
from pnyx.chain.signing import sign_eip191
from pnyx.domain._hex import to_address, to_bytes, to_hex32
from pnyx.domain.groups import (
    draw_group,
    group_seed,
    is_eligible,
    pack_signatures,
    request_id,
    response_message,
)
from pnyx.errors import ChainError
from pnyx.types import Address, Bytes32

CONTRACT = "RandomGroupOracle"


class RequestStatus(IntEnum):
    """`RandomGroupOracle.RequestStatus`, same names and order."""

    NONE = 0
    PENDING = 1
    ANSWERED = 2
    CANCELLED = 3


@dataclass(frozen=True)
class GroupRequest:
    """A request's record (`getRequest`)."""

    consumer: Address
    deadline: int
    status: RequestStatus
    drawn: bool
    result_length: int
    request_block: int
    pool_size: int


@dataclass(frozen=True)
class GroupNode:
    """A node's record (`getNode`)."""

    id: int
    staked: bool
    active: bool
    unlock_at: int
    earned: int


@dataclass(frozen=True)
class Registration:
    """One registry entry (`getRegistration`); `exit_block` is 0 while the node is registered."""

    node: Address
    exit_block: int


@dataclass(frozen=True)
class Acceptance:
    """What `ResultAccepted` announced."""

    request_id: Bytes32
    result_hash: Bytes32
    signers: int
    share: int
    seed: Bytes32


@dataclass
class RandomGroupOracle(ContractBinding):
    """One deployed `RandomGroupOracle`."""

    ARTIFACT = CONTRACT

    @classmethod
    def deploy(
        cls,
        client: ChainClient,
        deployer: LocalAccount,
        *,
        token: str,
        stake: int,
        fee: int,
        group_size: int,
        threshold: int,
        response_timeout_s: int,
        callback_gas: int = 200_000,
    ) -> RandomGroupOracle:
        return cls._deploy(
            client,
            deployer,
            token,
            stake,
            fee,
            group_size,
            threshold,
            response_timeout_s,
            callback_gas,
        )

    # ─── Parameters ───
    def group_size(self) -> int:
        return int(self.client.call(self.contract.functions.groupSize()))

    def threshold(self) -> int:
        return int(self.client.call(self.contract.functions.threshold()))

    def fee(self) -> int:
        return int(self.client.call(self.contract.functions.fee()))

    def stake_amount(self) -> int:
        return int(self.client.call(self.contract.functions.stakeAmount()))

    # ─── Nodes ───
    def register(self, node: LocalAccount) -> TxReceipt:
        return self.client.transact(node, self.contract.functions.register())

    def unregister(self, node: LocalAccount) -> TxReceipt:
        return self.client.transact(node, self.contract.functions.unregister())

    def withdraw_stake(self, node: LocalAccount) -> TxReceipt:
        return self.client.transact(node, self.contract.functions.withdrawStake())

    def withdraw_earnings(self, node: LocalAccount) -> TxReceipt:
        return self.client.transact(node, self.contract.functions.withdrawEarnings())

    def node(self, address: str) -> GroupNode:
        id_, staked, active, unlock_at, earned = self.client.call(
            self.contract.functions.getNode(address)
        )
        return GroupNode(int(id_), bool(staked), bool(active), int(unlock_at), int(earned))

    def registration(self, position: int) -> Registration:
        node, exit_block = self.client.call(self.contract.functions.getRegistration(position))
        return Registration(to_address(node), int(exit_block))

    def registry_size(self) -> int:
        return int(self.client.call(self.contract.functions.registrySize()))

    # ─── Requests ───
    def request_id(self, consumer: str, query_id: str | bytes) -> Bytes32:
        """Computed locally (`requestIdOf` on chain)."""
        return request_id(self.client.chain_id, self.address, consumer, query_id)

    def request(
        self, consumer: LocalAccount, query_id: str | bytes, query: bytes
    ) -> tuple[Bytes32, TxReceipt]:
        fn = self.contract.functions.request(to_bytes(query_id, length=32), query)
        receipt = self.client.transact(consumer, fn)
        event = self.client.events(self.contract, "QueryRequested", receipt)[0]
        return to_hex32(bytes(event["args"]["requestId"])), receipt

    def draw(self, sender: LocalAccount, request: str) -> tuple[list[Address], TxReceipt]:
        receipt = self.client.transact(
            sender, self.contract.functions.draw(to_bytes(request, length=32))
        )
        event = self.client.events(self.contract, "GroupDrawn", receipt)[0]
        return [to_address(m) for m in event["args"]["members"]], receipt

    def respond(
        self,
        sender: LocalAccount,
        request: str,
        result: bytes,
        signatures: bytes,
        *,
        gas: int | None = None,
    ) -> tuple[Acceptance, TxReceipt]:
        fn = self.contract.functions.respond(to_bytes(request, length=32), result, signatures)
        receipt = self.client.transact(sender, fn, gas=gas)
        args = self.client.events(self.contract, "ResultAccepted", receipt)[0]["args"]
        acceptance = Acceptance(
            request_id=to_hex32(bytes(args["requestId"])),
            result_hash=to_hex32(bytes(args["resultHash"])),
            signers=int(args["signers"]),
            share=int(args["share"]),
            seed=to_hex32(bytes(args["seed"])),
        )
        return acceptance, receipt

    def cancel(self, consumer: LocalAccount, request: str) -> TxReceipt:
        return self.client.transact(
            consumer, self.contract.functions.cancel(to_bytes(request, length=32))
        )

    def get_request(self, request: str) -> GroupRequest:
        consumer, deadline, status, drawn, result_length, request_block, pool_size = (
            self.client.call(self.contract.functions.getRequest(to_bytes(request, length=32)))
        )
        return GroupRequest(
            consumer=to_address(consumer),
            deadline=int(deadline),
            status=RequestStatus(int(status)),
            drawn=bool(drawn),
            result_length=int(result_length),
            request_block=int(request_block),
            pool_size=int(pool_size),
        )

    def result_for(self, request: str) -> bytes:
        return bytes(
            self.client.call(self.contract.functions.resultFor(to_bytes(request, length=32)))
        )

    # ─── Groups ───
    def group_of(self, request: str) -> list[Address]:
        """The group as the contract computes (or stored) it."""
        members = self.client.call(self.contract.functions.groupOf(to_bytes(request, length=32)))
        return [to_address(m) for m in members]

    def seed_of(self, request: str) -> bytes:
        return bytes(self.client.call(self.contract.functions.seedOf(to_bytes(request, length=32))))

    def expected_group(self, request: str) -> list[Address]:
        """The group replayed off chain from the seed block's hash and the registry (the node's
        own check of `groupOf`)."""
        record = self.get_request(request)
        seed_block = record.request_block + 1
        try:
            block_hash = HexBytes(self.client.w3.eth.get_block(seed_block)["hash"])
        except Exception as exc:  # noqa: BLE001 - web3 raises BlockNotFound or an RPC error
            raise ChainError(f"seed block {seed_block} is not available: {exc}") from exc
        seed = group_seed(bytes(block_hash), request)
        seen: dict[int, Registration] = {}  # only the positions the draw visits are read

        def eligible(position: int) -> bool:
            seen[position] = self.registration(position)
            return is_eligible(seen[position].exit_block, record.request_block)

        positions = draw_group(seed, record.pool_size, self.group_size(), eligible)
        return [seen[p].node for p in positions]

    # ─── Signatures ───
    def response_message(self, request: str, result: bytes) -> bytes:
        return response_message(self.client.chain_id, self.address, request, result)

    def sign_response(self, member: LocalAccount, request: str, result: bytes) -> bytes:
        """A member's 65-byte EIP-191 signature of `result` for `request`."""
        return sign_eip191(member, self.response_message(request, result))

    def signatures(
        self, request: str, result: bytes, signers: Iterable[tuple[int, LocalAccount]]
    ) -> bytes:
        """The packed list `respond` takes, from (member index, member account) pairs."""
        return pack_signatures(
            (index, self.sign_response(account, request, result)) for index, account in signers
        )
