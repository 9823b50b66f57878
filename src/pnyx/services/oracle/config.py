"""Oracle node settings, from `PNYX_ORACLE_<FIELD>` environment variables (chain from
`PNYX_CHAIN_URL`). The feed's heartbeat and deviation threshold are not settings: a node reads them
from the feed contract, where consumers can check them too."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from pnyx.config import home_dir, setting
from pnyx.errors import ConfigError


class Mechanism(StrEnum):
    AGGREGATION = "aggregation"  # one submission per node per round (`Aggregator`)
    REPORTING = "reporting"  # one signed report per round (`OffchainReporting`)


@dataclass(frozen=True)
class OracleSettings:
    mechanism: Mechanism
    chain_url: str
    feed: str
    private_key: str
    # GET answers JSON {"value": <int>}; tests may pass a source callable to the app instead.
    source_url: str | None = None
    # The node's index in the on-chain configuration; checked against it when given.
    index: int | None = None
    # Reporting: every node's URL, in configuration order (this node's own entry is not called).
    peers: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 8705
    poll_interval_s: float = 1.0
    # Reporting: how long a round's leader has before the next round (and its leader) opens.
    round_timeout_s: float = 10.0
    # Reporting: how long a leader waits for the other nodes' observations and signatures.
    request_timeout_s: float = 2.0
    # Reporting: the farthest (1/10,000) a report's median may be from this node's observation.
    tolerance_bps: int = 100
    # Reporting: where the node remembers the last report it signed (never two for one round).
    state_dir: Path = field(default_factory=lambda: home_dir() / "oracle")
    # First block to read the feed's configuration events from.
    start_block: int = 0

    @classmethod
    def from_env(cls) -> OracleSettings:
        def required(name: str) -> str:
            value = setting("oracle", name)
            if not value:
                raise ConfigError(f"PNYX_ORACLE_{name.upper()} is required")
            return value

        raw_mechanism = required("mechanism")
        try:
            mechanism = Mechanism(raw_mechanism)
        except ValueError:
            choices = ", ".join(m.value for m in Mechanism)
            raise ConfigError(
                f"PNYX_ORACLE_MECHANISM is {raw_mechanism!r}; it must be one of {choices}"
            ) from None
        peers = tuple(p.strip() for p in (setting("oracle", "peers") or "").split(",") if p.strip())
        if mechanism is Mechanism.REPORTING and not peers:
            raise ConfigError(
                "a reporting node needs PNYX_ORACLE_PEERS (every node's URL, in order)"
            )
        index = setting("oracle", "index")
        return cls(
            mechanism=mechanism,
            chain_url=setting("chain", "url") or "http://127.0.0.1:8545",
            feed=required("feed"),
            private_key=required("private_key"),
            source_url=required("source_url"),
            index=int(index) if index else None,
            peers=peers,
            host=setting("oracle", "host") or "127.0.0.1",
            port=int(setting("oracle", "port") or 8705),
            poll_interval_s=float(setting("oracle", "poll_interval_s") or 1.0),
            round_timeout_s=float(setting("oracle", "round_timeout_s") or 10.0),
            request_timeout_s=float(setting("oracle", "request_timeout_s") or 2.0),
            tolerance_bps=int(setting("oracle", "tolerance_bps") or 100),
            state_dir=Path(setting("oracle", "dir") or home_dir() / "oracle"),
            start_block=int(setting("oracle", "start_block") or 0),
        )
