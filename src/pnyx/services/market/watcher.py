"""The market's chain watcher: keeps the stored orders in step with the chain.

It listens (through the shared resumable `EventListener`, its cursor in the market's database) to
the hub's `OrdersMatched` and `OrderClosed`, the escrow's balance events and the three registries'
ERC-721 `Transfer`, and hands each to `service.apply_event`. It polls in a background thread the
app's lifespan starts and stops; a failed poll is logged and retried, and since the cursor only
moves past fully handled blocks, nothing is lost."""

from __future__ import annotations

import logging
import threading

from pnyx.chain.events import EventListener, Subscription
from pnyx.chain.protocol import Protocol
from pnyx.services.market.service import ESCROW_EVENTS, Market, apply_event

logger = logging.getLogger(__name__)

CURSOR_KEY = "market"
HUB_EVENTS = ("OrdersMatched", "OrderClosed", *ESCROW_EVENTS)


class MarketWatcher:
    """Polls the chain for the events that change orders; one poll at a time."""

    def __init__(
        self,
        *,
        market: Market,
        protocol: Protocol,
        confirmations: int = 0,
        poll_interval_s: float = 0.5,
    ) -> None:
        self.market = market
        self.poll_interval_s = poll_interval_s
        subscriptions = [Subscription(protocol.hub, name) for name in HUB_EVENTS] + [
            Subscription(registry, "Transfer")
            for registry in (protocol.apps, protocol.datasets, protocol.workerpools)
        ]
        # A fresh market starts at the head: orders are validated against the current state when
        # published, so older events cannot concern them. A restarted one resumes at its cursor.
        start = 0 if market.store.load_cursor(CURSOR_KEY) else market.chain.head()
        self.listener = EventListener(
            protocol.client,
            subscriptions,
            key=CURSOR_KEY,
            cursors=market.store,
            start_block=start,
            confirmations=confirmations,
        )
        self.delivered = 0
        self._poll_lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> int:
        """Handles every confirmed event since the cursor; returns how many. Safe to call from
        tests while the thread runs: polls never overlap."""
        with self._poll_lock:
            checked_accounts: set[str] = set()
            count = self.listener.poll(
                lambda event: apply_event(
                    market=self.market, event=event, checked_accounts=checked_accounts
                )
            )
            self.delivered += count
            return count

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="market-watcher", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Asks the thread to stop and waits for the poll in progress to finish."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                logger.warning("market watcher did not stop within %.0f s", timeout_s)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll()
            except Exception:  # a poll must never kill the thread: log, wait, retry
                logger.exception(
                    "market watcher poll failed; retrying in %.1f s", self.poll_interval_s
                )
            self._stopping.wait(self.poll_interval_s)
