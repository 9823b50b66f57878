"""Worker distancing (`pnyx.domain.distancing`) on small hand-made graphs: quotas, boundary nodes,
farthest points, the closeness-clique metric, and that distancing beats random selection."""

from __future__ import annotations

import itertools
import random

import networkx as nx
import pytest

from pnyx.domain.distancing import (
    community_quotas,
    farthest_points,
    largest_closeness_clique,
    louvain_communities,
    select_distant_workers,
)
from pnyx.errors import PnyxInputError

pytestmark = pytest.mark.unit


def ring_of_cliques(cliques: int, size: int) -> tuple[nx.Graph, list[list[int]]]:
    """`cliques` complete graphs of `size` nodes, clique k's last node joined to clique k+1's
    first; returns the graph and the cliques as the natural partition."""
    graph = nx.Graph()
    parts = [list(range(k * size, (k + 1) * size)) for k in range(cliques)]
    for part in parts:
        graph.add_edges_from(itertools.combinations(part, 2))
    for k in range(cliques):
        graph.add_edge(parts[k][-1], parts[(k + 1) % cliques][0])
    return graph, parts


def two_cliques_and_path() -> nx.Graph:
    """K5 on 0..4 and K5 on 10..14 joined by the path 4–5–6–7–10."""
    graph = nx.complete_graph(5)
    graph.add_edges_from(itertools.combinations(range(10, 15), 2))
    nx.add_path(graph, [4, 5, 6, 7, 10])
    return graph


# -- quotas ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["size_pro_rata", "size_round_robin"])
def test_quotas_sum_to_n_and_fit_the_communities(policy: str) -> None:
    graph = nx.empty_graph(20)
    parts = [list(range(0, 11)), list(range(11, 16)), list(range(16, 19)), [19]]
    for n in range(0, 21):
        quotas = community_quotas(graph, parts, n, policy=policy)  # type: ignore[arg-type]
        assert sum(quotas) == n
        assert all(0 <= q <= len(part) for q, part in zip(quotas, parts, strict=True))
        if n >= len(parts):
            assert all(q >= 1 for q in quotas)


def test_size_pro_rata_by_hand() -> None:
    graph = nx.empty_graph(10)
    parts = [list(range(6)), [6, 7, 8], [9]]
    # 1 each; rem = 2: ⌊2·6/10⌋ = 1, ⌊2·3/10⌋ = 0, ⌊2·1/10⌋ = 0; leftover 1 to the largest
    assert community_quotas(graph, parts, 5) == [3, 1, 1]
    # rem = 6: 1 + ⌊36/10⌋ = 4, 1 + ⌊18/10⌋ = 2, min(1 + 0, 1) = 1; leftover 2 round-robin
    assert community_quotas(graph, parts, 9) == [5, 3, 1]
    assert community_quotas(graph, parts, 3) == [1, 1, 1]
    assert community_quotas(graph, parts, 5, policy="size_round_robin") == [2, 2, 1]


def test_fewer_workers_than_communities_picks_far_apart_communities() -> None:
    graph, parts = ring_of_cliques(6, 4)
    quotas = community_quotas(graph, parts, 2)
    picked = [k for k, q in enumerate(quotas) if q]
    assert quotas.count(1) == 2 and len(picked) == 2
    assert (picked[1] - picked[0]) % 6 == 3  # opposite on the ring of communities


def test_unknown_policy_and_bad_n_are_refused() -> None:
    graph, parts = ring_of_cliques(3, 3)
    with pytest.raises(PnyxInputError):
        community_quotas(graph, parts, 2, policy="diameter")  # type: ignore[arg-type]
    with pytest.raises(PnyxInputError):
        select_distant_workers(graph, 10, seed=0)
    with pytest.raises(PnyxInputError):
        select_distant_workers(graph, 0, seed=0)
    with pytest.raises(PnyxInputError):
        select_distant_workers(graph, 2, seed=0, communities=[[0, 1, 2]])


# -- farthest points -------------------------------------------------------------------------------


def test_farthest_points_without_boundary_start_peripheral_then_go_far() -> None:
    graph = nx.path_graph(7)
    assert farthest_points(graph, list(range(7)), 2) == [0, 6]
    assert farthest_points(graph, list(range(7)), 3) == [0, 6, 3]


def test_boundary_repels_and_is_never_chosen() -> None:
    graph = nx.path_graph(7)
    members = [1, 2, 3, 4, 5]
    assert farthest_points(graph, members, 1, boundary=[0, 6]) == [3]
    picked = farthest_points(graph, members, 3, boundary=[0, 6])
    assert picked[0] == 3 and set(picked) <= set(members)
    assert farthest_points(graph, members, 9, boundary=[0, 6]) == members


def test_farthest_points_with_a_boundary() -> None:
    # star centre 0 with leaves 1..3, a tail 3–4 and a boundary node 9 hanging on leaf 1
    graph = nx.Graph([(0, 1), (0, 2), (0, 3), (3, 4), (1, 9)])
    members = [0, 1, 2, 3, 4]
    # distances to the boundary 9: 0→2, 1→1, 2→3, 3→3, 4→4; 4 is the unique farthest
    assert farthest_points(graph, members, 1, boundary=[9]) == [4]
    # then min distances to {9, 4}: 0→2, 1→1, 2→3, 3→1; 2 is the farthest
    assert farthest_points(graph, members, 2, boundary=[9]) == [4, 2]
    cycle = nx.cycle_graph(6)  # boundary 0, members 1..5: 3 is at distance 3
    assert farthest_points(cycle, [1, 2, 3, 4, 5], 1, boundary=[0]) == [3]
    # then every member is at distance 1 of {0, 3} and at 2 of the other (Σg = 5): full tie,
    # the first member in order wins
    assert farthest_points(cycle, [1, 2, 3, 4, 5], 2, boundary=[0]) == [3, 1]


def test_sum_of_g_decides_between_equally_far_nodes() -> None:
    # boundary b=0 adjacent to 1 and 2; 1–3 and 2–4–5; 3 and 4 both at distance 2 from 0,
    # 5 at distance 3 is taken first; then 3 (d(5)=∞ → g=10) beats 4 (d(5)=1 → g=0) on Σg,
    # though both have min distance 2.
    graph = nx.Graph([(0, 1), (0, 2), (1, 3), (2, 4), (4, 5)])
    assert farthest_points(graph, [1, 2, 3, 4, 5], 2, boundary=[0]) == [5, 3]


# -- selection on graphs ---------------------------------------------------------------------------


def test_select_distant_workers_never_picks_boundary_and_is_deterministic() -> None:
    graph = two_cliques_and_path()
    for seed in range(5):
        communities = louvain_communities(graph, seed)
        for n in (1, 2, 3, 5, 8, 12):
            workers = select_distant_workers(graph, n, seed)
            assert len(workers) == n == len(set(workers))
            assert workers == select_distant_workers(graph, n, seed)
            quotas = community_quotas(graph, communities, n)
            assert sum(quotas) == n


def test_one_worker_per_clique_on_a_ring() -> None:
    graph, parts = ring_of_cliques(8, 6)
    workers = select_distant_workers(graph, 8, seed=3, communities=parts)
    assert sorted(next(k for k, p in enumerate(parts) if w in p) for w in workers) == list(range(8))
    # inside each clique the bridge ends are next to the boundary: an inner node is chosen
    assert all(w not in (p[0], p[-1]) for w, p in zip(workers, parts, strict=True))
    assert largest_closeness_clique(graph, workers, 1) == 1
    assert largest_closeness_clique(graph, workers, 2) == 1


def test_distancing_is_farther_apart_than_random() -> None:
    graph, _ = ring_of_cliques(10, 8)
    nodes = list(graph.nodes)
    rng = random.Random(7)

    def mean_distance(workers: list[int]) -> float:
        pairs = list(itertools.combinations(workers, 2))
        return sum(nx.shortest_path_length(graph, u, v) for u, v in pairs) / len(pairs)

    for n in (5, 10, 20):
        distant = [select_distant_workers(graph, n, seed) for seed in range(5)]
        random_sets = [rng.sample(nodes, n) for _ in range(30)]
        assert min(map(mean_distance, distant)) > sum(map(mean_distance, random_sets)) / 30
        assert (
            max(largest_closeness_clique(graph, w, 1) for w in distant)
            <= sorted(largest_closeness_clique(graph, w, 1) for w in random_sets)[15]
        )
    assert all(largest_closeness_clique(graph, select_distant_workers(graph, 10, s)) == 1
               for s in range(5))  # fmt: skip


def test_without_boundary_starts_from_min_betweenness() -> None:
    graph, parts = ring_of_cliques(4, 5)
    workers = select_distant_workers(graph, 4, seed=0, communities=parts, with_boundary=False)
    assert len(workers) == 4
    # inside a clique every betweenness is 0: the first member starts, and the quota is 1
    assert workers == [p[0] for p in parts]


# -- closeness cliques -----------------------------------------------------------------------------


def test_closeness_clique_by_hand() -> None:
    path = nx.path_graph(5)
    assert largest_closeness_clique(path, range(5), 1) == 2
    assert largest_closeness_clique(path, range(5), 2) == 3  # {0,1,2}: pairwise ≤ 2
    assert largest_closeness_clique(path, range(5), 4) == 5
    assert largest_closeness_clique(path, [0, 2, 4], 1) == 1
    assert largest_closeness_clique(path, [0, 2, 4], 2) == 2
    assert largest_closeness_clique(path, [], 1) == 0
    k4 = nx.complete_graph(4)
    k4.add_edges_from([(3, 4), (4, 5)])
    assert largest_closeness_clique(k4, range(6), 1) == 4
    assert largest_closeness_clique(k4, [0, 1, 4, 5], 1) == 2
    assert largest_closeness_clique(k4, [0, 1, 4, 5], 2) == 3  # {0,1,4}: d(0,4) = 2
    with pytest.raises(PnyxInputError):
        largest_closeness_clique(path, [0, 9], 1)
    with pytest.raises(PnyxInputError):
        largest_closeness_clique(path, [0], 0)
