"""The Astrea voting oracle's pure rules: the voter draw (against an independent abi.encode), the
decision table, and the payouts (conservation, minority loses, UNKNOWN refunds)."""

from __future__ import annotations

import re
from collections import Counter
from enum import IntEnum

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak
from hypothesis import given
from hypothesis import strategies as st

from pnyx.config import CONTRACTS_DIR
from pnyx.domain._hex import to_address
from pnyx.domain.astrea import (
    AstreaConfig,
    Outcome,
    Status,
    assigned_proposition,
    decide,
    draw_index,
    proposition_id,
    rewards_of,
    settlement,
)
from pnyx.errors import PnyxInputError

pytestmark = pytest.mark.unit

CONFIG = AstreaConfig(
    voter_stake=10, certifier_stake=1_000, votes_required=5, voting_period_s=3_600
)

seeds = st.binary(min_size=32, max_size=32)
addresses = st.binary(min_size=20, max_size=20).map(to_address)
nonces = st.integers(min_value=0, max_value=2**256 - 1)
ballot_lists = st.lists(st.tuples(addresses, st.booleans()), max_size=12)
certification_lists = st.lists(st.tuples(addresses, st.booleans()), max_size=6)


def _reference_index(seed: bytes, voter: str, nonce: int, count: int) -> int:
    digest = keccak(encode(["bytes32", "address", "uint256"], [seed, voter, nonce]))
    return int.from_bytes(digest, "big") % count


# ─── Draw ───
@given(seed=seeds, voter=addresses, nonce=nonces, count=st.integers(1, 10_000))
def test_draw_index_equals_abi_encode_reference(
    seed: bytes, voter: str, nonce: int, count: int
) -> None:
    index = draw_index(seed, voter, nonce, count)
    assert 0 <= index < count
    assert index == _reference_index(seed, voter, nonce, count)


@given(
    seed=seeds,
    voter=addresses,
    nonce=st.integers(1, 2**32 - 1),
    ids=st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=20, unique=True),
)
def test_assigned_proposition_is_one_of_the_open_ones(
    seed: bytes, voter: str, nonce: int, ids: list[bytes]
) -> None:
    open_ids = ["0x" + raw.hex() for raw in ids]
    assigned = assigned_proposition(seed, voter, nonce, open_ids)
    assert assigned in open_ids
    assert assigned == open_ids[_reference_index(seed, voter, nonce, len(ids))]


@given(seed=seeds, voter=addresses, nonce=st.integers(1, 2**32 - 2))
def test_draw_index_depends_on_the_nonce(seed: bytes, voter: str, nonce: int) -> None:
    # Two tickets of one voter draw independently: over 2**64 slots they essentially never collide.
    assert draw_index(seed, voter, nonce, 2**64) != draw_index(seed, voter, nonce + 1, 2**64)


def test_draw_index_is_close_to_uniform() -> None:
    voter = to_address("0x" + "ab" * 20)
    counts = Counter(draw_index(keccak(i.to_bytes(32, "big")), voter, 1, 5) for i in range(5_000))
    assert set(counts) == set(range(5))
    # 1,000 expected per bucket; ±150 is more than 5 standard deviations (σ ≈ 28).
    assert all(850 <= n <= 1_150 for n in counts.values()), counts


def test_draw_index_rejects_an_empty_open_list() -> None:
    with pytest.raises(PnyxInputError):
        draw_index(bytes(32), "0x" + "11" * 20, 1, 0)


def test_proposition_id_is_keccak_of_the_text() -> None:
    assert (
        proposition_id("It rained in Toronto on 2024-07-01")
        == "0x" + keccak(b"It rained in Toronto on 2024-07-01").hex()
    )


# ─── Decision ───
@pytest.mark.parametrize(
    ("votes", "certifications", "outcome"),
    [
        ((3, 2), (0, 0), Outcome.TRUE),  # no certifier: the voting decides
        ((2, 3), (0, 0), Outcome.FALSE),
        ((3, 2), (2, 1), Outcome.TRUE),  # certifier majority agrees
        ((3, 2), (1, 0), Outcome.TRUE),
        ((3, 2), (0, 1), Outcome.UNKNOWN),  # certifiers disagree
        ((3, 2), (1, 1), Outcome.UNKNOWN),  # certifiers split: they do not back the voting
        ((3, 2), (1, 2), Outcome.UNKNOWN),
        ((2, 3), (1, 0), Outcome.UNKNOWN),
        ((2, 2), (2, 0), Outcome.UNKNOWN),  # voting tie
        ((0, 0), (0, 0), Outcome.UNKNOWN),  # nobody voted before the deadline
    ],
)
def test_decide_follows_the_table(
    votes: tuple[int, int], certifications: tuple[int, int], outcome: Outcome
) -> None:
    assert decide(*votes, *certifications) is outcome


# ─── Payouts ───
@given(
    bounty=st.integers(0, 10**12),
    ballots=ballot_lists,
    certifications=certification_lists,
    bps=st.integers(0, 10_000),
)
def test_settlement_pays_out_exactly_the_bounty_and_the_stakes(
    bounty: int,
    ballots: list[tuple[str, bool]],
    certifications: list[tuple[str, bool]],
    bps: int,
) -> None:
    config = AstreaConfig(
        voter_stake=7, certifier_stake=301, votes_required=12, voting_period_s=60,
        min_bounty=0, certifier_bounty_bps=bps,
    )  # fmt: skip
    submitter = to_address("0x" + "5b" * 20)
    outcome, paid = settlement(
        config, submitter=submitter, bounty=bounty, ballots=ballots, certifications=certifications
    )
    staked = len(ballots) * config.voter_stake + len(certifications) * config.certifier_stake
    assert sum(paid.values()) == bounty + staked
    if outcome is Outcome.UNKNOWN:
        return
    truth = outcome is Outcome.TRUE
    # Everyone on the losing side of either role loses its whole stake: they are paid nothing,
    # unless the same address also won in a role or is the submitter.
    winners = {v for v, value in ballots if value == truth} | {
        c for c, value in certifications if value == truth
    }
    for loser, value in [*ballots, *certifications]:
        if value != truth and loser not in winners and loser != submitter:
            assert loser not in paid


def test_minority_voters_lose_their_stake_to_the_majority() -> None:
    voters = [to_address(f"0x{i:040x}") for i in range(1, 6)]
    ballots = [(v, i < 3) for i, v in enumerate(voters)]  # 3 TRUE, 2 FALSE
    outcome, paid = settlement(
        CONFIG, submitter=voters[0], bounty=0, ballots=ballots, certifications=[]
    )
    assert outcome is Outcome.TRUE
    # The pot is the two losers' stakes (20), shared by three winners: 6 each, dust 2.
    assert paid == {voters[0]: 10 + 6 + 2, voters[1]: 16, voters[2]: 16}


def test_rewards_split_the_bounty_between_voters_and_certifiers() -> None:
    rewards = rewards_of(CONFIG, 1_000, winners=3, losers=2, agreeing=2, disagreeing=1)
    # Certifiers: 20 % of 1,000 plus one loser's 1,000 stake, halved. Voters: 800 + 20 over 3.
    assert rewards.certifier_reward == (200 + 1_000) // 2
    assert rewards.voter_reward == 820 // 3
    assert rewards.dust == 820 - 3 * (820 // 3)


def test_rewards_give_voters_the_whole_bounty_when_no_certifier_agrees() -> None:
    rewards = rewards_of(CONFIG, 1_000, winners=4, losers=1, agreeing=0, disagreeing=0)
    assert rewards.certifier_reward == 0
    assert rewards.voter_reward == (1_000 + 10) // 4


def test_unknown_refunds_every_stake_and_the_bounty() -> None:
    voter, certifier, submitter = (to_address(f"0x{i:040x}") for i in (1, 2, 3))
    outcome, paid = settlement(
        CONFIG,
        submitter=submitter,
        bounty=500,
        ballots=[(voter, True)],
        certifications=[(certifier, False)],
    )
    assert outcome is Outcome.UNKNOWN
    assert paid == {voter: 10, certifier: 1_000, submitter: 500}


@pytest.mark.parametrize(
    "fields",
    [
        {"voter_stake": 0},
        {"certifier_stake": 10},  # not above the voter stake
        {"votes_required": 0},
        {"votes_required": 256},
        {"voting_period_s": 0},
        {"certifier_bounty_bps": 10_001},
    ],
)
def test_config_rejects_what_the_constructor_rejects(fields: dict[str, int]) -> None:
    base = {"voter_stake": 10, "certifier_stake": 1_000, "votes_required": 5}
    with pytest.raises(PnyxInputError):
        AstreaConfig(**{**base, "voting_period_s": 60, **fields})


# ─── Enums ───
def _solidity_enum(name: str) -> list[str]:
    source = (CONTRACTS_DIR / "src" / "oracles" / "AstreaVoting.sol").read_text()
    match = re.search(rf"enum {name} \{{([^}}]*)\}}", source)
    assert match, name
    return [member.strip() for member in match.group(1).split(",") if member.strip()]


@pytest.mark.parametrize("enum", [Outcome, Status])
def test_enum_matches_solidity(enum: type[IntEnum]) -> None:
    assert [member.name for member in enum] == _solidity_enum(enum.__name__)
    assert [member.value for member in enum] == list(range(len(enum)))
