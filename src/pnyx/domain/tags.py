"""Tag bits: a bytes32 bitmask of requirements a workerpool must offer (bit 0 = TEE)."""

from __future__ import annotations

from pnyx.domain._hex import to_bytes, to_hex32
from pnyx.errors import PnyxInputError
from pnyx.types import Bytes32

TAG_BITS: dict[str, int] = {"tee": 0, "scone": 1, "gramine": 2, "tdx": 3, "gpu": 8}


def tag_from_names(names: list[str] | tuple[str, ...]) -> Bytes32:
    """The tag with the named bits set (`tee`, `scone`, `gramine`, `tdx`, `gpu`)."""
    value = 0
    for name in names:
        key = name.strip().lower()
        if key not in TAG_BITS:
            known = ", ".join(sorted(TAG_BITS))
            raise PnyxInputError(f"unknown tag {name!r} (known: {known})")
        value |= 1 << TAG_BITS[key]
    return to_hex32(value)


def tag_to_int(tag: str | bytes) -> int:
    return int.from_bytes(to_bytes(tag, length=32), "big")


def is_tee(tag: str | bytes) -> bool:
    return bool(tag_to_int(tag) & 1)
