"""TEE builders shared by the SMS tests: a simulated attestation service and the certified platform
it vouches for, an enclave quoting on it, a TEE app registered with the enclave's measurement, and
matched or initialized TEE deals of that app."""

from __future__ import annotations

from dataclasses import dataclass, field

from httpx import Response

from pnyx.api.schemas.sms import SessionSecrets
from pnyx.chain.protocol import MatchedDeal
from pnyx.domain.attestation import (
    Quote,
    SimulatedAttestationService,
    SimulatedPlatform,
    measure,
    session_report_data,
)
from pnyx.domain.crypto import new_box_keypair
from pnyx.types import ZERO_ADDRESS, Address
from tests.helpers.world import APP_PRICE, DATASET_PRICE, PARAMS, WORKERPOOL_PRICE, World

ATTESTATION = SimulatedAttestationService()
PLATFORM = SimulatedPlatform.new(ATTESTATION, "sms-test-platform")
APP_BYTES = b"\0asm the TEE app's artifact"
MEASUREMENT = measure(APP_BYTES)
DATASET_KEY = bytes.fromhex("5e" * 32)


@dataclass
class Enclave:
    """A simulated enclave: its X25519 key, and the platform that quotes for it."""

    platform: SimulatedPlatform = PLATFORM
    measurement: bytes = MEASUREMENT
    keys: tuple[bytes, bytes] = field(default_factory=new_box_keypair)

    @property
    def public(self) -> bytes:
        return self.keys[1]

    def quote(self, nonce: bytes, task: str, worker: str) -> Quote:
        report = session_report_data(nonce, task, worker, self.public)
        return self.platform.quote(self.measurement, self.public, report)

    def unseal(self, response: Response) -> SessionSecrets:
        assert response.status_code == 200, response.text
        return SessionSecrets.unseal(self.keys[0], bytes.fromhex(response.json()["sealed"][2:]))


def register_tee_app(world: World) -> Address:
    return world.app_provider.register_app(
        "tee-app", "file:///apps/tee.wasm", "0x" + "33" * 32, mrenclave=MEASUREMENT
    )


def matched_tee_deal(world: World, app: Address, *, dataset: bool = True) -> MatchedDeal:
    """A matched TEE deal of the TEE app, with the world's dataset unless told otherwise."""
    app_order = world.app_provider.app_order(app, APP_PRICE, tags=("tee",))
    pool_order = world.scheduler_provider.workerpool_order(
        world.workerpool, WORKERPOOL_PRICE, tags=("tee",)
    )
    request = world.requester.request_order(
        app,
        app_max_price=APP_PRICE,
        dataset=world.dataset if dataset else ZERO_ADDRESS,
        dataset_max_price=DATASET_PRICE if dataset else 0,
        workerpool_max_price=WORKERPOOL_PRICE,
        params=PARAMS,
    )
    dataset_order = world.dataset_order() if dataset else None
    matched, _ = world.protocol.match_orders(
        world.requester.account, app_order, dataset_order, pool_order, request
    )
    assert matched.deal.is_tee
    return matched


def initialized_tee_task(
    world: World, app: Address, *, dataset: bool = True
) -> tuple[MatchedDeal, str]:
    """An initialized TEE task."""
    matched = matched_tee_deal(world, app, dataset=dataset)
    return matched, world.scheduler.initialize(matched.deal_id, matched.deal.bot_first)
