"""A real scheduler process with a selection policy other than the default: the failure-aware one
hands out a replicated task's replicates, the task completes, and the scheduler then learns the
task from the chain's history in its engine loop."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pnyx.api.schemas.scheduler import TaskRead
from pnyx.devnet.marketplace import Marketplace, start_marketplace
from pnyx.domain.views import TaskStatus
from pnyx.sdk.run import RunRequest, follow
from tests.helpers.marketplace import purchase, scheduled, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_failure_aware_scheduler_completes_a_replicated_task_and_learns_it(tmp_path: Path) -> None:
    home = tmp_path / "devnet"
    with start_marketplace(
        home, workers=3, heartbeat_s=1.0, scheduler_policy="failure-aware"
    ) as market:
        scheduler = market.services["scheduler"]
        assert "selection policy: failure-aware" in scheduler.tail(20_000)
        metrics = httpx.get(f"{market.urls['scheduler']}/v1/metrics", timeout=5).json()
        assert metrics["policy"] == "failure-aware"
        matched, task_id = purchase(
            market, RunRequest(app=market.assets["wasm_app"], trust=8, args="a b a")
        )

        view = follow(market.devnet.protocol, matched, task_id, timeout_s=90)

        assert view.status == TaskStatus.COMPLETED
        task = wait_for("the scheduler to see it", lambda: _completed(market, task_id))
        workers = {market.devnet.accounts[5 + i].address for i in range(3)}
        assert {r.worker for r in task.replicates} == workers
        assert {r.state for r in task.replicates} == {"COMPLETED"}
        wait_for(
            "the scheduler to read the task's history",
            lambda: "failure-aware policy: 1 task(s) of history" in scheduler.tail(20_000),
            timeout_s=20,
        )


def _completed(market: Marketplace, task_id: str) -> TaskRead | None:
    task = scheduled(market, task_id)
    return task if task is not None and task.state == "COMPLETED" else None
