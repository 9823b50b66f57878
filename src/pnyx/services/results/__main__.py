"""`python -m pnyx.services.results`: run the result store (PNYX_RESULTS_* / PNYX_CHAIN_*)."""

from __future__ import annotations

import uvicorn

from pnyx.services.results.app import create_results_app
from pnyx.services.results.config import ResultsSettings


def main() -> None:
    settings = ResultsSettings.from_env()
    uvicorn.run(
        create_results_app(settings), host=settings.host, port=settings.port, log_level="warning"
    )


if __name__ == "__main__":
    main()
