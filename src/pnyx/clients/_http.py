"""The HTTP plumbing every client shares: base URL, timeouts, JSON, and turning an error response
into a `ServiceError` (or the matching Pnyx error) carrying the service's own message."""

from __future__ import annotations

from typing import Any

import httpx

from pnyx.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PnyxInputError,
    ServiceError,
)


class ServiceNotFoundError(ServiceError, NotFoundError):
    """The service answered 404."""


class ServiceConflictError(ServiceError, ConflictError):
    """The service answered 409."""


class ServiceInputError(ServiceError, PnyxInputError):
    """The service rejected the request as invalid (400/422)."""


class ServiceAuthError(ServiceError, AuthenticationError):
    """The service rejected the credentials (401/403)."""


_ERRORS_BY_STATUS: dict[int, type[ServiceError]] = {
    400: ServiceInputError,
    401: ServiceAuthError,
    403: ServiceAuthError,
    404: ServiceNotFoundError,
    409: ServiceConflictError,
    422: ServiceInputError,
}


class HttpClient:
    """A synchronous JSON client for one service."""

    def __init__(self, base_url: str, *, timeout_s: float = 10.0, service: str = "service") -> None:
        self.base_url = base_url.rstrip("/")
        self.service = service
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s, trust_env=False)

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServiceError(f"{self.service} at {self.base_url} unreachable: {exc}") from exc
        if response.status_code >= 400:
            raise _error_from(self.service, response)
        return response

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs).json()

    def post_json(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        response = self.request("POST", path, json=body, **kwargs)
        return response.json() if response.content else None


def _error_from(service: str, response: httpx.Response) -> ServiceError:
    error, detail = None, response.text
    try:
        body = response.json()
        error, detail = body.get("error"), body.get("detail", detail)
    except ValueError:
        pass
    cls = _ERRORS_BY_STATUS.get(response.status_code, ServiceError)
    message = f"{service} refused ({response.status_code} {error or ''}): {detail}".replace(
        "( ", "("
    )
    return cls(message, status=response.status_code, error=error)


def download(url: str, *, timeout_s: float = 60.0, max_bytes: int = 512 * 1024 * 1024) -> bytes:
    """The bytes behind an http(s) URL, refusing bodies larger than `max_bytes`."""
    try:
        with httpx.stream(
            "GET", url, timeout=timeout_s, follow_redirects=True, trust_env=False
        ) as response:
            response.raise_for_status()
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise ServiceError(f"{url} is larger than {max_bytes} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPStatusError as exc:
        error = ServiceNotFoundError if exc.response.status_code == 404 else ServiceError
        raise error(f"cannot download {url}: {exc}", status=exc.response.status_code) from exc
    except httpx.HTTPError as exc:
        raise ServiceError(f"cannot download {url}: {exc}") from exc
