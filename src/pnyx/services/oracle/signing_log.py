"""What a reporting node remembers of the last report it signed, kept on disk: after a restart it
still never signs a second, different report for a round it signed (or an older round)."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from pnyx.domain._hex import to_bytes


@dataclass(frozen=True)
class SignedReport:
    epoch_and_round: int
    message: bytes
    signature: bytes


class SigningLog:
    """The last signed report, in memory and (with a path) in a small JSON file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._last = self._load()

    @property
    def last(self) -> SignedReport | None:
        return self._last

    def record(self, signed: SignedReport) -> None:
        """Keeps `signed`; written to disk before the signature leaves the node."""
        with self._lock:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                temporary = self.path.with_suffix(".part")
                temporary.write_text(
                    json.dumps(
                        {
                            "epoch_and_round": signed.epoch_and_round,
                            "message": "0x" + signed.message.hex(),
                            "signature": "0x" + signed.signature.hex(),
                        }
                    )
                )
                os.replace(temporary, self.path)
            self._last = signed

    def _load(self) -> SignedReport | None:
        if self.path is None or not self.path.exists():
            return None
        data = json.loads(self.path.read_text())
        return SignedReport(
            int(data["epoch_and_round"]),
            to_bytes(data["message"], length=32),
            to_bytes(data["signature"], length=65),
        )
