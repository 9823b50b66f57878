"""Typed identifiers and amounts shared by every layer.

Ids and hashes are 0x-prefixed lowercase hex strings of 32 bytes; addresses are checksummed; token
amounts are integers in nano-tokens (the token has 9 decimals).
"""

from __future__ import annotations

from typing import NewType

Address = NewType("Address", str)
Bytes32 = NewType("Bytes32", str)
DealId = NewType("DealId", str)
TaskId = NewType("TaskId", str)
OrderHash = NewType("OrderHash", str)
NanoToken = NewType("NanoToken", int)

ZERO_ADDRESS = Address("0x0000000000000000000000000000000000000000")
ZERO_BYTES32 = Bytes32("0x" + "00" * 32)
TOKEN_DECIMALS = 9
NANO_PER_TOKEN = 10**TOKEN_DECIMALS
