"""A devnet (anvil, the deployed protocol, funded dev accounts) to drive the CLI as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pnyx.devnet.network import Devnet, start_devnet


@dataclass
class Cli:
    env: dict[str, str]
    cwd: Path

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "pnyx.cli.main", *args],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"pnyx {' '.join(args)} failed: {result.stderr}")
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.run("--json", *args).stdout)


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Devnet, Path]]:
    home = tmp_path_factory.mktemp("pnyx-home")
    with start_devnet(deployment_file=home / "deployment.json") as net:
        yield net, home


@pytest.fixture
def cli(devnet: tuple[Devnet, Path], tmp_path: Path) -> Cli:
    net, home = devnet
    env = {
        **os.environ,
        "PNYX_HOME": str(home),
        "PNYX_CHAIN_URL": net.node.url,
        "PNYX_CHAIN_DEPLOYMENT": str(home / "deployment.json"),
        "COLUMNS": "200",
    }
    env.pop("PNYX_WALLET_PRIVATE_KEY", None)
    return Cli(env=env, cwd=tmp_path)
