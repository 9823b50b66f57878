"""Driving a running devnet marketplace from tests: buy a task, watch the scheduler, wait."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from pnyx.api.schemas.scheduler import TaskRead
from pnyx.chain.protocol import MatchedDeal
from pnyx.clients.market import MarketClient
from pnyx.clients.scheduler import SchedulerClient
from pnyx.devnet.marketplace import Marketplace
from pnyx.errors import PnyxError
from pnyx.sdk.run import RunRequest, buy

T = TypeVar("T")


def purchase(market: Marketplace, request: RunRequest) -> tuple[MatchedDeal, str]:
    client = MarketClient(market.urls["market"])
    try:
        matched = buy(market.devnet.protocol, client, market.requester, request)
    finally:
        client.close()
    return matched, matched.task_ids[0]


def scheduled(market: Marketplace, task_id: str) -> TaskRead | None:
    client = SchedulerClient(market.urls["scheduler"], timeout_s=5)
    try:
        return client.task(task_id)
    except PnyxError:
        return None
    finally:
        client.close()


def wait_for(
    what: str, probe: Callable[[], T | None], timeout_s: float = 60.0, every_s: float = 0.1
) -> T:
    """Polls `probe` until it returns something truthy; fails the test with `what` otherwise."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
