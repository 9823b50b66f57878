"""Conversions between 0x-hex strings and bytes, shared by the domain modules."""

from __future__ import annotations

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak as _keccak

from pnyx.errors import PnyxInputError
from pnyx.types import Address, Bytes32


def to_bytes(value: str | bytes, *, length: int | None = None) -> bytes:
    """Bytes of a 0x-hex string (or bytes unchanged), optionally of an exact length."""
    if isinstance(value, bytes):
        raw = value
    else:
        text = value[2:] if value.startswith(("0x", "0X")) else value
        try:
            raw = bytes.fromhex(text)
        except ValueError as exc:
            raise PnyxInputError(f"not hexadecimal: {value!r}") from exc
    if length is not None and len(raw) != length:
        raise PnyxInputError(f"expected {length} bytes, got {len(raw)}: {value!r}")
    return raw


def to_hex32(value: str | bytes | int) -> Bytes32:
    """A 32-byte value as 0x-hex (ints are big-endian, left-padded)."""
    raw = value.to_bytes(32, "big") if isinstance(value, int) else to_bytes(value, length=32)
    return Bytes32("0x" + raw.hex())


def to_address(value: str | bytes) -> Address:
    """A checksummed address; raises PnyxInputError on anything else."""
    raw = to_bytes(value, length=20)
    return Address(to_checksum_address(raw))


def keccak(data: bytes) -> bytes:
    return bytes(_keccak(data))
