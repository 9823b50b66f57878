"""`python -m pnyx.services.market [--host H] [--port P]`: serves the market with settings from
`PNYX_MARKET_<FIELD>` environment variables (see `config.py`)."""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace

import uvicorn

from pnyx.services.market.app import create_market_app
from pnyx.services.market.config import MarketSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m pnyx.services.market", description="Run the Pnyx market (order book)."
    )
    parser.add_argument("--host", help="interface to listen on [env PNYX_MARKET_HOST]")
    parser.add_argument("--port", type=int, help="port to listen on [env PNYX_MARKET_PORT]")
    args = parser.parse_args(argv)
    settings = MarketSettings.from_env()
    settings = replace(
        settings,
        host=args.host or settings.host,
        port=settings.port if args.port is None else args.port,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    uvicorn.run(create_market_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
