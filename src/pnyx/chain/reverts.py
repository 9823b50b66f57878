"""Decoding reverts into named Python exceptions.

A custom error's 4-byte selector is looked up once against every error of the protocol's ABIs; its
arguments are decoded with their Solidity names; the exception raised is the class of the same name
in `contract_errors` (a `ContractRevert`). `Error(string)` and `Panic(uint256)` get their own
classes."""

from __future__ import annotations

from functools import cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3.exceptions import ContractLogicError

from pnyx.chain.artifacts import all_error_abis, error_signature
from pnyx.chain.contract_errors import BY_NAME
from pnyx.errors import ContractRevert

_ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")
_PANIC_SELECTOR = bytes.fromhex("4e487b71")
PANIC_REASONS = {
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division by zero",
    0x21: "invalid enum value",
    0x32: "array index out of bounds",
    0x41: "out of memory",
}


class RevertMessage(ContractRevert):
    """Reverted with `Error(string)` (not used by Pnyx contracts; third-party tokens may)."""

    error_name = "Error"


class Panic(ContractRevert):
    """Reverted with `Panic(uint256)`: a failed assertion or an arithmetic error."""

    error_name = "Panic"


class UnknownRevert(ContractRevert):
    """Reverted with data that matches no known error (or with no data at all)."""

    error_name = "UnknownRevert"


@cache
def _errors_by_selector() -> dict[bytes, dict[str, Any]]:
    table: dict[bytes, dict[str, Any]] = {}
    for entry in all_error_abis():
        table[keccak(text=error_signature(entry))[:4]] = entry
    return table


def decode_revert(data: bytes) -> ContractRevert:
    """The exception for raw revert data."""
    selector, payload = data[:4], data[4:]
    if selector == _ERROR_STRING_SELECTOR:
        (message,) = abi_decode(["string"], payload)
        return RevertMessage({"message": message})
    if selector == _PANIC_SELECTOR:
        (code,) = abi_decode(["uint256"], payload)
        return Panic({"code": hex(code), "reason": PANIC_REASONS.get(code, "unknown")})
    entry = _errors_by_selector().get(selector)
    if entry is None:
        return UnknownRevert({"data": "0x" + data.hex()})
    inputs = entry.get("inputs", [])
    values = abi_decode(
        [error_signature({"name": "", "inputs": [i]})[1:-1] for i in inputs], payload
    )
    args = {
        param["name"] or f"arg{i}": _plain(param["type"], value)
        for i, (param, value) in enumerate(zip(inputs, values, strict=True))
    }
    cls = BY_NAME.get(entry["name"], ContractRevert)
    return cls(args, name=entry["name"])


def from_web3_error(error: ContractLogicError) -> ContractRevert:
    """Converts web3's revert exception (custom error, panic or message) into ours."""
    data = error.data
    if isinstance(data, str) and data.startswith("0x"):
        return decode_revert(bytes.fromhex(data[2:]))
    return UnknownRevert({"message": str(error.message or error)})


def _plain(sol_type: str, value: Any) -> Any:
    """Decoded values as users read them: 0x-hex for bytes32, checksummed addresses."""
    if sol_type == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value
