"""ProcessSandbox: the stats app's results, the clean environment, rlimits, the process-group kill
on timeout, and capped logs."""

from __future__ import annotations

import json
import os
import stat
import statistics
import time
from pathlib import Path
from typing import Any

import pytest

from pnyx.errors import PnyxInputError
from pnyx.services.worker.sandbox import (
    ExitCause,
    Limits,
    ProcessSandbox,
    RunOutcome,
    RunSpec,
    sandbox_for,
)

pytestmark = pytest.mark.unit

STATS = Path(__file__).resolve().parents[2] / "apps" / "stats-python" / "app.py"
COMPUTED = {"deterministic-output-path": "/iexec_out/result.json"}


@pytest.fixture(scope="module")
def sandbox() -> ProcessSandbox:
    return ProcessSandbox()


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    input_dir, output_dir = tmp_path / "iexec_in", tmp_path / "iexec_out"
    input_dir.mkdir()
    output_dir.mkdir()
    return input_dir, output_dir


def run(
    sandbox: ProcessSandbox,
    folders: tuple[Path, Path],
    *args: str,
    app: Path = STATS,
    env: dict[str, str] | None = None,
    **limits: Any,
) -> RunOutcome:
    spec = RunSpec(app, args, env or {}, folders[0], folders[1], Limits(**limits))
    return sandbox.run(spec)


def script(tmp_path: Path, source: str, name: str = "app.py") -> Path:
    path = tmp_path / name
    path.write_text(source)
    return path


def is_gone(pid: int) -> bool:
    """True when the process no longer exists or is a zombie (it holds nothing but a pid)."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat_line.rsplit(")", 1)[1].split()[0] == "Z"


def test_run_summarizes_numbers_when_given_args_and_dataset(
    sandbox: ProcessSandbox, folders: tuple[Path, Path]
) -> None:
    (folders[0] / "numbers.csv").write_text("# a comment\n1.5,2\n\n10, -3\n")

    outcome = run(sandbox, folders, "4", "5,6", env={"IEXEC_DATASET_FILENAME": "numbers.csv"})

    assert (outcome.cause, outcome.exit_code) == (ExitCause.SUCCESS, 0)
    numbers = [4.0, 5.0, 6.0, 1.5, 2.0, 10.0, -3.0]
    expected = {
        "count": 7,
        "sum": 25.5,
        "mean": round(25.5 / 7, 6),
        "median": statistics.median(numbers),
        "min": -3.0,
        "max": 10.0,
    }
    assert (folders[1] / "result.json").read_text() == json.dumps(expected, sort_keys=True) + "\n"
    assert json.loads((folders[1] / "computed.json").read_text()) == COMPUTED
    assert outcome.stdout == f"stats: 7 numbers, mean {expected['mean']}\n".encode()
    assert outcome.fuel_used is None


def test_run_fails_when_dataset_has_text(
    sandbox: ProcessSandbox, folders: tuple[Path, Path]
) -> None:
    (folders[0] / "numbers.csv").write_text("1,two\n")

    outcome = run(sandbox, folders, env={"IEXEC_DATASET_FILENAME": "numbers.csv"})

    assert (outcome.cause, outcome.exit_code) == (ExitCause.APP_FAILED, 1)
    assert b"numbers.csv:1: not a number: 'two'" in outcome.stderr


def test_run_reports_app_failure_when_app_crashes(
    sandbox: ProcessSandbox, folders: tuple[Path, Path]
) -> None:
    outcome = run(sandbox, folders, "1", "--crash")

    assert (outcome.cause, outcome.exit_code) == (ExitCause.APP_FAILED, 3)
    assert outcome.stderr == b"crashing on purpose\n"
    assert list(folders[1].iterdir()) == []


def test_run_kills_process_group_when_wall_clock_exceeded(
    sandbox: ProcessSandbox, folders: tuple[Path, Path], tmp_path: Path
) -> None:
    app = script(
        tmp_path,
        "import json, os, subprocess, time\n"
        "child = subprocess.Popen(['sleep', '60'])\n"
        "pids = {'leader': os.getpid(), 'pgid': os.getpgid(0), 'child': child.pid}\n"
        "open(os.path.join(os.environ['IEXEC_OUT'], 'pids.json'), 'w').write(json.dumps(pids))\n"
        "time.sleep(60)\n",
    )

    started = time.monotonic()
    outcome = run(sandbox, folders, app=app, wall_clock_s=1.0)

    assert outcome.cause == ExitCause.TIMEOUT
    assert outcome.exit_code == -9
    assert 1.0 <= outcome.duration_s < 2.0
    assert time.monotonic() - started < 3.0
    pids = json.loads((folders[1] / "pids.json").read_text())
    assert pids["pgid"] == pids["leader"]  # its own process group, so the group kill is complete
    deadline = time.monotonic() + 2.0
    while not (is_gone(pids["leader"]) and is_gone(pids["child"])) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert is_gone(pids["leader"]) and is_gone(pids["child"])


def test_run_times_out_when_cpu_limit_exceeded(
    sandbox: ProcessSandbox, folders: tuple[Path, Path], tmp_path: Path
) -> None:
    app = script(tmp_path, "while True:\n    pass\n")

    outcome = run(sandbox, folders, app=app, wall_clock_s=10.0, cpu_s=1.0)

    assert outcome.cause == ExitCause.TIMEOUT
    assert outcome.duration_s < 5.0


def test_run_passes_clean_environment(
    sandbox: ProcessSandbox,
    folders: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PNYX_WORKER_PRIVATE_KEY", "0xsecret")
    monkeypatch.setenv("VIRTUAL_ENV", "/somewhere/.venv")
    app = script(
        tmp_path,
        "import importlib.util, json, os, sys\n"
        "facts = {'env': dict(os.environ), 'cwd': os.getcwd(), 'path': sys.path,\n"
        "         'wasmtime': importlib.util.find_spec('wasmtime') is not None}\n"
        "open(os.path.join(os.environ['IEXEC_OUT'], 'facts.json'), 'w').write(json.dumps(facts))\n",
    )

    outcome = run(sandbox, folders, app=app, env={"IEXEC_TASK_ID": "0x12", "HOME": "/root"})

    assert outcome.cause == ExitCause.SUCCESS, outcome.stderr
    facts = json.loads((folders[1] / "facts.json").read_text())
    env = facts["env"]
    assert sorted(env) == [
        "HOME",
        "IEXEC_IN",
        "IEXEC_OUT",
        "IEXEC_TASK_ID",
        "LANG",
        "PATH",
        "TMPDIR",
    ]
    assert env["IEXEC_TASK_ID"] == "0x12"
    assert (env["IEXEC_IN"], env["IEXEC_OUT"]) == (str(folders[0]), str(folders[1]))
    assert env["PATH"] == "/usr/bin:/bin"
    assert env["HOME"] == env["TMPDIR"] == facts["cwd"] != os.environ.get("HOME")
    assert not Path(env["HOME"]).exists()  # the private folder is deleted after the run
    assert facts["wasmtime"] is False  # -I -S: no site-packages
    assert not any("site-packages" in entry for entry in facts["path"])


def test_run_reports_out_of_memory_when_app_exceeds_memory_limit(
    sandbox: ProcessSandbox, folders: tuple[Path, Path], tmp_path: Path
) -> None:
    app = script(tmp_path, "block = bytearray(512 << 20)\n")

    outcome = run(sandbox, folders, app=app, memory_mb=128)

    assert (outcome.cause, outcome.exit_code) == (ExitCause.OUT_OF_MEMORY, 1)
    assert b"MemoryError" in outcome.stderr


def test_run_keeps_log_tail_when_output_exceeds_cap(
    sandbox: ProcessSandbox, folders: tuple[Path, Path], tmp_path: Path
) -> None:
    app = script(
        tmp_path,
        "import sys\n"
        "sys.stdout.write('x' * 100_000 + 'END')\n"
        "sys.stderr.write('e' * 5_000 + 'TAIL')\n",
    )

    outcome = run(sandbox, folders, app=app, max_log_bytes=1024)

    assert outcome.cause == ExitCause.SUCCESS
    assert outcome.stdout == b"x" * 1021 + b"END"
    assert outcome.stderr == b"e" * 1020 + b"TAIL"


def test_run_executes_binary_directly_when_not_python(
    sandbox: ProcessSandbox, folders: tuple[Path, Path], tmp_path: Path
) -> None:
    app = script(tmp_path, '#!/bin/sh\necho "$1" > "$IEXEC_OUT/out.txt"\nexit 7\n', "app.sh")
    app.chmod(app.stat().st_mode | stat.S_IXUSR)

    outcome = run(sandbox, folders, "hello", app=app)

    assert (outcome.cause, outcome.exit_code) == (ExitCause.APP_FAILED, 7)
    assert (folders[1] / "out.txt").read_text() == "hello\n"


def test_run_reports_invalid_app_when_binary_not_executable(
    sandbox: ProcessSandbox, folders: tuple[Path, Path], tmp_path: Path
) -> None:
    app = script(tmp_path, "\x7fELF garbage", "app.bin")

    outcome = run(sandbox, folders, app=app)

    assert (outcome.cause, outcome.exit_code) == (ExitCause.INVALID_APP, None)
    assert b"cannot start app" in outcome.stderr


@pytest.mark.parametrize(
    ("app_type", "kind"), [("WASM", "wasm"), ("PYTHON", "process"), ("BINARY", "process")]
)
def test_sandbox_for_returns_sandbox_when_type_known(app_type: str, kind: str) -> None:
    assert sandbox_for(app_type).name == kind
    assert sandbox_for(app_type) is sandbox_for(app_type)


def test_sandbox_for_raises_input_error_when_type_unknown() -> None:
    with pytest.raises(PnyxInputError, match="DOCKER"):
        sandbox_for("DOCKER")


def test_run_uses_interpreter_when_python_app_has_no_suffix(
    folders: tuple[Path, Path], tmp_path: Path
) -> None:
    # The worker's download cache names files by checksum, without ".py".
    app = script(tmp_path, "import sys\nsys.stdout.write('ran')\n", "0x" + "ab" * 32)

    outcome = sandbox_for("PYTHON").run(RunSpec(app, (), {}, folders[0], folders[1], Limits()))

    assert (outcome.cause, outcome.stdout) == (ExitCause.SUCCESS, b"ran")
