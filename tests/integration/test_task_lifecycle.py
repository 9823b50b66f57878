"""The task lifecycle on a real hub: initialize, contribute, reveal, revealAll, finalize,
contributeAndFinalize, reopen and the claims. Every precondition is checked to revert with its
named custom error, raised in Python as the `contract_errors` class of the same name, and every
happy path is checked against the state it leaves (reference/poco.md §1.7-§1.9)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_account.signers.local import LocalAccount

from pnyx.chain import contract_errors as errors
from pnyx.chain.protocol import MatchedDeal
from pnyx.chain.signing import new_account, sign_authorization, sign_enclave_result
from pnyx.domain.consensus import TaskConsensus, replicas_needed, worker_weight
from pnyx.domain.tags import tag_from_names
from pnyx.domain.task import digest_of_file, result_hash, result_seal, task_id
from pnyx.domain.views import ContributionStatus, TaskStatus
from pnyx.errors import ContractRevert
from pnyx.sdk import Worker
from pnyx.types import ZERO_ADDRESS, TaskId
from tests.helpers.world import DIGEST, RESULTS, World

pytestmark = pytest.mark.integration

OTHER_DIGEST = digest_of_file(b"a wrong output")
UNKNOWN_DEAL = "0x" + "ab" * 32


# ─── Helpers ───


def _advance_to(world: World, timestamp: int) -> None:
    """Moves the chain's clock to `timestamp` (or leaves it if already past)."""
    world.client.increase_time(max(timestamp - world.client.timestamp(), 0))


def _contribute_all(
    world: World, workers: list[Worker], task: TaskId, matched: MatchedDeal, digest: str = DIGEST
) -> None:
    for worker in workers:
        world.contribute(worker, task, matched, digest)


def _revealing_task(world: World, *, trust: int = 8) -> tuple[MatchedDeal, TaskId, list[Worker]]:
    """A task whose fresh winners (as many as `trust` needs) reached consensus on DIGEST."""
    matched, task = world.started_task(trust=trust)
    winners = world.workers[: replicas_needed(trust)]
    _contribute_all(world, winners, task, matched)
    assert world.protocol.task(task).status == TaskStatus.REVEALING
    return matched, task, winners


def _contribute_copied_seal(
    world: World, copier: Worker, honest: Worker, task: TaskId, matched: MatchedDeal
) -> None:
    """The copier commits the consensus hash with the seal it read from `honest`'s transaction."""
    world.protocol.contribute(
        copier.account,
        task,
        matched.deal,
        result_hash(task, DIGEST),
        result_seal(honest.address, task, DIGEST),
        world.scheduler.authorize(copier.address, task),
    )


def _tee_task(world: World) -> tuple[MatchedDeal, TaskId]:
    tee = tag_from_names(("tee",))
    matched, _ = world.protocol.match_orders(
        world.requester.account,
        world.app_order(tag=tee),
        world.dataset_order(),
        world.workerpool_order(tag=tee),
        world.request_order(tag=tee),
    )
    assert matched.deal.is_tee
    return matched, world.scheduler.initialize(matched.deal_id, matched.deal.bot_first)


def _tee_contribute(
    world: World, worker: Worker, task: TaskId, matched: MatchedDeal, enclave: LocalAccount
) -> None:
    hash_, seal = result_hash(task, DIGEST), result_seal(worker.address, task, DIGEST)
    worker.contribute(
        task,
        matched.deal,
        DIGEST,
        world.scheduler.authorize(worker.address, task, enclave.address),
        enclave_challenge=enclave.address,
        enclave_sign=sign_enclave_result(enclave, hash_, seal),
    )


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _assert_named(caught: pytest.ExceptionInfo[ContractRevert], name: str) -> None:
    """The revert is the Solidity error `name`, raised as the Python class of the same name."""
    assert caught.value.name == name
    assert type(caught.value).__name__ == name, (
        f"{name} was raised as {type(caught.value).__name__}, "
        f"not as pnyx.chain.contract_errors.{name}"
    )


# ─── initialize ───


def test_initialize_activates_task_when_deal_has_one_task(world: World) -> None:
    matched = world.match()
    task = task_id(matched.deal_id, matched.deal.bot_first)
    assert world.protocol.task(task).status == TaskStatus.UNSET

    receipt = world.protocol.initialize(
        world.scheduler.account, matched.deal_id, matched.deal.bot_first
    )

    assert world.protocol.task(task).status == TaskStatus.ACTIVE
    (event,) = world.client.events(world.protocol.hub, "TaskInitialized", receipt)
    assert _hex(event["args"]["taskId"]) == task
    assert event["args"]["idx"] == matched.deal.bot_first


def test_initialize_reverts_when_deal_unknown(world: World) -> None:
    with pytest.raises(ContractRevert) as caught:
        world.protocol.initialize(world.scheduler.account, UNKNOWN_DEAL, 0)
    _assert_named(caught, "PocoTaskNotFound")
    assert caught.value.args_by_name == {"dealId": UNKNOWN_DEAL, "idx": 0}


@pytest.mark.parametrize("volume", [1, 3], ids=["one-task-deal", "three-task-deal"])
def test_initialize_reverts_when_idx_outside_bag(world: World, volume: int) -> None:
    matched = world.match(volume=volume)
    outside = matched.deal.bot_first + matched.deal.bot_size
    with pytest.raises(ContractRevert) as caught:
        world.protocol.initialize(world.scheduler.account, matched.deal_id, outside)
    _assert_named(caught, "PocoTaskNotFound")
    assert caught.value.args_by_name == {"dealId": matched.deal_id, "idx": outside}


def test_initialize_reverts_when_task_already_active(world: World) -> None:
    matched, task = world.started_task()
    with pytest.raises(errors.PocoInvalidTaskStatus) as caught:
        world.scheduler.initialize(matched.deal_id, matched.deal.bot_first)
    assert caught.value.args_by_name == {"taskId": task, "status": TaskStatus.ACTIVE}


def test_initialize_batch_activates_every_task_when_deal_has_three_tasks(world: World) -> None:
    matched = world.match(volume=3)
    assert matched.volume == 3
    assert all(world.protocol.task(t).status == TaskStatus.UNSET for t in matched.task_ids)

    started = world.scheduler.initialize_all(matched.deal_id, matched.deal)

    assert started == matched.task_ids
    assert [world.protocol.task(t).status for t in started] == [TaskStatus.ACTIVE] * 3
    for task in started:
        assert len(world.protocol.task_events(task, "TaskInitialized")) == 1


# ─── contribute ───


def test_contribute_locks_stake_and_records_contribution(world: World) -> None:
    matched, task = world.started_task(trust=8)
    worker = world.workers[0]
    before = world.protocol.account(worker.address)

    world.contribute(worker, task, matched)

    after = world.protocol.account(worker.address)
    assert after.free == before.free - matched.deal.worker_stake
    assert after.locked == before.locked + matched.deal.worker_stake
    (contribution,) = world.protocol.contributions(task)
    assert contribution.worker == worker.address
    assert contribution.status == ContributionStatus.CONTRIBUTED
    assert contribution.result_hash == result_hash(task, DIGEST)
    assert contribution.weight == worker_weight(before.score) == 2
    view = world.protocol.task(task)
    assert view.status == TaskStatus.ACTIVE
    assert view.contributor_count == 1
    (event,) = world.protocol.task_events(task, "TaskContributed")
    assert event["worker"] == worker.address
    assert event["enclaveChallenge"] == ZERO_ADDRESS


def test_contribute_reverts_when_task_not_initialized(world: World) -> None:
    matched = world.match()
    task = task_id(matched.deal_id, matched.deal.bot_first)
    with pytest.raises(errors.PocoInvalidTaskStatus) as caught:
        world.contribute(world.workers[0], task, matched)
    assert caught.value.args_by_name == {"taskId": task, "status": TaskStatus.UNSET}


def test_contribute_reverts_when_task_revealing(world: World) -> None:
    matched, task, _ = _revealing_task(world, trust=8)
    with pytest.raises(errors.PocoInvalidTaskStatus) as caught:
        world.contribute(world.workers[5], task, matched)
    assert caught.value.args_by_name == {"taskId": task, "status": TaskStatus.REVEALING}


def test_contribute_reverts_when_deal_record_mismatch(world: World) -> None:
    matched, task = world.started_task(trust=8)
    forged = replace(matched, deal=replace(matched.deal, worker_stake=0))
    with pytest.raises(errors.PocoDealMismatch) as caught:
        world.contribute(world.workers[0], task, forged)
    assert caught.value.args_by_name == {"id": task}
    assert world.protocol.task(task).contributor_count == 0


def test_contribute_reverts_when_contribution_deadline_reached(world: World) -> None:
    matched, task = world.started_task(trust=8)
    _advance_to(world, matched.deal.contribution_deadline)
    with pytest.raises(errors.PocoContributionDeadlineReached) as caught:
        world.contribute(world.workers[0], task, matched)
    assert caught.value.args_by_name == {
        "taskId": task,
        "deadline": matched.deal.start_time + 2100,
    }


def test_contribute_reverts_when_worker_already_contributed(world: World) -> None:
    matched, task = world.started_task(trust=8)
    worker = world.workers[0]
    world.contribute(worker, task, matched)
    with pytest.raises(errors.PocoAlreadyContributed) as caught:
        world.contribute(worker, task, matched, OTHER_DIGEST)
    assert caught.value.args_by_name == {"taskId": task, "worker": worker.address}
    assert world.protocol.task(task).contributor_count == 1


def test_contribute_reverts_when_authorization_not_signed_by_scheduler(world: World) -> None:
    matched, task = world.started_task(trust=8)
    worker = world.workers[0]
    forged = sign_authorization(world.stranger, worker.address, task)
    with pytest.raises(errors.PocoUnauthorizedWorker) as caught:
        worker.contribute(task, matched.deal, DIGEST, forged)
    assert caught.value.args_by_name == {"taskId": task, "worker": worker.address}


def test_contribute_reverts_when_authorization_for_another_worker(world: World) -> None:
    matched, task = world.started_task(trust=8)
    holder, thief = world.workers[0], world.workers[1]
    ticket = world.scheduler.authorize(holder.address, task)
    with pytest.raises(errors.PocoUnauthorizedWorker) as caught:
        thief.contribute(task, matched.deal, DIGEST, ticket)
    assert caught.value.args_by_name == {"taskId": task, "worker": thief.address}


def test_contribute_reverts_when_authorization_for_another_task(world: World) -> None:
    matched = world.match(trust=8, volume=2)
    first, second = world.scheduler.initialize_all(matched.deal_id, matched.deal)
    worker = world.workers[0]
    ticket = world.scheduler.authorize(worker.address, first)
    with pytest.raises(errors.PocoUnauthorizedWorker) as caught:
        worker.contribute(second, matched.deal, DIGEST, ticket)
    assert caught.value.args_by_name == {"taskId": second, "worker": worker.address}


def test_contribute_reverts_when_tee_deal_without_enclave_challenge(world: World) -> None:
    matched, task = _tee_task(world)
    with pytest.raises(errors.PocoEnclaveChallengeRequired) as caught:
        world.contribute(world.workers[0], task, matched)
    assert caught.value.args_by_name == {"taskId": task}


def test_contribute_reverts_when_enclave_signature_invalid(world: World) -> None:
    matched, task = _tee_task(world)
    worker, enclave, impostor = world.workers[0], new_account(), new_account()
    hash_, seal = result_hash(task, DIGEST), result_seal(worker.address, task, DIGEST)
    with pytest.raises(errors.PocoInvalidEnclaveSignature) as caught:
        worker.contribute(
            task,
            matched.deal,
            DIGEST,
            world.scheduler.authorize(worker.address, task, enclave.address),
            enclave_challenge=enclave.address,
            enclave_sign=sign_enclave_result(impostor, hash_, seal),
        )
    assert caught.value.args_by_name == {"taskId": task, "enclaveChallenge": enclave.address}


def test_contribute_reverts_when_authorization_omits_enclave_challenge(world: World) -> None:
    matched, task = _tee_task(world)
    worker, enclave = world.workers[0], new_account()
    hash_, seal = result_hash(task, DIGEST), result_seal(worker.address, task, DIGEST)
    with pytest.raises(errors.PocoUnauthorizedWorker):
        worker.contribute(
            task,
            matched.deal,
            DIGEST,
            world.scheduler.authorize(worker.address, task),
            enclave_challenge=enclave.address,
            enclave_sign=sign_enclave_result(enclave, hash_, seal),
        )


def test_contribute_records_tee_contribution_when_enclave_signature_valid(world: World) -> None:
    matched, task = _tee_task(world)
    worker, enclave = world.workers[0], new_account()

    _tee_contribute(world, worker, task, matched, enclave)

    (event,) = world.protocol.task_events(task, "TaskContributed")
    assert event["worker"] == worker.address
    assert event["enclaveChallenge"] == enclave.address
    # trust 1: the single TEE contribution is the consensus, and it completes normally.
    assert world.protocol.task(task).status == TaskStatus.REVEALING
    worker.reveal(task, DIGEST)
    world.scheduler.finalize(task, matched.deal, RESULTS)
    assert world.protocol.task(task).status == TaskStatus.COMPLETED


def test_contribute_reverts_when_worker_stake_insufficient(world: World) -> None:
    matched, task = world.started_task(trust=8)
    worker = world.workers[0]
    world.protocol.withdraw(worker.account, world.protocol.account(worker.address).free)
    assert world.protocol.account(worker.address).free == 0
    with pytest.raises(errors.EscrowInsufficientBalance) as caught:
        world.contribute(worker, task, matched)
    assert caught.value.args_by_name == {
        "account": worker.address,
        "balance": 0,
        "needed": matched.deal.worker_stake,
    }


# ─── Consensus ───


@pytest.mark.parametrize("trust", [1, 2, 4, 8, 16])
def test_contribute_reaches_consensus_when_replicas_needed_agree(world: World, trust: int) -> None:
    matched, task = world.started_task(trust=trust)
    needed = replicas_needed(trust)
    assert needed == {1: 1, 2: 1, 4: 2, 8: 3, 16: 4}[trust]
    for worker in world.workers[: needed - 1]:
        world.contribute(worker, task, matched)
        assert world.protocol.task(task).status == TaskStatus.ACTIVE

    world.contribute(world.workers[needed - 1], task, matched)

    view = world.protocol.task(task)
    assert view.status == TaskStatus.REVEALING
    assert view.winner_count == needed
    assert view.consensus_value == result_hash(task, DIGEST)
    (event,) = world.protocol.task_events(task, "TaskConsensus")
    assert _hex(event["consensus"]) == result_hash(task, DIGEST)


@pytest.mark.parametrize(
    ("trust", "digests", "expected"),
    [
        # trust 4 needs 2 agreeing fresh workers; one dissent makes it 4.
        (4, "ABAAA", [False, False, False, False, True]),
        # trust 3 needs 2 agreeing fresh workers; one dissent makes it 3.
        (3, "ABAA", [False, False, False, True]),
    ],
    ids=["trust-4", "trust-3"],
)
def test_contribute_raises_consensus_bar_when_a_worker_dissents(
    world: World, trust: int, digests: str, expected: list[bool]
) -> None:
    matched, task = world.started_task(trust=trust)
    values = {"A": DIGEST, "B": OTHER_DIGEST}
    prediction = TaskConsensus(trust=trust)
    assert replicas_needed(trust) == 2

    for worker, label, want in zip(world.workers, digests, expected, strict=False):
        score = world.protocol.account(worker.address).score
        assert prediction.contribute(result_hash(task, values[label]), score) is want
        world.contribute(worker, task, matched, values[label])
        assert (world.protocol.task(task).status == TaskStatus.REVEALING) is want

    assert prediction.winner == result_hash(task, DIGEST)
    view = world.protocol.task(task)
    assert view.consensus_value == result_hash(task, DIGEST)
    assert view.winner_count == digests.count("A")


# ─── reveal ───


def test_reveal_proves_contribution_when_digest_matches(world: World) -> None:
    _, task, winners = _revealing_task(world, trust=8)

    winners[0].reveal(task, DIGEST)

    statuses = [c.status for c in world.protocol.contributions(task)]
    assert statuses == [ContributionStatus.PROVED] + [ContributionStatus.CONTRIBUTED] * 2
    assert world.protocol.task(task).reveal_count == 1
    (event,) = world.protocol.task_events(task, "TaskRevealed")
    assert event["worker"] == winners[0].address
    assert _hex(event["resultDigest"]) == DIGEST


def test_reveal_reverts_when_task_not_revealing(world: World) -> None:
    matched, task = world.started_task(trust=8)
    world.contribute(world.workers[0], task, matched)
    with pytest.raises(errors.PocoInvalidTaskStatus) as caught:
        world.workers[0].reveal(task, DIGEST)
    assert caught.value.args_by_name == {"taskId": task, "status": TaskStatus.ACTIVE}


def test_reveal_reverts_when_reveal_deadline_reached(world: World) -> None:
    _, task, winners = _revealing_task(world, trust=8)
    deadline = world.protocol.task(task).reveal_deadline
    _advance_to(world, deadline)
    with pytest.raises(errors.PocoRevealDeadlineReached) as caught:
        winners[0].reveal(task, DIGEST)
    assert caught.value.args_by_name == {"taskId": task, "deadline": deadline}


def test_reveal_reverts_when_caller_not_contributor(world: World) -> None:
    _, task, _ = _revealing_task(world, trust=8)
    outsider = world.workers[9]
    with pytest.raises(errors.PocoNotContributor) as caught:
        outsider.reveal(task, DIGEST)
    assert caught.value.args_by_name == {"taskId": task, "worker": outsider.address}


def test_reveal_reverts_when_contribution_not_in_consensus(world: World) -> None:
    matched, task = world.started_task(trust=4)
    dissenter, *agreeing = world.workers[:5]
    world.contribute(dissenter, task, matched, OTHER_DIGEST)
    _contribute_all(world, agreeing, task, matched)
    assert world.protocol.task(task).status == TaskStatus.REVEALING
    with pytest.raises(errors.PocoContributionNotInConsensus) as caught:
        dissenter.reveal(task, OTHER_DIGEST)
    assert caught.value.args_by_name == {"taskId": task, "worker": dissenter.address}


def test_reveal_reverts_when_already_revealed(world: World) -> None:
    _, task, winners = _revealing_task(world, trust=8)
    winners[0].reveal(task, DIGEST)
    with pytest.raises(errors.PocoInvalidContributionStatus) as caught:
        winners[0].reveal(task, DIGEST)
    assert caught.value.args_by_name == {
        "taskId": task,
        "worker": winners[0].address,
        "status": ContributionStatus.PROVED,
    }
    assert world.protocol.task(task).reveal_count == 1


def test_reveal_reverts_when_digest_mismatch(world: World) -> None:
    _, task, winners = _revealing_task(world, trust=8)
    with pytest.raises(errors.PocoResultHashMismatch) as caught:
        winners[0].reveal(task, OTHER_DIGEST)
    assert caught.value.args_by_name == {"taskId": task, "resultDigest": OTHER_DIGEST}


def test_reveal_reverts_when_seal_copied(world: World) -> None:
    matched, task = world.started_task(trust=8)
    honest, other, copier = world.workers[:3]
    _contribute_all(world, [honest, other], task, matched)
    _contribute_copied_seal(world, copier, honest, task, matched)
    assert world.protocol.task(task).status == TaskStatus.REVEALING
    with pytest.raises(errors.PocoResultSealMismatch) as caught:
        copier.reveal(task, DIGEST)
    assert caught.value.args_by_name == {"taskId": task, "worker": copier.address}


# ─── revealAll ───


def test_reveal_all_proves_every_winner_when_called_by_stranger(world: World) -> None:
    matched, task, winners = _revealing_task(world, trust=8)

    world.protocol.reveal_all(world.stranger, task, DIGEST)

    assert [c.status for c in world.protocol.contributions(task)] == [ContributionStatus.PROVED] * 3
    view = world.protocol.task(task)
    assert view.reveal_count == view.winner_count == 3
    revealed = {e["worker"] for e in world.protocol.task_events(task, "TaskRevealed")}
    assert revealed == {w.address for w in winners}
    world.scheduler.finalize(task, matched.deal, RESULTS)
    assert world.protocol.task(task).status == TaskStatus.COMPLETED


def test_reveal_all_rejects_winner_when_seal_copied(world: World) -> None:
    matched, task = world.started_task(trust=8)
    honest, other, copier = world.workers[:3]
    _contribute_all(world, [honest, other], task, matched)
    _contribute_copied_seal(world, copier, honest, task, matched)
    assert world.protocol.task(task).winner_count == 3

    world.scheduler.reveal_all(task, DIGEST)

    statuses = {c.worker: c.status for c in world.protocol.contributions(task)}
    assert statuses == {
        honest.address: ContributionStatus.PROVED,
        other.address: ContributionStatus.PROVED,
        copier.address: ContributionStatus.REJECTED,
    }
    view = world.protocol.task(task)
    assert (view.reveal_count, view.winner_count) == (2, 2)
    # The rejected copier is no longer awaited: finalize needs no reveal deadline.
    world.scheduler.finalize(task, matched.deal, RESULTS)
    assert world.protocol.task(task).status == TaskStatus.COMPLETED


def test_reveal_all_reverts_when_nothing_to_reveal(world: World) -> None:
    _, task, winners = _revealing_task(world, trust=8)
    for worker in winners:
        worker.reveal(task, DIGEST)
    with pytest.raises(ContractRevert) as caught:
        world.protocol.reveal_all(world.stranger, task, DIGEST)
    _assert_named(caught, "PocoNothingToReveal")
    assert caught.value.args_by_name == {"taskId": task}


def test_reveal_all_reverts_when_digest_mismatch(world: World) -> None:
    _, task, _ = _revealing_task(world, trust=8)
    with pytest.raises(errors.PocoResultHashMismatch) as caught:
        world.protocol.reveal_all(world.stranger, task, OTHER_DIGEST)
    assert caught.value.args_by_name == {"taskId": task, "resultDigest": OTHER_DIGEST}
    assert world.protocol.task(task).reveal_count == 0


# ─── finalize ───


def test_finalize_completes_task_when_every_winner_revealed(world: World) -> None:
    matched, task, winners = _revealing_task(world, trust=8)
    for worker in winners:
        worker.reveal(task, DIGEST)

    receipt = world.protocol.finalize(world.scheduler.account, task, matched.deal, RESULTS)

    view = world.protocol.task(task)
    assert view.status == TaskStatus.COMPLETED
    assert view.consensus_value == result_hash(task, DIGEST)
    (event,) = world.client.events(world.protocol.hub, "TaskFinalized", receipt)
    assert bytes(event["args"]["results"]) == RESULTS
    assert world.protocol.result_for(task) == b""


def test_finalize_reverts_when_task_not_revealing(world: World) -> None:
    matched, task = world.started_task(trust=8)
    world.contribute(world.workers[0], task, matched)
    with pytest.raises(errors.PocoInvalidTaskStatus) as caught:
        world.scheduler.finalize(task, matched.deal, RESULTS)
    assert caught.value.args_by_name == {"taskId": task, "status": TaskStatus.ACTIVE}


def test_finalize_reverts_when_caller_not_scheduler(world: World) -> None:
    matched, task, winners = _revealing_task(world, trust=8)
    world.protocol.reveal_all(world.stranger, task, DIGEST)
    with pytest.raises(errors.PocoUnauthorizedScheduler) as caught:
        world.protocol.finalize(winners[0].account, task, matched.deal, RESULTS)
    assert caught.value.args_by_name == {"taskId": task, "caller": winners[0].address}


def test_finalize_reverts_when_final_deadline_reached(world: World) -> None:
    matched, task, _ = _revealing_task(world, trust=8)
    world.protocol.reveal_all(world.stranger, task, DIGEST)
    _advance_to(world, matched.deal.final_deadline)
    with pytest.raises(errors.PocoFinalDeadlineReached) as caught:
        world.scheduler.finalize(task, matched.deal, RESULTS)
    assert caught.value.args_by_name == {
        "taskId": task,
        "deadline": matched.deal.start_time + 3000,
    }


def test_finalize_reverts_when_reveals_pending(world: World) -> None:
    matched, task, winners = _revealing_task(world, trust=8)
    winners[0].reveal(task, DIGEST)
    with pytest.raises(errors.PocoRevealsPending) as caught:
        world.scheduler.finalize(task, matched.deal, RESULTS)
    assert caught.value.args_by_name == {"taskId": task, "revealed": 1, "winners": 3}


def test_finalize_completes_when_reveal_deadline_passed_after_one_reveal(world: World) -> None:
    matched, task, winners = _revealing_task(world, trust=8)
    winners[0].reveal(task, DIGEST)
    _advance_to(world, world.protocol.task(task).reveal_deadline)

    world.scheduler.finalize(task, matched.deal, RESULTS)

    assert world.protocol.task(task).status == TaskStatus.COMPLETED


def test_finalize_reverts_when_reveal_deadline_passed_without_reveal(world: World) -> None:
    matched, task, _ = _revealing_task(world, trust=8)
    _advance_to(world, world.protocol.task(task).reveal_deadline)
    with pytest.raises(errors.PocoRevealsPending) as caught:
        world.scheduler.finalize(task, matched.deal, RESULTS)
    assert caught.value.args_by_name == {"taskId": task, "revealed": 0, "winners": 3}


def test_finalize_reverts_when_results_callback_given_without_deal_callback(
    world: World,
) -> None:
    matched, task, _ = _revealing_task(world, trust=8)
    world.protocol.reveal_all(world.stranger, task, DIGEST)
    with pytest.raises(errors.PocoInvalidResultsCallback) as caught:
        world.scheduler.finalize(task, matched.deal, RESULTS, b"data that is not the result")
    assert caught.value.args_by_name == {"taskId": task}


def test_finalize_reverts_when_results_callback_missing_for_callback_deal(world: World) -> None:
    consumer = new_account().address
    matched, task = world.started_task(trust=1, callback=consumer)
    assert matched.deal.callback == consumer
    worker = world.workers[0]
    world.contribute(worker, task, matched)
    worker.reveal(task, DIGEST)
    with pytest.raises(errors.PocoInvalidResultsCallback) as caught:
        world.scheduler.finalize(task, matched.deal, RESULTS)
    assert caught.value.args_by_name == {"taskId": task}


def test_result_for_reverts_when_task_not_completed(world: World) -> None:
    _, task, _ = _revealing_task(world, trust=8)
    with pytest.raises(errors.PocoInvalidTaskStatus) as caught:
        world.protocol.result_for(task)
    assert caught.value.args_by_name == {"taskId": task, "status": TaskStatus.REVEALING}


# ─── contributeAndFinalize ───


def test_contribute_and_finalize_completes_task_in_one_transaction(world: World) -> None:
    matched, task = world.started_task(trust=1)
    worker = world.workers[0]
    before = world.protocol.account(worker.address)

    receipt = world.protocol.contribute_and_finalize(
        worker.account,
        task,
        matched.deal,
        DIGEST,
        RESULTS,
        world.scheduler.authorize(worker.address, task),
    )

    view = world.protocol.task(task)
    assert view.status == TaskStatus.COMPLETED
    # No contribution record is stored on this path: the events carry the worker and the result.
    assert (view.contributor_count, view.reveal_count, view.winner_count) == (0, 0, 0)
    hub = world.protocol.hub
    names = ["TaskContributed", "TaskFinalized"]
    logs = {name: world.client.events(hub, name, receipt) for name in names}
    assert all(len(found) == 1 for found in logs.values())
    assert logs["TaskContributed"][0]["args"]["worker"] == worker.address
    # The one contribution is the consensus: no TaskConsensus / TaskRevealed repeat it.
    assert _hex(logs["TaskContributed"][0]["args"]["resultHash"]) == result_hash(task, DIGEST)
    for repeated in ("TaskConsensus", "TaskRevealed"):
        assert world.client.events(hub, repeated, receipt) == []
    assert bytes(logs["TaskFinalized"][0]["args"]["results"]) == RESULTS
    order = [log["logIndex"] for name in names for log in logs[name]]
    assert order == sorted(order)
    after = world.protocol.account(worker.address)
    assert after.locked == before.locked == 0
    assert world.client.events(hub, "Locked", receipt) == []
    assert after.score == before.score


def test_contribute_and_finalize_lists_no_phantom_contribution(world: World) -> None:
    matched, task = world.started_task(trust=1)
    worker = world.workers[0]

    worker.contribute_and_finalize(
        task, matched.deal, DIGEST, RESULTS, world.scheduler.authorize(worker.address, task)
    )

    # No contribution is stored, so none may be listed for a worker that does not exist.
    listed = world.protocol.contributions(task)
    assert listed == []
    assert world.protocol.task(task).contributor_count == 0


def test_contribute_and_finalize_reverts_when_trust_not_one(world: World) -> None:
    matched, task = world.started_task(trust=8)
    worker = world.workers[0]
    with pytest.raises(errors.PocoTrustNotOne) as caught:
        worker.contribute_and_finalize(
            task, matched.deal, DIGEST, RESULTS, world.scheduler.authorize(worker.address, task)
        )
    assert caught.value.args_by_name == {"taskId": task, "trust": 8}


def test_contribute_and_finalize_reverts_when_task_has_contributions(world: World) -> None:
    # At trust 1 the first contribution is a consensus; reopening makes the task ACTIVE again
    # with that (rejected) contribution on record.
    matched, task = world.started_task(trust=1)
    world.contribute(world.workers[0], task, matched)
    _advance_to(world, world.protocol.task(task).reveal_deadline)
    world.scheduler.reopen(task, matched.deal)
    assert world.protocol.task(task).status == TaskStatus.ACTIVE
    worker = world.workers[1]
    with pytest.raises(errors.PocoTaskHasContributions) as caught:
        worker.contribute_and_finalize(
            task, matched.deal, DIGEST, RESULTS, world.scheduler.authorize(worker.address, task)
        )
    assert caught.value.args_by_name == {"taskId": task}


def test_contribute_and_finalize_reverts_when_contribution_deadline_reached(world: World) -> None:
    matched, task = world.started_task(trust=1)
    worker = world.workers[0]
    _advance_to(world, matched.deal.contribution_deadline)
    with pytest.raises(errors.PocoContributionDeadlineReached) as caught:
        worker.contribute_and_finalize(
            task, matched.deal, DIGEST, RESULTS, world.scheduler.authorize(worker.address, task)
        )
    assert caught.value.args_by_name == {
        "taskId": task,
        "deadline": matched.deal.contribution_deadline,
    }


# ─── reopen ───


def test_reopen_reactivates_task_and_rejects_winners(world: World) -> None:
    matched, task, winners = _revealing_task(world, trust=8)
    _advance_to(world, world.protocol.task(task).reveal_deadline)

    world.scheduler.reopen(task, matched.deal)

    view = world.protocol.task(task)
    assert view.status == TaskStatus.ACTIVE
    assert (view.winner_count, view.reveal_deadline) == (0, 0)
    assert view.contributor_count == 3
    statuses = {c.worker: c.status for c in world.protocol.contributions(task)}
    assert statuses == {w.address: ContributionStatus.REJECTED for w in winners}
    assert len(world.protocol.task_events(task, "TaskReopened")) == 1


def test_reopen_reverts_when_caller_not_scheduler(world: World) -> None:
    matched, task, _ = _revealing_task(world, trust=8)
    _advance_to(world, world.protocol.task(task).reveal_deadline)
    with pytest.raises(errors.PocoUnauthorizedScheduler) as caught:
        world.protocol.reopen(world.stranger, task, matched.deal)
    assert caught.value.args_by_name == {"taskId": task, "caller": world.stranger.address}


def test_reopen_reverts_when_reveal_deadline_not_reached(world: World) -> None:
    matched, task, _ = _revealing_task(world, trust=8)
    with pytest.raises(errors.PocoRevealDeadlineNotReached) as caught:
        world.scheduler.reopen(task, matched.deal)
    assert caught.value.args_by_name == {
        "taskId": task,
        "deadline": world.protocol.task(task).reveal_deadline,
    }


def test_reopen_reverts_when_reveals_exist(world: World) -> None:
    matched, task, winners = _revealing_task(world, trust=8)
    winners[0].reveal(task, DIGEST)
    _advance_to(world, world.protocol.task(task).reveal_deadline)
    with pytest.raises(errors.PocoRevealsExist) as caught:
        world.scheduler.reopen(task, matched.deal)
    assert caught.value.args_by_name == {"taskId": task, "revealed": 1}


def test_reopen_reverts_when_final_deadline_reached(world: World) -> None:
    matched, task, _ = _revealing_task(world, trust=8)
    _advance_to(world, matched.deal.final_deadline)
    with pytest.raises(errors.PocoFinalDeadlineReached) as caught:
        world.scheduler.reopen(task, matched.deal)
    assert caught.value.args_by_name == {
        "taskId": task,
        "deadline": matched.deal.final_deadline,
    }


def test_contribute_reverts_when_worker_rejected_by_reopen(world: World) -> None:
    matched, task, winners = _revealing_task(world, trust=8)
    _advance_to(world, world.protocol.task(task).reveal_deadline)
    world.scheduler.reopen(task, matched.deal)
    with pytest.raises(errors.PocoAlreadyContributed) as caught:
        world.contribute(winners[0], task, matched)
    assert caught.value.args_by_name == {"taskId": task, "worker": winners[0].address}


def test_contribute_reaches_new_consensus_when_task_reopened(world: World) -> None:
    matched, task = world.started_task(trust=4)
    first, second = world.workers[:2]
    _contribute_all(world, [first, second], task, matched)
    _advance_to(world, world.protocol.task(task).reveal_deadline)
    world.scheduler.reopen(task, matched.deal)
    prediction = TaskConsensus(trust=4)
    for _ in (first, second):
        prediction.contribute(result_hash(task, DIGEST), 0)
    prediction.reject_winner()

    # The rejected group no longer counts: two fresh workers are needed again.
    third, fourth = world.workers[2:4]
    assert prediction.contribute(result_hash(task, DIGEST), 0) is False
    world.contribute(third, task, matched)
    assert world.protocol.task(task).status == TaskStatus.ACTIVE
    assert prediction.contribute(result_hash(task, DIGEST), 0) is True
    world.contribute(fourth, task, matched)

    view = world.protocol.task(task)
    assert view.status == TaskStatus.REVEALING
    assert view.winner_count == 2
    world.protocol.reveal_all(world.stranger, task, DIGEST)
    world.scheduler.finalize(task, matched.deal, RESULTS)
    statuses = {c.worker: c.status for c in world.protocol.contributions(task)}
    assert statuses == {
        first.address: ContributionStatus.REJECTED,
        second.address: ContributionStatus.REJECTED,
        third.address: ContributionStatus.PROVED,
        fourth.address: ContributionStatus.PROVED,
    }
    assert world.protocol.task(task).status == TaskStatus.COMPLETED


# ─── claim ───


def test_claim_fails_task_and_refunds_requester(world: World) -> None:
    matched, task = world.started_task(trust=8)
    contributors = world.workers[:2]
    _contribute_all(world, contributors, task, matched)
    deal = matched.deal
    watched = [world.requester.address, world.scheduler.address, world.protocol.kitty_address()]
    watched += [w.address for w in contributors]
    before = {a: world.protocol.account(a) for a in watched}
    _advance_to(world, deal.final_deadline)

    world.protocol.claim(world.stranger, task, deal)

    assert world.protocol.task(task).status == TaskStatus.FAILED
    after = {a: world.protocol.account(a) for a in watched}
    requester, scheduler = world.requester.address, world.scheduler.address
    kitty = world.protocol.kitty_address()
    assert after[requester].free == before[requester].free + deal.task_price
    assert after[requester].locked == before[requester].locked - deal.task_price
    assert after[scheduler].free == before[scheduler].free
    assert after[scheduler].locked == before[scheduler].locked - deal.scheduler_stake
    assert after[kitty].locked == before[kitty].locked + deal.scheduler_stake
    assert after[kitty].free == before[kitty].free
    for worker in contributors:
        address = worker.address
        assert after[address].free == before[address].free + deal.worker_stake
        assert after[address].locked == before[address].locked - deal.worker_stake
        assert after[address].score == before[address].score
    assert len(world.protocol.task_events(task, "TaskClaimed")) == 1


def test_claim_reverts_when_final_deadline_not_reached(world: World) -> None:
    matched, task = world.started_task(trust=8)
    with pytest.raises(errors.PocoFinalDeadlineNotReached) as caught:
        world.requester.claim(task, matched.deal)
    assert caught.value.args_by_name == {
        "taskId": task,
        "deadline": matched.deal.final_deadline,
    }


def test_claim_reverts_when_task_completed(world: World) -> None:
    matched, task = world.started_task(trust=1)
    worker = world.workers[0]
    worker.contribute_and_finalize(
        task, matched.deal, DIGEST, RESULTS, world.scheduler.authorize(worker.address, task)
    )
    _advance_to(world, matched.deal.final_deadline)
    with pytest.raises(errors.PocoInvalidTaskStatus) as caught:
        world.requester.claim(task, matched.deal)
    assert caught.value.args_by_name == {"taskId": task, "status": TaskStatus.COMPLETED}


def test_claim_batch_fails_every_task_when_deadline_passed(world: World) -> None:
    matched = world.match(trust=8, volume=3)
    tasks = world.scheduler.initialize_all(matched.deal_id, matched.deal)
    world.contribute(world.workers[0], tasks[1], matched)
    requester = world.protocol.account(world.requester.address)
    _advance_to(world, matched.deal.final_deadline)

    world.protocol.claim_batch(world.stranger, tasks, matched.deal)

    assert [world.protocol.task(t).status for t in tasks] == [TaskStatus.FAILED] * 3
    refunded = world.protocol.account(world.requester.address)
    assert refunded.free == requester.free + 3 * matched.deal.task_price
    assert refunded.locked == requester.locked - 3 * matched.deal.task_price
    kitty = world.protocol.account(world.protocol.kitty_address())
    assert kitty.locked == 3 * matched.deal.scheduler_stake
    assert world.protocol.account(world.workers[0].address).locked == 0


def test_initialize_and_claim_batch_refunds_every_task_when_deal_never_started(
    world: World,
) -> None:
    matched = world.match(volume=3)
    requester = world.protocol.account(world.requester.address)
    scheduler = world.protocol.account(world.scheduler.address)
    assert requester.locked == 3 * matched.deal.task_price
    _advance_to(world, matched.deal.final_deadline)

    world.requester.claim_deal(matched)

    assert [world.protocol.task(t).status for t in matched.task_ids] == [TaskStatus.FAILED] * 3
    refunded = world.protocol.account(world.requester.address)
    assert refunded.free == requester.free + 3 * matched.deal.task_price
    assert refunded.locked == 0
    assert world.protocol.account(world.scheduler.address).locked == (
        scheduler.locked - 3 * matched.deal.scheduler_stake
    )
    for task in matched.task_ids:
        assert len(world.protocol.task_events(task, "TaskClaimed")) == 1


# ─── TEE results in one transaction (issue 4): only the task's enclave key vouches ───
def _tee_fast_path(world: World, sign_digest: str, *, signer: object | None = None) -> None:
    """contributeAndFinalize of DIGEST on a TEE task, with an enclave signature of `sign_digest`
    by `signer` (default: the task's enclave challenge key)."""
    matched, task = _tee_task(world)
    worker, enclave = world.workers[0], new_account()
    hash_ = result_hash(task, sign_digest)
    seal = result_seal(worker.address, task, sign_digest)
    worker.contribute_and_finalize(
        task,
        matched.deal,
        DIGEST,
        RESULTS,
        world.scheduler.authorize(worker.address, task, enclave.address),
        enclave_challenge=enclave.address,
        enclave_sign=sign_enclave_result(signer or enclave, hash_, seal),  # type: ignore[arg-type]
    )


def test_tee_contribute_and_finalize_accepts_the_enclave_signed_result(world: World) -> None:
    _tee_fast_path(world, DIGEST)


def test_tee_contribute_and_finalize_reverts_when_signed_by_another_key(world: World) -> None:
    with pytest.raises(errors.PocoInvalidEnclaveSignature):
        _tee_fast_path(world, DIGEST, signer=new_account())


def test_tee_contribute_and_finalize_reverts_when_the_result_is_tampered(world: World) -> None:
    # The enclave signed another digest than the one sent: a worker swapping the result is caught.
    with pytest.raises(errors.PocoInvalidEnclaveSignature):
        _tee_fast_path(world, OTHER_DIGEST)
