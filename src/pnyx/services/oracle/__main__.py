"""`python -m pnyx.services.oracle`: run one oracle node (PNYX_ORACLE_* / PNYX_CHAIN_URL)."""

from __future__ import annotations

import logging

import uvicorn

from pnyx.services.oracle.app import create_oracle_app
from pnyx.services.oracle.config import OracleSettings


def main() -> None:
    settings = OracleSettings.from_env()
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s oracle-{settings.mechanism} %(levelname)s %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per source poll otherwise
    uvicorn.run(
        create_oracle_app(settings), host=settings.host, port=settings.port, log_level="warning"
    )


if __name__ == "__main__":
    main()
