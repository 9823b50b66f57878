"""WasmSandbox: the wordcount app's results, confinement to /iexec_in and /iexec_out, and every
way a run can end (crash, fuel, wall clock, memory, invalid module)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import wasmtime

from pnyx.errors import PnyxInputError
from pnyx.services.worker.sandbox import ExitCause, Limits, RunOutcome, RunSpec, WasmSandbox

pytestmark = pytest.mark.unit

WORDCOUNT = Path(__file__).resolve().parents[2] / "apps" / "wordcount-wasm" / "wordcount.wasm"
COMPUTED = {"deterministic-output-path": "/iexec_out/result.json"}

# path_open(fd, dirflags, path, path_len, oflags, rights_base, rights_inheriting, fdflags, &fd);
# the module exits with the errno it returns (0 = the open succeeded).
PATH_OPEN_WAT = """
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "{path}")
  (func (export "_start")
    (call $proc_exit
      (call $path_open (i32.const {fd}) (i32.const 0) (i32.const 16) (i32.const {length})
        (i32.const {oflags}) (i64.const {rights}) (i64.const 0) (i32.const 0) (i32.const 8)))))
"""
FD_IN, FD_OUT = 3, 4  # preopens in the order the sandbox declares them
RIGHT_READ, RIGHT_WRITE = 2, 64
O_CREAT, O_TRUNC = 1, 8
ERRNO_PERM = 63  # WASI preview1 errno for "operation not permitted"


@pytest.fixture(scope="module")
def sandbox() -> WasmSandbox:
    return WasmSandbox()


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    input_dir, output_dir = tmp_path / "iexec_in", tmp_path / "iexec_out"
    input_dir.mkdir()
    output_dir.mkdir()
    return input_dir, output_dir


def run(
    sandbox: WasmSandbox,
    folders: tuple[Path, Path],
    *args: str,
    app: Path = WORDCOUNT,
    env: dict[str, str] | None = None,
    **limits: Any,
) -> RunOutcome:
    spec = RunSpec(app, args, env or {}, folders[0], folders[1], Limits(**limits))
    return sandbox.run(spec)


def path_open_module(tmp_path: Path, path: str, *, fd: int, oflags: int, rights: int) -> Path:
    wat = PATH_OPEN_WAT.format(path=path, length=len(path), fd=fd, oflags=oflags, rights=rights)
    module = tmp_path / "probe.wasm"
    module.write_bytes(wasmtime.wat2wasm(wat))
    return module


def test_run_counts_words_when_given_args(sandbox: WasmSandbox, folders: tuple[Path, Path]) -> None:
    outcome = run(sandbox, folders, "the cat", "The  DOG", "sat")

    assert (outcome.cause, outcome.exit_code) == (ExitCause.SUCCESS, 0)
    assert outcome.stdout == b"wordcount: 5 words, 4 distinct\n"
    expected = {"counts": {"cat": 1, "dog": 1, "sat": 1, "the": 2}, "words": 5}
    result = (folders[1] / "result.json").read_text()
    assert result == json.dumps(expected, sort_keys=True, ensure_ascii=False) + "\n"
    assert json.loads((folders[1] / "computed.json").read_text()) == COMPUTED
    assert outcome.fuel_used is not None and outcome.fuel_used > 0


def test_run_counts_dataset_words_when_dataset_filename_set(
    sandbox: WasmSandbox, folders: tuple[Path, Path]
) -> None:
    (folders[0] / "text.txt").write_text('Hello world\n\thello "quoted" café\n')

    outcome = run(sandbox, folders, "world", env={"IEXEC_DATASET_FILENAME": "text.txt"})

    assert outcome.cause == ExitCause.SUCCESS
    counts = {'"quoted"': 1, "café": 1, "hello": 2, "world": 2}
    expected = json.dumps({"counts": counts, "words": 6}, sort_keys=True, ensure_ascii=False)
    assert (folders[1] / "result.json").read_text(encoding="utf-8") == expected + "\n"


def test_run_fails_when_dataset_missing(sandbox: WasmSandbox, folders: tuple[Path, Path]) -> None:
    outcome = run(sandbox, folders, env={"IEXEC_DATASET_FILENAME": "absent.txt"})

    assert (outcome.cause, outcome.exit_code) == (ExitCause.APP_FAILED, 1)
    assert b"/iexec_in/absent.txt" in outcome.stderr


def test_run_reports_app_failure_when_app_crashes(
    sandbox: WasmSandbox, folders: tuple[Path, Path]
) -> None:
    outcome = run(sandbox, folders, "--crash")

    assert (outcome.cause, outcome.exit_code) == (ExitCause.APP_FAILED, 3)
    assert outcome.stderr == b"crashing on purpose\n"
    assert list(folders[1].iterdir()) == []


def test_run_stops_out_of_fuel_when_app_spins(
    sandbox: WasmSandbox, folders: tuple[Path, Path]
) -> None:
    outcome = run(sandbox, folders, "--spin", fuel=5_000_000)

    assert (outcome.cause, outcome.exit_code) == (ExitCause.OUT_OF_FUEL, None)
    assert outcome.fuel_used == 5_000_000


def test_run_times_out_when_app_spins_without_fuel_limit(
    sandbox: WasmSandbox, folders: tuple[Path, Path]
) -> None:
    started = time.monotonic()
    outcome = run(sandbox, folders, "--spin", fuel=None, wall_clock_s=1.0)

    assert (outcome.cause, outcome.exit_code) == (ExitCause.TIMEOUT, None)
    assert 1.0 <= outcome.duration_s < 2.0
    assert time.monotonic() - started < 3.0


def test_run_reports_out_of_memory_when_app_allocates_past_limit(
    sandbox: WasmSandbox, folders: tuple[Path, Path]
) -> None:
    # wasmtime refuses memory.grow (malloc returns NULL, the app exits 4) rather than trapping;
    # the sandbox reads "failed with its memory at the limit" as OUT_OF_MEMORY.
    outcome = run(sandbox, folders, "--alloc", memory_mb=16)

    assert (outcome.cause, outcome.exit_code) == (ExitCause.OUT_OF_MEMORY, 4)
    assert b"out of memory after 15 MiB" in outcome.stderr


def test_run_reports_out_of_memory_when_declared_minimum_exceeds_limit(
    sandbox: WasmSandbox, folders: tuple[Path, Path], tmp_path: Path
) -> None:
    app = tmp_path / "big.wasm"
    app.write_bytes(wasmtime.wat2wasm('(module (memory 64) (func (export "_start")))'))

    outcome = run(sandbox, folders, app=app, memory_mb=1)

    assert outcome.cause == ExitCause.OUT_OF_MEMORY


def test_run_reports_app_failure_when_app_traps(
    sandbox: WasmSandbox, folders: tuple[Path, Path], tmp_path: Path
) -> None:
    app = tmp_path / "trap.wasm"
    app.write_bytes(wasmtime.wat2wasm('(module (memory 1) (func (export "_start") unreachable))'))

    outcome = run(sandbox, folders, app=app)

    assert (outcome.cause, outcome.exit_code) == (ExitCause.APP_FAILED, None)
    assert b"unreachable" in outcome.stderr


@pytest.mark.parametrize(
    "wasm",
    [b"\x00asm garbage", b"not a module", wasmtime.wat2wasm('(module (import "env" "f" (func)))')],
    ids=["bad-binary", "text", "unknown-import"],
)
def test_run_reports_invalid_app_when_module_cannot_load(
    sandbox: WasmSandbox, folders: tuple[Path, Path], tmp_path: Path, wasm: bytes
) -> None:
    app = tmp_path / "garbage.wasm"
    app.write_bytes(wasm)

    outcome = run(sandbox, folders, app=app)

    assert (outcome.cause, outcome.exit_code, outcome.fuel_used) == (
        ExitCause.INVALID_APP,
        None,
        None,
    )
    assert outcome.stderr


def test_run_uses_same_fuel_when_repeated(sandbox: WasmSandbox, tmp_path: Path) -> None:
    fuel = []
    for name in ("first", "second"):
        input_dir, output_dir = tmp_path / name / "in", tmp_path / name / "out"
        input_dir.mkdir(parents=True)
        output_dir.mkdir()
        (input_dir / "text.txt").write_text("a b c a b a\n" * 100)
        env = {"IEXEC_DATASET_FILENAME": "text.txt"}
        fuel.append(run(sandbox, (input_dir, output_dir), "x", env=env).fuel_used)

    assert fuel[0] == fuel[1]
    # A fresh sandbox (fresh engine, fresh compile) counts the same.
    fresh = WasmSandbox().run(
        RunSpec(WORDCOUNT, ("x",), env, input_dir, output_dir, Limits())  # same folders again
    )
    assert fresh.fuel_used == fuel[0]


@pytest.mark.parametrize(
    ("path", "fd"),
    [("../../../../../../etc/passwd", FD_IN), ("/etc/passwd", FD_IN), ("..", FD_OUT)],
    ids=["dotdot", "absolute", "parent"],
)
def test_path_open_fails_when_outside_preopens(
    sandbox: WasmSandbox, folders: tuple[Path, Path], tmp_path: Path, path: str, fd: int
) -> None:
    app = path_open_module(tmp_path, path, fd=fd, oflags=0, rights=RIGHT_READ)

    outcome = run(sandbox, folders, app=app)

    assert (outcome.cause, outcome.exit_code) == (ExitCause.APP_FAILED, ERRNO_PERM)


def test_path_open_succeeds_when_reading_input(
    sandbox: WasmSandbox, folders: tuple[Path, Path], tmp_path: Path
) -> None:
    (folders[0] / "data.txt").write_text("x")
    app = path_open_module(tmp_path, "data.txt", fd=FD_IN, oflags=0, rights=RIGHT_READ)

    assert run(sandbox, folders, app=app).cause == ExitCause.SUCCESS


@pytest.mark.parametrize(
    ("name", "oflags", "rights"),
    [("new.txt", O_CREAT, RIGHT_WRITE), ("data.txt", 0, RIGHT_WRITE), ("data.txt", O_TRUNC, 0)],
    ids=["create", "write-existing", "truncate"],
)
def test_path_open_fails_when_writing_input(
    sandbox: WasmSandbox,
    folders: tuple[Path, Path],
    tmp_path: Path,
    name: str,
    oflags: int,
    rights: int,
) -> None:
    (folders[0] / "data.txt").write_text("original")
    app = path_open_module(tmp_path, name, fd=FD_IN, oflags=oflags, rights=rights)

    outcome = run(sandbox, folders, app=app)

    assert (outcome.cause, outcome.exit_code) == (ExitCause.APP_FAILED, ERRNO_PERM)
    assert sorted(p.name for p in folders[0].iterdir()) == ["data.txt"]
    assert (folders[0] / "data.txt").read_text() == "original"


def test_path_open_succeeds_when_creating_output(
    sandbox: WasmSandbox, folders: tuple[Path, Path], tmp_path: Path
) -> None:
    app = path_open_module(tmp_path, "new.txt", fd=FD_OUT, oflags=O_CREAT, rights=RIGHT_WRITE)

    assert run(sandbox, folders, app=app).cause == ExitCause.SUCCESS
    assert (folders[1] / "new.txt").exists()


def test_run_keeps_log_tail_when_output_exceeds_cap(
    sandbox: WasmSandbox, folders: tuple[Path, Path]
) -> None:
    outcome = run(sandbox, folders, "--crash", max_log_bytes=8)

    assert outcome.stderr == b"purpose\n"


@pytest.mark.parametrize("missing", ["app", "input_dir", "output_dir"])
def test_run_raises_input_error_when_spec_path_missing(
    sandbox: WasmSandbox, folders: tuple[Path, Path], tmp_path: Path, missing: str
) -> None:
    paths = {"app": WORDCOUNT, "input_dir": folders[0], "output_dir": folders[1]}
    paths[missing] = tmp_path / "absent"

    with pytest.raises(PnyxInputError):
        sandbox.run(RunSpec(args=(), env={}, limits=Limits(), **paths))
