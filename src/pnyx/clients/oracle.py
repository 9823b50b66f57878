"""Clients of oracle nodes (what a round's leader calls on the other nodes) and of the data sources
a node observes."""

from __future__ import annotations

from typing import Any

import httpx

from pnyx.api.schemas.oracle import (
    NodeRead,
    ObservationRead,
    ObservationRequest,
    ReportCreate,
    ReportSignatureRead,
)
from pnyx.clients._http import HttpClient
from pnyx.domain._hex import to_bytes
from pnyx.domain.feeds import Report
from pnyx.domain.reporting import SignedObservation
from pnyx.errors import ServiceError


class OracleNodeClient(HttpClient):
    """One oracle node, as the other nodes (and operators) see it."""

    def __init__(self, base_url: str, *, timeout_s: float = 5.0) -> None:
        super().__init__(base_url, timeout_s=timeout_s, service="oracle node")

    def observe(self, config_digest: str | bytes, epoch_and_round: int) -> SignedObservation:
        """The node's signed observation for a round (the leader checks the signature)."""
        request = ObservationRequest(
            config_digest="0x" + to_bytes(config_digest, length=32).hex(),
            epoch_and_round=epoch_and_round,
        )
        body = self.post_json("/v1/observations", request.model_dump())
        return ObservationRead.model_validate(body).to_domain()

    def sign_report(self, report: Report, observations: list[SignedObservation]) -> bytes:
        """The node's signature of `report` (65 bytes), if the node accepts it."""
        body = self.post_json(
            "/v1/reports", ReportCreate.of(report, observations).model_dump(mode="json")
        )
        return to_bytes(ReportSignatureRead.model_validate(body).signature, length=65)

    def node(self) -> NodeRead:
        return NodeRead.model_validate(self.get_json("/v1/node"))


class DataSourceClient:
    """A data source: `GET <url>` answers JSON `{"value": <int>}` (an integer, or a string of
    one, already scaled to the feed's decimals)."""

    def __init__(self, url: str, *, timeout_s: float = 5.0) -> None:
        self.url = url
        self._http = httpx.Client(timeout=timeout_s, trust_env=False, follow_redirects=True)

    def close(self) -> None:
        self._http.close()

    def value(self) -> int:
        try:
            response = self._http.get(self.url)
            response.raise_for_status()
            body: Any = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ServiceError(f"data source {self.url} failed: {exc}") from exc
        raw = body.get("value") if isinstance(body, dict) else None
        if isinstance(raw, str) and raw.lstrip("-").isdigit():
            return int(raw)
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        raise ServiceError(f'data source {self.url} answered {body!r}, not {{"value": <int>}}')
