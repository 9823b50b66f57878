"""The scheduler's FastAPI application: the service, its engine thread, their shared database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from pnyx.api.app import create_app
from pnyx.chain.client import ChainClient
from pnyx.chain.deploy import Deployment
from pnyx.chain.protocol import Protocol
from pnyx.chain.signing import account_from_key
from pnyx.clients.results import ResultStoreClient
from pnyx.clients.sms import SmsClient
from pnyx.domain._hex import to_address
from pnyx.errors import ConfigError
from pnyx.services.scheduler.config import SchedulerSettings
from pnyx.services.scheduler.engine import Engine
from pnyx.services.scheduler.policies import make_policy
from pnyx.services.scheduler.router import router
from pnyx.services.scheduler.service import SchedulerService
from pnyx.store.db import Database
from pnyx.store.scheduler import SchedulerStore


def build_service(settings: SchedulerSettings) -> SchedulerService:
    protocol = Protocol(ChainClient(settings.chain_url), Deployment.load(settings.deployment_file))
    account = account_from_key(settings.private_key)
    owner = protocol.asset_owner(protocol.workerpools, settings.workerpool)
    if str(owner) != str(account.address):
        raise ConfigError(
            f"the scheduler key {account.address} does not own workerpool {settings.workerpool}"
        )
    return SchedulerService(
        settings=settings,
        store=SchedulerStore(Database(settings.database_url)),
        protocol=protocol,
        account=account,
        results=ResultStoreClient(settings.result_store_url),
        sms=SmsClient(settings.sms_url) if settings.sms_url else None,
        policy=make_policy(settings, protocol),
    )


def create_scheduler_app(settings: SchedulerSettings, *, run_engine: bool = True) -> FastAPI:
    settings = SchedulerSettings(
        **{**settings.__dict__, "workerpool": to_address(settings.workerpool)}
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = build_service(settings)
        engine = Engine(service)
        app.state.service, app.state.engine = service, engine
        if run_engine:
            engine.start()
        yield
        engine.stop()
        service.results.close()
        service.store.database.dispose()

    return create_app(
        title="Pnyx scheduler",
        description="A workerpool's scheduler: worker login and heartbeats, replicate assignment, "
        "task and replicate state machines, deadlines, finalize.",
        routers=[router],
        lifespan=lifespan,
    )
