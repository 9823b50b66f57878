"""Result store settings, from `PNYX_RESULTS_<FIELD>` environment variables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pnyx.config import home_dir, setting


@dataclass(frozen=True)
class ResultsSettings:
    chain_url: str
    deployment_file: Path
    storage_dir: Path
    database_url: str
    public_url: str
    # The SMS that knows TEE tasks' enclave challenges; without one, TEE results are refused.
    sms_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8702
    max_upload_bytes: int = 64 * 1024 * 1024

    @classmethod
    def from_env(cls) -> ResultsSettings:
        root = Path(setting("results", "dir") or home_dir() / "results")
        host = setting("results", "host") or "127.0.0.1"
        port = int(setting("results", "port") or 8702)
        return cls(
            chain_url=setting("chain", "url") or "http://127.0.0.1:8545",
            deployment_file=Path(setting("chain", "deployment") or home_dir() / "deployment.json"),
            storage_dir=root / "archives",
            database_url=setting("results", "database_url") or f"sqlite:///{root / 'results.db'}",
            public_url=setting("results", "public_url") or f"http://{host}:{port}",
            sms_url=setting("results", "sms_url") or None,
            host=host,
            port=port,
        )
