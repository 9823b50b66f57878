"""Shared fixtures: one anvil and one deployed protocol per test session, and an evm snapshot around
every test that touches the chain, so each test starts from the same state (STYLE.md example 12)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from pnyx.chain.client import ChainClient
from pnyx.chain.node import AnvilNode
from tests.helpers.world import WORKER_COUNT, World, build_world

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
settings.register_profile("dev", deadline=None, max_examples=20)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilNode]:
    with AnvilNode(accounts=6 + WORKER_COUNT) as node:
        yield node


@pytest.fixture(scope="session")
def chain(anvil: AnvilNode) -> ChainClient:
    return ChainClient(anvil.url)


@pytest.fixture(scope="session")
def session_world(chain: ChainClient) -> World:
    return build_world(chain)


@pytest.fixture
def world(session_world: World) -> Iterator[World]:
    """The deployed world, reverted to its initial state after the test."""
    snapshot = session_world.client.snapshot()
    try:
        yield session_world
    finally:
        session_world.client.revert(snapshot)
