"""Client of the result store."""

from __future__ import annotations

from typing import Any

from pnyx.clients._http import HttpClient, ServiceNotFoundError, download


class ResultStoreClient(HttpClient):
    def __init__(self, base_url: str, *, timeout_s: float = 30.0) -> None:
        super().__init__(base_url, timeout_s=timeout_s, service="result store")

    def upload(self, task_id: str, archive: bytes) -> dict[str, Any]:
        response = self.request(
            "PUT",
            f"/v1/results/{task_id}",
            content=archive,
            headers={"Content-Type": "application/zip"},
        )
        body: dict[str, Any] = response.json()
        return body

    def meta(self, task_id: str) -> dict[str, Any] | None:
        try:
            body: dict[str, Any] = self.get_json(f"/v1/results/{task_id}/meta")
        except ServiceNotFoundError:
            return None
        return body

    def download(self, task_id: str) -> bytes:
        return self.request("GET", f"/v1/results/{task_id}").content

    def download_url(self, url: str) -> bytes:
        """An archive by its full link (the `results` of finalize), possibly on another store."""
        if url.startswith(self.base_url):
            return self.request("GET", url[len(self.base_url) :]).content
        return download(url)
