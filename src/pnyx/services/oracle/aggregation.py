"""An on-chain aggregation node: polls its source and submits to the `Aggregator` (Chainlink
FluxAggregator style). It starts a round when one is due (heartbeat or deviation, from the feed's
on-chain configuration), joins any open round it has not submitted to, and never submits twice to a
round: the chain's `nodeOf(me).lastRound` says where it stands, so a restart changes nothing."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from eth_account.signers.local import LocalAccount

from pnyx.api.schemas.oracle import NodeRead
from pnyx.chain.oracles.feeds import AggregatorFeed
from pnyx.domain.reporting import AggregatorRound, is_update_due, round_to_submit
from pnyx.errors import ContractRevert
from pnyx.services.oracle.config import Mechanism
from pnyx.services.oracle.onchain import FeedWatcher

log = logging.getLogger("pnyx.oracle")


class AggregationNode:
    mechanism = Mechanism.AGGREGATION

    def __init__(
        self,
        *,
        feed: AggregatorFeed,
        account: LocalAccount,
        source: Callable[[], int],
        index: int | None = None,
    ) -> None:
        self.feed = feed
        self.account = account
        self.source = source
        self.expected_index = index
        self.watcher = FeedWatcher(feed)
        self._round: AggregatorRound | None = None
        self._node: dict[str, Any] | None = None
        self._warned_disabled = False

    def step(self) -> None:
        # The chain first, then the source: a value read after the round state is never older
        # than the round it is submitted to.
        if self._round is None or self._node is None:
            self.watcher.invalidate()
        state, _ = self.watcher.refresh(also=self._read_round)
        current, node = self._round, self._node
        assert current is not None and node is not None  # read by the refresh
        if not node["enabled"]:
            if not self._warned_disabled:
                log.warning("%s is not a node of feed %s", self.account.address, self.feed.address)
                self._warned_disabled = True
            return
        self._warned_disabled = False
        if self.expected_index is not None and node["index"] != self.expected_index:
            log.warning(
                "configured as node %d, but the feed has this key at index %d",
                self.expected_index,
                node["index"],
            )
        value = self.source()
        now = time.time()
        latest = state.latest
        due = is_update_due(
            value,
            answer=latest.answer,
            updated_at=latest.updated_at,
            now=now,
            heartbeat_s=state.config.heartbeat_s,
            deviation_bps=state.config.deviation_bps,
        )
        target = round_to_submit(current, last_submitted=node["last_round"], due=due, now=now)
        if target is None:
            return
        try:
            self.feed.submit(self.account, target, value)
        except ContractRevert as exc:
            # Raced by another node, or the round moved on: read the chain again next step.
            log.info("round %d: submission of %d refused: %s", target, value, exc)
            self.watcher.invalidate()
            return
        log.info("round %d: submitted %d", target, value)

    def _read_round(self) -> None:
        self._round = self.feed.round_state()
        self._node = self.feed.node(self.account.address)

    def status(self) -> NodeRead:
        state = self.watcher.state
        return NodeRead(
            mechanism=self.mechanism.value,
            address=self.account.address,
            feed=self.feed.address,
            index=self._node["index"] if self._node and self._node["enabled"] else None,
            latest_round=state.latest.round_id if state else 0,
            latest_answer=state.latest.answer if state else 0,
        )

    def close(self) -> None:
        pass
