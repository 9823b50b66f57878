"""`pnyx dataset encrypt` and `pnyx result keygen` through the real entry point; no chain needed.

The commands that talk to the SMS (push-secret, push-key, get --decrypt) run end to end in the
TEE e2e test; here only their local failures (through the entry point, for its one-line errors)
and their help (in-process: it is only Typer's)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pnyx.cli.main import app
from pnyx.domain import crypto
from pnyx.sdk.confidential import read_key_file

pytestmark = pytest.mark.unit

DEV_ACCOUNT_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


class Pnyx:
    def __init__(self, home: Path, cwd: Path) -> None:
        self.cwd = cwd
        self.env = {**os.environ, "PNYX_HOME": str(home), "COLUMNS": "200"}
        for name in ("PNYX_WALLET_PRIVATE_KEY", "PNYX_WALLET_NAME", "PNYX_SMS_URL"):
            self.env.pop(name, None)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pnyx.cli.main", *args],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def json(self, *args: str) -> Any:
        done = self.run("--json", *args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def fails(self, *args: str) -> str:
        """The one error line of a command expected to fail."""
        done = self.run(*args)
        assert done.returncode == 1, (done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
        return lines[0]


@pytest.fixture
def pnyx(tmp_path: Path) -> Pnyx:
    return Pnyx(tmp_path / "home", tmp_path)


def test_dataset_encrypt_writes_the_file_key_and_checksum(pnyx: Pnyx, tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_bytes(b"secret,rows\n1,2\n")

    shown = pnyx.json("dataset", "encrypt", "data.csv")

    encrypted, key_file = tmp_path / "data.csv.enc", tmp_path / "data.csv.key"
    assert shown["encrypted"] == "data.csv.enc" and shown["key_file"] == "data.csv.key"
    assert shown["checksum"] == "0x" + hashlib.sha256(encrypted.read_bytes()).hexdigest()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    plain = crypto.decrypt(read_key_file(key_file), encrypted.read_bytes())
    assert plain == b"secret,rows\n1,2\n"

    again = pnyx.fails("dataset", "encrypt", "data.csv")
    assert "data.csv.key already exists: pass --force" in again


def test_dataset_encrypt_honours_out_and_prints_for_humans(pnyx: Pnyx, tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_bytes(b"1\n")

    done = pnyx.run("dataset", "encrypt", "data.csv", "--out", "pub/blob.enc")

    assert done.returncode == 0, done.stderr
    assert (tmp_path / "pub" / "blob.enc").is_file() and (tmp_path / "pub" / "blob.key").is_file()
    assert "checksum" in done.stdout and "push-secret" in done.stdout
    assert "error" in pnyx.fails("dataset", "encrypt", "missing.csv")


def test_result_keygen_stores_the_signers_key(pnyx: Pnyx, tmp_path: Path) -> None:
    shown = pnyx.json("result", "keygen", "--dev-account", "0")

    path = tmp_path / "home" / "result-keys" / f"{DEV_ACCOUNT_0.lower()}.key"
    assert shown["beneficiary"] == DEV_ACCOUNT_0
    assert shown["key_file"] == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert shown["public_key"] == "0x" + crypto.box_public_key(read_key_file(path)).hex()

    refused = pnyx.fails("result", "keygen", "--dev-account", "0")
    assert f"{path} already exists: pass --force" in refused
    replaced = pnyx.json("result", "keygen", "--dev-account", "0", "--force")
    assert replaced["public_key"] != shown["public_key"]


def test_result_push_key_without_a_key_points_at_keygen(pnyx: Pnyx) -> None:
    line = pnyx.fails("result", "push-key", "--dev-account", "1", "--sms", "http://127.0.0.1:9")

    assert "run `pnyx result keygen`" in line


def test_sms_commands_without_an_sms_say_how_to_name_one(pnyx: Pnyx, tmp_path: Path) -> None:
    (tmp_path / "k.key").write_text("0x" + "11" * 32 + "\n")

    line = pnyx.fails(
        "dataset", "push-secret", DEV_ACCOUNT_0, "--key-file", "k.key", "--dev-account", "0"
    )

    assert "no SMS: pass --sms URL" in line


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (("dataset", "push-secret"), "--key-file"),
        (("dataset", "check-secret"), "--sms"),
        (("result", "push-key"), "--replace"),
        (("result", "get"), "--decrypt"),
        (("run",), "--decrypt"),
    ],
)
def test_confidential_commands_have_help(command: tuple[str, ...], expected: str) -> None:
    done = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})

    assert done.exit_code == 0, done.output
    assert expected in done.output
