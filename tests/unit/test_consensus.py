"""The integer consensus rule and Sarmenta's credibility agree exactly (reference/papers.md §4)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pnyx.domain.consensus import (
    TaskConsensus,
    credibility,
    has_consensus,
    meets_trust,
    replicas_needed,
    reward_weight,
    score_after_faulty,
    split_worker_rewards,
    worker_weight,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("trust", "workers"),
    [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (8, 3), (9, 4), (16, 4), (17, 5), (32, 5)],
)
def test_replicas_needed_matches_the_reference_table(trust: int, workers: int) -> None:
    assert replicas_needed(trust) == workers


@pytest.mark.parametrize(
    ("score", "weight"), [(0, 2), (11, 2), (12, 3), (15, 4), (300, 99), (10**7, 65535)]
)
def test_worker_weight_is_max_score_third_three_minus_one(score: int, weight: int) -> None:
    assert worker_weight(score) == weight


def test_reward_weight_is_floor_log2() -> None:
    assert [reward_weight(w) for w in (2, 3, 4, 7, 8, 99)] == [1, 1, 2, 2, 3, 6]


def test_faulty_score_loses_a_third() -> None:
    assert [score_after_faulty(s) for s in (0, 1, 3, 10, 300)] == [0, 0, 2, 6, 200]


@given(
    group=st.integers(min_value=1, max_value=2**80),
    others=st.integers(min_value=0, max_value=2**80),
    trust=st.integers(min_value=1, max_value=2**64),
)
def test_integer_rule_is_credibility_above_one_minus_one_over_trust(
    group: int, others: int, trust: int
) -> None:
    total = 1 + group + others
    assert has_consensus(group, total, trust) == meets_trust(credibility(group, total), trust)


@given(
    trust=st.integers(min_value=1, max_value=1000),
    contributions=st.lists(
        st.tuples(st.sampled_from(["r1", "r2", "r3"]), st.integers(min_value=0, max_value=400)),
        min_size=1,
        max_size=12,
    ),
)
def test_task_consensus_declares_a_winner_only_above_the_threshold(
    trust: int, contributions: list[tuple[str, int]]
) -> None:
    task = TaskConsensus(trust=trust)
    for result, score in contributions:
        reached = task.contribute(result, score)
        cr = Fraction(task.group_weight(result), task.total())
        assert reached == (cr > 1 - Fraction(1, trust))
        if reached:
            break


def test_dissent_raises_the_bar() -> None:
    # Without dissent trust 4 needs two fresh workers (4·4 > 5·3); one dissenting worker makes it
    # four: group 2, 4, 8, 16 against totals 5, 7, 11, 19.
    assert TaskConsensus(trust=4).contribute("a", 0) is False
    task = TaskConsensus(trust=4)
    outcomes = [task.contribute(result, 0) for result in ("a", "b", "a", "a", "a")]
    assert outcomes == [False, False, False, False, True]
    assert task.winner == "a"


def test_reject_winner_removes_its_group_from_the_total() -> None:
    task = TaskConsensus(trust=2)
    task.contribute("a", 0)
    assert task.winner == "a"
    task.reject_winner()
    assert task.total() == 1
    assert task.winner is None


def test_split_worker_rewards_pays_the_remainder_to_the_scheduler() -> None:
    split = split_worker_rewards(
        workerpool_price=10_000,
        scheduler_reward_ratio=5,
        worker_stake=3_000,
        proved={"x": 2, "y": 4},
        faulty=["z"],
    )
    # total 13 000, workers 12 350 split by log2 weights 1 and 2
    assert split.workers == {"x": 4_116, "y": 8_233}
    assert split.scheduler == 13_000 - 4_116 - 8_233
