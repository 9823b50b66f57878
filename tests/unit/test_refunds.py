"""How `pnyx deal claim` batches the claimable tasks of a deal."""

from __future__ import annotations

import pytest

from pnyx.sdk.refunds import _runs

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("indices", "runs"),
    [
        ([], []),
        ([4], [(4, 1)]),
        ([0, 1, 2], [(0, 3)]),
        ([5, 0, 1, 3, 6, 7], [(0, 2), (3, 1), (5, 3)]),
    ],
)
def test_runs_groups_consecutive_task_indices(
    indices: list[int], runs: list[tuple[int, int]]
) -> None:
    assert _runs(indices) == runs
