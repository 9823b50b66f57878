"""Client of the result store."""

from __future__ import annotations

from typing import Any

from pnyx.api.schemas.results import ENCLAVE_SIGNATURE_HEADER, WORKER_HEADER
from pnyx.clients._http import HttpClient, ServiceNotFoundError, download


class ResultStoreClient(HttpClient):
    def __init__(self, base_url: str, *, timeout_s: float = 30.0) -> None:
        super().__init__(base_url, timeout_s=timeout_s, service="result store")

    def upload(
        self, task_id: str, archive: bytes, *, worker: str | None = None, enclave_sign: str = "0x"
    ) -> dict[str, Any]:
        """Uploads an archive; a TEE result also carries its worker and enclave signature."""
        headers = {"Content-Type": "application/zip"}
        if enclave_sign != "0x" and worker is not None:
            headers |= {WORKER_HEADER: worker, ENCLAVE_SIGNATURE_HEADER: enclave_sign}
        response = self.request("PUT", f"/v1/results/{task_id}", content=archive, headers=headers)
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
