"""The node's background loop: one `step` per poll interval, surviving whatever a step meets."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from pnyx.errors import PnyxError

log = logging.getLogger("pnyx.oracle")


class NodeLoop:
    def __init__(self, step: Callable[[], None], *, interval_s: float, name: str) -> None:
        self.step = step
        self.interval_s = interval_s
        self.name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except PnyxError as exc:  # a chain or source error: the next step retries
                log.warning("%s step failed, retrying: %s", self.name, exc)
            except Exception:  # the loop must survive anything a node or a source throws at it
                log.exception("unexpected %s error, retrying", self.name)
            self._stop.wait(self.interval_s)
