"""The deal record fixed at match time, and its on-chain commitment.

The hub stores only `keccak256(abi.encode(deal))` per deal; the record is emitted in `DealCreated`
and passed back in calldata by initialize, contribute, finalize, reopen and claim. Field order here
is the Solidity struct's (`contracts/src/libraries/Types.sol`)."""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from typing import Any

from eth_abi.abi import encode as abi_encode

from pnyx.domain._hex import keccak, to_address, to_bytes, to_hex32
from pnyx.domain.tags import is_tee
from pnyx.domain.task import task_id
from pnyx.types import Address, Bytes32, DealId, TaskId

CONTRIBUTION_DEADLINE_RATIO = 7
REVEAL_DEADLINE_RATIO = 2
FINAL_DEADLINE_RATIO = 10
WORKERPOOL_STAKE_RATIO = 30

_ABI_TYPES: dict[str, str] = {
    "app": "address",
    "app_owner": "address",
    "app_price": "uint256",
    "dataset": "address",
    "dataset_owner": "address",
    "dataset_price": "uint256",
    "workerpool": "address",
    "workerpool_owner": "address",
    "workerpool_price": "uint256",
    "requester": "address",
    "beneficiary": "address",
    "callback": "address",
    "category": "uint256",
    "trust": "uint256",
    "tag": "bytes32",
    "params_hash": "bytes32",
    "seed": "bytes32",
    "start_time": "uint256",
    "time_ref": "uint256",
    "bot_first": "uint256",
    "bot_size": "uint256",
    "worker_stake": "uint256",
    "scheduler_reward_ratio": "uint256",
}


@dataclass(frozen=True)
class Deal:
    app: Address
    app_owner: Address
    app_price: int
    dataset: Address
    dataset_owner: Address
    dataset_price: int
    workerpool: Address
    workerpool_owner: Address
    workerpool_price: int
    requester: Address
    beneficiary: Address
    callback: Address
    category: int
    trust: int
    tag: Bytes32
    params_hash: Bytes32
    seed: Bytes32
    start_time: int
    time_ref: int
    bot_first: int
    bot_size: int
    worker_stake: int
    scheduler_reward_ratio: int

    # ─── Derived values ───
    @property
    def task_price(self) -> int:
        return self.app_price + self.dataset_price + self.workerpool_price

    @property
    def scheduler_stake(self) -> int:
        return self.workerpool_price * WORKERPOOL_STAKE_RATIO // 100

    @property
    def contribution_deadline(self) -> int:
        return self.start_time + CONTRIBUTION_DEADLINE_RATIO * self.time_ref

    @property
    def final_deadline(self) -> int:
        return self.start_time + FINAL_DEADLINE_RATIO * self.time_ref

    @property
    def is_tee(self) -> bool:
        return is_tee(self.tag)

    def task_ids(self, deal_id: DealId) -> list[TaskId]:
        return [
            task_id(deal_id, idx) for idx in range(self.bot_first, self.bot_first + self.bot_size)
        ]

    # ─── Encoding ───
    def as_abi(self) -> tuple[Any, ...]:
        return tuple(
            to_bytes(value, length=32) if _ABI_TYPES[f.name] == "bytes32" else value
            for f, value in zip(fields(self), astuple(self), strict=True)
        )

    def commitment(self) -> Bytes32:
        """What `matchOrders` stores for this deal: keccak256(abi.encode(deal))."""
        encoded = abi_encode([_ABI_TYPES[f.name] for f in fields(self)], list(self.as_abi()))
        return Bytes32("0x" + keccak(encoded).hex())

    @classmethod
    def from_abi(cls, values: tuple[Any, ...] | list[Any] | dict[str, Any]) -> Deal:
        """From the decoded ABI struct: a tuple in field order or a dict with Solidity names."""
        if isinstance(values, dict):
            values = [values[_solidity_name(f.name)] for f in fields(cls)]
        kwargs: dict[str, Any] = {}
        for f, value in zip(fields(cls), values, strict=True):
            sol_type = _ABI_TYPES[f.name]
            if sol_type == "address":
                kwargs[f.name] = to_address(value)
            elif sol_type == "bytes32":
                kwargs[f.name] = to_hex32(value)
            else:
                kwargs[f.name] = int(value)
        return cls(**kwargs)

    def as_json(self) -> dict[str, Any]:
        return {_solidity_name(f.name): getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deal:
        return cls.from_abi(data)


def _solidity_name(attribute: str) -> str:
    head, *rest = attribute.split("_")
    return head + "".join(part.capitalize() for part in rest)
