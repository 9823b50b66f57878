"""The committed wordcount.wasm is exactly what its Makefile builds (a reproducible build)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

APP_DIR = Path(__file__).resolve().parents[2] / "apps" / "wordcount-wasm"


@pytest.mark.skipif(
    shutil.which("clang-14") is None or shutil.which("make") is None,
    reason="clang-14 or make not installed (apt-get install clang-14 lld-14 wasi-libc "
    "libclang-rt-14-dev-wasm32 make); the committed wordcount.wasm is used as is",
)
def test_make_builds_committed_wasm_when_toolchain_installed(tmp_path: Path) -> None:
    build_dir = tmp_path / "wordcount-wasm"  # another path: the build must not depend on it
    build_dir.mkdir()
    for name in ("Makefile", "wordcount.c"):
        shutil.copy2(APP_DIR / name, build_dir / name)

    subprocess.run(
        ["make", "-C", str(build_dir), "wordcount.wasm"], check=True, capture_output=True
    )

    built = (build_dir / "wordcount.wasm").read_bytes()
    assert built == (APP_DIR / "wordcount.wasm").read_bytes(), (
        "apps/wordcount-wasm/wordcount.wasm is stale: run `make -C apps/wordcount-wasm`"
    )
