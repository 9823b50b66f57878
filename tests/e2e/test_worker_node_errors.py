"""A worker whose chain node fails once, at the worst moment — the transaction that settles its
replicate — retries the action instead of failing the replicate: the task completes and the
scheduler never hears FAILED. The worker runs in-process (the devnet's worker process is stopped
and its settings reused) so that exactly one node error can be injected; the scheduler, the result
store and the chain are the devnet's real ones."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pnyx.devnet.marketplace import Marketplace, start_marketplace
from pnyx.domain.views import TaskStatus
from pnyx.errors import ChainError
from pnyx.sdk import Worker
from pnyx.sdk.run import RunRequest, follow
from pnyx.services.worker.agent import WorkerAgent
from pnyx.services.worker.config import WorkerSettings
from tests.helpers.marketplace import purchase, scheduled, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


class NodeFailsOnce:
    """The worker's chain actions, the first settling one failing as an unreachable node would."""

    def __init__(self, worker: Worker) -> None:
        self.worker, self.calls = worker, 0

    def contribute_and_finalize(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            raise ChainError("node unreachable: connection refused")
        return self.worker.contribute_and_finalize(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.worker, name)


@pytest.fixture
def market(tmp_path: Path) -> Iterator[Marketplace]:
    with start_marketplace(tmp_path / "devnet", workers=1, tee_workers=0) as market:
        yield market


def test_a_node_error_is_retried_not_reported_as_a_failed_replicate(
    market: Marketplace, monkeypatch: pytest.MonkeyPatch
) -> None:
    process = market.services["worker1"]
    process.stop()
    for name, value in process.env.items():
        monkeypatch.setenv(name, value)
    agent = WorkerAgent(WorkerSettings.from_env())
    flaky = NodeFailsOnce(agent.chain_worker)
    agent.chain_worker = flaky  # type: ignore[assignment]
    thread = threading.Thread(target=agent.run, daemon=True)
    thread.start()
    try:
        matched, task_id = purchase(
            market, RunRequest(app=market.assets["python_app"], args="1 2 3")
        )
        view = follow(market.devnet.protocol, matched, task_id, timeout_s=60)
        assert view.status == TaskStatus.COMPLETED
        assert flaky.calls == 2
        task = wait_for("the scheduler to finish the task", lambda: _finished(market, task_id))
        [replicate] = task.replicates
        assert replicate.state == "COMPLETED"
        assert all(step.get("state") != "FAILED" for step in replicate.history)
    finally:
        agent.stop()
        thread.join(timeout=10)


def _finished(market: Marketplace, task_id: str) -> Any:
    task = scheduled(market, task_id)
    return task if task is not None and task.state == "COMPLETED" else None
