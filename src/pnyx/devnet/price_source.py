"""A local price source for oracle nodes to observe on a devnet (`pnyx devnet up --oracles`, the
tests), when no real source is given."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class PriceSource:
    """A price to observe, served on 127.0.0.1: `GET` (any path) → `{"value": <int>}`.

    The value starts at `base` and drifts slowly and deterministically: a sine of `amplitude_bps`
    over `period_s`, held for `step_s` at a time, so every node that polls within one step reads
    the same value, and the feed moves by its deviation threshold every half minute or so. Set
    `value` to hold a fixed value instead (tests).
    """

    def __init__(
        self,
        *,
        base: int = 2_000 * 10**8,
        amplitude_bps: int = 200,
        period_s: float = 600.0,
        step_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base = base
        self.amplitude_bps = amplitude_bps
        self.period_s = period_s
        self.step_s = step_s
        self.value: int | None = None
        self._clock = clock
        self._started = clock()
        source = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                body = json.dumps({"value": source.current()}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="price-source", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/price"

    def value_at(self, elapsed_s: float) -> int:
        """The drifting value `elapsed_s` seconds after the start."""
        held_since = math.floor(elapsed_s / self.step_s) * self.step_s
        drift = math.sin(2 * math.pi * held_since / self.period_s) * self.amplitude_bps / 10_000
        return self.base + round(self.base * drift)

    def current(self) -> int:
        held = self.value
        return held if held is not None else self.value_at(self._clock() - self._started)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
