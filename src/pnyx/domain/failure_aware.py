"""Failure-aware replica selection, after Aral et al. (2020): workers that fail *together* (same
host, same network, same operator) make replication useless, so replicas should be spread across
groups of workers that fail independently.

The design here is Pnyx's own (the paper's setting differs; reference/papers.md §3):

1. **History.** For each past task, which workers took part and which of them failed — a faulty
   contribution (outside the consensus), a missed reveal, or a contribution timeout — as the chain's
   task history records them (`TaskRecord`).
2. **Dependence.** For each pair of workers that shared at least `min_shared` tasks, the phi
   coefficient of their failure indicators over those tasks (the Pearson correlation of two binary
   variables): 0 for independent failures, 1 when they always fail together.
3. **Clusters.** Workers linked by a dependence ≥ `threshold` are merged (union-find, i.e.
   single linkage): a cluster's workers fail in a correlated way, directly or through others.
4. **Choice.** A replica set of size r takes its workers from as many clusters as possible, the
   most reliable first; its probability of reaching consensus — at least `needed` of the r
   replicas succeed — treats clusters as independent and a cluster's replicas as one fate (they
   succeed or fail together, with the cluster's worst reliability).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations

from pnyx.errors import PnyxInputError


@dataclass(frozen=True)
class TaskRecord:
    """One past task: who took part, and who of them failed."""

    participants: frozenset[str]
    failed: frozenset[str]

    def __post_init__(self) -> None:
        if not self.failed <= self.participants:
            raise PnyxInputError("a worker cannot fail a task it did not take part in")


def reliability(
    history: Iterable[TaskRecord], *, prior: tuple[int, int] = (1, 1)
) -> dict[str, Fraction]:
    """Each worker's probability of success, with a Beta prior (successes, failures) so a new
    worker is neither trusted nor distrusted blindly (Laplace's rule by default)."""
    done: dict[str, list[int]] = {}
    for task in history:
        for worker in task.participants:
            counts = done.setdefault(worker, [0, 0])
            counts[1 if worker in task.failed else 0] += 1
    return {
        worker: Fraction(ok + prior[0], ok + bad + prior[0] + prior[1])
        for worker, (ok, bad) in done.items()
    }


def failure_dependence(
    history: Sequence[TaskRecord], *, min_shared: int = 5
) -> dict[tuple[str, str], float]:
    """Phi coefficient of the failure indicators of every pair with ≥ `min_shared` shared tasks
    (pairs sorted; a pair where one worker never or always fails has no defined phi and is left
    out)."""
    shared: dict[tuple[str, str], list[int]] = {}  # n11, n10, n01, n00
    for task in history:
        for a, b in combinations(sorted(task.participants), 2):
            cell = shared.setdefault((a, b), [0, 0, 0, 0])
            fa, fb = a in task.failed, b in task.failed
            cell[(0 if fa else 2) + (0 if fb else 1)] += 1
    out: dict[tuple[str, str], float] = {}
    for pair, (n11, n10, n01, n00) in shared.items():
        total = n11 + n10 + n01 + n00
        if total < min_shared:
            continue
        denominator = (n11 + n10) * (n01 + n00) * (n11 + n01) * (n10 + n00)
        if denominator == 0:
            continue
        out[pair] = (n11 * n00 - n10 * n01) / math.sqrt(denominator)
    return out


def failure_clusters(
    workers: Iterable[str], dependence: dict[tuple[str, str], float], *, threshold: float = 0.5
) -> list[frozenset[str]]:
    """Groups of workers whose failures are linked by a dependence ≥ `threshold` (single
    linkage); every worker is in exactly one cluster, largest clusters first."""
    parent = {worker: worker for worker in workers}

    def root(worker: str) -> str:
        while parent[worker] != worker:
            parent[worker] = parent[parent[worker]]
            worker = parent[worker]
        return worker

    for (a, b), phi in dependence.items():
        if phi >= threshold and a in parent and b in parent:
            parent[root(a)] = root(b)
    groups: dict[str, set[str]] = {}
    for worker in parent:
        groups.setdefault(root(worker), set()).add(worker)
    return sorted((frozenset(g) for g in groups.values()), key=lambda g: (-len(g), sorted(g)))


def choose_replicas(
    clusters: Sequence[frozenset[str]],
    reliabilities: dict[str, Fraction],
    size: int,
    *,
    default: Fraction = Fraction(1, 2),
) -> list[str]:
    """`size` workers spread over as many clusters as possible: round after round, the most
    reliable unused worker of each cluster, clusters ordered by their best reliability."""
    total = sum(len(c) for c in clusters)
    if not 0 < size <= total:
        raise PnyxInputError(f"cannot choose {size} replicas among {total} workers")
    queues = [sorted(c, key=lambda w: (-reliabilities.get(w, default), w)) for c in clusters if c]
    queues.sort(key=lambda q: (-reliabilities.get(q[0], default), q[0]))
    chosen: list[str] = []
    while len(chosen) < size:
        for queue in queues:
            if queue and len(chosen) < size:
                chosen.append(queue.pop(0))
    return chosen


def consensus_probability(
    replicas: Sequence[str],
    clusters: Sequence[frozenset[str]],
    reliabilities: dict[str, Fraction],
    needed: int,
    *,
    default: Fraction = Fraction(1, 2),
) -> Fraction:
    """P(at least `needed` replicas succeed), clusters independent, a cluster's replicas failing
    together (they succeed with the cluster's worst member's reliability)."""
    where = {worker: i for i, cluster in enumerate(clusters) for worker in cluster}
    groups: dict[int, list[str]] = {}
    for worker in replicas:
        if worker not in where:
            raise PnyxInputError(f"{worker} is in no cluster")
        groups.setdefault(where[worker], []).append(worker)
    # Distribution of the number of successful replicas, one cluster (all or nothing) at a time.
    dist = [Fraction(1)]
    for members in groups.values():
        p = min(reliabilities.get(w, default) for w in members)
        k = len(members)
        nxt = [Fraction(0)] * (len(dist) + k)
        for count, prob in enumerate(dist):
            nxt[count] += prob * (1 - p)
            nxt[count + k] += prob * p
        dist = nxt
    return sum(dist[needed:], Fraction(0))
