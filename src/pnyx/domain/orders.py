"""The four market orders and their EIP-712 hashing, mirrored from
`contracts/src/libraries/Orders.sol`.

An order's digest `keccak256(0x1901 ‖ domainSeparator ‖ structHash)` is what its owner signs and
the key under which the hub tracks its consumption and presignature. The domain binds the chain id
and the hub address, so a signature cannot be replayed on another chain or another deployment."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from enum import IntEnum
from typing import Any, ClassVar, TypeVar

from eth_abi.abi import encode as abi_encode

from pnyx.domain._hex import keccak, to_address, to_bytes, to_hex32
from pnyx.types import ZERO_ADDRESS, ZERO_BYTES32, Address, Bytes32, OrderHash

DOMAIN_NAME = "Pnyx"
DOMAIN_VERSION = "1"
_DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"


class OrderOperation(IntEnum):
    """What an order operation does (Solidity `OrderOperation`, same order)."""

    SIGN = 0
    CLOSE = 1


@dataclass(frozen=True)
class Eip712Domain:
    """The signing domain of one hub deployment."""

    chain_id: int
    verifying_contract: Address
    name: str = DOMAIN_NAME
    version: str = DOMAIN_VERSION

    def separator(self) -> bytes:
        return keccak(
            abi_encode(
                ["bytes32", "bytes32", "bytes32", "uint256", "address"],
                [
                    keccak(_DOMAIN_TYPE.encode()),
                    keccak(self.name.encode()),
                    keccak(self.version.encode()),
                    self.chain_id,
                    self.verifying_contract,
                ],
            )
        )

    def as_typed_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }


@dataclass(frozen=True)
class Order:
    """Base of the four orders. Subclasses list their EIP-712 fields in `EIP712_FIELDS` as
    (Solidity name, Solidity type, Python attribute), in hash order."""

    EIP712_NAME: ClassVar[str]
    EIP712_FIELDS: ClassVar[tuple[tuple[str, str, str], ...]]

    @classmethod
    def type_string(cls) -> str:
        members = ",".join(f"{sol_type} {name}" for name, sol_type, _ in cls.EIP712_FIELDS)
        return f"{cls.EIP712_NAME}({members})"

    @classmethod
    def typehash(cls) -> bytes:
        return keccak(cls.type_string().encode())

    def struct_hash(self) -> bytes:
        types = ["bytes32"]
        values: list[Any] = [self.typehash()]
        for _, sol_type, attribute in self.EIP712_FIELDS:
            value = getattr(self, attribute)
            if sol_type == "string":
                types.append("bytes32")
                values.append(keccak(value.encode()))
            elif sol_type == "bytes32":
                types.append("bytes32")
                values.append(to_bytes(value, length=32))
            else:
                types.append(sol_type)
                values.append(value)
        return keccak(abi_encode(types, values))

    def digest(self, domain: Eip712Domain) -> OrderHash:
        """The EIP-712 typed-data hash: what is signed and what the hub keys the order by."""
        raw = keccak(b"\x19\x01" + domain.separator() + self.struct_hash())
        return OrderHash("0x" + raw.hex())

    def operation_digest(self, operation: OrderOperation, domain: Eip712Domain) -> bytes:
        """The digest an owner signs to presign or cancel this order through someone else."""
        op_type = f"{self.EIP712_NAME}Operation({self.EIP712_NAME} order,uint256 operation)"
        typehash = keccak((op_type + self.type_string()).encode())
        struct = keccak(
            abi_encode(
                ["bytes32", "bytes32", "uint256"], [typehash, self.struct_hash(), int(operation)]
            )
        )
        return keccak(b"\x19\x01" + domain.separator() + struct)

    def as_typed_data(self, domain: Eip712Domain) -> dict[str, Any]:
        """The full EIP-712 message, as wallets (`eth_signTypedData_v4`) take it."""
        message: dict[str, Any] = {}
        for name, sol_type, attribute in self.EIP712_FIELDS:
            value = getattr(self, attribute)
            message[name] = to_bytes(value, length=32) if sol_type == "bytes32" else value
        return {
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                self.EIP712_NAME: [{"name": n, "type": t} for n, t, _ in self.EIP712_FIELDS],
            },
            "primaryType": self.EIP712_NAME,
            "domain": domain.as_typed_data(),
            "message": message,
        }

    def as_abi(self) -> tuple[Any, ...]:
        """The order as the contract's ABI tuple (hash fields, then `sign`)."""
        values: list[Any] = []
        for _, sol_type, attribute in self.EIP712_FIELDS:
            value = getattr(self, attribute)
            values.append(to_bytes(value, length=32) if sol_type == "bytes32" else value)
        values.append(to_bytes(self.sign))
        return tuple(values)

    def as_json(self) -> dict[str, Any]:
        """A JSON-friendly dict with the Solidity field names (the market's wire format)."""
        out: dict[str, Any] = {
            name: getattr(self, attribute) for name, _, attribute in self.EIP712_FIELDS
        }
        out["sign"] = "0x" + to_bytes(self.sign).hex()
        return out

    @classmethod
    def from_json(cls: type[_O], data: dict[str, Any]) -> _O:
        kwargs: dict[str, Any] = {}
        for name, sol_type, attribute in cls.EIP712_FIELDS:
            value = data[name]
            if sol_type == "address":
                value = to_address(value)
            elif sol_type == "bytes32":
                value = to_hex32(value)
            elif sol_type == "uint256":
                value = int(value)
            kwargs[attribute] = value
        kwargs["sign"] = "0x" + to_bytes(data.get("sign", "0x")).hex()
        return cls(**kwargs)

    def with_sign(self: _O, sign: str | bytes) -> _O:
        return replace(self, sign="0x" + to_bytes(sign).hex())

    sign: str = field(default="0x", kw_only=True)


_O = TypeVar("_O", bound=Order)


@dataclass(frozen=True)
class AppOrder(Order):
    EIP712_NAME: ClassVar[str] = "AppOrder"
    EIP712_FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("app", "address", "app"),
        ("appPrice", "uint256", "app_price"),
        ("volume", "uint256", "volume"),
        ("tag", "bytes32", "tag"),
        ("datasetRestrict", "address", "dataset_restrict"),
        ("workerpoolRestrict", "address", "workerpool_restrict"),
        ("requesterRestrict", "address", "requester_restrict"),
        ("salt", "bytes32", "salt"),
    )

    app: Address
    app_price: int
    volume: int
    salt: Bytes32
    tag: Bytes32 = ZERO_BYTES32
    dataset_restrict: Address = ZERO_ADDRESS
    workerpool_restrict: Address = ZERO_ADDRESS
    requester_restrict: Address = ZERO_ADDRESS


@dataclass(frozen=True)
class DatasetOrder(Order):
    EIP712_NAME: ClassVar[str] = "DatasetOrder"
    EIP712_FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("dataset", "address", "dataset"),
        ("datasetPrice", "uint256", "dataset_price"),
        ("volume", "uint256", "volume"),
        ("tag", "bytes32", "tag"),
        ("appRestrict", "address", "app_restrict"),
        ("workerpoolRestrict", "address", "workerpool_restrict"),
        ("requesterRestrict", "address", "requester_restrict"),
        ("salt", "bytes32", "salt"),
    )

    dataset: Address
    dataset_price: int
    volume: int
    salt: Bytes32
    tag: Bytes32 = ZERO_BYTES32
    app_restrict: Address = ZERO_ADDRESS
    workerpool_restrict: Address = ZERO_ADDRESS
    requester_restrict: Address = ZERO_ADDRESS

    @classmethod
    def empty(cls) -> DatasetOrder:
        """The dataset order of a deal without a dataset."""
        return cls(dataset=ZERO_ADDRESS, dataset_price=0, volume=0, salt=ZERO_BYTES32)


@dataclass(frozen=True)
class WorkerpoolOrder(Order):
    EIP712_NAME: ClassVar[str] = "WorkerpoolOrder"
    EIP712_FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("workerpool", "address", "workerpool"),
        ("workerpoolPrice", "uint256", "workerpool_price"),
        ("volume", "uint256", "volume"),
        ("tag", "bytes32", "tag"),
        ("category", "uint256", "category"),
        ("trust", "uint256", "trust"),
        ("appRestrict", "address", "app_restrict"),
        ("datasetRestrict", "address", "dataset_restrict"),
        ("requesterRestrict", "address", "requester_restrict"),
        ("salt", "bytes32", "salt"),
    )

    workerpool: Address
    workerpool_price: int
    volume: int
    salt: Bytes32
    category: int = 0
    trust: int = 1
    tag: Bytes32 = ZERO_BYTES32
    app_restrict: Address = ZERO_ADDRESS
    dataset_restrict: Address = ZERO_ADDRESS
    requester_restrict: Address = ZERO_ADDRESS


@dataclass(frozen=True)
class RequestOrder(Order):
    EIP712_NAME: ClassVar[str] = "RequestOrder"
    EIP712_FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("app", "address", "app"),
        ("appMaxPrice", "uint256", "app_max_price"),
        ("dataset", "address", "dataset"),
        ("datasetMaxPrice", "uint256", "dataset_max_price"),
        ("workerpool", "address", "workerpool"),
        ("workerpoolMaxPrice", "uint256", "workerpool_max_price"),
        ("requester", "address", "requester"),
        ("volume", "uint256", "volume"),
        ("tag", "bytes32", "tag"),
        ("category", "uint256", "category"),
        ("trust", "uint256", "trust"),
        ("beneficiary", "address", "beneficiary"),
        ("callback", "address", "callback"),
        ("params", "string", "params"),
        ("salt", "bytes32", "salt"),
    )

    app: Address
    requester: Address
    volume: int
    salt: Bytes32
    app_max_price: int = 0
    dataset: Address = ZERO_ADDRESS
    dataset_max_price: int = 0
    workerpool: Address = ZERO_ADDRESS
    workerpool_max_price: int = 0
    tag: Bytes32 = ZERO_BYTES32
    category: int = 0
    trust: int = 1
    beneficiary: Address = ZERO_ADDRESS
    callback: Address = ZERO_ADDRESS
    params: str = ""


ORDER_TYPES: dict[str, type[Order]] = {
    cls.EIP712_NAME: cls for cls in (AppOrder, DatasetOrder, WorkerpoolOrder, RequestOrder)
}


def order_fields(order: Order) -> dict[str, Any]:
    """Python attribute → value, for display."""
    return {f.name: getattr(order, f.name) for f in fields(order)}
