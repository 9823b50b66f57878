"""HTTP routes of the result store."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request, Response

from pnyx.api.schemas.results import ENCLAVE_SIGNATURE_HEADER, WORKER_HEADER, ResultRead
from pnyx.api.schemas.scheduler import HEX_ADDRESS, HEX_BYTES
from pnyx.errors import PayloadTooLargeError
from pnyx.services.results.service import ResultStore

router = APIRouter(prefix="/v1", tags=["results"])
TaskIdPath = Annotated[str, Path(description="0x-hex task id", pattern="^0x[0-9a-fA-F]{64}$")]


def store(request: Request) -> ResultStore:
    result_store: ResultStore = request.app.state.store
    return result_store


Store = Annotated[ResultStore, Depends(store)]


def _read(store_: ResultStore, task_id: str) -> ResultRead:
    row = store_.meta(task_id)
    return ResultRead(
        task_id=row.task_id,
        archive_sha256=row.archive_sha256,
        result_digest=row.result_digest,
        size=row.size,
        uploaded_at=row.uploaded_at,
        link=store_.link(row.task_id),
        kind=row.kind,
    )


@router.put(
    "/results/{task_id}",
    response_model=ResultRead,
    status_code=201,
    summary="Upload a task's result archive (a zip with computed.json)",
    responses={200: {"model": ResultRead, "description": "the same archive was already stored"}},
    # The body is read raw (streamed under a size limit), so FastAPI cannot infer it: document it.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload(
    task_id: TaskIdPath,
    request: Request,
    response: Response,
    store_: Store,
    worker: Annotated[
        str | None,
        Header(
            alias=WORKER_HEADER,
            description="TEE results: the worker whose contribution the archive is",
            pattern=HEX_ADDRESS,
        ),
    ] = None,
    enclave_signature: Annotated[
        str | None,
        Header(
            alias=ENCLAVE_SIGNATURE_HEADER,
            description="TEE results: the task's enclave key's signature of "
            "keccak256(resultHash ‖ resultSeal)",
            pattern=HEX_BYTES,
            max_length=200,
        ),
    ] = None,
) -> ResultRead:
    body = await _bounded_body(request, store_.max_upload_bytes)
    _, created = store_.upload(
        task_id=task_id, archive=body, worker=worker, enclave_signature=enclave_signature
    )
    if not created:
        response.status_code = 200
    return _read(store_, task_id)


@router.get(
    "/results/{task_id}/meta", response_model=ResultRead, summary="What is stored for a task"
)
def meta(task_id: TaskIdPath, store_: Store) -> ResultRead:
    return _read(store_, task_id)


@router.get(
    "/results/{task_id}",
    summary="Download a task's result archive",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def download(task_id: TaskIdPath, store_: Store) -> Response:
    return Response(store_.archive(task_id), media_type="application/zip")


async def _bounded_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"archive of {declared} bytes exceeds {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"archive exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
