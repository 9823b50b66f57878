"""HTTP routes of an oracle node: its status, and (reporting nodes) what a round's leader asks."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Request

from pnyx.api.schemas.oracle import (
    NodeRead,
    ObservationRead,
    ObservationRequest,
    ReportCreate,
    ReportSignatureRead,
)
from pnyx.services.oracle.reporting import ReportingNode


class _Node(Protocol):
    def status(self) -> NodeRead: ...


def node(request: Request) -> _Node:
    oracle_node: _Node = request.app.state.node
    return oracle_node


def reporting_node(request: Request) -> ReportingNode:
    oracle_node: ReportingNode = request.app.state.node
    return oracle_node


Node = Annotated[_Node, Depends(node)]
Reporting = Annotated[ReportingNode, Depends(reporting_node)]

node_router = APIRouter(prefix="/v1", tags=["oracle"])
reporting_router = APIRouter(prefix="/v1", tags=["off-chain reporting"])


@node_router.get("/node", response_model=NodeRead, summary="The node, its feed and its progress")
def status(node_: Node) -> NodeRead:
    return node_.status()


@reporting_router.post(
    "/observations",
    response_model=ObservationRead,
    summary="This node's signed observation of a round (asked by the round's leader)",
)
def observe(body: ObservationRequest, node_: Reporting) -> ObservationRead:
    return ObservationRead.of(node_.observe(body.config_digest, body.epoch_and_round))


@reporting_router.post(
    "/reports",
    response_model=ReportSignatureRead,
    summary="Sign a report, if its observations are genuine and its median is acceptable",
    responses={
        401: {"description": "an observation is not signed by its node"},
        403: {"description": "the median is outside this node's tolerance"},
        409: {"description": "already signed a report for this round or a later one"},
        422: {"description": "the report is not what its observations make"},
    },
)
def sign_report(body: ReportCreate, node_: Reporting) -> ReportSignatureRead:
    signature = node_.sign_report(body.report(), body.backing())
    return ReportSignatureRead(
        node_index=node_.index or 0,
        epoch_and_round=body.epoch_and_round,
        signature="0x" + signature.hex(),
    )
