"""The committed artifacts are what the sources compile to, the generated error classes are up
to date, the build is warning-free (build.js fails on any warning), and no deployed contract
exceeds the 24 KiB code-size limit (EIP-170)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pnyx.chain.artifacts import PRODUCT_CONTRACTS, load_artifact
from pnyx.config import CONTRACTS_DIR
from tests.helpers.world import World

pytestmark = pytest.mark.integration

EIP170_LIMIT = 24_576


@pytest.mark.slow
def test_artifacts_are_what_the_sources_compile_to() -> None:
    result = subprocess.run(
        ["node", "build.js", "--check"],
        cwd=CONTRACTS_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr


def test_generated_error_classes_are_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pnyx.chain.codegen", "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", PRODUCT_CONTRACTS)
def test_artifact_fits_the_code_size_limit(name: str) -> None:
    assert 0 < load_artifact(name).runtime_size <= EIP170_LIMIT


def test_deployed_contracts_fit_the_code_size_limit(session_world: World) -> None:
    deployment = session_world.deployment
    addresses = [
        deployment.token,
        deployment.app_registry,
        deployment.dataset_registry,
        deployment.workerpool_registry,
        deployment.hub,
        deployment.hub_extension,
    ]
    for address in addresses:
        code = session_world.client.w3.eth.get_code(address)  # type: ignore[arg-type]
        assert 0 < len(code) <= EIP170_LIMIT, address
