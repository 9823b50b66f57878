"""Running one task: fetch the app and the data, run the app in its sandbox with iExec's
conventions, and turn whatever happened into a result archive and its digest.

Failures are results too (DESIGN.md §5): a failed download, a bad checksum, a crash or a timeout
produces an error archive whose error.txt is deterministic, so honest workers agree on it, the task
reaches consensus, and the requester learns why from the archive and the logs.

A TEE task (the deal's TEE tag) runs through an `EnclaveSession`: the dataset is decrypted inside,
the output leaves sealed for the beneficiary, the result is signed by the task's enclave key, and
nothing of the app's logs leaves the enclave (they could carry the data). Without a session there
is no signature the hub would accept, so a TEE task that cannot open one fails instead of
producing an error archive.
"""

from __future__ import annotations

import json
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

from pnyx.api.schemas.scheduler import Assignment
from pnyx.domain.archive import (
    build_archive,
    callback_data,
    error_output,
    read_archive,
    result_digest,
)
from pnyx.domain.deal import Deal
from pnyx.errors import PnyxError
from pnyx.services.worker.enclave import Enclave, EnclaveError, EnclaveSession
from pnyx.services.worker.fetch import FetchError, copy_named, fetch, file_name
from pnyx.services.worker.sandbox import ExitCause, Limits, RunOutcome, RunSpec, sandbox_for
from pnyx.types import ZERO_ADDRESS

CONFIDENTIAL_LOGS = "(confidential: a TEE app's logs stay in the enclave)"


@dataclass(frozen=True)
class Execution:
    """What a worker commits to and uploads for one task."""

    digest: str
    archive: bytes
    callback_data: bytes
    exit_cause: str
    exit_code: int | None
    stdout: str
    stderr: str
    enclave_challenge: str = ZERO_ADDRESS
    enclave_sign: str = "0x"


def execute(
    assignment: Assignment,
    work_dir: Path,
    *,
    byzantine: str | None = None,
    enclave: Enclave | None = None,
    worker: str = ZERO_ADDRESS,
) -> Execution:
    task_dir = work_dir / "tasks" / assignment.task_id
    shutil.rmtree(task_dir, ignore_errors=True)
    input_dir, output_dir = task_dir / "iexec_in", task_dir / "iexec_out"
    input_dir.mkdir(parents=True)
    output_dir.mkdir(parents=True)
    outcome: RunOutcome | None = None
    session: EnclaveSession | None = None
    try:
        app = fetch(
            assignment.app.multiaddr,
            checksum=assignment.app.checksum,
            cache_dir=work_dir / "cache",
            label="app",
        )
        if Deal.from_json(assignment.deal).is_tee:
            session = _open_session(assignment, enclave, worker, app)
        args, env = _prepare_inputs(assignment, work_dir / "cache", input_dir, session)
        spec = RunSpec(
            app=app,
            args=tuple(args),
            env=env,
            input_dir=input_dir,
            output_dir=output_dir,
            limits=Limits(wall_clock_s=float(assignment.max_execution_s)),
        )
        outcome = sandbox_for(assignment.app.type).run(spec)
        logs = _logs(outcome) if session is None else {}
        files = _collect(output_dir, outcome) if session is None else _collect(output_dir, None)
        if outcome.cause != ExitCause.SUCCESS:
            files = error_output(_failure_message(outcome), logs)
        digest = _digest_or_error(files, logs)
        if digest[1] is not None:
            files = digest[1]
        elif session is not None:
            files = session.seal_output(files)
        digest_value = result_digest(files)
    except (FetchError, PnyxError) as exc:
        if _is_tee(assignment) and session is None:
            raise
        files = error_output(str(exc) if isinstance(exc, FetchError) else f"WORKER_ERROR: {exc}")
        digest_value = result_digest(files)
    finally:
        shutil.rmtree(task_dir, ignore_errors=True)
    if byzantine == "wrong-result":
        files = {**files, "result.json": b'{"tampered": true}\n'}
        files["computed.json"] = b'{"deterministic-output-path": "/iexec_out/result.json"}'
        digest_value = result_digest(files)
    archive = build_archive(files)
    stdout = (outcome.stdout if outcome else b"").decode(errors="replace")[-16_000:]
    stderr = (outcome.stderr if outcome else b"").decode(errors="replace")[-16_000:]
    if session is not None:
        stdout, stderr = CONFIDENTIAL_LOGS, CONFIDENTIAL_LOGS
    return Execution(
        digest=digest_value,
        archive=archive,
        callback_data=callback_data(read_archive(archive)),
        exit_cause=outcome.cause.value if outcome else "NOT_RUN",
        exit_code=outcome.exit_code if outcome else None,
        stdout=stdout,
        stderr=stderr,
        enclave_challenge=session.enclave_challenge if session else ZERO_ADDRESS,
        enclave_sign=(
            "0x" + session.sign(assignment.task_id, worker, digest_value).hex() if session else "0x"
        ),
    )


def _is_tee(assignment: Assignment) -> bool:
    return Deal.from_json(assignment.deal).is_tee


def _open_session(
    assignment: Assignment, enclave: Enclave | None, worker: str, app: Path
) -> EnclaveSession:
    if enclave is None:
        raise EnclaveError(f"task {assignment.task_id} needs a TEE and this worker has none")
    return enclave.open_session(assignment, worker, app)


def _prepare_inputs(
    assignment: Assignment, cache: Path, input_dir: Path, session: EnclaveSession | None = None
) -> tuple[list[str], dict[str, str]]:
    """The app's arguments and IEXEC_* environment; downloads the dataset and the input files."""
    try:
        params = json.loads(assignment.params) if assignment.params.strip() else {}
    except ValueError:
        params = {"iexec_args": assignment.params}
    if not isinstance(params, dict):
        params = {}
    deal = assignment.deal
    env = {
        "IEXEC_TASK_ID": assignment.task_id,
        "IEXEC_DEAL_ID": assignment.deal_id,
        "IEXEC_TASK_INDEX": str(assignment.idx),
        "IEXEC_BOT_TASK_INDEX": str(assignment.idx),
        "IEXEC_BOT_FIRST_INDEX": str(deal["botFirst"]),
        "IEXEC_BOT_SIZE": str(deal["botSize"]),
        "IEXEC_DATASET_FILENAME": "",
        "IEXEC_INPUT_FILES_NUMBER": "0",
    }
    if assignment.dataset is not None:
        dataset = fetch(
            assignment.dataset.multiaddr,
            checksum=assignment.dataset.checksum,
            cache_dir=cache,
            label="dataset",
        )
        name = file_name(assignment.dataset.multiaddr)
        if session is None:
            copy_named(dataset, input_dir, name)
        else:  # registered encrypted (its checksum is the ciphertext's): decrypted inside only
            name = name.removesuffix(".enc")
            session.decrypt_dataset(dataset, input_dir / name)
        env.update(
            IEXEC_DATASET_ADDRESS=assignment.dataset.address,
            IEXEC_DATASET_FILENAME=name,
            IEXEC_DATASET_CHECKSUM=assignment.dataset.checksum,
        )
    input_files = params.get("iexec_input_files") or []
    for number, url in enumerate(input_files, start=1):
        path = fetch(str(url), checksum=None, cache_dir=cache, label="input_file")
        name = file_name(str(url))
        copy_named(path, input_dir, name)
        env[f"IEXEC_INPUT_FILE_NAME_{number}"] = name
    env["IEXEC_INPUT_FILES_NUMBER"] = str(len(input_files))
    if session is not None:
        env.update(session.app_env())
    args = shlex.split(str(params.get("iexec_args", "")))
    return args, env


def _collect(output_dir: Path, outcome: RunOutcome | None) -> dict[str, bytes]:
    """The app's output files, plus its logs when given an outcome (not for TEE tasks)."""
    files = {
        str(path.relative_to(output_dir)): path.read_bytes()
        for path in sorted(output_dir.rglob("*"))
        if path.is_file()
    }
    if outcome is not None:
        files.update({k: v for k, v in _logs(outcome).items() if k not in files})
    return files


def _logs(outcome: RunOutcome) -> dict[str, bytes]:
    return {"stdout.txt": outcome.stdout, "stderr.txt": outcome.stderr}


def _failure_message(outcome: RunOutcome) -> str:
    if outcome.cause == ExitCause.APP_FAILED:
        return f"APP_FAILED: the app exited with code {outcome.exit_code}"
    cause = outcome.cause.value
    return f"{cause}: the app did not finish ({cause.lower().replace('_', ' ')})"


def _digest_or_error(
    files: dict[str, bytes], logs: dict[str, bytes]
) -> tuple[str, dict[str, bytes] | None]:
    """The digest of a successful output, or of an error archive when the output is unusable."""
    try:
        return result_digest(files), None
    except PnyxError as exc:
        errors = error_output(f"BAD_OUTPUT: {exc}", logs)
        return result_digest(errors), errors
