"""Where benchmark figures go: benchmarks/results/ (JSON, PNG) and a dated section appended to
benchmarks/RESULTS.md, so the history of every `make bench-*` run stays readable."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"


def write_json(name: str, data: object) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / name
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def append_section(bench: str, lines: list[str]) -> None:
    """Appends `## <bench> — <UTC time>` and the lines to RESULTS.md."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    with (HERE / "RESULTS.md").open("a") as handle:
        handle.write("\n".join([f"\n## {bench} — {stamp}\n", *lines]) + "\n")
