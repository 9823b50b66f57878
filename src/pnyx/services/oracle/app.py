"""The oracle node's FastAPI application: its node (aggregation or reporting) and the loop that
drives it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from pnyx.api.app import create_app
from pnyx.chain.client import ChainClient
from pnyx.chain.oracles.feeds import AggregatorFeed, ReportingFeed
from pnyx.chain.signing import account_from_key
from pnyx.clients.oracle import DataSourceClient, OracleNodeClient
from pnyx.errors import ConfigError, PnyxError
from pnyx.services.oracle.aggregation import AggregationNode
from pnyx.services.oracle.config import Mechanism, OracleSettings
from pnyx.services.oracle.loop import NodeLoop
from pnyx.services.oracle.reporting import ReportingNode, state_path
from pnyx.services.oracle.router import node_router, reporting_router
from pnyx.services.oracle.signing_log import SigningLog

log = logging.getLogger("pnyx.oracle")
Source = Callable[[], int]


def build_node(
    settings: OracleSettings, source: Source | None = None
) -> AggregationNode | ReportingNode:
    """The node `settings` describe; `source` replaces `settings.source_url` (tests)."""
    if source is None:
        if not settings.source_url:
            raise ConfigError("an oracle node needs a data source (PNYX_ORACLE_SOURCE_URL)")
        source = DataSourceClient(settings.source_url, timeout_s=settings.request_timeout_s).value
    client = ChainClient(settings.chain_url)
    account = account_from_key(settings.private_key)
    if settings.mechanism is Mechanism.AGGREGATION:
        return AggregationNode(
            feed=AggregatorFeed.at(client, settings.feed),
            account=account,
            source=source,
            index=settings.index,
        )
    feed = ReportingFeed.at(client, settings.feed)
    return ReportingNode(
        feed=feed,
        account=account,
        source=source,
        peers=[
            OracleNodeClient(url, timeout_s=settings.request_timeout_s) for url in settings.peers
        ],
        signing_log=SigningLog(state_path(settings.state_dir, feed.address, account.address)),
        round_timeout_s=settings.round_timeout_s,
        request_timeout_s=settings.request_timeout_s,
        tolerance_bps=settings.tolerance_bps,
        index=settings.index,
        start_block=settings.start_block,
    )


def create_oracle_app(
    settings: OracleSettings, *, source: Source | None = None, run_loop: bool = True
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        node = build_node(settings, source)
        if isinstance(node, ReportingNode):
            try:  # know the configuration before the first leader asks
                node.sync()
            except PnyxError as exc:
                log.warning("cannot read the feed yet: %s", exc)
        app.state.node = node
        loop = NodeLoop(
            node.step, interval_s=settings.poll_interval_s, name=f"oracle-{settings.mechanism}"
        )
        if run_loop:
            loop.start()
        yield
        loop.stop()
        node.close()

    routers: list[APIRouter] = [node_router]
    if settings.mechanism is Mechanism.REPORTING:
        routers.append(reporting_router)
    return create_app(
        title=f"Pnyx oracle node ({settings.mechanism})",
        description="A numeric feed's node: on-chain aggregation submissions, or off-chain "
        "reporting (signed observations, report signatures, transmission by the round's leader).",
        routers=routers,
        lifespan=lifespan,
    )
