"""A node's view of its feed contract: the latest answer and the feed's configuration, re-read once
per new block, and (off-chain reporting) the node configuration, followed through its `ConfigSet`
events so a reconfiguration is picked up without a restart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pnyx.chain.events import ChainEvent, EventListener, MemoryCursorStore, Subscription
from pnyx.chain.oracles.feeds import AggregatorFeed, FeedRead, ReportingConfig, ReportingFeed
from pnyx.domain._hex import to_address, to_bytes
from pnyx.domain.feeds import FeedConfig
from pnyx.errors import ChainError

Feed = AggregatorFeed | ReportingFeed


@dataclass(frozen=True)
class FeedState:
    """What a node reads of its feed, as of one block."""

    block: int
    latest: FeedRead
    config: FeedConfig


class FeedWatcher:
    """Re-reads the feed only when a new block arrived: nothing on chain changes between blocks.

    The reads of one refresh are of one block: if a block arrives while they run (a round closing
    under a node that is deciding whether to start the next one), they are made again."""

    READ_ATTEMPTS = 3

    def __init__(self, feed: Feed) -> None:
        self.feed = feed
        self.state: FeedState | None = None

    def refresh(self, also: Callable[[], None] | None = None) -> tuple[FeedState, bool]:
        """The feed's state and whether it was read anew (a new block, or after `invalidate`);
        `also` makes the caller's own reads of the same block."""
        head = self.feed.client.block_number()
        if self.state is not None and self.state.block == head:
            return self.state, False
        for _ in range(self.READ_ATTEMPTS):
            latest, config = self.feed.latest(), self.feed.feed_config()
            if also is not None:
                also()
            after = self.feed.client.block_number()
            if after == head:
                self.state = FeedState(head, latest, config)
                return self.state, True
            head = after
        self.state = None
        raise ChainError(f"the chain moved during {self.READ_ATTEMPTS} reads of the feed")

    def invalidate(self) -> None:
        self.state = None


@dataclass(frozen=True)
class ActiveConfig:
    """The off-chain reporting configuration in force, and its digest."""

    digest: bytes
    config: ReportingConfig

    def index_of(self, address: str) -> int | None:
        try:
            return self.config.nodes.index(to_address(address))
        except ValueError:
            return None


class ConfigFollower:
    """Follows `ConfigSet` of a reporting feed; `current` is the latest configuration seen."""

    def __init__(self, feed: ReportingFeed, *, start_block: int = 0) -> None:
        self.listener = EventListener(
            feed.client,
            [Subscription(feed.contract, "ConfigSet")],
            key="config",
            cursors=MemoryCursorStore(),
            start_block=start_block,
        )
        self.current: ActiveConfig | None = None

    def poll(self) -> ActiveConfig | None:
        self.listener.poll(self._on_config)
        return self.current

    def _on_config(self, event: ChainEvent) -> None:
        args = event.args
        self.current = ActiveConfig(
            digest=to_bytes(args["configDigest"], length=32),
            config=ReportingConfig(
                count=int(args["configCount"]),
                f=int(args["f"]),
                threshold=int(args["threshold"]),
                nodes=tuple(to_address(node) for node in args["nodes"]),
            ),
        )
