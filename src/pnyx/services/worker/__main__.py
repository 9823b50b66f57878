"""`python -m pnyx.services.worker`: run a worker (PNYX_WORKER_* settings)."""

from __future__ import annotations

import logging
import signal
from types import FrameType

from pnyx.services.worker.agent import WorkerAgent
from pnyx.services.worker.config import WorkerSettings


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    agent = WorkerAgent(WorkerSettings.from_env())

    def stop(_signum: int, _frame: FrameType | None) -> None:
        agent.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    agent.run()


if __name__ == "__main__":
    main()
