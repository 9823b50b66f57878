"""The Astrea-style voting oracle's rules, as `contracts/src/oracles/AstreaVoting.sol` applies them.

Pure functions, no I/O, so that anyone can check the chain's answers offline:

- the random assignment of a voter's ticket to an open proposition (`draw_index`,
  `assigned_proposition`): keccak256(abi.encode(seed, voter, nonce)) modulo the number of open
  propositions, where the seed is the hash of the block in which the ticket was bought;
- the decision (`decide`): the stake-weighted voting majority (equal stakes, so a head count),
  kept only if the certifiers do not oppose it; otherwise UNKNOWN;
- the payouts (`rewards_of`, `settlement`): winners share the bounty and the losers' stakes,
  UNKNOWN refunds everyone. docs/oracles-astrea.md explains the rule and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from pnyx.domain._hex import keccak, to_address, to_bytes, to_hex32
from pnyx.errors import PnyxInputError
from pnyx.types import Address, Bytes32

BPS = 10_000
MAX_VOTES = 255
MAX_CERTIFIERS = 16
SEED_WINDOW = 256


class Outcome(IntEnum):
    """`AstreaVoting.Outcome`; `resultFor` returns abi.encode(uint8(outcome))."""

    FALSE = 0
    TRUE = 1
    UNKNOWN = 2


class Status(IntEnum):
    """`AstreaVoting.Status`: where a proposition is in its life."""

    NONE = 0
    OPEN = 1
    SETTLED = 2


@dataclass(frozen=True)
class AstreaConfig:
    """The constructor arguments of one AstreaVoting deployment (amounts in nano-tokens)."""

    voter_stake: int
    certifier_stake: int
    votes_required: int
    voting_period_s: int
    min_bounty: int = 1
    certifier_bounty_bps: int = 2_000

    def __post_init__(self) -> None:
        if (
            self.voter_stake <= 0
            or self.certifier_stake <= self.voter_stake
            or not 1 <= self.votes_required <= MAX_VOTES
            or not 0 < self.voting_period_s < 2**32
            or not 0 <= self.certifier_bounty_bps <= BPS
            or self.min_bounty < 0
        ):
            raise PnyxInputError(f"inconsistent Astrea configuration: {self}")


@dataclass(frozen=True)
class Rewards:
    """What each winner earns on top of its returned stake, and the dust back to the submitter."""

    voter_reward: int
    certifier_reward: int
    dust: int


def proposition_id(text: str) -> Bytes32:
    """The id of a proposition: keccak256 of its UTF-8 text."""
    return to_hex32(keccak(text.encode()))


def draw_index(seed: str | bytes, voter: str, nonce: int, open_count: int) -> int:
    """The index, among `open_count` open propositions, that ticket `nonce` of `voter` draws.

    Same bytes as the contract's `drawIndex`: keccak256(abi.encode(bytes32 seed, address voter,
    uint256 nonce)) % open_count."""
    if open_count <= 0:
        raise PnyxInputError("no open proposition to draw from")
    if not 0 <= nonce < 2**256:
        raise PnyxInputError(f"nonce out of range: {nonce}")
    encoded = (
        to_bytes(seed, length=32)
        + bytes(12)
        + to_bytes(to_address(voter), length=20)
        + nonce.to_bytes(32, "big")
    )
    return int.from_bytes(keccak(encoded), "big") % open_count


def assigned_proposition(
    seed: str | bytes, voter: str, nonce: int, open_ids: Sequence[str]
) -> Bytes32:
    """The proposition the ticket draws among `open_ids` (in the contract's open-list order)."""
    return to_hex32(open_ids[draw_index(seed, voter, nonce, len(open_ids))])


def decide(
    votes_true: int, votes_false: int, certifications_true: int, certifications_false: int
) -> Outcome:
    """The voting majority if there is one and the certifiers do not oppose it, else UNKNOWN.

    The certifiers oppose it when at least one certified against it and no more certified for it
    than against it (with no certification at all, the voting alone decides)."""
    if votes_true == votes_false:
        return Outcome.UNKNOWN
    truth = votes_true > votes_false
    agree, disagree = (
        (certifications_true, certifications_false)
        if truth
        else (certifications_false, certifications_true)
    )
    if disagree and disagree >= agree:
        return Outcome.UNKNOWN
    return Outcome.TRUE if truth else Outcome.FALSE


def rewards_of(
    config: AstreaConfig,
    bounty: int,
    *,
    winners: int,
    losers: int,
    agreeing: int,
    disagreeing: int,
) -> Rewards:
    """The contract's `rewardsOf` for a TRUE/FALSE outcome.

    Winning voters share the bounty (less the certifiers' part) plus the losing voters' stakes;
    agreeing certifiers share `certifier_bounty_bps` of the bounty (only if any agreed) plus the
    disagreeing certifiers' stakes; what integer division leaves is the dust."""
    if winners <= 0:
        raise PnyxInputError("a decided outcome has at least one winning voter")
    certifier_pot = bounty * config.certifier_bounty_bps // BPS if agreeing else 0
    voter_pot = bounty - certifier_pot + losers * config.voter_stake
    voter_reward = voter_pot // winners
    dust = voter_pot - voter_reward * winners
    certifier_reward = 0
    if agreeing:
        certifier_pot += disagreeing * config.certifier_stake
        certifier_reward = certifier_pot // agreeing
        dust += certifier_pot - certifier_reward * agreeing
    return Rewards(voter_reward=voter_reward, certifier_reward=certifier_reward, dust=dust)


def settlement(
    config: AstreaConfig,
    *,
    submitter: str,
    bounty: int,
    ballots: Sequence[tuple[str, bool]],
    certifications: Sequence[tuple[str, bool]],
) -> tuple[Outcome, dict[Address, int]]:
    """The outcome of a proposition and what `settle` transfers to each address.

    Everything paid out equals the bounty plus every stake (nothing stays in the contract)."""
    votes_true = sum(1 for _, value in ballots if value)
    certs_true = sum(1 for _, value in certifications if value)
    outcome = decide(
        votes_true,
        len(ballots) - votes_true,
        certs_true,
        len(certifications) - certs_true,
    )
    paid: dict[Address, int] = {}

    def pay(account: str, amount: int) -> None:
        if amount:
            address = to_address(account)
            paid[address] = paid.get(address, 0) + amount

    if outcome is Outcome.UNKNOWN:
        for voter, _ in ballots:
            pay(voter, config.voter_stake)
        for certifier, _ in certifications:
            pay(certifier, config.certifier_stake)
        pay(submitter, bounty)
        return outcome, paid
    truth = outcome is Outcome.TRUE
    winners = [voter for voter, value in ballots if value == truth]
    agreeing = [certifier for certifier, value in certifications if value == truth]
    rewards = rewards_of(
        config,
        bounty,
        winners=len(winners),
        losers=len(ballots) - len(winners),
        agreeing=len(agreeing),
        disagreeing=len(certifications) - len(agreeing),
    )
    for voter in winners:
        pay(voter, config.voter_stake + rewards.voter_reward)
    for certifier in agreeing:
        pay(certifier, config.certifier_stake + rewards.certifier_reward)
    pay(submitter, rewards.dust)
    return outcome, paid
