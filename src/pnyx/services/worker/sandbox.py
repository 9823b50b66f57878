"""Sandboxes that run one app on one task's inputs, under limits, and say how it ended.

`WasmSandbox` (wasmtime, WASI) confines the guest to its two folders with deterministic fuel: for
untrusted apps and replicated tasks. `ProcessSandbox` runs native apps with rlimits and a clean
environment but no file-system isolation: for apps the workerpool trusts. The app contract is
iExec's (`IEXEC_IN`, `IEXEC_OUT`, `computed.json`); app misbehaviour is an outcome, not an error.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import wasmtime

from pnyx.errors import PnyxInputError

MIB = 1 << 20
GUEST_IN = "/iexec_in"
GUEST_OUT = "/iexec_out"


class ExitCause(StrEnum):
    SUCCESS = "SUCCESS"
    APP_FAILED = "APP_FAILED"  # non-zero exit, or a trap not listed below
    TIMEOUT = "TIMEOUT"  # wall clock (or CPU time for a process)
    OUT_OF_FUEL = "OUT_OF_FUEL"
    OUT_OF_MEMORY = "OUT_OF_MEMORY"
    INVALID_APP = "INVALID_APP"  # cannot be loaded or started


@dataclass(frozen=True)
class Limits:
    wall_clock_s: float = 60.0
    memory_mb: int = 256
    fuel: int | None = 20_000_000_000  # WASM only; None = unmetered (still counted)
    cpu_s: float | None = None  # process only; None = wall_clock_s
    max_log_bytes: int = 64 * 1024

    def __post_init__(self) -> None:
        optional = [x for x in (self.fuel, self.cpu_s) if x is not None]
        if min(self.wall_clock_s, self.memory_mb, *optional) <= 0 or self.max_log_bytes < 0:
            raise PnyxInputError(f"limits out of range: {self}")


@dataclass(frozen=True)
class RunSpec:
    app: Path
    args: tuple[str, ...]
    env: dict[str, str]  # IEXEC_* variables; the sandbox sets IEXEC_IN and IEXEC_OUT itself
    input_dir: Path
    output_dir: Path
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class RunOutcome:
    cause: ExitCause
    exit_code: int | None  # None: WASM trap or never started; negative: killed by that signal
    stdout: bytes  # tails, at most limits.max_log_bytes each
    stderr: bytes
    duration_s: float  # from start to exit, not counting WASM compilation
    fuel_used: int | None  # WASM only; None for a timeout (wasmtime does not flush the count)


class Sandbox(ABC):
    """Runs an app once on a task's input folder and reports how it ended.

    Implementations are named for their isolation (`WasmSandbox`, `ProcessSandbox`); the worker
    gets the one for an app type from `sandbox_for`. `run` is safe to call from several threads
    at once, and may cache what it compiles, so one instance serves a whole worker.
    """

    name: str

    @abstractmethod
    def run(self, spec: RunSpec) -> RunOutcome:
        """Runs `spec.app` with `spec.args` until it exits or hits a limit.

        Args:
            spec: The app file, its arguments and `IEXEC_*` variables, the input folder (the app
                may only read it) and the output folder (where it writes its result and
                `computed.json`), and the limits to enforce.

        Returns:
            How the run ended. A crash, timeout, exhausted fuel or memory, or an app that cannot
            be loaded is an outcome (`ExitCause`), so the worker can still contribute an error
            result.

        Raises:
            PnyxInputError: The spec itself is wrong (app file or a folder missing, a variable
                name or argument that cannot be passed to a program).
        """


def _check_spec(spec: RunSpec) -> None:
    if not spec.app.is_file():
        raise PnyxInputError(f"app file not found: {spec.app}")
    if not (spec.input_dir.is_dir() and spec.output_dir.is_dir()):
        raise PnyxInputError(f"folder not found: {spec.input_dir} or {spec.output_dir}")
    texts = (*spec.args, *spec.env.keys(), *spec.env.values())
    if any("\0" in text for text in texts) or any(not k or "=" in k for k in spec.env):
        raise PnyxInputError("an argument or variable cannot be passed to a program (NUL or =)")


def _read_tail(path: Path, limit: int) -> bytes:
    with path.open("rb") as f:
        f.seek(max(0, f.seek(0, os.SEEK_END) - limit))
        return f.read(limit)


class _EpochTicker:
    """Advances the engine's epoch every `period_s` while any run is active.

    One shared clock per engine, not a timer per run: an increment reaches every store of the
    engine, so a per-run timer would cut other runs short. Runs set deadlines in its ticks.
    """

    def __init__(self, engine: wasmtime.Engine, period_s: float = 0.05) -> None:
        self._engine, self._period_s = engine, period_s
        self._lock = threading.Lock()
        self._users = 0
        self._thread: threading.Thread | None = None

    def ticks_for(self, seconds: float) -> int:
        return math.ceil(seconds / self._period_s) + 1  # +1: the current tick is partly gone

    def __enter__(self) -> None:
        with self._lock:
            self._users += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._tick, name="epoch-ticker", daemon=True)
                self._thread.start()

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self._users -= 1

    def _tick(self) -> None:
        while True:
            time.sleep(self._period_s)
            with self._lock:
                if self._users == 0:
                    self._thread = None
                    return
            self._engine.increment_epoch()


_TRAP_CAUSES: dict[wasmtime.TrapCode | None, ExitCause] = {
    wasmtime.TrapCode.OUT_OF_FUEL: ExitCause.OUT_OF_FUEL,
    wasmtime.TrapCode.INTERRUPT: ExitCause.TIMEOUT,  # epoch deadline passed
}


class WasmSandbox(Sandbox):
    """Runs a WASI preview1 command module under wasmtime with fuel, memory and time limits.

    The guest sees `/iexec_in` (read-only) and `/iexec_out` (read-write), nothing else of the file
    system, and no network (WASI preview1 has no sockets). argv is (app file name, *args); env is
    `spec.env` plus IEXEC_IN=/iexec_in, IEXEC_OUT=/iexec_out. Fuel use is deterministic.

    wasmtime refuses `memory.grow` past the store limit (malloc returns NULL) instead of trapping,
    so a guest that fails while within `max(1 MiB, limit/16)` of the limit is OUT_OF_MEMORY; one
    huge allocation refused far below the limit stays APP_FAILED. Logs go to files (wasmtime's
    Python output callbacks make the process panic at exit), bounded only by fuel and time.
    """

    name = "wasm"

    def __init__(self, *, max_cached_modules: int = 32) -> None:
        config = wasmtime.Config()
        config.consume_fuel = True
        config.epoch_interruption = True
        self._engine = wasmtime.Engine(config)
        self._ticker = _EpochTicker(self._engine)
        self._modules: OrderedDict[str, wasmtime.Module] = OrderedDict()
        self._modules_lock = threading.Lock()
        self._max_cached_modules = max_cached_modules

    def run(self, spec: RunSpec) -> RunOutcome:
        _check_spec(spec)
        limits = spec.limits
        try:
            module = self._load(spec.app)
        except wasmtime.WasmtimeError as exc:
            message = f"invalid WASM module: {exc}\n".encode()[-limits.max_log_bytes :]
            return RunOutcome(ExitCause.INVALID_APP, None, b"", message, 0.0, None)
        fuel = limits.fuel if limits.fuel is not None else 2**63 - 1
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="pnyx-wasm-") as tmp, self._ticker:
            logs = Path(tmp)
            wasi = wasmtime.WasiConfig()
            wasi.argv = [spec.app.name, *spec.args]
            wasi.env = [*spec.env.items(), ("IEXEC_IN", GUEST_IN), ("IEXEC_OUT", GUEST_OUT)]
            # Preopen order fixes the guest fds: 3 = /iexec_in, 4 = /iexec_out.
            wasi.preopen_dir(str(spec.input_dir), GUEST_IN, fs_mutable=False)
            wasi.preopen_dir(str(spec.output_dir), GUEST_OUT, fs_mutable=True)
            wasi.stdout_file = str(logs / "stdout")
            wasi.stderr_file = str(logs / "stderr")
            store = wasmtime.Store(self._engine)
            store.set_limits(memory_size=limits.memory_mb * MIB)
            store.set_fuel(fuel)
            store.set_wasi(wasi)
            store.set_epoch_deadline(self._ticker.ticks_for(limits.wall_clock_s))
            cause, code, note = self._execute(store, module, limits.memory_mb * MIB)
            # After an epoch interrupt wasmtime has not flushed the fuel counter: unknown.
            unknown = cause in (ExitCause.TIMEOUT, ExitCause.INVALID_APP)
            fuel_used = None if unknown else fuel - store.get_fuel()
            stdout = _read_tail(logs / "stdout", limits.max_log_bytes)
            stderr = _read_tail(logs / "stderr", limits.max_log_bytes)
        if note:
            stderr = (stderr + note.encode() + b"\n")[-limits.max_log_bytes :]
        duration_s = time.monotonic() - started
        return RunOutcome(cause, code, stdout, stderr, duration_s, fuel_used)

    def _load(self, app: Path) -> wasmtime.Module:
        wasm = app.read_bytes()
        digest = hashlib.sha256(wasm).hexdigest()
        # Compile under the lock: runs that start together wait for one compile of their module
        # (the slow part, itself parallel) instead of each compiling it on the same cores.
        with self._modules_lock:
            if digest in self._modules:
                self._modules.move_to_end(digest)
                return self._modules[digest]
            module = wasmtime.Module(self._engine, wasm)
            self._modules[digest] = module
            while len(self._modules) > self._max_cached_modules:
                self._modules.popitem(last=False)
        return module

    def _execute(
        self, store: wasmtime.Store, module: wasmtime.Module, memory_limit: int
    ) -> tuple[ExitCause, int | None, str]:
        linker = wasmtime.Linker(self._engine)
        linker.define_wasi()
        try:
            instance = linker.instantiate(store, module)
        except wasmtime.Trap as trap:  # in a start function
            return _TRAP_CAUSES.get(trap.trap_code, ExitCause.APP_FAILED), None, _trap_reason(trap)
        except wasmtime.WasmtimeError as exc:
            if "exceeds memory limits" in str(exc):  # a declared minimum above the limit
                return ExitCause.OUT_OF_MEMORY, None, str(exc)
            return ExitCause.INVALID_APP, None, f"cannot instantiate: {exc}"
        start = instance.exports(store).get("_start")
        if not isinstance(start, wasmtime.Func):
            return ExitCause.INVALID_APP, None, "module has no _start function (not a command)"
        try:
            start(store)
            return ExitCause.SUCCESS, 0, ""  # main returned 0: wasi-libc skips proc_exit
        except wasmtime.ExitTrap as exit_trap:  # proc_exit(n)
            if exit_trap.code == 0:
                return ExitCause.SUCCESS, 0, ""
            return _memory_cause(store, instance, memory_limit), exit_trap.code, ""
        except wasmtime.Trap as trap:
            cause = _TRAP_CAUSES.get(trap.trap_code, ExitCause.APP_FAILED)
            if cause is ExitCause.APP_FAILED:
                cause = _memory_cause(store, instance, memory_limit)
            return cause, None, _trap_reason(trap)
        except wasmtime.WasmtimeError as exc:  # a host (WASI) error that ended the call
            return ExitCause.APP_FAILED, None, str(exc)


def _trap_reason(trap: wasmtime.Trap) -> str:
    # The message is a backtrace whose last line names the trap ("wasm trap: ...").
    lines = [line.strip() for line in trap.message.splitlines() if line.strip()]
    return lines[-1] if lines else "wasm trap"


def _memory_cause(store: wasmtime.Store, instance: wasmtime.Instance, limit: int) -> ExitCause:
    used = sum(
        extern.data_len(store)
        for extern in instance.exports(store).values()
        if isinstance(extern, wasmtime.Memory)
    )
    return ExitCause.OUT_OF_MEMORY if limit - used < max(MIB, limit // 16) else ExitCause.APP_FAILED


_OOM_MARKERS = (b"MemoryError", b"Cannot allocate memory", b"std::bad_alloc")
_MAX_FILE_BYTES = 1 << 30  # RLIMIT_FSIZE: no single file (log or output) above 1 GiB
_MAX_OPEN_FILES = 256


class ProcessSandbox(Sandbox):
    """Runs a native app as a child process, under rlimits, in a clean environment.

    Python apps (`python=True`, or a `.py` file when `python` is None) run as
    `<this interpreter> -I -S app *args`: isolated, no site-packages, so standard library only.
    Other files are executed directly (they need the exec bit). The child gets rlimits (address
    space = memory_mb, CPU seconds, file size, open files, no core dumps), its own session (the
    group is killed on timeout and after exit), stdin /dev/null, and a private temp folder as cwd,
    HOME and TMPDIR, deleted after the run. Its environment is `spec.env` plus PATH, LANG, HOME,
    TMPDIR and IEXEC_IN/IEXEC_OUT (host paths), which win over `spec.env`.

    It hides neither the file system nor the network, and a child that calls setsid escapes the
    group kill: use WasmSandbox for untrusted code.
    """

    name = "process"

    def __init__(self, *, python: bool | None = None) -> None:
        self._python = python

    def run(self, spec: RunSpec) -> RunOutcome:
        _check_spec(spec)
        limits = spec.limits
        app = spec.app.resolve()
        python = self._python if self._python is not None else app.suffix == ".py"
        argv = [sys.executable, "-I", "-S", str(app)] if python else [str(app)]
        run_dir = Path(tempfile.mkdtemp(prefix="pnyx-proc-"))
        try:
            home = run_dir / "home"
            home.mkdir()
            env = {**spec.env, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
            env.update(HOME=str(home), TMPDIR=str(home), IEXEC_IN=str(spec.input_dir.resolve()))
            env.update(IEXEC_OUT=str(spec.output_dir.resolve()))
            with (run_dir / "stdout").open("wb") as out, (run_dir / "stderr").open("wb") as err:
                started = time.monotonic()
                try:
                    proc = subprocess.Popen(
                        [*argv, *spec.args],
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=err,
                        cwd=home,
                        env=env,
                        start_new_session=True,
                        preexec_fn=_rlimit_setter(limits),
                    )
                except OSError as exc:  # not executable, bad format, interpreter missing
                    message = f"cannot start app: {exc}\n".encode()[-limits.max_log_bytes :]
                    return RunOutcome(ExitCause.INVALID_APP, None, b"", message, 0.0, None)
                timed_out, status, cpu_s = _wait(proc, limits.wall_clock_s)
                duration_s = time.monotonic() - started
            stdout = _read_tail(run_dir / "stdout", limits.max_log_bytes)
            stderr = _read_tail(run_dir / "stderr", limits.max_log_bytes)
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
        cause = _process_cause(status, timed_out, cpu_s, _cpu_limit(limits), stderr)
        return RunOutcome(cause, status, stdout, stderr, duration_s, None)


def _cpu_limit(limits: Limits) -> int:
    return math.ceil(limits.cpu_s if limits.cpu_s is not None else limits.wall_clock_s)


def _rlimit_setter(limits: Limits) -> Callable[[], None]:
    memory, cpu = limits.memory_mb * MIB, _cpu_limit(limits)
    wanted = [
        (resource.RLIMIT_AS, memory, memory),
        (resource.RLIMIT_CPU, cpu, cpu + 1),  # SIGXCPU at the soft limit, SIGKILL 1 s later
        (resource.RLIMIT_FSIZE, _MAX_FILE_BYTES, _MAX_FILE_BYTES),
        (resource.RLIMIT_NOFILE, _MAX_OPEN_FILES, _MAX_OPEN_FILES),
        (resource.RLIMIT_CORE, 0, 0),
    ]
    clamped = [(key, _clamp(key, soft), _clamp(key, hard)) for key, soft, hard in wanted]

    def set_limits() -> None:  # in the child between fork and exec: setrlimit calls only
        for key, soft, hard in clamped:
            resource.setrlimit(key, (soft, hard))

    return set_limits


def _clamp(key: int, value: int) -> int:
    # Never above the worker's own hard limit: raising it would fail in the child.
    hard = resource.getrlimit(key)[1]
    return value if hard == resource.RLIM_INFINITY else min(value, hard)


def _wait(proc: subprocess.Popen[bytes], wall_clock_s: float) -> tuple[bool, int, float]:
    """Waits for the app, kills its process group, reaps it; returns (timed out, code, CPU s)."""
    deadline = time.monotonic() + wall_clock_s
    timed_out, delay = False, 0.001
    # WNOWAIT leaves the exited leader a zombie, so its pid (= the group id) cannot be reused
    # before the group kill below.
    flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
    try:
        while os.waitid(os.P_PID, proc.pid, flags) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.05)
    finally:  # children left behind go too, on success and if the worker is interrupted
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return timed_out, proc.returncode, usage.ru_utime + usage.ru_stime


def _process_cause(
    code: int, timed_out: bool, cpu_s: float, cpu_limit: int, stderr: bytes
) -> ExitCause:
    if code == 0:
        return ExitCause.SUCCESS
    if timed_out or code == -signal.SIGXCPU or (code == -signal.SIGKILL and cpu_s >= cpu_limit):
        return ExitCause.TIMEOUT
    if any(marker in stderr for marker in _OOM_MARKERS):
        return ExitCause.OUT_OF_MEMORY
    return ExitCause.APP_FAILED


@functools.cache
def sandbox_for(app_type: str) -> Sandbox:
    """Returns the sandbox for an app type as registered ("WASM", "PYTHON" or "BINARY").

    One shared instance per type (sandboxes are thread-safe), so the WASM module cache lasts as
    long as the process. PYTHON apps run with the interpreter whatever their file name (the
    worker's cache names files by checksum); BINARY apps are executed directly.

    Raises:
        PnyxInputError: The type is none of those.
    """
    if app_type == "WASM":
        return WasmSandbox()
    if app_type in ("PYTHON", "BINARY"):
        return ProcessSandbox(python=app_type == "PYTHON")
    raise PnyxInputError(f"unknown app type {app_type!r}; expected WASM, PYTHON or BINARY")
