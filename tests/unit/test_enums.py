"""Python enums keep the Solidity members' names and order (STYLE.md)."""

from __future__ import annotations

import re
from enum import IntEnum

import pytest

from pnyx.config import CONTRACTS_DIR
from pnyx.domain.orders import OrderOperation
from pnyx.domain.views import ContributionStatus, TaskStatus

pytestmark = pytest.mark.unit


def _solidity_enum(name: str) -> list[str]:
    source = (CONTRACTS_DIR / "src" / "libraries" / "Types.sol").read_text()
    match = re.search(rf"enum {name} \{{([^}}]*)\}}", source)
    assert match, name
    return [member.strip() for member in match.group(1).split(",") if member.strip()]


@pytest.mark.parametrize("enum", [TaskStatus, ContributionStatus, OrderOperation])
def test_enum_matches_solidity(enum: type[IntEnum]) -> None:
    assert [member.name for member in enum] == _solidity_enum(enum.__name__)
    assert [member.value for member in enum] == list(range(len(enum)))
