"""SMS settings, from `PNYX_SMS_<FIELD>` environment variables.

The chain URL and the deployment file fall back to the shared `PNYX_CHAIN_URL` and
`PNYX_CHAIN_DEPLOYMENT`. `PNYX_SMS_TRUSTED_ISSUERS` has no default: which attestation services
vouch for TEE platforms is the one decision an SMS must not take silently."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pnyx.config import home_dir, setting
from pnyx.errors import ConfigError


@dataclass(frozen=True)
class SmsSettings:
    chain_url: str
    deployment_file: Path
    dir: Path
    # Ed25519 public keys (32 bytes) of the attestation services whose platform certificates
    # this SMS accepts.
    trusted_issuers: frozenset[bytes]
    # Empty: SQLite `sms.db` in `dir`.
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8703
    nonce_ttl_s: float = 60.0

    def __post_init__(self) -> None:
        if not self.trusted_issuers:
            raise ConfigError("an SMS needs at least one trusted attestation service key")
        for issuer in self.trusted_issuers:
            if len(issuer) != 32:
                raise ConfigError(
                    f"a trusted issuer is a 32-byte Ed25519 public key, got {len(issuer)} bytes"
                )
        if self.nonce_ttl_s <= 0:
            raise ConfigError(f"nonce_ttl_s must be > 0, got {self.nonce_ttl_s}")
        if not 0 <= self.port <= 65_535:
            raise ConfigError(f"port must be in 0..65535, got {self.port}")

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.dir / 'sms.db'}"

    @property
    def master_key_file(self) -> Path:
        return self.dir / "master.key"

    @classmethod
    def from_env(cls) -> SmsSettings:
        issuers = setting("sms", "trusted_issuers")
        if not issuers:
            raise ConfigError(
                "PNYX_SMS_TRUSTED_ISSUERS is required: comma-separated 0x-hex Ed25519 public "
                "keys of the attestation services whose TEE platforms this SMS trusts"
            )
        try:
            port = int(setting("sms", "port") or 8703)
            ttl = float(setting("sms", "nonce_ttl_s") or 60.0)
        except ValueError as exc:
            raise ConfigError(f"PNYX_SMS_PORT / PNYX_SMS_NONCE_TTL_S: {exc}") from None
        return cls(
            chain_url=setting("sms", "chain_url")
            or setting("chain", "url")
            or "http://127.0.0.1:8545",
            deployment_file=Path(
                setting("sms", "deployment_file")
                or setting("chain", "deployment")
                or home_dir() / "deployment.json"
            ),
            dir=Path(setting("sms", "dir") or home_dir() / "sms"),
            trusted_issuers=parse_issuers(issuers),
            database_url=setting("sms", "database_url") or "",
            host=setting("sms", "host") or "127.0.0.1",
            port=port,
            nonce_ttl_s=ttl,
        )


def parse_issuers(raw: str) -> frozenset[bytes]:
    """Comma-separated 0x-hex keys → their bytes."""
    keys: set[bytes] = set()
    for item in raw.split(","):
        text = item.strip()
        if not text:
            continue
        try:
            key = bytes.fromhex(text.removeprefix("0x").removeprefix("0X"))
        except ValueError:
            raise ConfigError(f"trusted issuer {text!r} is not hexadecimal") from None
        if len(key) != 32:
            raise ConfigError(f"trusted issuer {text} is {len(key)} bytes, not 32")
        keys.add(key)
    return frozenset(keys)
