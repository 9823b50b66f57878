"""Failure-aware replica selection: dependence from history, clusters, spread replica sets."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from pnyx.domain.failure_aware import (
    TaskRecord,
    choose_replicas,
    consensus_probability,
    failure_clusters,
    failure_dependence,
    reliability,
)
from pnyx.errors import PnyxInputError

pytestmark = pytest.mark.unit

WORKERS = [f"w{i}" for i in range(6)]
RACK = {"w0", "w1", "w2"}  # share a rack: they go down together


def _history(tasks: int = 400, seed: int = 7) -> list[TaskRecord]:
    """Every task runs on 4 random workers; the rack fails as one 20 % of the time, each worker
    also fails alone 5 % of the time."""
    rng = random.Random(seed)
    out = []
    for _ in range(tasks):
        participants = frozenset(rng.sample(WORKERS, 4))
        rack_down = rng.random() < 0.2
        failed = {w for w in participants if (w in RACK and rack_down) or rng.random() < 0.05}
        out.append(TaskRecord(participants, frozenset(failed)))
    return out


def test_workers_failing_together_are_clustered_the_others_not() -> None:
    dependence = failure_dependence(_history())
    assert all(dependence[p] > 0.6 for p in (("w0", "w1"), ("w0", "w2"), ("w1", "w2")))
    assert all(abs(dependence[("w3", w)]) < 0.3 for w in ("w4", "w5"))
    clusters = failure_clusters(WORKERS, dependence, threshold=0.5)
    assert clusters[0] == frozenset(RACK)
    assert sorted(len(c) for c in clusters) == [1, 1, 1, 3]


def test_replicas_are_spread_across_clusters() -> None:
    history = _history()
    clusters = failure_clusters(WORKERS, failure_dependence(history))
    chosen = choose_replicas(clusters, reliability(history), 3)
    assert len(set(chosen)) == 3
    assert len(set(chosen) & RACK) <= 1  # never two replicas in the rack


def test_spreading_raises_the_probability_of_consensus() -> None:
    history = _history()
    clusters = failure_clusters(WORKERS, failure_dependence(history))
    scores = reliability(history)
    spread = choose_replicas(clusters, scores, 3)
    packed = sorted(RACK)
    assert consensus_probability(spread, clusters, scores, 2) > consensus_probability(
        packed, clusters, scores, 2
    )


def test_consensus_probability_of_independent_replicas_is_binomial() -> None:
    clusters = [frozenset({w}) for w in ("a", "b", "c")]
    p = Fraction(9, 10)
    scores = dict.fromkeys(("a", "b", "c"), p)
    at_least_two = 3 * p**2 * (1 - p) + p**3
    assert consensus_probability(["a", "b", "c"], clusters, scores, 2) == at_least_two
    together = [frozenset({"a", "b", "c"})]
    assert consensus_probability(["a", "b", "c"], together, scores, 2) == p  # one fate


def test_reliability_uses_laplaces_rule() -> None:
    history = [
        TaskRecord(frozenset({"a"}), frozenset()),
        TaskRecord(frozenset({"a"}), frozenset({"a"})),
    ]
    assert reliability(history)["a"] == Fraction(2, 4)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(PnyxInputError):
        TaskRecord(frozenset({"a"}), frozenset({"b"}))
    with pytest.raises(PnyxInputError):
        choose_replicas([frozenset({"a"})], {}, 2)
    with pytest.raises(PnyxInputError):
        consensus_probability(["z"], [frozenset({"a"})], {}, 1)
