"""Getting apps, datasets and input files onto the worker, checked against their on-chain checksum
and cached by it (a cached file is re-hashed before use)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

from pnyx.clients._http import download
from pnyx.errors import PnyxError


class FetchError(PnyxError):
    """An asset could not be downloaded, or its bytes are not the registered ones. The message is
    deterministic (no timings), so honest workers that meet the same failure agree on it."""


def fetch(url: str, *, checksum: str | None, cache_dir: Path, label: str) -> Path:
    """The local file behind `url` (file:// or http(s)://), verified against `checksum` (0x sha256)
    when one is registered."""
    expected = checksum.lower().removeprefix("0x") if checksum and int(checksum, 16) else None
    if expected:
        cached = cache_dir / expected
        if cached.is_file() and _sha256(cached) == expected:
            return cached
    data = _read(url, label)
    actual = hashlib.sha256(data).hexdigest()
    if expected and actual != expected:
        raise FetchError(f"{label.upper()}_BAD_CHECKSUM: expected 0x{expected}, got 0x{actual}")
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / (expected or actual)
    partial = target.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(target)
    return target


def copy_named(source: Path, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    shutil.copyfile(source, target)
    return target


def file_name(url: str) -> str:
    name = Path(unquote(urlparse(url).path)).name
    return name or "input"


def _read(url: str, label: str) -> bytes:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        path = Path(unquote(parsed.path))
        if not path.is_file():
            raise FetchError(f"{label.upper()}_DOWNLOAD_FAILED: no file at {url}")
        return path.read_bytes()
    if parsed.scheme in ("http", "https"):
        try:
            return download(url)
        except PnyxError as exc:
            raise FetchError(
                f"{label.upper()}_DOWNLOAD_FAILED: {url} could not be downloaded"
            ) from exc
    raise FetchError(f"{label.upper()}_DOWNLOAD_FAILED: unsupported URL scheme in {url!r}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
