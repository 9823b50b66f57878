"""Consensus on chain ⇔ credibility Cr > 1 − 1/trust computed exactly in Python, over random
sequences of contributions by workers with random scores (reference/papers.md §4)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pnyx.domain.consensus import TaskConsensus, credibility, worker_weight
from pnyx.domain.task import digest_of_file, result_hash
from pnyx.domain.views import TaskStatus
from tests.helpers.storage import set_score
from tests.helpers.world import World

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RESULTS = [digest_of_file(bytes([i])) for i in range(3)]


def test_set_score_changes_only_the_score(world: World) -> None:
    worker = world.workers[0]
    before = world.protocol.account(worker.address)
    set_score(world.protocol, worker.address, 1234)
    after = world.protocol.account(worker.address)
    assert (after.free, after.locked, after.score) == (before.free, before.locked, 1234)


@settings(max_examples=25)
@given(
    trust=st.integers(min_value=1, max_value=200),
    contributions=st.lists(
        st.tuples(st.integers(min_value=0, max_value=2), st.integers(min_value=0, max_value=600)),
        min_size=1,
        max_size=8,
    ),
)
def test_chain_consensus_iff_exact_credibility_exceeds_threshold(
    session_world: World, trust: int, contributions: list[tuple[int, int]]
) -> None:
    world = session_world
    snapshot = world.client.snapshot()
    try:
        matched, task_id = world.started_task(trust=trust)
        model = TaskConsensus(trust=trust)
        for worker, (result, score) in zip(world.workers, contributions, strict=False):
            set_score(world.protocol, worker.address, score)
            world.contribute(worker, task_id, matched, digest=RESULTS[result])
            key = result_hash(task_id, RESULTS[result])
            model.contribute(key, score)
            group = model.group_weight(key)
            expected = credibility(group, model.total()) > 1 - Fraction(1, trust)
            on_chain = world.protocol.task(task_id).status == TaskStatus.REVEALING
            assert on_chain == expected
            stored = [c.weight for c in world.protocol.contributions(task_id)]
            assert stored[-1] == worker_weight(score)
            if on_chain:
                assert world.protocol.task(task_id).consensus_value == key
                break
    finally:
        world.client.revert(snapshot)
