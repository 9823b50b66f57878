"""Paths and settings. Settings come from `PNYX_<SERVICE>_<FIELD>` environment variables."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ARTIFACTS_DIR = PACKAGE_DIR / "chain" / "artifacts"
# The repository checkout this package runs from (src layout), when there is one.
REPO_DIR = PACKAGE_DIR.parent.parent
CONTRACTS_DIR = REPO_DIR / "contracts"


def home_dir() -> Path:
    """Where Pnyx keeps wallets and deployments: `PNYX_HOME`, default `~/.pnyx`."""
    return Path(os.environ.get("PNYX_HOME", Path.home() / ".pnyx")).expanduser()


def setting(service: str, field: str, default: str | None = None) -> str | None:
    """The value of `PNYX_<SERVICE>_<FIELD>`, or `default`."""
    return os.environ.get(f"PNYX_{service.upper()}_{field.upper()}", default)
