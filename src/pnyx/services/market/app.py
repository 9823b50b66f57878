"""The market's app factory: the router, plus a lifespan that connects to the chain, opens the
database and runs the chain watcher for as long as the app serves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio.to_thread
from fastapi import FastAPI

from pnyx.api.app import create_app
from pnyx.chain.client import ChainClient
from pnyx.chain.deploy import Deployment
from pnyx.chain.protocol import Protocol
from pnyx.services.market.config import MarketSettings
from pnyx.services.market.router import router
from pnyx.services.market.service import Market, MarketChain
from pnyx.services.market.watcher import MarketWatcher
from pnyx.store.db import Database
from pnyx.store.market import MarketStore

DESCRIPTION = """The off-chain order book of Pnyx (iExec's market API).

Providers and requesters publish EIP-712-signed app, dataset, workerpool and request orders;
anyone lists them, cheapest first, with filters, and matches them on chain. An order is accepted
only if the hub would accept it now (current owner's signature or presignature, volume left,
enough escrow balance), and a chain watcher keeps its status (`open`, `filled`, `canceled`,
`dead`) and remaining volume in step with the chain."""


@dataclass
class MarketRuntime:
    """What the lifespan opens and must close."""

    market: Market
    watcher: MarketWatcher
    db: Database

    def close(self) -> None:
        self.watcher.stop()
        self.db.dispose()


def start_market(settings: MarketSettings) -> MarketRuntime:
    """Connects, opens the database and starts the watcher (blocking; run it off the loop)."""
    deployment = Deployment.load(settings.deployment_file)
    db = Database(settings.database_url)
    store = MarketStore(db).create()
    market = Market(
        chain=MarketChain(Protocol(ChainClient(settings.chain_url), deployment)),
        store=store,
        max_open_orders_per_owner=settings.max_open_orders_per_owner,
    )
    # The watcher gets a connection of its own, so its thread never shares an HTTP session with
    # the request handlers.
    watcher_protocol = Protocol(ChainClient(settings.chain_url), deployment)
    watcher = MarketWatcher(
        market=Market(
            chain=MarketChain(watcher_protocol),
            store=store,
            max_open_orders_per_owner=settings.max_open_orders_per_owner,
        ),
        protocol=watcher_protocol,
        confirmations=settings.confirmations,
        poll_interval_s=settings.poll_interval_s,
    )
    watcher.start()
    return MarketRuntime(market=market, watcher=watcher, db=db)


def create_market_app(settings: MarketSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await anyio.to_thread.run_sync(start_market, settings)
        app.state.market = runtime.market
        app.state.watcher = runtime.watcher
        try:
            yield
        finally:
            app.state.market = None
            await anyio.to_thread.run_sync(runtime.close)

    return create_app(
        title="Pnyx market", description=DESCRIPTION, routers=[router], lifespan=lifespan
    )
