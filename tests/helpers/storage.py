"""Test-only writes into the hub's storage (anvil_setStorageAt), for states that would take many
transactions to reach, such as workers with arbitrary scores."""

from __future__ import annotations

from eth_utils.crypto import keccak

from pnyx.chain.protocol import Protocol

ACCOUNTS_SLOT = (
    3  # HubStorage._accounts (checked by contracts/build.js layout dump and this module's test)
)


def account_slot(account: str) -> int:
    key = bytes(12) + bytes.fromhex(account[2:]) + ACCOUNTS_SLOT.to_bytes(32, "big")
    return int.from_bytes(keccak(key), "big")


def set_score(protocol: Protocol, account: str, score: int) -> None:
    """Sets a worker's score, keeping its free and locked balances."""
    view = protocol.account(account)
    packed = view.free | (view.locked << 112) | (score << 224)
    protocol.client.w3.provider.make_request(  # type: ignore[arg-type]
        "anvil_setStorageAt",
        [
            protocol.deployment.hub,
            hex(account_slot(account)),
            "0x" + packed.to_bytes(32, "big").hex(),
        ],
    )
