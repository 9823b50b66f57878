"""Market settings, from `PNYX_MARKET_<FIELD>` environment variables.

The chain URL and the deployment file fall back to the shared `PNYX_CHAIN_URL` and
`PNYX_CHAIN_DEPLOYMENT`, so one devnet configuration serves every service."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from pnyx.config import home_dir, setting
from pnyx.errors import ConfigError


def _default_deployment() -> Path:
    return home_dir() / "deployment.json"


def _default_database() -> str:
    return f"sqlite:///{home_dir() / 'market' / 'market.db'}"


@dataclass(frozen=True)
class MarketSettings:
    """Everything the market needs to run; every field has a working local default."""

    chain_url: str = "http://127.0.0.1:8545"
    deployment_file: Path = field(default_factory=_default_deployment)
    database_url: str = field(default_factory=_default_database)
    host: str = "127.0.0.1"
    port: int = 8700
    confirmations: int = 0
    poll_interval_s: float = 0.5
    max_open_orders_per_owner: int = 100

    def __post_init__(self) -> None:
        if self.confirmations < 0:
            raise ConfigError(f"confirmations must be ≥ 0, got {self.confirmations}")
        if self.poll_interval_s <= 0:
            raise ConfigError(f"poll_interval_s must be > 0, got {self.poll_interval_s}")
        if self.max_open_orders_per_owner < 1:
            raise ConfigError(
                f"max_open_orders_per_owner must be ≥ 1, got {self.max_open_orders_per_owner}"
            )
        if not 0 <= self.port <= 65_535:
            raise ConfigError(f"port must be in 0..65535, got {self.port}")

    @classmethod
    def from_env(cls) -> MarketSettings:
        """Settings from `PNYX_MARKET_<FIELD>`; unset fields keep their defaults."""
        values: dict[str, object] = {}
        fallbacks = {"chain_url": ("chain", "url"), "deployment_file": ("chain", "deployment")}
        for spec in fields(cls):
            raw = setting("market", spec.name)
            if raw is None and spec.name in fallbacks:
                raw = setting(*fallbacks[spec.name])
            if raw is None or raw == "":
                continue
            values[spec.name] = _convert(spec.name, raw)
        return cls(**values)  # type: ignore[arg-type]


_CONVERTERS: dict[str, type] = {
    "deployment_file": Path,
    "port": int,
    "confirmations": int,
    "poll_interval_s": float,
    "max_open_orders_per_owner": int,
}


def _convert(name: str, raw: str) -> object:
    converter = _CONVERTERS.get(name, str)
    try:
        return converter(raw)
    except ValueError as exc:
        raise ConfigError(
            f"PNYX_MARKET_{name.upper()}={raw!r} is not a valid {converter.__name__}"
        ) from exc
