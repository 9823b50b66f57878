"""anvil as the embedded chain: started as a subprocess on 127.0.0.1 with a free port, and always
stopped by its PID (in `stop`, the context manager's exit, and at interpreter exit)."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType

from pnyx.config import CONTRACTS_DIR
from pnyx.errors import NodeStartError, ToolchainError

# anvil's well-known development mnemonic: its accounts are funded with 10 000 ETH each.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEFAULT_CHAIN_ID = 31337
_BINARY_IN_NODE_MODULES = Path("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")


def find_anvil() -> Path:
    """The anvil binary: `PNYX_CHAIN_ANVIL`, then contracts/node_modules, then PATH."""
    candidates = [os.environ.get("PNYX_CHAIN_ANVIL"), str(CONTRACTS_DIR / _BINARY_IN_NODE_MODULES)]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    raise ToolchainError(
        "anvil not found: run `make setup` (installs it under contracts/node_modules)"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class AnvilNode:
    """One anvil process. Use as a context manager, or call `start` and `stop`."""

    def __init__(
        self,
        *,
        port: int | None = None,
        chain_id: int = DEFAULT_CHAIN_ID,
        block_time_s: float | None = None,
        accounts: int = 10,
        balance_eth: int = 10_000,
        prune_history: bool = True,
    ) -> None:
        self.port = port or free_port()
        self.chain_id = chain_id
        self.block_time_s = block_time_s
        self.accounts = accounts
        self.balance_eth = balance_eth
        # Only gas-analysis tools turn pruning off: transaction traces need the old states.
        self.prune_history = prune_history
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="anvil-", suffix=".log", delete=False)  # noqa: SIM115

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout_s: float = 15.0) -> AnvilNode:
        command = [
            str(find_anvil()),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--accounts", str(self.accounts),
            "--balance", str(self.balance_eth),
            "--mnemonic", DEV_MNEMONIC,
            "--hardfork", "prague",
            "--silent",
        ]  # fmt: skip
        if self.prune_history:
            # Without it anvil keeps every old state on disk under ~/.foundry and never deletes it.
            command.append("--prune-history")
        if self.block_time_s:
            command += ["--block-time", str(self.block_time_s)]
        self._process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise NodeStartError(
                    f"anvil exited with code {self._process.returncode}: {self._tail()}"
                )
            if self._answers():
                return self
            time.sleep(0.02)
        self.stop()
        raise NodeStartError(f"anvil did not answer on {self.url} within {timeout_s:.0f} s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        self._log.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._log.name)

    def __enter__(self) -> AnvilNode:
        return self.start() if self._process is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _answers(self) -> bool:
        body = json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        ).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=1) as response:
                return bool(json.load(response).get("result"))
        except OSError:
            return False

    def _tail(self) -> str:
        try:
            return Path(self._log.name).read_text(errors="replace")[-500:]
        except OSError:
            return ""
