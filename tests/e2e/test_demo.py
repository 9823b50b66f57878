"""`make demo` runs `pnyx demo`: the three tasks bought through `pnyx run` (replicated WASM,
Python on a dataset, TEE on an encrypted dataset) complete with the right results — the TEE one
decrypted by the requester — and the escrow moves exactly as the protocol says."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

import pytest
from rich.console import Console

from pnyx.devnet.demo import run_demo
from pnyx.devnet.marketplace import (
    APP_PRICE,
    DATASET_PRICE,
    WORKERPOOL_PRICE,
    WORKERPOOL_TEE_PRICE,
)

pytestmark = pytest.mark.e2e

WORD_COUNTS = {"brown": 1, "dog": 1, "fox": 2, "jumps": 1, "lazy": 1, "over": 1, "quick": 1}


def test_demo_completes_the_three_tasks_and_conserves_every_token() -> None:
    outcome = run_demo(console=Console(file=io.StringIO()))

    assert [task.status for task in outcome.tasks] == ["COMPLETED"] * 3
    wordcount, stats, confidential = (task.result for task in outcome.tasks)
    assert wordcount == {"counts": {**WORD_COUNTS, "the": 3}, "words": 11}
    assert isinstance(stats, dict) and stats["count"] == 102 and stats["min"] == 1.5
    # 32 numbers in apps/datasets/confidential.csv, decrypted by the requester only
    assert isinstance(confidential, dict) and confidential["count"] == 32
    changes = outcome.balance_changes
    paid = 2 * WORKERPOOL_PRICE + WORKERPOOL_TEE_PRICE + 3 * APP_PRICE + 2 * DATASET_PRICE
    assert changes["requester"] == (-paid, 0)
    assert changes["app developer"] == (3 * APP_PRICE, 0)
    assert changes["dataset owner"] == (2 * DATASET_PRICE, 0)
    # what the requester paid is what the others earned; every stake is released
    assert sum(free for free, _ in changes.values()) == 0
    assert all(locked == 0 for _, locked in changes.values())
    workers_paid = [changes[f"worker {i}"][0] for i in (1, 2, 3)]
    assert all(earned > 0 for earned in workers_paid)


def test_pnyx_demo_command_exits_zero_and_prints_results() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pnyx.cli.main", "demo"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "160"},
    )

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert len(re.findall(r"│ status +│ COMPLETED", result.stdout)) == 3
    assert "decrypted_to" in result.stdout
    assert "Escrow balance changes" in result.stdout
