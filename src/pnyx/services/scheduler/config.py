"""Scheduler settings, from `PNYX_SCHEDULER_<FIELD>` environment variables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pnyx.config import home_dir, setting
from pnyx.errors import ConfigError

# Selection policies (pnyx.services.scheduler.policies, docs/scheduler-policies.md).
POLICY_NAMES = ("least-loaded", "random", "social-distance", "failure-aware")


@dataclass(frozen=True)
class SchedulerSettings:
    chain_url: str
    deployment_file: Path
    workerpool: str
    private_key: str
    database_url: str
    result_store_url: str
    host: str = "127.0.0.1"
    port: int = 8701
    confirmations: int = 0
    poll_interval_s: float = 0.2
    heartbeat_s: float = 2.0
    lost_after_s: float = 3.0
    start_block: int = 0
    # The SMS that holds TEE tasks' enclave challenges; without one, TEE deals are not run.
    sms_url: str | None = None
    # Who of the available workers gets a task's next replicate; the social-distance policy reads
    # its edge list of worker addresses from `social_graph`.
    policy: str = "least-loaded"
    social_graph: Path | None = None

    def __post_init__(self) -> None:
        if self.policy not in POLICY_NAMES:
            raise ConfigError(
                f"unknown scheduler policy {self.policy!r}: choose one of {', '.join(POLICY_NAMES)}"
            )
        if self.policy == "social-distance" and self.social_graph is None:
            raise ConfigError("the social-distance policy needs PNYX_SCHEDULER_SOCIAL_GRAPH")

    @classmethod
    def from_env(cls) -> SchedulerSettings:
        def required(field: str) -> str:
            value = setting("scheduler", field)
            if not value:
                raise ConfigError(f"PNYX_SCHEDULER_{field.upper()} is required")
            return value

        root = Path(setting("scheduler", "dir") or home_dir() / "scheduler")
        social_graph = setting("scheduler", "social_graph")
        heartbeat = float(setting("scheduler", "heartbeat_s") or 2.0)
        return cls(
            chain_url=setting("chain", "url") or "http://127.0.0.1:8545",
            deployment_file=Path(setting("chain", "deployment") or home_dir() / "deployment.json"),
            workerpool=required("workerpool"),
            private_key=required("private_key"),
            database_url=setting("scheduler", "database_url")
            or f"sqlite:///{root / 'scheduler.db'}",
            result_store_url=required("result_store_url"),
            host=setting("scheduler", "host") or "127.0.0.1",
            port=int(setting("scheduler", "port") or 8701),
            confirmations=int(setting("scheduler", "confirmations") or 0),
            poll_interval_s=float(setting("scheduler", "poll_interval_s") or 0.2),
            heartbeat_s=heartbeat,
            lost_after_s=float(setting("scheduler", "lost_after_s") or heartbeat * 1.5),
            start_block=int(setting("scheduler", "start_block") or 0),
            sms_url=setting("scheduler", "sms_url") or None,
            policy=setting("scheduler", "policy") or "least-loaded",
            social_graph=Path(social_graph) if social_graph else None,
        )
