"""The result store over HTTP, in-process, with a live chain behind it: an archive is accepted only
when its result digest is the consensus the chain holds (revealed, finalized, or completed through
contributeAndFinalize), identical re-uploads are idempotent, and every refusal is a precise 4xx."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from pnyx.chain.protocol import MatchedDeal
from pnyx.domain.archive import build_archive, result_digest
from pnyx.domain.task import result_hash
from pnyx.domain.views import TaskStatus
from pnyx.services.results.app import create_results_app
from pnyx.services.results.config import ResultsSettings
from tests.helpers.world import World

pytestmark = pytest.mark.integration

PUBLIC_URL = "http://results.test"
COMPUTED = b'{"deterministic-output-path": "/iexec_out/result.json"}'
UNKNOWN_TASK = "0x" + "ab" * 32


# ─── Helpers ───


def _files(result: bytes, **extra: bytes) -> dict[str, bytes]:
    """An app's output folder: its deterministic result, computed.json, and any other files."""
    return {"result.json": result, "computed.json": COMPUTED, **extra}


def _archive(result: bytes, **extra: bytes) -> tuple[bytes, str]:
    """A result archive and the digest a worker commits for it."""
    files = _files(result, **extra)
    return build_archive(files), result_digest(files)


def _raw_zip(entries: dict[str, bytes]) -> bytes:
    """A plain zip whose entry names are kept exactly as given (unsafe ones included)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(zipfile.ZipInfo(name), content)
    return buffer.getvalue()


def _corrupted(archive: bytes) -> bytes:
    """The archive with one byte of its first entry's compressed data flipped."""
    corrupted = bytearray(archive)
    name_length, extra_length = struct.unpack("<HH", corrupted[26:30])
    corrupted[30 + name_length + extra_length + 1] ^= 0xFF
    return bytes(corrupted)


def _unzip(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        return {name: opened.read(name) for name in opened.namelist()}


def _results_app(world: World, tmp_path: Path, **settings: Any) -> FastAPI:
    deployment_file = tmp_path / "deployment.json"
    world.deployment.save(deployment_file)
    return create_results_app(
        ResultsSettings(
            chain_url=world.client.url,
            deployment_file=deployment_file,
            storage_dir=tmp_path / "archives",
            database_url=f"sqlite:///{tmp_path / 'r.db'}",
            public_url=PUBLIC_URL,
            **settings,
        )
    )


def _revealed_deal(world: World, digest: str) -> tuple[MatchedDeal, str]:
    """A trust-1 task whose one worker contributed `digest` and revealed it (consensus known)."""
    matched, task = world.started_task(trust=1)
    worker = world.workers[0]
    world.contribute(worker, task, matched, digest=digest)
    worker.reveal(task, digest)
    view = world.protocol.task(task)
    assert (view.status, view.reveal_count) == (TaskStatus.REVEALING, 1)
    return matched, task


def _revealed_task(world: World, digest: str) -> str:
    return _revealed_deal(world, digest)[1]


def _put(api: TestClient, task: str, archive: bytes) -> Response:
    response: Response = api.put(
        f"/v1/results/{task}", content=archive, headers={"Content-Type": "application/zip"}
    )
    return response


def _assert_refused(response: Response, status: int, error: str, *fragments: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    for fragment in fragments:
        assert fragment in body["detail"], body


@pytest.fixture
def results(world: World, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(_results_app(world, tmp_path)) as client:
        yield client


# ─── Accepted uploads ───


def test_upload_stores_archive_when_digest_is_revealed_consensus(
    world: World, results: TestClient
) -> None:
    archive, digest = _archive(b'{"answer": 42}')
    task = _revealed_task(world, digest)

    response = _put(results, task, archive)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["task_id"] == task
    assert body["result_digest"] == digest
    assert body["archive_sha256"] == hashlib.sha256(archive).hexdigest()
    assert body["size"] == len(archive)
    assert body["link"] == f"{PUBLIC_URL}/v1/results/{task}"


def test_upload_answers_200_when_same_archive_sent_again(world: World, results: TestClient) -> None:
    archive, digest = _archive(b'{"answer": 42}')
    task = _revealed_task(world, digest)
    first = _put(results, task, archive)

    again = _put(results, task, archive)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()


def test_upload_stores_archive_when_task_finalized(world: World, results: TestClient) -> None:
    archive, digest = _archive(b'{"answer": 42}')
    matched, task = _revealed_deal(world, digest)
    world.scheduler.finalize(task, matched.deal, f"{PUBLIC_URL}/v1/results/{task}".encode())
    assert world.protocol.task(task).status == TaskStatus.COMPLETED

    response = _put(results, task, archive)

    assert response.status_code == 201, response.text
    assert response.json()["result_digest"] == digest


def test_upload_stores_archive_when_task_completed_by_contribute_and_finalize(
    world: World, results: TestClient
) -> None:
    archive, digest = _archive(b'{"answer": 42}')
    matched, task = world.started_task(trust=1)
    worker = world.workers[0]
    worker.contribute_and_finalize(
        task,
        matched.deal,
        digest,
        f"{PUBLIC_URL}/v1/results/{task}".encode(),
        world.scheduler.authorize(worker.address, task),
    )
    view = world.protocol.task(task)
    assert view.status == TaskStatus.COMPLETED
    assert int(view.consensus_value, 16) == 0  # the service must read TaskContributed

    response = _put(results, task, archive)

    assert response.status_code == 201, response.text
    assert response.json()["result_digest"] == digest


# ─── Refused uploads: the chain disagrees ───


def test_upload_conflicts_when_task_already_has_another_archive(
    world: World, results: TestClient
) -> None:
    archive, digest = _archive(b'{"answer": 42}')
    # Same deterministic result, so the same digest: only the non-hashed logs differ.
    other, other_digest = _archive(b'{"answer": 42}', **{"stdout.txt": b"another run"})
    assert other_digest == digest and other != archive
    task = _revealed_task(world, digest)
    assert _put(results, task, archive).status_code == 201

    response = _put(results, task, other)

    _assert_refused(response, 409, "ConflictError", task, "already has a different result archive")
    assert results.get(f"/v1/results/{task}").content == archive


def test_upload_conflicts_naming_both_hashes_when_digest_is_not_consensus(
    world: World, results: TestClient
) -> None:
    _, digest = _archive(b'{"answer": 42}')
    wrong, wrong_digest = _archive(b'{"answer": 41}')
    task = _revealed_task(world, digest)

    response = _put(results, task, wrong)

    _assert_refused(
        response,
        409,
        "ConflictError",
        f"archive digest {wrong_digest} is not the consensus of task {task}",
        result_hash(task, wrong_digest),
        f"chain has {result_hash(task, digest)}",
    )
    assert results.get(f"/v1/results/{task}/meta").status_code == 404


def test_upload_conflicts_when_task_is_still_active(world: World, results: TestClient) -> None:
    archive, _ = _archive(b'{"answer": 42}')
    _, task = world.started_task(trust=1)

    response = _put(results, task, archive)

    _assert_refused(response, 409, "ConflictError", f"task {task} is ACTIVE")


def test_upload_conflicts_when_consensus_not_revealed_yet(
    world: World, results: TestClient
) -> None:
    archive, digest = _archive(b'{"answer": 42}')
    matched, task = world.started_task(trust=1)
    world.contribute(world.workers[0], task, matched, digest=digest)
    assert world.protocol.task(task).status == TaskStatus.REVEALING

    response = _put(results, task, archive)

    _assert_refused(response, 409, "ConflictError", f"task {task} is REVEALING")


def test_upload_conflicts_when_task_unknown_on_chain(results: TestClient) -> None:
    archive, _ = _archive(b'{"answer": 42}')

    response = _put(results, UNKNOWN_TASK, archive)

    _assert_refused(response, 409, "ConflictError", f"task {UNKNOWN_TASK} is UNSET")


# ─── Refused uploads: the archive is malformed ───


@pytest.mark.parametrize(
    ("archive", "fragment"),
    [
        pytest.param(b"this is not a zip", "not a zip archive", id="not-a-zip"),
        pytest.param(b"", "not a zip archive", id="empty-body"),
        pytest.param(
            build_archive({"result.json": b"{}"}),
            "the output has no computed.json",
            id="no-computed",
        ),
        pytest.param(
            _raw_zip({"../x": b"escape", "computed.json": COMPUTED}),
            "unsafe path in archive: '../x'",
            id="dotdot-path",
        ),
        pytest.param(
            _raw_zip({"/etc/x": b"escape", "computed.json": COMPUTED}),
            "unsafe path in archive: '/etc/x'",
            id="absolute-path",
        ),
        pytest.param(
            build_archive({"computed.json": b"not json"}),
            "computed.json is not JSON",
            id="bad-json",
        ),
        pytest.param(
            build_archive({"computed.json": b'{"deterministic-output-path": "/iexec_out/no"}'}),
            "is not in the output",
            id="missing-output",
        ),
    ],
)
def test_upload_answers_422_when_archive_malformed(
    world: World, results: TestClient, archive: bytes, fragment: str
) -> None:
    task = _revealed_task(world, _archive(b'{"answer": 42}')[1])

    response = _put(results, task, archive)

    _assert_refused(response, 422, "ArchiveError", fragment)
    assert results.get(f"/v1/results/{task}/meta").status_code == 404


@pytest.mark.parametrize(
    "archive",
    [
        pytest.param(_corrupted(_archive(b'{"answer": 42}' * 20)[0]), id="corrupted-entry"),
        pytest.param(_raw_zip({"": b"", "computed.json": COMPUTED}), id="empty-entry-name"),
    ],
)
def test_upload_answers_422_when_zip_entries_unreadable(
    world: World, tmp_path: Path, archive: bytes
) -> None:
    task = _revealed_task(world, _archive(b'{"answer": 42}')[1])
    with TestClient(_results_app(world, tmp_path), raise_server_exceptions=False) as api:
        response = _put(api, task, archive)

    _assert_refused(response, 422, "ArchiveError")


def test_upload_answers_422_when_task_id_malformed(results: TestClient) -> None:
    archive, _ = _archive(b'{"answer": 42}')

    response = _put(results, "0x1234", archive)

    _assert_refused(response, 422, "InvalidRequest")
    assert response.json()["detail"][0]["where"] == "path.task_id"


# ─── Size limit ───


@pytest.mark.parametrize("streamed", [False, True], ids=["declared-length", "chunked"])
def test_upload_answers_413_when_body_exceeds_limit(
    world: World, tmp_path: Path, streamed: bool
) -> None:
    big = bytes(2048)
    task = _revealed_task(world, _archive(b'{"answer": 42}')[1])
    with TestClient(_results_app(world, tmp_path, max_upload_bytes=1024)) as api:
        content: Any = iter([big[:1000], big[1000:]]) if streamed else big
        response = api.put(f"/v1/results/{task}", content=content)
        meta = api.get(f"/v1/results/{task}/meta")

    _assert_refused(response, 413, "PayloadTooLargeError", "exceeds 1024")
    assert meta.status_code == 404


def test_upload_stores_archive_when_exactly_at_limit(world: World, tmp_path: Path) -> None:
    archive, digest = _archive(b'{"answer": 42}')
    task = _revealed_task(world, digest)
    with TestClient(_results_app(world, tmp_path, max_upload_bytes=len(archive))) as api:
        response = _put(api, task, archive)

    assert response.status_code == 201, response.text


# ─── Reads ───


def test_download_returns_uploaded_bytes(world: World, results: TestClient) -> None:
    archive, digest = _archive(b'{"answer": 42}', **{"stdout.txt": b"log line\n"})
    task = _revealed_task(world, digest)
    uploaded = _put(results, task, archive).json()

    meta = results.get(f"/v1/results/{task}/meta")
    download = results.get(f"/v1/results/{task}")

    assert meta.status_code == 200
    assert meta.json() == uploaded
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert download.content == archive
    assert result_digest(_unzip(download.content)) == digest


def test_read_finds_result_when_task_id_in_upper_case(world: World, results: TestClient) -> None:
    archive, digest = _archive(b'{"answer": 42}')
    task = _revealed_task(world, digest)
    assert _put(results, task, archive).status_code == 201
    shouted = "0x" + task[2:].upper()

    meta = results.get(f"/v1/results/{shouted}/meta")

    assert meta.status_code == 200
    assert meta.json()["task_id"] == task
    assert results.get(f"/v1/results/{shouted}").content == archive


@pytest.mark.parametrize("suffix", ["/meta", ""], ids=["meta", "download"])
def test_read_answers_404_when_task_has_no_result(results: TestClient, suffix: str) -> None:
    response = results.get(f"/v1/results/{UNKNOWN_TASK}{suffix}")

    _assert_refused(response, 404, "NotFoundError", f"no result stored for task {UNKNOWN_TASK}")


@pytest.mark.parametrize("suffix", ["/meta", ""], ids=["meta", "download"])
@pytest.mark.parametrize("task", ["0x1234", "ab" * 32, "0x" + "zz" * 32, "0x" + "ab" * 33])
def test_read_answers_422_when_task_id_malformed(
    results: TestClient, suffix: str, task: str
) -> None:
    response = results.get(f"/v1/results/{task}{suffix}")

    _assert_refused(response, 422, "InvalidRequest")
