from __future__ import annotations

import pytest

from pnyx.cli._context import format_tokens, parse_tokens
from pnyx.errors import PnyxInputError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "nano"), [("1", 10**9), ("0.5", 5 * 10**8), ("12.000000001", 12 * 10**9 + 1)]
)
def test_parse_tokens_converts_to_nano(text: str, nano: int) -> None:
    assert parse_tokens(text) == nano
    assert parse_tokens(format_tokens(nano)) == nano


@pytest.mark.parametrize("text", ["-1", "abc", "0.0000000001", ""])
def test_parse_tokens_rejects_bad_amounts(text: str) -> None:
    with pytest.raises(PnyxInputError):
        parse_tokens(text)
