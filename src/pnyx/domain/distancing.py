"""Worker distancing on a social graph (Bettinger, Barbero & Hasan 2022, proposal 2;
reference/papers.md §1.4): choose n workers scattered over the participants' social graph so that
few of them know each other, and the closeness-clique metric that measures it.

Pure: the graph is passed in (a networkx `Graph`, undirected); nothing is read or written.

1. **Communities**: Louvain (`networkx.community.louvain_communities`, seeded; the paper used
   igraph's multilevel method, so partitions differ in detail).
2. **Quota per community** (`community_quotas`), C communities, |V| nodes:
   - C > n: the community graph (one node per community, an edge where an inter-community edge
     exists); n communities chosen pairwise far apart by the max-min greedy of step 3 (no
     boundary), 1 worker each;
   - C = n: 1 each;
   - C < n: 1 each, then the rem = n − C others by the policy — `size_pro_rata` (the paper's main
     one): ⌊rem·|c|/|V|⌋ capped by the community's size, the leftover round-robin over the
     communities by size descending (ties: Louvain's order); `size_round_robin`: all of rem
     round-robin that way.
3. **Farthest points inside each community** (`farthest_points`), on the subgraph induced by the
   community and its boundary (neighbours in other communities): the boundary nodes are the
   initial "chosen" set — they repel and are never selected; then the node maximising
   min_{c∈chosen} d(node, c) is added until the quota is met, ties broken by the largest
   Σ_c g(d(node, c)) with g(0) = g(1) = 0, g(2) = 5, g(≥3) = 10, then by the community's order.
   Without a boundary (`with_boundary=False`, or a community with no outside neighbour), the start
   is the member of minimum betweenness in the community's own subgraph, which is selected.

Speed: distances are never computed all-pairs. Each community keeps an array of the minimum
distance to the chosen set, updated by a BFS from every newly chosen node that stops where it does
not improve the array, and the tie-break as a penalty 10·#{chosen at d ≤ 1} + 5·#{chosen at d = 2}
(Σ g = 10·|chosen| − penalty, and |chosen| is the same for every candidate), updated by a BFS of
depth 2 from each new chosen node.

**Closeness cliques** (`largest_closeness_clique`): H joins two workers whose shortest-path
distance in G is ≤ min_dist (bounded BFS from each worker); the metric is the size of H's largest
clique, the largest group of mutually close workers. It is found by enumerating H's maximal
cliques (`networkx.find_cliques`, Bron–Kerbosch with pivoting): on ego-Facebook at n = 807,
min_dist = 1, that takes ~0.07 s where the branch-and-bound `max_weight_clique` takes ~1.2 s. For
large min_dist H is dense and both grow quickly.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Literal

import networkx as nx  # type: ignore[import-untyped]

from pnyx.errors import PnyxInputError

Node = Hashable
Policy = Literal["size_pro_rata", "size_round_robin"]
POLICIES: tuple[Policy, ...] = ("size_pro_rata", "size_round_robin")

_NEAR = 10  # penalty of a chosen node at distance ≤ 1 (g = 0 instead of 10)
_SECOND = 5  # penalty of a chosen node at distance 2 (g = 5 instead of 10)


def louvain_communities(graph: Any, seed: int) -> list[list[Node]]:
    """Louvain communities of `graph` for `seed`, each as a list of nodes in the graph's node
    order, the communities in networkx's order."""
    position = {node: i for i, node in enumerate(graph.nodes)}
    found = nx.community.louvain_communities(graph, seed=seed)
    return [sorted(members, key=position.__getitem__) for members in found]


def select_distant_workers(
    graph: Any,
    n: int,
    seed: int,
    *,
    policy: Policy = "size_pro_rata",
    with_boundary: bool = True,
    communities: Sequence[Sequence[Node]] | None = None,
) -> list[Node]:
    """n workers scattered over `graph`: Louvain communities for `seed` (or the `communities`
    given, a partition of the nodes), the policy's quota per community, farthest points inside
    each. Workers are listed community by community, in selection order.

    Raises:
        PnyxInputError: n is not in 1..|V|, the policy is unknown, or `communities` is not a
            partition of the graph's nodes.
    """
    if not 0 < n <= graph.number_of_nodes():
        raise PnyxInputError(f"cannot select {n} workers among {graph.number_of_nodes()} nodes")
    if communities is None:
        communities = louvain_communities(graph, seed)
    _check_partition(graph, communities)
    quotas = community_quotas(graph, communities, n, policy=policy)
    membership = {node: k for k, members in enumerate(communities) for node in members}
    workers: list[Node] = []
    for k, (members, quota) in enumerate(zip(communities, quotas, strict=True)):
        if quota:
            boundary = _boundary(graph, members, membership, k) if with_boundary else []
            workers.extend(farthest_points(graph, members, quota, boundary))
    return workers


def community_quotas(
    graph: Any,
    communities: Sequence[Sequence[Node]],
    n: int,
    *,
    policy: Policy = "size_pro_rata",
) -> list[int]:
    """Workers per community (same order as `communities`); they sum to n and none exceeds its
    community's size.

    Raises:
        PnyxInputError: the policy is unknown or n is not in 0..|V|.
    """
    if policy not in POLICIES:
        raise PnyxInputError(f"unknown allocation policy {policy!r}; known: {', '.join(POLICIES)}")
    sizes = [len(members) for members in communities]
    total = sum(sizes)
    if not 0 <= n <= total:
        raise PnyxInputError(f"cannot allocate {n} workers to communities of {total} nodes")
    count = len(communities)
    if n < count:
        chosen = set(_far_communities(graph, communities, n))
        return [1 if k in chosen else 0 for k in range(count)]
    quotas = [1] * count
    remainder = n - count
    if policy == "size_pro_rata" and remainder:
        quotas = [min(1 + remainder * size // total, size) for size in sizes]
    leftover = n - sum(quotas)
    by_size = sorted(range(count), key=lambda k: -sizes[k])  # stable: ties in Louvain order
    while leftover:
        for k in by_size:
            if leftover and quotas[k] < sizes[k]:
                quotas[k] += 1
                leftover -= 1
    return quotas


def farthest_points(
    graph: Any, members: Sequence[Node], quota: int, boundary: Sequence[Node] = ()
) -> list[Node]:
    """`quota` members of one community, farthest-point selected (module docstring, step 3) on
    the subgraph induced by `members` and `boundary`; the boundary repels and is never returned.
    With an empty boundary the first pick is the member of minimum betweenness. All members, in
    their order, when the quota covers them."""
    if quota >= len(members):
        return list(members)
    if quota <= 0:
        return []
    inside = set(members)
    local = list(members) + [node for node in dict.fromkeys(boundary) if node not in inside]
    index = {node: i for i, node in enumerate(local)}
    adjacency = [[index[m] for m in graph.adj[node] if m in index] for node in local]
    size = len(local)
    far = size + 1  # farther than any finite distance: unreachable
    distance = [far] * size
    penalty = [0] * size
    chosen = [False] * size
    picked: list[int] = []

    def add(sources: list[int]) -> None:
        queue: deque[int] = deque()
        for source in sources:
            chosen[source] = True
            if distance[source]:
                distance[source] = 0
                queue.append(source)
            _penalise(adjacency, source, penalty)
        while queue:  # multi-source BFS, pruned where the distance does not improve
            node = queue.popleft()
            step = distance[node] + 1
            for neighbour in adjacency[node]:
                if step < distance[neighbour]:
                    distance[neighbour] = step
                    queue.append(neighbour)

    outside = list(range(len(members), size))
    if outside:
        add(outside)
    else:
        start = _min_betweenness(graph, members)
        add([start])
        picked.append(start)
    candidates = range(len(members))
    while len(picked) < quota:
        best = max(
            (i for i in candidates if not chosen[i]),
            key=lambda i: (distance[i], -penalty[i], -i),
        )
        add([best])
        picked.append(best)
    return [local[i] for i in picked]


def largest_closeness_clique(graph: Any, workers: Iterable[Node], min_dist: int = 1) -> int:
    """Size of the largest group of workers pairwise within `min_dist` hops in `graph` (the
    largest clique of H; for min_dist = 1 the largest clique of the induced subgraph); 0 for no
    workers.

    Raises:
        PnyxInputError: min_dist < 1 or a worker is not a node of the graph.
    """
    if min_dist < 1:
        raise PnyxInputError(f"min_dist is ≥ 1, got {min_dist}")
    chosen = list(dict.fromkeys(workers))
    missing = [node for node in chosen if node not in graph]
    if missing:
        raise PnyxInputError(f"workers not in the graph: {missing[:5]}")
    if not chosen:
        return 0
    if min_dist == 1:
        close = graph.subgraph(chosen)
    else:
        targets = set(chosen)
        close = nx.Graph()
        close.add_nodes_from(chosen)
        for worker in chosen:
            reached = _within(graph, worker, min_dist)
            close.add_edges_from((worker, other) for other in reached & targets if other != worker)
    return max(len(clique) for clique in nx.find_cliques(close))


# -- helpers -----------------------------------------------------------------------------------


def _check_partition(graph: Any, communities: Sequence[Sequence[Node]]) -> None:
    seen = [node for members in communities for node in members]
    if len(seen) != len(set(seen)) or set(seen) != set(graph.nodes):
        raise PnyxInputError("communities must partition the graph's nodes")
    if any(not members for members in communities):
        raise PnyxInputError("a community is empty")


def _boundary(
    graph: Any, members: Sequence[Node], membership: dict[Node, int], k: int
) -> list[Node]:
    """Neighbours of `members` in other communities, in order of first discovery."""
    found: dict[Node, None] = {}
    for node in members:
        for neighbour in graph.adj[node]:
            if membership[neighbour] != k:
                found[neighbour] = None
    return list(found)


def _penalise(adjacency: list[list[int]], source: int, penalty: list[int]) -> None:
    """Adds `source`'s share of the tie-break penalty: 10 within one hop, 5 at exactly two."""
    penalty[source] += _NEAR
    first = set(adjacency[source])
    for neighbour in first:
        penalty[neighbour] += _NEAR
    second: set[int] = set()
    for neighbour in first:
        second.update(adjacency[neighbour])
    second -= first
    second.discard(source)
    for node in second:
        penalty[node] += _SECOND


def _min_betweenness(graph: Any, members: Sequence[Node]) -> int:
    """Local index (position in `members`) of the member of minimum betweenness in the
    community's own subgraph (first in order on ties)."""
    if len(members) <= 2:
        return 0
    centrality = nx.betweenness_centrality(graph.subgraph(members))
    return min(range(len(members)), key=lambda i: (centrality[members[i]], i))


def _far_communities(graph: Any, communities: Sequence[Sequence[Node]], n: int) -> list[int]:
    """n community indexes pairwise far apart on the community graph (max-min greedy, no
    boundary)."""
    if n == 0:
        return []
    membership = {node: k for k, members in enumerate(communities) for node in members}
    quotient = nx.Graph()
    quotient.add_nodes_from(range(len(communities)))
    quotient.add_edges_from(
        (membership[u], membership[v]) for u, v in graph.edges if membership[u] != membership[v]
    )
    indexes = list(range(len(communities)))
    position: dict[Node, int] = {k: k for k in indexes}
    return [position[k] for k in farthest_points(quotient, indexes, n)]


def _within(graph: Any, source: Node, depth: int) -> set[Node]:
    """Nodes at distance ≤ depth from `source` (bounded BFS)."""
    seen = {source}
    frontier = [source]
    for _ in range(depth):
        following = []
        for node in frontier:
            for neighbour in graph.adj[node]:
                if neighbour not in seen:
                    seen.add(neighbour)
                    following.append(neighbour)
        frontier = following
    return seen
