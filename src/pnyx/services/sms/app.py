"""The SMS's FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from pnyx.api.app import create_app
from pnyx.chain.client import ChainClient
from pnyx.chain.deploy import Deployment
from pnyx.chain.protocol import Protocol
from pnyx.domain.attestation import CertifiedPlatformAttestor
from pnyx.services.sms.config import SmsSettings
from pnyx.services.sms.router import router
from pnyx.services.sms.service import SmsService
from pnyx.services.sms.vault import Vault
from pnyx.store.db import Database
from pnyx.store.sms import SmsStore

DESCRIPTION = """The Secret Management Service of Pnyx (iExec's SMS) for TEE tasks.

Owners push secrets, each push signed by the owner: dataset keys (the dataset's on-chain owner),
app developer secrets (the app's owner), named requester secrets and result encryption keys (the
address itself). Secrets are encrypted at rest under the SMS's master key. A TEE task's scheduler
asks for the task's enclave challenge (a per-task key). Secrets leave only in an enclave session:
sealed to an enclave whose quote verifies, whose measurement is the app's, running an ACTIVE TEE
task with a workerpool authorization for that challenge."""


def create_sms_app(settings: SmsSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.database)
        protocol = Protocol(
            ChainClient(settings.chain_url), Deployment.load(settings.deployment_file)
        )
        app.state.sms = SmsService(
            protocol=protocol,
            store=SmsStore(database),
            vault=Vault.open(settings.master_key_file),
            attestor=CertifiedPlatformAttestor(settings.trusted_issuers),
            nonce_ttl_s=settings.nonce_ttl_s,
        )
        yield
        database.dispose()

    return create_app(
        title="Pnyx SMS", description=DESCRIPTION, routers=[router], lifespan=lifespan
    )
