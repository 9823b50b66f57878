"""`make demo` runs `pnyx demo`: a replicated task reaches COMPLETED and every balance moves as the
protocol says."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from rich.console import Console

from pnyx.devnet.demo import run_demo
from pnyx.domain.views import TaskStatus
from pnyx.types import NANO_PER_TOKEN

pytestmark = pytest.mark.e2e


def test_demo_completes_the_task_and_pays_everyone() -> None:
    outcome = run_demo(console=Console(file=io.StringIO()))
    assert outcome.status == TaskStatus.COMPLETED
    assert outcome.result == {
        "brown": 1,
        "dog": 1,
        "fox": 2,
        "jumps": 1,
        "lazy": 1,
        "over": 1,
        "quick": 1,
        "the": 3,
    }
    free = {name: delta[0] for name, delta in outcome.balance_changes.items()}
    assert free["requester"] == -13 * NANO_PER_TOKEN
    assert free["app developer"] == 1 * NANO_PER_TOKEN
    assert free["dataset owner"] == 2 * NANO_PER_TOKEN
    workers = [free[f"worker {i}"] for i in (1, 2, 3)]
    assert workers == [3_300_000_000] * 3  # 10 tokens · 99 % split by equal log2 weights
    assert free["scheduler"] == 10 * NANO_PER_TOKEN - sum(workers)
    assert all(delta[1] == 0 for delta in outcome.balance_changes.values())


def test_pnyx_demo_command_prints_the_completed_task() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pnyx.cli.main", "demo"],
        capture_output=True,
        text=True,
        timeout=300,
        env={"COLUMNS": "160", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "is COMPLETED" in result.stdout
    assert "Escrow balances" in result.stdout
