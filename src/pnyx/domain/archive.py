"""Result archives: a deterministic zip of the app's output folder, and the result digest the
worker commits, computed from the app's `computed.json` exactly as DESIGN.md §5 says.

Pure functions over bytes: the worker, the result store and the requester all call them.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from pnyx.domain._hex import to_bytes
from pnyx.domain.task import digest_of_callback, digest_of_file, digest_of_files
from pnyx.errors import PnyxInputError
from pnyx.types import Bytes32

COMPUTED_JSON = "computed.json"
ERROR_FILE = "error.txt"
OUTPUT_ROOT = "/iexec_out"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
MAX_ARCHIVE_BYTES = 64 * 1024 * 1024
# A TEE task's encrypted result: the archive holds computed.json (whose deterministic-output-path
# is /iexec_out/result.zip.enc) and this one file, the zip of the app's output sealed
# (crypto.seal) to the beneficiary's X25519 public key under this context label, so only the
# beneficiary's private key opens it.
ENCRYPTED_RESULT_NAME = "result.zip.enc"
RESULT_SEAL_CONTEXT = "pnyx-result"


class ArchiveError(PnyxInputError):
    """A result archive is malformed or inconsistent with its computed.json."""


@dataclass(frozen=True)
class Computed:
    """The app's computed.json: what the result is and how to hash it."""

    deterministic_output_path: str | None
    callback_data: str | None
    error_message: str | None

    @classmethod
    def parse(cls, raw: bytes) -> Computed:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ArchiveError(f"computed.json is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ArchiveError("computed.json must be a JSON object")
        return cls(
            deterministic_output_path=_optional_str(data, "deterministic-output-path"),
            callback_data=_optional_str(data, "callback-data"),
            error_message=_optional_str(data, "error-message"),
        )

    def to_json(self) -> bytes:
        out: dict[str, Any] = {}
        if self.deterministic_output_path is not None:
            out["deterministic-output-path"] = self.deterministic_output_path
        if self.callback_data is not None:
            out["callback-data"] = self.callback_data
        if self.error_message is not None:
            out["error-message"] = self.error_message
        return json.dumps(out, sort_keys=True).encode()


def build_archive(files: dict[str, bytes]) -> bytes:
    """A zip of `files` ({relative path: content}) that is byte-identical for identical files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return buffer.getvalue()


# What zipfile raises on corrupted input besides BadZipFile: a bad deflate stream (zlib.error,
# OSError), a truncated one (EOFError), a flipped "encrypted" flag (RuntimeError), an unknown
# compression (NotImplementedError), a name that is not UTF-8 or a bad header (ValueError,
# IndexError). All of them are the uploader's bad input, never a server error.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    ValueError,
    IndexError,
)


def read_archive(data: bytes, *, max_bytes: int = MAX_ARCHIVE_BYTES) -> dict[str, bytes]:
    """The files of an archive; refuses zip bombs, absolute paths and `..`."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as exc:
        raise ArchiveError(f"not a zip archive: {exc}") from exc
    files: dict[str, bytes] = {}
    total = 0
    with archive:
        for info in archive.infolist():
            name = info.filename
            if not name:
                raise ArchiveError("archive entry without a name")
            if info.is_dir():
                continue
            if name.startswith("/") or ".." in name.split("/"):
                raise ArchiveError(f"unsafe path in archive: {name!r}")
            total += info.file_size
            if total > max_bytes:
                raise ArchiveError(f"archive expands beyond {max_bytes} bytes")
            try:
                files[name] = archive.read(info)
            except _ZIP_ERRORS as exc:
                raise ArchiveError(f"unreadable archive entry {name!r}: {exc}") from exc
    return files


def result_digest(files: dict[str, bytes]) -> Bytes32:
    """The digest of an output folder given as {path relative to IEXEC_OUT: content}.

    Callback mode (`callback-data`): keccak256 of the callback bytes. Otherwise the
    `deterministic-output-path` (absolute under /iexec_out, or relative): a file hashes to its
    sha256; a folder to keccak256 of the concatenated sha256 of its top-level files sorted by name.
    """
    if COMPUTED_JSON not in files:
        raise ArchiveError("the output has no computed.json")
    computed = Computed.parse(files[COMPUTED_JSON])
    if computed.callback_data is not None:
        return digest_of_callback(to_bytes(computed.callback_data))
    if computed.deterministic_output_path is None:
        raise ArchiveError(
            "computed.json names neither deterministic-output-path nor callback-data"
        )
    path = _relative(computed.deterministic_output_path)
    if path in files:
        return digest_of_file(files[path])
    prefix = path.rstrip("/") + "/" if path else ""
    entries = {
        name[len(prefix) :]: content for name, content in files.items() if name.startswith(prefix)
    }
    top_level = {name: content for name, content in entries.items() if "/" not in name}
    if not top_level:
        raise ArchiveError(
            f"deterministic-output-path {computed.deterministic_output_path!r} is not in the output"
        )
    return digest_of_files(top_level)


def callback_data(files: dict[str, bytes]) -> bytes:
    """The callback bytes of a callback-mode result (empty otherwise)."""
    computed = Computed.parse(files.get(COMPUTED_JSON, b"{}"))
    return to_bytes(computed.callback_data) if computed.callback_data else b""


def error_output(message: str, logs: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """The output folder of a failed execution: a deterministic error.txt that honest workers agree
    on (it is what the digest covers), plus the logs (not hashed)."""
    files = {
        ERROR_FILE: (message.strip() + "\n").encode(),
        COMPUTED_JSON: Computed(f"{OUTPUT_ROOT}/{ERROR_FILE}", None, message.strip()).to_json(),
    }
    files.update(logs or {})
    return files


def _relative(path: str) -> str:
    for root in (OUTPUT_ROOT + "/", OUTPUT_ROOT):
        if path.startswith(root):
            return path[len(root) :]
    return path.lstrip("./")


def _optional_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ArchiveError(f"computed.json field {key!r} must be a string")
    return value
