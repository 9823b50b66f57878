"""The result store's FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from pnyx.api.app import create_app
from pnyx.chain.client import ChainClient
from pnyx.chain.deploy import Deployment
from pnyx.chain.protocol import Protocol
from pnyx.clients.sms import SmsClient
from pnyx.services.results.config import ResultsSettings
from pnyx.services.results.router import router
from pnyx.services.results.service import ResultStore
from pnyx.store.db import Database
from pnyx.store.results import ResultIndex


def create_results_app(settings: ResultsSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.database_url)
        protocol = Protocol(
            ChainClient(settings.chain_url), Deployment.load(settings.deployment_file)
        )
        app.state.store = ResultStore(
            protocol=protocol,
            index=ResultIndex(database),
            storage_dir=settings.storage_dir,
            public_url=settings.public_url,
            max_upload_bytes=settings.max_upload_bytes,
            sms=SmsClient(settings.sms_url) if settings.sms_url else None,
        )
        yield
        database.dispose()

    return create_app(
        title="Pnyx result store",
        description="Content-addressed result archives, accepted only if they match the consensus.",
        routers=[router],
        lifespan=lifespan,
    )
