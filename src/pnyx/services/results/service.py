"""The result store: content-addressed archives on disk, accepted only when the chain vouches for
them.

An upload for a task is accepted when the archive's result digest, recomputed from its
computed.json, is the one the chain agreed on: keccak256(taskId ‖ digest) equals the task's
consensus value, and at least one winner has revealed it (or the task completed through
contributeAndFinalize). So a worker cannot publish anything but the proven result, and a
requester downloading by task id gets exactly what was paid for.

A TEE task's result (its deal has the TEE tag) must also carry the enclave's signature, checked
against the task's enclave challenge at the SMS, and hold ciphertext only: the sealed output and
its computed.json (or an error archive, which holds no data). The store never sees plaintext.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from pnyx.chain.agreement import agreed_result_hash
from pnyx.chain.protocol import Protocol
from pnyx.chain.signing import recover_eip191
from pnyx.clients.sms import SmsClient
from pnyx.domain._hex import to_address, to_hex32
from pnyx.domain.archive import (
    COMPUTED_JSON,
    ENCRYPTED_RESULT_NAME,
    ERROR_FILE,
    Computed,
    read_archive,
    result_digest,
)
from pnyx.domain.tags import is_tee
from pnyx.domain.task import enclave_message, result_hash, result_seal
from pnyx.domain.views import TaskStatus
from pnyx.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PnyxInputError,
    ServiceError,
)
from pnyx.store.results import ResultIndex, ResultRow


@dataclass
class ResultStore:
    protocol: Protocol
    index: ResultIndex
    storage_dir: Path
    public_url: str
    max_upload_bytes: int
    sms: SmsClient | None = None
    _tee_tasks: dict[str, bool] = field(default_factory=dict)

    def link(self, task_id: str) -> str:
        """The public URL of a task's archive: known before the upload, so finalize can use it."""
        return f"{self.public_url.rstrip('/')}/v1/results/{to_hex32(task_id)}"

    def upload(
        self,
        *,
        task_id: str,
        archive: bytes,
        worker: str | None = None,
        enclave_signature: str | None = None,
    ) -> tuple[ResultRow, bool]:
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
        files = read_archive(archive)
        digest = result_digest(files)
        self._check_on_chain(task_id, digest)
        kind = "standard"
        if self._is_tee(task_id):
            self._check_tee(task_id, files, digest, worker, enclave_signature)
            kind = "tee"
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
            kind=kind,
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
            consensus = agreed_result_hash(self.protocol, task_id, task)
        else:
            raise ConflictError(
                f"task {task_id} is {task.status.name}: results are accepted once a winner revealed"
            )
        if consensus != expected:
            raise ConflictError(
                f"archive digest {digest} is not the consensus of task {task_id} "
                f"(keccak256(taskId ‖ digest) = {expected}, chain has {consensus})"
            )

    def _is_tee(self, task_id: str) -> bool:
        if task_id not in self._tee_tasks:
            initialized = self.protocol.task_events(task_id, "TaskInitialized")
            deal = self.protocol.find_deal(to_hex32(bytes(initialized[0]["dealId"])))
            self._tee_tasks[task_id] = is_tee(deal.deal.tag)
        return self._tee_tasks[task_id]

    def _check_tee(
        self,
        task_id: str,
        files: dict[str, bytes],
        digest: str,
        worker: str | None,
        signature: str | None,
    ) -> None:
        if not worker or not signature:
            raise AuthenticationError(
                f"task {task_id} is a TEE task: its result needs the X-Pnyx-Worker and "
                "X-Pnyx-Enclave-Signature headers"
            )
        if self.sms is None:
            raise ServiceError(
                "this result store has no SMS configured: it cannot check TEE results"
            )
        challenge = self.sms.challenge(task_id)
        if challenge is None:
            raise PermissionDeniedError(f"the SMS holds no enclave challenge for task {task_id}")
        message = enclave_message(
            result_hash(task_id, digest), result_seal(worker, task_id, digest)
        )
        signer = recover_eip191(message, signature)
        if not signer or to_address(signer) != to_address(challenge):
            raise PermissionDeniedError(
                f"the enclave signature is from {signer or 'nobody (malformed)'}, not from the "
                f"task's enclave challenge {challenge}"
            )
        allowed = {COMPUTED_JSON, ENCRYPTED_RESULT_NAME}
        if Computed.parse(files.get(COMPUTED_JSON, b"{}")).error_message is not None:
            allowed = {COMPUTED_JSON, ERROR_FILE}
        if not set(files) <= allowed or not (allowed - {ERROR_FILE}) <= set(files):
            raise PnyxInputError(
                f"a TEE result holds ciphertext only ({', '.join(sorted(allowed))}); "
                f"this archive has {', '.join(sorted(files))}"
            )

    def _path(self, sha256: str) -> Path:
        return self.storage_dir / sha256[:2] / f"{sha256}.zip"


def _task_id(value: str) -> str:
    try:
        return to_hex32(value)
    except PnyxInputError as exc:
        raise PnyxInputError(f"task id must be 32 bytes of 0x-hex: {value!r}") from exc
