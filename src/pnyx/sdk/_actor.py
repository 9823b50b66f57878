"""What every actor has: the protocol it acts on and its key."""

from __future__ import annotations

import os

from eth_account.signers.local import LocalAccount

from pnyx.chain.protocol import Protocol
from pnyx.domain._hex import to_hex32
from pnyx.types import Address, Bytes32


class Actor:
    def __init__(self, protocol: Protocol, account: LocalAccount) -> None:
        self.protocol = protocol
        self.account = account

    @property
    def address(self) -> Address:
        return Address(self.account.address)


def new_salt() -> Bytes32:
    """A random order salt: two otherwise identical orders get different hashes."""
    return to_hex32(os.urandom(32))
