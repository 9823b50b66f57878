"""Pure rules behind the scheduler's selection policies (docs/scheduler-policies.md): the
verifiable ticket of a worker for a task, and hop distances on a social graph of workers.

Nothing is read or written here: the scheduler reads the graph file and hands its text in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx  # type: ignore[import-untyped]

from pnyx.domain._hex import keccak, to_address, to_bytes
from pnyx.errors import PnyxInputError


def ticket(task_id: str, worker: str) -> int:
    """keccak256(taskId ‖ worker), i.e. of `abi.encodePacked(bytes32, address)`, as an unsigned
    integer: the lowest ticket among a task's candidates is served first. Anyone can recompute it
    from a TaskContributed event (it carries both), and nobody can choose it: the task id is fixed
    by the deal, the address by the worker's key."""
    packed = to_bytes(task_id, length=32) + to_bytes(worker, length=20)
    return int.from_bytes(keccak(packed), "big")


def parse_edge_list(text: str) -> Any:
    """An undirected networkx graph of worker addresses from "addrA addrB" lines (blank lines and
    `#` comments skipped; addresses checksummed so they match the scheduler's worker rows).

    Raises:
        PnyxInputError: a line is not two addresses; the message names the line.
    """
    graph = nx.Graph()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 2:
            raise PnyxInputError(f"line {number}: expected two addresses, got {raw.strip()!r}")
        try:
            a, b = (to_address(field) for field in fields)
        except PnyxInputError as exc:
            raise PnyxInputError(f"line {number}: {exc}") from exc
        graph.add_edge(a, b)
    return graph


def hop_distances(graph: Any, sources: Iterable[str]) -> dict[str, int]:
    """The fewest hops from any of `sources` to every node reachable from them (networkx's
    multi-source shortest paths, every edge one hop). Sources missing from the graph are skipped;
    nodes absent from the result are unreachable (or unknown): infinitely far."""
    present = {source for source in sources if source in graph}
    if not present:
        return {}
    return {
        node: int(hops)
        for node, hops in nx.multi_source_dijkstra_path_length(graph, present).items()
    }
