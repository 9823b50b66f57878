"""The Astrea-style voting oracle on a real anvil: the random assignment (Python draw == contract),
every precondition of submit/register/vote/certify/settle with its named error, the payouts
(majority rewarded, minority slashed, certifiers rewarded or slashed, UNKNOWN refunds) checked
token by token against `pnyx.domain.astrea.settlement`, and the EIP-1154 read."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

import pytest
from eth_account.signers.local import LocalAccount

from pnyx.chain import contract_errors as errors
from pnyx.chain.artifacts import load_artifact
from pnyx.chain.oracles.astrea import AstreaVoting
from pnyx.domain._hex import to_address
from pnyx.domain.astrea import (
    SEED_WINDOW,
    AstreaConfig,
    Outcome,
    Status,
    draw_index,
    proposition_id,
    settlement,
)
from pnyx.types import NANO_PER_TOKEN, Address
from tests.helpers.world import World

pytestmark = pytest.mark.integration

TOKEN = NANO_PER_TOKEN
CONFIG = AstreaConfig(
    voter_stake=1 * TOKEN,
    certifier_stake=50 * TOKEN,
    votes_required=5,
    voting_period_s=3_600,
    min_bounty=1 * TOKEN,
    certifier_bounty_bps=2_000,
)
BOUNTY = 10 * TOKEN + 7  # +7: rounding dust goes back to the submitter
QUESTION = proposition_id("Did it rain in Toronto on 2024-07-01?")


@dataclass
class Cast:
    oracle: AstreaVoting
    world: World
    submitter: LocalAccount
    voters: list[LocalAccount]
    certifiers: list[LocalAccount]

    def balances(self) -> dict[Address, int]:
        accounts = [self.submitter, *self.voters, *self.certifiers]
        return {to_address(a.address): self.oracle.token_balance(a.address) for a in accounts}

    def register(self, voters: Sequence[LocalAccount]) -> None:
        """Buys one ticket per voter, then mines a block so that every seed exists."""
        for voter in voters:
            self.oracle.register(voter, CONFIG.voter_stake)
        self.world.client.mine()

    def vote(self, proposition: str, values: Sequence[bool]) -> None:
        """The first len(values) voters buy tickets and vote (`proposition` must be the only open
        one, or the one each voter draws)."""
        voters = self.voters[: len(values)]
        self.register(voters)
        for voter, value in zip(voters, values, strict=True):
            self.oracle.vote(voter, proposition, value)


@pytest.fixture
def cast(world: World) -> Cast:
    owner = world.owner
    oracle = AstreaVoting.deploy(world.client, owner, token=world.deployment.token, config=CONFIG)
    voters = [worker.account for worker in world.workers]
    certifiers = [world.stranger, world.scheduler.account, world.app_provider.account]
    submitter = world.requester.account
    for account in (submitter, *voters, *certifiers):
        oracle.approve(account, 2**255)
    return Cast(oracle, world, submitter, voters, certifiers)


def _settle_and_check(cast: Cast, proposition: str, before: dict[Address, int]) -> Outcome:
    """Settles, then checks every balance against the pure rule and that nothing stays behind."""
    oracle = cast.oracle
    expected_outcome, paid = settlement(
        oracle.config(),
        submitter=cast.submitter.address,
        bounty=oracle.proposition(proposition).bounty,
        ballots=oracle.ballots(proposition),
        certifications=oracle.certifications(proposition),
    )
    receipt = oracle.settle(cast.world.stranger, proposition)
    assert oracle.settlement_of(receipt).outcome is expected_outcome
    after = cast.balances()
    for account, balance in after.items():
        assert balance == before[account] + paid.get(account, 0), account
    assert oracle.token_balance(oracle.address) == 0
    assert oracle.result_for(proposition) is expected_outcome
    return expected_outcome


# ─── Payouts ───
def test_settle_rewards_majority_voters_and_slashes_minority_voters(cast: Cast) -> None:
    oracle = cast.oracle
    start = cast.balances()
    oracle.submit(cast.submitter, QUESTION, BOUNTY)
    cast.vote(QUESTION, [True, True, False, True, False])
    before = cast.balances()

    assert _settle_and_check(cast, QUESTION, before) is Outcome.TRUE

    end = cast.balances()
    reward = (BOUNTY + 2 * CONFIG.voter_stake) // 3
    winners, losers = [cast.voters[i] for i in (0, 1, 3)], [cast.voters[i] for i in (2, 4)]
    for voter in winners:
        assert end[voter.address] - start[voter.address] == reward
    for voter in losers:
        assert end[voter.address] - start[voter.address] == -CONFIG.voter_stake
    dust = BOUNTY + 2 * CONFIG.voter_stake - 3 * reward
    assert end[cast.submitter.address] - start[cast.submitter.address] == -BOUNTY + dust
    assert oracle.proposition(QUESTION).status is Status.SETTLED


def test_settle_rewards_agreeing_certifiers_and_slashes_disagreeing_ones(cast: Cast) -> None:
    oracle = cast.oracle
    start = cast.balances()
    oracle.submit(cast.submitter, QUESTION, BOUNTY)
    agreeing, disagreeing = cast.certifiers[:2], cast.certifiers[2]
    for certifier in agreeing:
        oracle.certify(certifier, QUESTION, False, CONFIG.certifier_stake)
    oracle.certify(disagreeing, QUESTION, True, CONFIG.certifier_stake)
    cast.vote(QUESTION, [False, False, True, False, False])

    assert _settle_and_check(cast, QUESTION, cast.balances()) is Outcome.FALSE

    end = cast.balances()
    certifier_reward = (BOUNTY * 2_000 // 10_000 + CONFIG.certifier_stake) // 2
    for certifier in agreeing:
        assert end[certifier.address] - start[certifier.address] == certifier_reward
    assert end[disagreeing.address] - start[disagreeing.address] == -CONFIG.certifier_stake
    assert end[cast.voters[2].address] - start[cast.voters[2].address] == -CONFIG.voter_stake


def test_outcome_is_unknown_and_everyone_refunded_when_certifiers_disagree_with_voters(
    cast: Cast,
) -> None:
    oracle = cast.oracle
    start = cast.balances()
    oracle.submit(cast.submitter, QUESTION, BOUNTY)
    for certifier in cast.certifiers[:2]:
        oracle.certify(certifier, QUESTION, False, CONFIG.certifier_stake)
    cast.vote(QUESTION, [True, True, True, True, False])

    receipt = oracle.settle(cast.world.stranger, QUESTION)

    settled = oracle.settlement_of(receipt)
    assert settled.outcome is Outcome.UNKNOWN
    assert settled.submitter_refund == BOUNTY
    assert oracle.result_for(QUESTION) is Outcome.UNKNOWN
    assert cast.balances() == start  # no money moved: every stake and the bounty came back
    assert oracle.token_balance(oracle.address) == 0


def test_settle_pays_every_voter_when_ballots_span_two_slots(world: World, cast: Cast) -> None:
    # Ballots are packed eight to a slot: ten votes use two slots.
    config = replace(CONFIG, votes_required=10)
    oracle = AstreaVoting.deploy(
        world.client, world.owner, token=world.deployment.token, config=config
    )
    for account in (cast.submitter, *cast.voters):
        oracle.approve(account, 2**255)
    wide = replace(cast, oracle=oracle)
    oracle.submit(cast.submitter, QUESTION, BOUNTY)
    values = [True, False, True, True, False, True, False, True, True, False]
    wide.vote(QUESTION, values)
    voters = [to_address(v.address) for v in cast.voters]
    assert oracle.ballots(QUESTION) == list(zip(voters, values, strict=True))

    assert _settle_and_check(wide, QUESTION, wide.balances()) is Outcome.TRUE


def test_settle_after_deadline_decides_with_fewer_votes(cast: Cast) -> None:
    oracle = cast.oracle
    oracle.submit(cast.submitter, QUESTION, BOUNTY)
    cast.vote(QUESTION, [True, False, False])
    before = cast.balances()
    with pytest.raises(errors.AstreaVotingOpen) as caught:
        oracle.settle(cast.world.stranger, QUESTION)
    assert caught.value.args_by_name["votes"] == 3
    cast.world.client.increase_time(CONFIG.voting_period_s)

    assert _settle_and_check(cast, QUESTION, before) is Outcome.FALSE
    assert oracle.open_propositions() == []


def test_settle_with_no_vote_refunds_the_submitter(cast: Cast) -> None:
    oracle = cast.oracle
    start = cast.balances()
    oracle.submit(cast.submitter, QUESTION, BOUNTY)
    cast.world.client.increase_time(CONFIG.voting_period_s)

    assert _settle_and_check(cast, QUESTION, cast.balances()) is Outcome.UNKNOWN
    assert cast.balances() == start


def test_settle_reverts_when_already_settled_or_unknown(cast: Cast) -> None:
    oracle = cast.oracle
    with pytest.raises(errors.AstreaUnknownProposition):
        oracle.settle(cast.submitter, QUESTION)
    oracle.submit(cast.submitter, QUESTION, BOUNTY)
    cast.vote(QUESTION, [True] * CONFIG.votes_required)
    oracle.settle(cast.submitter, QUESTION)
    with pytest.raises(errors.AstreaAlreadySettled):
        oracle.settle(cast.submitter, QUESTION)


# ─── The draw ───
def test_vote_reverts_when_proposition_not_assigned_to_the_voter(cast: Cast) -> None:
    oracle = cast.oracle
    ids = [proposition_id(f"proposition {i}") for i in range(4)]
    for proposition in ids:
        oracle.submit(cast.submitter, proposition, BOUNTY)
    voter = cast.voters[0]
    cast.register([voter])
    assigned = oracle.assignment_of(voter.address)

    for other in (p for p in ids if p != assigned):
        with pytest.raises(errors.AstreaNotAssigned) as caught:
            oracle.vote(voter, other, True)
        assert caught.value.args_by_name["assigned"] == assigned

    oracle.vote(voter, assigned, True)
    assert oracle.ballots(assigned) == [(to_address(voter.address), True)]


def test_python_draw_equals_contract_assignment(cast: Cast) -> None:
    oracle = cast.oracle
    ids = [proposition_id(f"proposition {i}") for i in range(5)]
    for proposition in ids:
        oracle.submit(cast.submitter, proposition, BOUNTY)
    cast.register(cast.voters)

    for voter in cast.voters:
        drawn = oracle.draw_of(voter.address)
        assert drawn == oracle.assignment_of(voter.address)
        oracle.vote(voter, drawn, True)  # the open list may shrink: each voter draws afresh
    assert sum(oracle.proposition(p).votes for p in ids) == len(cast.voters)


def test_draw_index_equals_contract_draw_index(cast: Cast) -> None:
    rng = random.Random(1154)
    for _ in range(25):
        seed, voter = rng.randbytes(32), to_address(rng.randbytes(20))
        nonce, count = rng.getrandbits(256), rng.randint(1, 2**32)
        on_chain = cast.world.client.call(
            cast.oracle.contract.functions.drawIndex(seed, voter, nonce, count)
        )
        assert on_chain == draw_index(seed, voter, nonce, count)


def test_vote_reverts_until_the_seed_block_is_sealed(cast: Cast) -> None:
    oracle = cast.oracle
    oracle.submit(cast.submitter, QUESTION, BOUNTY)
    voter = cast.voters[0]
    oracle.register(voter, CONFIG.voter_stake)
    with pytest.raises(errors.AstreaSeedNotReady):
        oracle.assignment_of(voter.address)
    cast.world.client.mine()
    assert oracle.assignment_of(voter.address) == QUESTION


def test_vote_reverts_when_ticket_expired_and_cancel_refunds_it(cast: Cast) -> None:
    oracle = cast.oracle
    oracle.submit(cast.submitter, QUESTION, BOUNTY)
    voter = cast.voters[0]
    balance = oracle.token_balance(voter.address)
    oracle.register(voter, CONFIG.voter_stake)
    with pytest.raises(errors.AstreaTicketLive):
        oracle.cancel_ticket(voter)
    _mine(cast, SEED_WINDOW)

    with pytest.raises(errors.AstreaTicketExpired):
        oracle.vote(voter, QUESTION, True)
    oracle.cancel_ticket(voter)

    assert oracle.token_balance(voter.address) == balance
    assert not oracle.ticket(voter.address).is_held
    with pytest.raises(errors.AstreaNoTicket):
        oracle.cancel_ticket(voter)


def test_vote_and_register_casts_the_vote_and_buys_the_next_ticket(cast: Cast) -> None:
    oracle, voter = cast.oracle, cast.voters[0]
    oracle.submit(cast.submitter, QUESTION, BOUNTY)
    balance = oracle.token_balance(voter.address)
    cast.register([voter])
    with pytest.raises(errors.AstreaWrongStake):
        oracle.vote_and_register(voter, QUESTION, True, CONFIG.voter_stake + 1)

    receipt = oracle.vote_and_register(voter, QUESTION, True, CONFIG.voter_stake)

    ticket = oracle.ticket(voter.address)
    assert (ticket.block_number, ticket.nonce) == (receipt["blockNumber"], 2)
    assert oracle.token_balance(voter.address) == balance - 2 * CONFIG.voter_stake
    cast.world.client.mine()
    oracle.vote(voter, oracle.draw_of(voter.address), False)  # the new ticket votes once more
    assert oracle.ballots(QUESTION) == [(voter.address, True), (voter.address, False)]


def test_vote_reverts_when_nothing_is_open(cast: Cast) -> None:
    cast.register(cast.voters[:1])
    with pytest.raises(errors.AstreaNothingOpen):
        cast.oracle.vote(cast.voters[0], QUESTION, True)


# ─── Voting and certifying preconditions ───
def test_vote_reverts_when_voter_votes_twice(cast: Cast) -> None:
    oracle = cast.oracle
    oracle.submit(cast.submitter, QUESTION, BOUNTY)
    cast.vote(QUESTION, [True])
    with pytest.raises(errors.AstreaNoTicket):
        oracle.vote(cast.voters[0], QUESTION, False)
    assert oracle.proposition(QUESTION).votes == 1


def test_vote_reverts_without_a_ticket(cast: Cast) -> None:
    cast.oracle.submit(cast.submitter, QUESTION, BOUNTY)
    with pytest.raises(errors.AstreaNoTicket):
        cast.oracle.vote(cast.voters[0], QUESTION, True)


def test_register_reverts_when_stake_is_wrong_or_ticket_held(cast: Cast) -> None:
    oracle, voter = cast.oracle, cast.voters[0]
    with pytest.raises(errors.AstreaWrongStake) as caught:
        oracle.register(voter, CONFIG.voter_stake - 1)
    assert caught.value.args_by_name == {
        "given": CONFIG.voter_stake - 1,
        "required": CONFIG.voter_stake,
    }
    oracle.register(voter, CONFIG.voter_stake)
    with pytest.raises(errors.AstreaTicketHeld):
        oracle.register(voter, CONFIG.voter_stake)


def test_certify_reverts_when_stake_is_wrong(cast: Cast) -> None:
    cast.oracle.submit(cast.submitter, QUESTION, BOUNTY)
    with pytest.raises(errors.AstreaWrongStake):
        cast.oracle.certify(cast.certifiers[0], QUESTION, True, CONFIG.voter_stake)


def test_vote_and_certify_revert_after_the_deadline(cast: Cast) -> None:
    oracle = cast.oracle
    oracle.submit(cast.submitter, QUESTION, BOUNTY)
    cast.register(cast.voters[:1])
    cast.world.client.increase_time(CONFIG.voting_period_s)
    with pytest.raises(errors.AstreaVotingClosed):
        oracle.vote(cast.voters[0], QUESTION, True)
    with pytest.raises(errors.AstreaVotingClosed):
        oracle.certify(cast.certifiers[0], QUESTION, True, CONFIG.certifier_stake)


def test_certify_reverts_once_voting_is_full(cast: Cast) -> None:
    oracle = cast.oracle
    oracle.submit(cast.submitter, QUESTION, BOUNTY)
    cast.vote(QUESTION, [True] * CONFIG.votes_required)
    assert oracle.open_propositions() == []
    with pytest.raises(errors.AstreaVotingClosed):
        oracle.certify(cast.certifiers[0], QUESTION, True, CONFIG.certifier_stake)


def test_certify_reverts_when_certifier_certifies_twice(cast: Cast) -> None:
    oracle, certifier = cast.oracle, cast.certifiers[0]
    oracle.submit(cast.submitter, QUESTION, BOUNTY)
    oracle.certify(certifier, QUESTION, True, CONFIG.certifier_stake)
    with pytest.raises(errors.AstreaAlreadyCertified):
        oracle.certify(certifier, QUESTION, False, CONFIG.certifier_stake)
    with pytest.raises(errors.AstreaUnknownProposition):
        oracle.certify(certifier, proposition_id("never submitted"), True, CONFIG.certifier_stake)


def test_submit_reverts_when_id_reused_or_bounty_too_small(cast: Cast) -> None:
    oracle = cast.oracle
    with pytest.raises(errors.AstreaBountyOutOfRange):
        oracle.submit(cast.submitter, QUESTION, CONFIG.min_bounty - 1)
    oracle.submit(cast.submitter, QUESTION, BOUNTY)
    with pytest.raises(errors.AstreaPropositionExists):
        oracle.submit(cast.submitter, QUESTION, BOUNTY)


def test_deploy_reverts_when_config_is_inconsistent(world: World) -> None:
    artifact_args = (world.deployment.token, 10, 10, 5, 60, 1, 0)  # certifier stake == voter's
    with pytest.raises(errors.AstreaBadConfig):
        world.client.deploy(world.owner, load_artifact("AstreaVoting"), *artifact_args)


# ─── EIP-1154 read ───
def test_result_for_reverts_before_the_decision(cast: Cast) -> None:
    oracle = cast.oracle
    with pytest.raises(errors.AstreaUnknownProposition):
        oracle.result_for(QUESTION)
    oracle.submit(cast.submitter, QUESTION, BOUNTY)
    cast.vote(QUESTION, [False] * CONFIG.votes_required)
    with pytest.raises(errors.AstreaUndecided):
        oracle.result_for(QUESTION)  # every vote is in, but nobody settled yet
    oracle.settle(cast.submitter, QUESTION)
    assert oracle.result_for(QUESTION) is Outcome.FALSE


# ─── Gas ───
def test_gas_of_a_proposition_with_five_voters_and_two_certifiers(
    cast: Cast, request: pytest.FixtureRequest
) -> None:
    """Steady state: a submit while another proposition is open (the open list and the contract's
    token balance already non-zero), voters who held a ticket before (their ticket slot non-zero).
    The first submit into an idle contract is recorded too: it pays for those slots."""
    oracle, client = cast.oracle, cast.world.client
    other = proposition_id("another question")
    gas: dict[str, list[int]] = {"register": [], "vote": [], "certify": []}
    gas["submit_cold"] = [oracle.submit(cast.submitter, other, BOUNTY)["gasUsed"]]
    voters = cast.voters[:5]
    gas["register_first"] = []
    for voter in voters:  # earlier tickets, cancelled: the ticket slots hold a nonce and an id
        gas["register_first"].append(oracle.register(voter, CONFIG.voter_stake)["gasUsed"])
    _mine(cast, SEED_WINDOW)
    for voter in voters:
        oracle.cancel_ticket(voter)
    client.increase_time(CONFIG.voting_period_s - 10)
    gas["submit"] = [oracle.submit(cast.submitter, QUESTION, BOUNTY)["gasUsed"]]
    client.increase_time(10)
    oracle.settle(cast.submitter, other)  # expired without a vote: only QUESTION stays open

    for certifier in cast.certifiers[:2]:
        receipt = oracle.certify(certifier, QUESTION, True, CONFIG.certifier_stake)
        gas["certify"].append(receipt["gasUsed"])
    for voter in voters:
        gas["register"].append(oracle.register(voter, CONFIG.voter_stake)["gasUsed"])
    client.mine()
    for voter, value in zip(voters, [True, True, True, False, True], strict=True):
        gas["vote"].append(oracle.vote(voter, QUESTION, value)["gasUsed"])
    gas["settle"] = [oracle.settle(cast.submitter, QUESTION)["gasUsed"]]
    # voteAndRegister, as the first vote on a proposition (it writes the fresh ballot slot).
    oracle.submit(cast.submitter, other := proposition_id("a third question"), BOUNTY)
    cast.register(voters[:1])
    receipt = oracle.vote_and_register(voters[0], other, True, CONFIG.voter_stake)
    gas["vote_and_register"] = [receipt["gasUsed"]]

    for name, values in gas.items():
        request.node.user_properties.append((f"gas_{name}", values))
    assert max(gas["submit"]) < 130_000
    assert max(gas["register"]) < 70_000
    assert max(gas["vote"]) < 80_000
    assert max(gas["vote_and_register"]) < 110_000
    assert max(gas["certify"]) < 110_000
    assert max(gas["settle"]) < 150_000


def _mine(cast: Cast, blocks: int) -> None:
    cast.world.client.w3.provider.make_request("anvil_mine", [hex(blocks)])  # type: ignore[arg-type]
