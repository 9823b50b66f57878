"""Worker settings, from `PNYX_WORKER_<FIELD>` environment variables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pnyx.config import home_dir, setting
from pnyx.errors import ConfigError


@dataclass(frozen=True)
class WorkerSettings:
    scheduler_url: str
    private_key: str
    chain_url: str
    deployment_file: Path
    work_dir: Path
    name: str = "worker"
    max_tasks: int = 1
    # A TEE-capable worker has a (simulated) platform: its certified quoting key, as a JSON file
    # written by `pnyx.services.worker.enclave.write_platform` (the devnet makes them).
    tee_platform: Path | None = None
    poll_interval_s: float = 0.25
    # Test-only misbehaviour, to show what the protocol does to a byzantine worker: "wrong-result".
    byzantine: str | None = None

    @property
    def tee(self) -> bool:
        return self.tee_platform is not None

    @classmethod
    def from_env(cls) -> WorkerSettings:
        def required(field: str) -> str:
            value = setting("worker", field)
            if not value:
                raise ConfigError(f"PNYX_WORKER_{field.upper()} is required")
            return value

        name = setting("worker", "name") or "worker"
        return cls(
            scheduler_url=required("scheduler_url"),
            private_key=required("private_key"),
            chain_url=setting("chain", "url") or "http://127.0.0.1:8545",
            deployment_file=Path(setting("chain", "deployment") or home_dir() / "deployment.json"),
            work_dir=Path(setting("worker", "dir") or home_dir() / "workers" / name),
            name=name,
            max_tasks=int(setting("worker", "max_tasks") or 1),
            tee_platform=Path(platform)
            if (platform := setting("worker", "tee_platform"))
            else None,
            poll_interval_s=float(setting("worker", "poll_interval_s") or 0.25),
            byzantine=setting("worker", "byzantine") or None,
        )
