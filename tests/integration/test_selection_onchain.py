"""The verifiable worker selection on a real anvil: the contract's draw is `draw_workers` /
`select_workers`, and `verify` accepts exactly the true selection (issue 6, acceptance 2)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pnyx.chain import contract_errors as errors
from pnyx.chain.selection import WorkerSelectionVerifier
from pnyx.domain._hex import keccak
from pnyx.domain.groups import draw_group
from pnyx.domain.numbering import sort_participants
from pnyx.domain.selection import arrangement_seed, draw_workers, select_workers
from pnyx.types import Address
from tests.helpers.world import World

pytestmark = pytest.mark.integration

ON_CHAIN = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def verifier(session_world: World) -> Iterator[WorkerSelectionVerifier]:
    client = session_world.client
    snapshot = client.snapshot()
    try:
        yield WorkerSelectionVerifier.deploy(client, session_world.owner)
    finally:
        client.revert(snapshot)


@st.composite
def draws(draw: st.DrawFn) -> tuple[bytes, int, int]:
    participants = draw(st.integers(1, 500))
    n = draw(st.integers(1, min(participants, 60)) | st.just(participants))
    return draw(st.binary(min_size=32, max_size=32)), participants, n


def _tampered(positions: list[int], participants: int, how: int) -> list[int]:
    """The true selection spoiled one way: members swapped, one replaced by an outsider (or a
    duplicate), one dropped, one added."""
    claim = list(positions)
    outsiders = sorted(set(range(participants)) - set(positions))
    if how == 0 and len(claim) > 1:
        claim[0], claim[-1] = claim[-1], claim[0]
    elif how == 1:
        claim[-1] = outsiders[0] if outsiders else claim[0] + 1
    elif how == 2:
        claim.pop()
    else:
        claim.append(outsiders[0] if outsiders else claim[0])
    return claim


@ON_CHAIN
@given(case=draws(), how=st.integers(0, 3))
def test_the_contract_draws_and_verifies_the_python_selection(
    verifier: WorkerSelectionVerifier, case: tuple[bytes, int, int], how: int
) -> None:
    seed, participants, n = case
    expected = draw_workers(seed, range(participants), n)
    assert expected == draw_group(seed, participants, n)
    assert verifier.draw(seed, participants, n) == expected
    assert verifier.verify(seed, participants, n, expected)
    tampered = _tampered(expected, participants, how)
    if tampered != expected:  # swapping the ends of a one-member selection changes nothing
        assert not verifier.verify(seed, participants, n, tampered)


def test_a_prefix_of_the_true_draw_is_not_a_selection_of_n(
    verifier: WorkerSelectionVerifier,
) -> None:
    seed = keccak(b"prefix")
    positions = draw_workers(seed, range(30), 10)
    assert verifier.verify(seed, 30, 9, positions[:9])  # the true selection of 9
    assert not verifier.verify(seed, 30, 10, positions[:9])
    assert not verifier.verify(seed, 30, 10, [*positions, 0])


@pytest.mark.parametrize(("participants", "n"), [(5, 0), (5, 6), (0, 1)])
def test_an_impossible_size_reverts(
    verifier: WorkerSelectionVerifier, participants: int, n: int
) -> None:
    with pytest.raises(errors.SelectionBadSize):
        verifier.draw(b"\x01" * 32, participants, n)
    with pytest.raises(errors.SelectionBadSize):
        verifier.verify(b"\x01" * 32, participants, n, [])


def test_too_many_participants_revert(verifier: WorkerSelectionVerifier) -> None:
    with pytest.raises(errors.SelectionTooManyParticipants):
        verifier.draw(b"\x01" * 32, 2**128, 1)


@pytest.mark.parametrize("count", [50, 120])
def test_a_ledger_order_selects_the_same_workers_off_and_on_chain(
    verifier: WorkerSelectionVerifier, count: int
) -> None:
    """End to end on participant addresses: ledger order → AN → seed → selection. AN of 50
    participants fits in a uint256 (< e·50! ≈ 2^216), so the contract also hashes it itself; that of
    120 does not, and the contract takes the seed Python derived from it."""
    rng = random.Random(count)
    participants = [Address("0x" + keccak(b"voter %d" % i)[:20].hex()) for i in range(count)]
    ordered = sort_participants(participants)
    ledger_order = rng.sample(participants, count * 3 // 4)
    selection = select_workers(participants, ledger_order, 12)
    assert selection.seed == arrangement_seed(selection.number)
    onchain = verifier.draw(selection.seed, count, 12)
    assert tuple(onchain) == selection.positions
    assert tuple(ordered[p] for p in onchain) == selection.workers
    positions = list(selection.positions)
    assert verifier.verify(selection.seed, count, 12, positions)
    if selection.number < 2**256:
        assert verifier.seed_of(selection.number) == selection.seed
        assert verifier.verify_from_number(selection.number, count, 12, positions)
    else:
        assert count > 50
    other = select_workers(participants, [*ledger_order[1:], ledger_order[0]], 12)
    assert not verifier.verify(other.seed, count, 12, positions)


@ON_CHAIN
@given(number=st.integers(0, 2**256 - 1) | st.integers(0, 2**40))
def test_the_contract_hashes_a_small_arrangement_number_like_python(
    verifier: WorkerSelectionVerifier, number: int
) -> None:
    assert verifier.seed_of(number) == arrangement_seed(number)


def test_a_small_poll_verifies_from_its_arrangement_number(
    verifier: WorkerSelectionVerifier,
) -> None:
    participants = list(range(8))
    selection = select_workers(participants, [5, 2, 7], 3)
    assert selection.number < 2**256
    positions = list(selection.positions)
    assert verifier.verify_from_number(selection.number, 8, 3, positions)
    assert not verifier.verify_from_number(selection.number + 1, 8, 3, positions)


@pytest.mark.parametrize("n", [10, 100])
def test_gas_of_verify_among_ten_thousand(
    verifier: WorkerSelectionVerifier, n: int, record_property: Callable[[str, object], None]
) -> None:
    """Measured: about 34.6k gas for n = 10 and 134.8k for n = 100 (eth_estimateGas, with the
    21k base and the calldata; see `pytest --junitxml` for the figure of a run)."""
    seed = keccak(b"gas %d" % n)
    positions = draw_workers(seed, range(10_000), n)
    gas = verifier.verify_gas(seed, 10_000, n, positions)
    record_property("verify_gas", gas)
    assert gas < 30_000 + 1_500 * n  # bound, not a benchmark: the calldata is 32 bytes a worker
