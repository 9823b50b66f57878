"""The result store: content-addressed archives on disk, accepted only when the chain vouches for
them.

An upload for a task is accepted when the archive's result digest, recomputed from its
computed.json, is the one the chain agreed on: keccak256(taskId ‖ digest) equals the task's
consensus value, and at least one winner has revealed it (or the task completed through
contributeAndFinalize). So a worker cannot publish anything but the proven result, and a
requester downloading by task id gets exactly what was paid for.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pnyx.chain.protocol import Protocol
from pnyx.domain._hex import to_hex32
from pnyx.domain.archive import read_archive, result_digest
from pnyx.domain.task import result_hash
from pnyx.domain.views import TaskStatus
from pnyx.errors import ConflictError, NotFoundError, PayloadTooLargeError, PnyxInputError
from pnyx.store.results import ResultIndex, ResultRow
from pnyx.types import ZERO_BYTES32


@dataclass
class ResultStore:
    protocol: Protocol
    index: ResultIndex
    storage_dir: Path
    public_url: str
    max_upload_bytes: int

    def link(self, task_id: str) -> str:
        """The public URL of a task's archive: known before the upload, so finalize can use it."""
        return f"{self.public_url.rstrip('/')}/v1/results/{to_hex32(task_id)}"

    def upload(self, *, task_id: str, archive: bytes) -> tuple[ResultRow, bool]:
        """Stores a task's archive; returns (row, created). An archive sent twice is kept once."""
        task_id = _task_id(task_id)
        if len(archive) > self.max_upload_bytes:
            raise PayloadTooLargeError(
                f"archive of {len(archive)} bytes exceeds {self.max_upload_bytes}"
            )
        sha256 = hashlib.sha256(archive).hexdigest()
        existing = self.index.get(task_id)
        if existing is not None:
            if existing.archive_sha256 == sha256:
                return existing, False
            raise ConflictError(f"task {task_id} already has a different result archive")
        digest = result_digest(read_archive(archive))
        self._check_on_chain(task_id, digest)
        path = self._path(sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".part")
        temporary.write_bytes(archive)
        temporary.replace(path)
        row = self.index.add(
            task_id=task_id,
            archive_sha256=sha256,
            result_digest=digest,
            size=len(archive),
            kind="standard",
        )
        return row, True

    def meta(self, task_id: str) -> ResultRow:
        row = self.index.get(_task_id(task_id))
        if row is None:
            raise NotFoundError(f"no result stored for task {task_id}")
        return row

    def archive(self, task_id: str) -> bytes:
        return self._path(self.meta(task_id).archive_sha256).read_bytes()

    def _check_on_chain(self, task_id: str, digest: str) -> None:
        task = self.protocol.task(task_id)
        expected = result_hash(task_id, digest)
        if task.status == TaskStatus.REVEALING and task.reveal_count > 0:
            consensus = task.consensus_value
        elif task.status == TaskStatus.COMPLETED:
            consensus = task.consensus_value
            if consensus == ZERO_BYTES32:
                # contributeAndFinalize stores no consensus: its TaskConsensus event has it.
                events = self.protocol.task_events(task_id, "TaskConsensus")
                consensus = to_hex32(bytes(events[-1]["consensus"])) if events else ZERO_BYTES32
        else:
            raise ConflictError(
                f"task {task_id} is {task.status.name}: results are accepted once a winner revealed"
            )
        if consensus != expected:
            raise ConflictError(
                f"archive digest {digest} is not the consensus of task {task_id} "
                f"(keccak256(taskId ‖ digest) = {expected}, chain has {consensus})"
            )

    def _path(self, sha256: str) -> Path:
        return self.storage_dir / sha256[:2] / f"{sha256}.zip"


def _task_id(value: str) -> str:
    try:
        return to_hex32(value)
    except PnyxInputError as exc:
        raise PnyxInputError(f"task id must be 32 bytes of 0x-hex: {value!r}") from exc
