"""`python -m pnyx.services.scheduler`: run a workerpool's scheduler (PNYX_SCHEDULER_* settings)."""

from __future__ import annotations

import logging

import uvicorn

from pnyx.services.scheduler.app import create_scheduler_app
from pnyx.services.scheduler.config import SchedulerSettings


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s scheduler %(levelname)s %(message)s"
    )
    settings = SchedulerSettings.from_env()
    uvicorn.run(
        create_scheduler_app(settings), host=settings.host, port=settings.port, log_level="warning"
    )


if __name__ == "__main__":
    main()
