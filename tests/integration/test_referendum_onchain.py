"""The referendum's on-chain record on a real anvil (issue 6, item 6): 12 participants, n = 5
workers selected from the intents' ledger order, t = 2; votes shared by `cast_ballot`, workers'
results by `compute_intermediate_result`, the outcome interpolated and checked by the contract.

The shares are posted *unencrypted* (32-byte big-endian field elements as opaque bytes): the
per-worker encryption is not part of this test, the contract never reads them."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from eth_account.signers.local import LocalAccount

from pnyx.chain import contract_errors as errors
from pnyx.chain.referendum import Referendum
from pnyx.chain.signing import dev_account
from pnyx.domain._hex import keccak
from pnyx.domain.groups import draw_group
from pnyx.domain.numbering import an
from pnyx.domain.referendum import (
    Ballot,
    ReferendumSetup,
    Verdict,
    cast_ballot,
    compute_intermediate_result,
    tally,
    verify,
)
from pnyx.domain.selection import WorkerSelection, arrangement_seed, select_workers
from pnyx.sdk import referendum as votes
from pnyx.types import Address
from tests.helpers.world import World

pytestmark = pytest.mark.integration

PARTICIPANTS, N, T = 12, 5, 2
RID = keccak(b"referendum: more benches in the park?")
VOTE_PERIOD, WORK_PERIOD = 1_000, 1_000
MNEMONIC = "test test test test test test test test test test test junk"


@dataclass
class Poll:
    referendum: Referendum
    accounts: list[LocalAccount]  # ascending by address
    selection: WorkerSelection[str]
    vote_end: int
    gas: dict[str, int]

    @property
    def setup(self) -> ReferendumSetup:
        """From the chain alone: the recorded workers in slot order and t."""
        return self.referendum.setup(RID)

    def account(self, address: str) -> LocalAccount:
        return next(a for a in self.accounts if a.address.lower() == address.lower())

    @property
    def workers(self) -> list[LocalAccount]:
        return [self.account(w) for w in self.selection.workers]

    @property
    def non_worker(self) -> LocalAccount:
        chosen = {w.lower() for w in self.selection.workers}
        return next(a for a in self.accounts if a.address.lower() not in chosen)


def _accounts(world: World) -> list[LocalAccount]:
    accounts = [dev_account(200 + i, MNEMONIC) for i in range(PARTICIPANTS)]
    for account in accounts:
        world.client.send_ether(world.owner, account.address, 10**18)
    return sorted(accounts, key=lambda a: int(a.address, 16))


def _opaque(ballot: Ballot) -> list[bytes]:
    return [share.to_bytes(32, "big") for share in ballot.shares]


def _initiated(world: World) -> Poll:
    """Created, 9 of 12 intents posted in a shuffled order, workers selected and recorded."""
    client = world.client
    referendum = Referendum.deploy(client, world.owner)
    accounts = _accounts(world)
    now = client.timestamp()
    vote_end = now + VOTE_PERIOD
    gas: dict[str, int] = {}
    receipt = referendum.create(
        world.owner, RID, [a.address for a in accounts], N, T, vote_end, vote_end + WORK_PERIOD
    )
    gas["create"] = int(receipt["gasUsed"])
    posters = random.Random(6).sample(accounts, 9)
    for poster in posters:
        gas["postIntent"] = int(referendum.post_intent(poster, RID)["gasUsed"])
    order = referendum.intent_order(RID)
    assert order == [Address(p.address) for p in posters]
    # lowercase hex of equal length sorts like the numbers: P ascending, as in the contract
    selection = select_workers([a.address.lower() for a in accounts], [v.lower() for v in order], N)
    assert selection.number < 2**256  # small poll: AN fits a word
    return Poll(referendum, accounts, selection, vote_end, gas)


def _initiate(world: World, poll: Poll) -> None:
    positions = list(poll.selection.positions)
    receipt = poll.referendum.initiate(world.owner, RID, poll.selection.seed, positions)
    poll.gas["initiate"] = int(receipt["gasUsed"])
    workers = poll.referendum.workers(RID)
    assert [w.lower() for w in workers] == list(poll.selection.workers)
    assert poll.referendum.info(RID).seed == poll.selection.seed


def test_a_referendum_runs_on_chain_and_records_the_yes_count(
    world: World, record_property: Callable[[str, object], None]
) -> None:
    poll = _initiated(world)
    _initiate(world, poll)
    referendum, setup = poll.referendum, poll.setup
    assert setup.n == N and setup.threshold == T

    rng = random.Random(1)
    votes = {a.address: rng.randrange(2) for a in poll.accounts[:11]}  # one abstains
    for voter in poll.accounts[:11]:
        ballot = cast_ballot(voter.address, votes[voter.address], setup, rng.randrange)
        poll.gas["castVote"] = int(referendum.cast_vote(voter, RID, _opaque(ballot))["gasUsed"])
    assert referendum.info(RID).votes == 11

    world.client.increase_time(VOTE_PERIOD)
    # each worker reads the ballots from the events (here the unencrypted shares) and sums its slot
    recorded = [
        Ballot(voter, tuple(int.from_bytes(s, "big") for s in shares))
        for voter, shares in referendum.votes(RID).items()
    ]
    assert len(recorded) == 11
    results = [compute_intermediate_result(setup, slot, recorded) for slot in range(N)]
    for slot in (3, 0, 4, 1):  # four of five workers post, in this order
        worker = poll.workers[slot]
        gas = referendum.post_intermediate(worker, RID, results[slot].value)["gasUsed"]
        poll.gas["postIntermediate"] = int(gas)

    yes = sum(votes.values())
    posted = referendum.intermediate_results(RID)
    assert [r.slot for r in posted] == [3, 0, 4, 1]
    assert tally(setup, posted) == yes
    assert referendum.interpolated_tally(RID) == yes
    with pytest.raises(errors.ReferendumWrongTally):
        referendum.finalize(world.stranger, RID, yes + 1)
    poll.gas["finalize"] = int(referendum.finalize(world.stranger, RID, yes)["gasUsed"])
    info = referendum.info(RID)
    assert info.finalized and info.tally == yes
    check = verify(setup, posted, ballots=info.votes)
    assert check.verdict is Verdict.CONSISTENT and check.tally == yes and check.is_valid
    with pytest.raises(errors.ReferendumAlreadyFinalized):
        referendum.finalize(world.stranger, RID, yes)
    for step, used in poll.gas.items():
        record_property(f"gas_{step}", used)


def test_a_wrong_selection_reverts(world: World) -> None:
    poll = _initiated(world)
    positions = list(poll.selection.positions)
    swapped = [positions[1], positions[0], *positions[2:]]
    with pytest.raises(errors.ReferendumWrongSelection):
        poll.referendum.initiate(world.owner, RID, poll.selection.seed, swapped)
    # a small poll: the chain computes AN of the recorded order and accepts no other seed, even one
    # whose draw the positions are
    other = keccak(b"another seed")
    with pytest.raises(errors.ReferendumWrongSeed):
        poll.referendum.initiate(world.owner, RID, other, draw_group(other, PARTICIPANTS, N))
    with pytest.raises(errors.ReferendumNotInitiator):
        poll.referendum.initiate(poll.accounts[0], RID, poll.selection.seed, positions)
    assert poll.referendum.ledger_number(RID) == poll.selection.number
    poll.referendum.initiate(world.owner, RID, poll.selection.seed, positions)
    assert poll.referendum.info(RID).seed == poll.selection.seed
    with pytest.raises(errors.ReferendumAlreadyInitiated):
        poll.referendum.post_intent(poll.accounts[-1], RID)


def test_double_votes_late_votes_and_outsiders_revert(world: World) -> None:
    poll = _initiated(world)
    with pytest.raises(errors.ReferendumAlreadyPosted):
        poll.referendum.post_intent(poll.account(poll.referendum.intent_order(RID)[0]), RID)
    _initiate(world, poll)
    referendum, setup = poll.referendum, poll.setup
    voter = poll.accounts[0]
    ballot = _opaque(cast_ballot(voter.address, 1, setup, random.Random(2).randrange))
    referendum.cast_vote(voter, RID, ballot)
    with pytest.raises(errors.ReferendumAlreadyVoted):
        referendum.cast_vote(voter, RID, ballot)
    with pytest.raises(errors.ReferendumNotParticipant):
        referendum.cast_vote(world.stranger, RID, ballot)
    with pytest.raises(errors.ReferendumWrongShareCount):
        referendum.cast_vote(poll.accounts[1], RID, ballot[:-1])
    with pytest.raises(errors.ReferendumWorkNotOpen):  # too early for results
        referendum.post_intermediate(poll.workers[0], RID, 1)

    world.client.increase_time(VOTE_PERIOD)
    with pytest.raises(errors.ReferendumVotingClosed):
        referendum.cast_vote(poll.accounts[1], RID, ballot)
    with pytest.raises(errors.ReferendumNotWorker):
        referendum.post_intermediate(poll.non_worker, RID, 1)
    with pytest.raises(errors.ReferendumNotEnoughResults):
        referendum.finalize(world.stranger, RID, 1)
    referendum.post_intermediate(poll.workers[0], RID, 1)
    with pytest.raises(errors.ReferendumAlreadyWorked):
        referendum.post_intermediate(poll.workers[0], RID, 1)

    world.client.increase_time(WORK_PERIOD)
    with pytest.raises(errors.ReferendumWorkNotOpen):  # too late
        referendum.post_intermediate(poll.workers[1], RID, 1)


@pytest.mark.parametrize("case", range(12))
def test_the_chain_numbers_the_intents_like_python(world: World, case: int) -> None:
    """AN of the recorded intent order, accumulated on chain as intents arrive, equals
    `pnyx.domain.numbering.an` for random small polls: any size, any subset, any order."""
    rng = random.Random(case)
    p = rng.randint(1, 14)
    accounts = _funded(world, p, first=400 + 20 * case)
    posters = rng.sample(accounts, rng.randint(0, p))
    referendum = _created(world, accounts, n=1, t=1)
    participants = [a.address.lower() for a in accounts]
    for count, poster in enumerate(posters):
        expected = an([q.address.lower() for q in posters[:count]], participants)
        assert referendum.ledger_number(RID) == expected
        referendum.post_intent(poster, RID)
    assert referendum.ledger_number(RID) == an([q.address.lower() for q in posters], participants)


def test_the_largest_small_poll_and_the_first_large_one(world: World) -> None:
    """57 participants all posting in reverse order: AN is 256 bits and still computed on chain.
    58: AN no longer fits; the contract accepts the initiator's seed and only the audit of the
    recorded order can tell a seed that is not AN's."""
    accounts = _funded(world, 58, first=700)
    small = _created(world, accounts[:57], n=3, t=2)
    for poster in reversed(accounts[:57]):
        small.post_intent(poster, RID)
    participants = [a.address.lower() for a in accounts[:57]]
    number = an([a.address.lower() for a in reversed(accounts[:57])], participants)
    assert number.bit_length() == 256 and small.ledger_number(RID) == number
    gas = small.initiate(
        world.owner, RID, arrangement_seed(number), draw_group(arrangement_seed(number), 57, 3)
    )
    assert int(gas["gasUsed"]) < 700_000

    large = _created(world, accounts, n=3, t=2)
    with pytest.raises(errors.ReferendumTooLargeForLedgerNumber):
        large.ledger_number(RID)
    large.post_intent(accounts[0], RID)
    chosen = keccak(b"the initiator's favourite seed")
    large.initiate(world.owner, RID, chosen, draw_group(chosen, 58, 3))
    assert large.info(RID).seed == chosen  # accepted: only the audit of the intents catches it
    audit = votes.audit(large, RID)
    assert audit.selection_matches is False and not audit.ok


def _funded(world: World, count: int, *, first: int) -> list[LocalAccount]:
    accounts = [dev_account(first + i, MNEMONIC) for i in range(count)]
    for account in accounts:
        world.client.send_ether(world.owner, account.address, 10**17)
    return sorted(accounts, key=lambda a: int(a.address, 16))


def _created(world: World, accounts: list[LocalAccount], *, n: int, t: int) -> Referendum:
    referendum = Referendum.deploy(world.client, world.owner)
    end = world.client.timestamp() + VOTE_PERIOD
    referendum.create(world.owner, RID, [a.address for a in accounts], n, t, end, end + WORK_PERIOD)
    return referendum
