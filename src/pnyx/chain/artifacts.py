"""Compiled contract artifacts (ABI + bytecode), written by `contracts/build.js`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pnyx.config import ARTIFACTS_DIR
from pnyx.errors import ToolchainError

PRODUCT_CONTRACTS = (
    "PnyxToken",
    "AppRegistry",
    "DatasetRegistry",
    "WorkerpoolRegistry",
    "PnyxHubExtension",
    "PnyxHub",
    # oracles
    "Aggregator",
    "OffchainReporting",
    "RandomGroupOracle",
    "AstreaVoting",
    "PocoOracle",
    # examples
    "BettingPlatform",
    "WorkerSelectionVerifier",
    "Referendum",
)


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str

    @property
    def runtime_size(self) -> int:
        return (len(self.deployed_bytecode) - 2) // 2


@cache
def load_artifact(name: str, directory: Path = ARTIFACTS_DIR) -> Artifact:
    path = directory / f"{name}.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ToolchainError(f"no artifact {path}: run `make artifacts`") from exc
    return Artifact(name, data["abi"], data["bytecode"], data["deployedBytecode"])


def hub_abi() -> list[dict[str, Any]]:
    """The hub's whole interface: its own functions plus the extension's, reached by its
    fallback."""
    merged: list[dict[str, Any]] = []
    seen: set[str] = set()
    for name in ("PnyxHub", "PnyxHubExtension"):
        for entry in load_artifact(name).abi:
            if entry["type"] in ("constructor", "fallback", "receive"):
                continue
            key = entry["type"] + ":" + _signature(entry)
            if key not in seen:
                seen.add(key)
                merged.append(entry)
    return merged


def all_error_abis() -> list[dict[str, Any]]:
    """Every custom error any product contract can revert with, once each."""
    errors: dict[str, dict[str, Any]] = {}
    for name in PRODUCT_CONTRACTS:
        for entry in load_artifact(name).abi:
            if entry["type"] == "error":
                errors.setdefault(_signature(entry), entry)
    return [errors[key] for key in sorted(errors)]


def _signature(entry: dict[str, Any]) -> str:
    return (
        f"{entry.get('name', '')}({','.join(_canonical_type(i) for i in entry.get('inputs', []))})"
    )


def _canonical_type(param: dict[str, Any]) -> str:
    kind: str = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def error_signature(entry: dict[str, Any]) -> str:
    return _signature(entry)
