"""The state-machine tables, and docs/protocol.md rendering them (so the docs cannot drift)."""

from __future__ import annotations

import pytest

from pnyx.config import REPO_DIR
from pnyx.domain.lifecycle import (
    CONTRIBUTION_TRANSITIONS,
    TASK_TRANSITIONS,
    contribution_mermaid,
    deal_mermaid,
    is_allowed,
    task_mermaid,
)
from pnyx.domain.views import ContributionStatus, TaskStatus

pytestmark = pytest.mark.unit


def test_every_task_status_appears_in_the_table() -> None:
    states = {t.source for t in TASK_TRANSITIONS} | {t.target for t in TASK_TRANSITIONS}
    assert states == {status.name for status in TaskStatus}


def test_finished_tasks_and_contributions_never_move_again() -> None:
    for terminal in (TaskStatus.COMPLETED, TaskStatus.FAILED):
        assert not any(t.source == terminal.name for t in TASK_TRANSITIONS)
    for terminal in (ContributionStatus.PROVED, ContributionStatus.REJECTED):
        assert not any(t.source == terminal.name for t in CONTRIBUTION_TRANSITIONS)


def test_is_allowed_follows_the_table() -> None:
    assert is_allowed(TASK_TRANSITIONS, TaskStatus.REVEALING, TaskStatus.ACTIVE)
    assert not is_allowed(TASK_TRANSITIONS, TaskStatus.COMPLETED, TaskStatus.ACTIVE)
    assert not is_allowed(TASK_TRANSITIONS, TaskStatus.UNSET, TaskStatus.REVEALING)


@pytest.mark.parametrize("render", [task_mermaid, contribution_mermaid, deal_mermaid])
def test_protocol_document_shows_the_current_state_machines(render: object) -> None:
    document = (REPO_DIR / "docs" / "protocol.md").read_text()
    assert callable(render)
    assert f"```mermaid\n{render()}\n```" in document
