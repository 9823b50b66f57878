"""The referendum SDK (`pnyx.sdk.referendum`, what `pnyx vote` runs) on a real anvil, with shares
sealed to each worker's box key: honest runs count the yes votes; a selected participant without
an intent gets no shares; a share sealed with garbage is reported and the audit points at the
slot that received it; a share cannot be opened by another worker or another referendum; a
tampered result is named by the audit; and the audit recomputes the selection from the intents."""

from __future__ import annotations

import random

import pytest
from eth_account.signers.local import LocalAccount

from pnyx.chain import contract_errors as errors
from pnyx.chain.referendum import Referendum
from pnyx.chain.signing import dev_account
from pnyx.domain.crypto import DecryptionError, open_sealed
from pnyx.domain.referendum import Verdict
from pnyx.sdk import referendum as votes
from tests.helpers.world import World

pytestmark = pytest.mark.integration

MNEMONIC = "test test test test test test test test test test test junk"
PERIOD = 1_000


def _people(world: World, count: int, first: int = 300) -> list[LocalAccount]:
    people = [dev_account(first + i, MNEMONIC) for i in range(count)]
    for person in people:
        world.client.send_ether(world.owner, person.address, 10**18)
    return people


def _open_poll(
    world: World, people: list[LocalAccount], n: int, t: int, joiners: list[LocalAccount]
) -> tuple[Referendum, bytes, dict[str, LocalAccount]]:
    referendum = Referendum.deploy(world.client, world.owner)
    rid = votes.create(
        referendum, world.owner, "Q?", [p.address for p in people],
        workers=n, threshold=t, vote_period_s=PERIOD, work_period_s=PERIOD,
    )  # fmt: skip
    for person in joiners:
        votes.join(referendum, person, rid)
    votes.initiate(referendum, world.owner, rid)
    by_address = {p.address.lower(): p for p in people}
    return referendum, rid, by_address


def test_sealed_shares_are_counted_and_audited(world: World) -> None:
    people = _people(world, 9)
    referendum, rid, by_address = _open_poll(
        world, people, 5, 2, random.Random(3).sample(people, 9)
    )
    choices = {p.address: i % 3 == 0 for i, p in enumerate(people)}
    for person in people:
        assert votes.cast(referendum, person, rid, choices[person.address]) == []
    world.client.increase_time(PERIOD)
    workers = [by_address[w.lower()] for w in referendum.workers(rid)]
    reports = [votes.work(referendum, worker, rid) for worker in workers]
    assert all(r.result.ballots == 9 and not r.unreadable for r in reports)

    assert votes.count(referendum, world.owner, rid) == sum(choices.values()) == 3
    audit = votes.audit(referendum, rid)
    assert audit.ok and audit.selection_matches and audit.tally_matches
    assert audit.verification is not None and audit.verification.verdict is Verdict.CONSISTENT

    # a share is sealed to its slot, its worker and this referendum only
    sealed = referendum.votes(rid)[people[0].address]
    own = votes.box_private_key(workers[0], rid)
    assert open_sealed(own, sealed[0], context=votes.share_context(rid, 0))
    with pytest.raises(DecryptionError):
        open_sealed(
            votes.box_private_key(workers[1], rid), sealed[0], context=votes.share_context(rid, 0)
        )
    with pytest.raises(DecryptionError):
        open_sealed(own, sealed[0], context=votes.share_context(bytes(32), 0))
    with pytest.raises(errors.ReferendumAlreadyWorked):
        votes.work(referendum, workers[0], rid)


def test_a_selected_participant_without_intent_gets_no_shares(world: World) -> None:
    people = _people(world, 6, first=320)
    # n = 6 of 6: everyone is a worker, but the last two posted no intent (no box key)
    silent = people[-2:]
    referendum, rid, by_address = _open_poll(world, people, 6, 2, people[:-2])
    keyless = votes.cast(referendum, people[0], rid, True)
    slots = {w.lower(): s for s, w in enumerate(referendum.workers(rid))}
    assert sorted(keyless) == sorted(slots[p.address.lower()] for p in silent)
    assert all(referendum.votes(rid)[people[0].address][s] == b"" for s in keyless)
    for person in people[1:4]:
        votes.cast(referendum, person, rid, False)
    world.client.increase_time(PERIOD)
    for person in people[:-2]:
        votes.work(referendum, person, rid)
    assert votes.count(referendum, world.owner, rid) == 1
    assert votes.audit(referendum, rid).ok


def test_garbage_for_one_worker_is_reported_and_the_audit_names_its_slot(world: World) -> None:
    people = _people(world, 7, first=340)
    referendum, rid, by_address = _open_poll(world, people, 7, 2, people)
    for person in people[1:]:
        votes.cast(referendum, person, rid, True)
    # a malformed ballot: valid-looking shares except garbage for slot 3
    honest = referendum.votes(rid)[people[1].address]
    forged = list(honest)
    forged[3] = b"\x00" * 92
    referendum.cast_vote(people[0], rid, forged)
    world.client.increase_time(PERIOD)
    workers = [by_address[w.lower()] for w in referendum.workers(rid)]
    reports = [votes.work(referendum, worker, rid) for worker in workers]
    assert reports[3].unreadable == [people[0].address]
    assert all(not r.unreadable for i, r in enumerate(reports) if i != 3)
    audit = votes.audit(referendum, rid)
    assert audit.verification is not None
    assert audit.verification.verdict is Verdict.CORRECTED
    assert audit.verification.culprits == (3,)
    assert not audit.ok


def test_a_tampered_result_is_named_by_the_audit(world: World) -> None:
    people = _people(world, 8, first=360)
    referendum, rid, by_address = _open_poll(world, people, 6, 2, people)
    for i, person in enumerate(people):
        votes.cast(referendum, person, rid, i < 5)
    world.client.increase_time(PERIOD)
    workers = [by_address[w.lower()] for w in referendum.workers(rid)]
    for worker in workers[:-1]:
        votes.work(referendum, worker, rid)
    last = votes.intermediate_result(referendum, workers[-1], rid)
    referendum.post_intermediate(workers[-1], rid, last.result.value + 7)
    assert votes.count(referendum, world.owner, rid) == 5  # the first t were honest
    audit = votes.audit(referendum, rid)
    assert audit.verification is not None and audit.verification.culprits == (5,)
    assert audit.tally_matches and not audit.ok


def test_cast_before_initiation_and_by_outsiders_fail_with_named_errors(world: World) -> None:
    people = _people(world, 4, first=380)
    referendum = Referendum.deploy(world.client, world.owner)
    rid = votes.create(
        referendum, world.owner, "Q?", [p.address for p in people],
        workers=3, threshold=2, vote_period_s=PERIOD, work_period_s=PERIOD,
    )  # fmt: skip
    with pytest.raises(votes.NotInitiatedError):
        votes.cast(referendum, people[0], rid, True)
    with pytest.raises(errors.ReferendumNotInitiated):
        referendum.cast_vote(people[0], rid, [b""] * 3)
    with pytest.raises(errors.ReferendumNotParticipant):
        votes.join(referendum, world.stranger, rid)
    votes.join(referendum, people[0], rid)
    with pytest.raises(errors.ReferendumAlreadyPosted):
        votes.join(referendum, people[0], rid)
    with pytest.raises(errors.ReferendumNotInitiator):
        votes.initiate(referendum, people[0], rid)
    votes.initiate(referendum, world.owner, rid)
    chosen = {w.lower() for w in referendum.workers(rid)}
    outsider = next(p for p in people if p.address.lower() not in chosen)
    with pytest.raises(votes.NotSelectedError):
        votes.intermediate_result(referendum, outsider, rid)
