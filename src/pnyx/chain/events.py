"""Event-based programming over the chain: a resumable, reorg-aware log listener.

One implementation serves the scheduler, the market watcher, the oracle nodes and dApp listeners:

- events are read in block ranges from a cursor (the last block handled) to the head minus a
  confirmation depth, so a handler only ever sees blocks that are `confirmations` deep;
- the cursor is persisted through a `CursorStore` (a service's database), so after a restart the
  listener replays what it missed; delivery is at least once and handlers are idempotent;
- the hash of the cursor block is remembered: if the chain under it changed (a reorg deeper than the
  confirmation depth), the listener rewinds and delivers the range again;
- node restarts and timeouts only delay the next poll.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from hexbytes import HexBytes
from web3.contract import Contract
from web3.exceptions import BlockNotFound, Web3Exception

from pnyx.chain.client import ChainClient
from pnyx.errors import ChainError


@dataclass(frozen=True)
class ChainEvent:
    """A decoded log: bytes values as 0x-hex strings, addresses checksummed."""

    name: str
    args: dict[str, Any]
    block_number: int
    block_hash: str
    transaction_hash: str
    log_index: int
    address: str

    @property
    def position(self) -> tuple[int, int]:
        return (self.block_number, self.log_index)


class CursorStore(Protocol):
    """Where a listener keeps its progress: (block number, block hash) per listener key."""

    def load_cursor(self, key: str) -> tuple[int, str] | None: ...

    def save_cursor(self, key: str, block_number: int, block_hash: str) -> None: ...


@dataclass
class MemoryCursorStore:
    """A cursor store that forgets on restart (tests, one-shot tools)."""

    cursors: dict[str, tuple[int, str]] = field(default_factory=dict)

    def load_cursor(self, key: str) -> tuple[int, str] | None:
        return self.cursors.get(key)

    def save_cursor(self, key: str, block_number: int, block_hash: str) -> None:
        self.cursors[key] = (block_number, block_hash)


@dataclass
class Subscription:
    """One event of one contract, optionally filtered on indexed arguments."""

    contract: Contract
    event: str
    filters: dict[str, Any] = field(default_factory=dict)


class EventListener:
    """Polls subscriptions and hands new events, in chain order, to a handler."""

    def __init__(
        self,
        client: ChainClient,
        subscriptions: Iterable[Subscription],
        *,
        key: str,
        cursors: CursorStore,
        start_block: int = 0,
        confirmations: int = 0,
        max_range: int = 5_000,
    ) -> None:
        self.client = client
        self.subscriptions = list(subscriptions)
        self.key = key
        self.cursors = cursors
        self.start_block = start_block
        self.confirmations = confirmations
        self.max_range = max_range

    def poll(self, handle: Callable[[ChainEvent], None]) -> int:
        """Delivers every confirmed event since the cursor; returns how many were delivered.
        The cursor moves after each fully handled block range, so a handler failure replays it."""
        try:
            head = self.client.w3.eth.block_number - self.confirmations
            start = self._next_block()
        except (OSError, Web3Exception) as exc:
            raise ChainError(f"cannot read the chain head: {exc}") from exc
        delivered = 0
        while start <= head:
            end = min(head, start + self.max_range - 1)
            events = sorted(self._fetch(start, end), key=lambda e: e.position)
            for event in events:
                handle(event)
                delivered += 1
            block_hash = HexBytes(self.client.w3.eth.get_block(end)["hash"]).to_0x_hex()
            self.cursors.save_cursor(self.key, end, block_hash)
            start = end + 1
        return delivered

    def _next_block(self) -> int:
        saved = self.cursors.load_cursor(self.key)
        if saved is None:
            return self.start_block
        number, block_hash = saved
        try:
            current = HexBytes(self.client.w3.eth.get_block(number)["hash"]).to_0x_hex()
        except BlockNotFound:
            current = ""  # the chain under the cursor was replaced by a shorter one: a reorg
        if current != block_hash:
            # The block we stopped at is no longer canonical: replay from well before it.
            return max(self.start_block, number - 2 * max(self.confirmations, 1) - 1)
        return number + 1

    def _fetch(self, start: int, end: int) -> list[ChainEvent]:
        found: list[ChainEvent] = []
        for sub in self.subscriptions:
            event = sub.contract.events[sub.event]()
            try:
                logs = event.get_logs(
                    from_block=start, to_block=end, argument_filters=sub.filters or None
                )
            except (OSError, Web3Exception) as exc:
                raise ChainError(f"cannot read {sub.event} logs {start}..{end}: {exc}") from exc
            found.extend(_decode(sub.event, log) for log in logs)
        return found


def _decode(name: str, log: Any) -> ChainEvent:
    return ChainEvent(
        name=name,
        args={key: _plain(value) for key, value in dict(log["args"]).items()},
        block_number=int(log["blockNumber"]),
        block_hash=HexBytes(log["blockHash"]).to_0x_hex(),
        transaction_hash=HexBytes(log["transactionHash"]).to_0x_hex(),
        log_index=int(log["logIndex"]),
        address=str(log["address"]),
    )


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    return value
