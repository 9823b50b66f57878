"""One FastAPI app factory for every service, with one error path: any `PnyxError` becomes a JSON
body `{"error": <class name>, "detail": <message>}` with the status of `STATUS_BY_ERROR`, so a bad
request gets a precise 4xx and never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from pnyx import __version__
from pnyx.errors import (
    AuthenticationError,
    ChainError,
    ConflictError,
    ContractRevert,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PnyxError,
    PnyxInputError,
    ServiceError,
)

# First match wins: subclasses before their parents.
STATUS_BY_ERROR: tuple[tuple[type[PnyxError], int], ...] = (
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (ContractRevert, 409),
    (PayloadTooLargeError, 413),
    (PnyxInputError, 422),
    (ChainError, 503),
    (ServiceError, 503),  # a service this one depends on is unreachable: retry later
    (PnyxError, 400),
)


def status_for(error: PnyxError) -> int:
    for kind, status in STATUS_BY_ERROR:
        if isinstance(error, kind):
            return status
    return 400


def error_body(error: str, detail: Any) -> dict[str, Any]:
    return {"error": error, "detail": detail}


def create_app(
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
) -> FastAPI:
    app = FastAPI(title=title, description=description, version=__version__, lifespan=lifespan)

    @app.exception_handler(PnyxError)
    async def pnyx_error(_request: Request, exc: PnyxError) -> JSONResponse:
        return JSONResponse(error_body(type(exc).__name__, str(exc)), status_code=status_for(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
            for e in exc.errors()
        ]
        return JSONResponse(error_body("InvalidRequest", problems), status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        # Starlette's own refusals (a body that is not JSON, an unknown route) in the same shape.
        return JSONResponse(
            error_body("HTTPError", exc.detail), status_code=exc.status_code, headers=exc.headers
        )

    @app.get("/v1/health", tags=["meta"], summary="Liveness and version")
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    for router in routers:
        app.include_router(router)
    return app


async def no_lifespan(_app: FastAPI) -> AsyncIterator[None]:
    yield
