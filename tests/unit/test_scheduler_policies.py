"""The scheduler's selection policies: each policy's order over the candidates for a task, through
the decision the scheduler takes when a worker polls (`wins`), on real worker and replicate rows."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx  # type: ignore[import-untyped]
import pytest
from web3 import Web3

from pnyx.domain._hex import to_address
from pnyx.domain.failure_aware import TaskRecord
from pnyx.domain.placement import hop_distances, parse_edge_list, ticket
from pnyx.errors import ConfigError, PnyxInputError
from pnyx.services.scheduler.assignment import Candidate, available_workers
from pnyx.services.scheduler.config import SchedulerSettings
from pnyx.services.scheduler.policies import (
    FailureAware,
    LeastLoaded,
    SelectionPolicy,
    SocialDistance,
    VerifiableRandom,
    load_social_graph,
    wins,
)
from pnyx.services.scheduler.workflow import ReplicateState
from pnyx.store.scheduler import ReplicateRow, WorkerRow

pytestmark = pytest.mark.unit

NOW = 1_000.0
WINDOW = 3.0
TASK = "0x" + "7a" * 32
W = [to_address(f"0x{i + 1:040x}") for i in range(12)]


def _worker(address: str, *, max_tasks: int = 3, tee: bool = False, **fields: Any) -> WorkerRow:
    row = {"lost": False, "last_ping": NOW, **fields}
    return WorkerRow(address=address, max_tasks=max_tasks, tee=tee, **row)


def _replicate(worker: str, task: str = TASK, state: str = ReplicateState.CREATED) -> ReplicateRow:
    return ReplicateRow(task_id=task, worker=worker, state=state)


def _load(worker: str, n: int) -> list[ReplicateRow]:
    """`n` active replicates of other tasks."""
    return [_replicate(worker, "0x" + f"{worker[2:10]}{i:056x}") for i in range(n)]


def _winners(
    policy: SelectionPolicy,
    workers: list[WorkerRow],
    replicates: list[ReplicateRow],
    *,
    task: str = TASK,
    tee: bool = False,
) -> list[str]:
    """The workers that would get the task's next replicate if they polled now, as the scheduler
    decides it: available, allowed to run it, not holding it, and not beaten by another."""
    available = available_workers(workers, replicates, NOW, WINDOW)
    held = [r for r in replicates if r.task_id == task]
    holders = {r.worker for r in held}
    return [
        c.address
        for c in available
        if c.address not in holders
        and (c.tee or not tee)
        and wins(policy, task, held, c, available, tee)
    ]


def _fillings(
    policy: SelectionPolicy, workers: list[WorkerRow], replicas: int, task: str = TASK
) -> Iterator[list[str]]:
    """Every way the task's replicas can be handed out, whichever winner polls first each time."""

    def fill(replicates: list[ReplicateRow]) -> Iterator[list[str]]:
        held = [r.worker for r in replicates if r.task_id == task]
        if len(held) == replicas:
            yield held
            return
        winners = _winners(policy, workers, replicates, task=task)
        assert winners, f"nobody may take replica {len(held) + 1} of {replicas}"
        for winner in winners:
            yield from fill([*replicates, _replicate(winner, task)])

    yield from fill([])


# ─── least-loaded ───


def test_least_loaded_gives_the_task_to_the_worker_with_fewest_replicates() -> None:
    workers = [_worker(a) for a in W[:3]]
    replicates = _load(W[0], 2) + _load(W[1], 1) + _load(W[2], 1)

    assert _winners(LeastLoaded(), workers, replicates) == [W[1], W[2]]  # a tie: first to poll


def test_least_loaded_ignores_workers_that_cannot_take_the_task() -> None:
    workers = [
        _worker(W[0]),
        _worker(W[1], last_ping=NOW - 10),  # stopped asking
        _worker(W[2], lost=True),
        _worker(W[3], max_tasks=1),  # full
        _worker(W[4]),  # already holds the task
    ]
    replicates = _load(W[0], 2) + _load(W[3], 1) + [_replicate(W[4])]

    assert _winners(LeastLoaded(), workers, replicates) == [W[0]]


def test_least_loaded_lets_a_tee_task_go_past_idle_workers_without_tee() -> None:
    workers = [_worker(W[0], tee=True), _worker(W[1])]
    replicates = _load(W[0], 1)

    assert _winners(LeastLoaded(), workers, replicates, tee=True) == [W[0]]
    assert _winners(LeastLoaded(), workers, replicates, tee=False) == [W[1]]


# ─── random ───


def test_random_ticket_is_keccak_of_the_packed_task_id_and_worker() -> None:
    packed = Web3.solidity_keccak(["bytes32", "address"], [TASK, W[0]])
    assert ticket(TASK, W[0]) == int.from_bytes(packed, "big")


def test_random_gives_the_task_to_the_lowest_ticket_whatever_the_load() -> None:
    workers = [_worker(a) for a in W[:5]]
    replicates = [r for a in W[:5] for r in _load(a, W.index(a) % 3)]
    lowest = min(W[:5], key=lambda a: ticket(TASK, a))

    assert _winners(VerifiableRandom(), workers, replicates) == [lowest]


def test_random_order_changes_from_task_to_task() -> None:
    workers = [_worker(a) for a in W[:5]]
    tasks = ["0x" + f"{i:064x}" for i in range(1, 41)]
    first = {_winners(VerifiableRandom(), workers, [], task=t)[0] for t in tasks}

    assert len(first) >= 4  # every worker gets first picks, not one favourite


def test_random_fills_a_task_in_ticket_order() -> None:
    workers = [_worker(a) for a in W[:6]]

    (filled,) = _fillings(VerifiableRandom(), workers, 3)

    assert filled == sorted(W[:6], key=lambda a: ticket(TASK, a))[:3]


# ─── social-distance ───


def _graph(edges: list[tuple[int, int]]) -> Any:
    return parse_edge_list("\n".join(f"{W[a]} {W[b]}" for a, b in edges))


def test_social_distance_prefers_the_farthest_then_the_least_loaded() -> None:
    policy = SocialDistance(_graph([(0, 1), (1, 2), (2, 3), (3, 4)]))
    workers = [_worker(a) for a in W[:5]]
    holding = [_replicate(W[0])]

    assert _winners(policy, workers, holding) == [W[4]]  # 4 hops away
    workers.append(_worker(W[5]))  # not in the graph: infinitely far
    assert _winners(policy, workers, holding) == [W[5]]
    # No holder yet: everyone is infinitely far, so the least loaded goes first.
    assert _winners(policy, workers, _load(W[5], 1) + _load(W[4], 1)) == W[:4]


def test_social_distance_never_puts_adjacent_workers_on_a_task_when_another_is_free() -> None:
    rng = random.Random(11)
    for seed in range(25):
        graph = nx.gnp_random_graph(9, 0.35, seed=seed)
        policy = SocialDistance(_graph(list(graph.edges)))
        workers = [_worker(W[n]) for n in range(9)]
        replicates = [r for n in range(9) for r in _load(W[n], rng.randrange(2))]
        held: list[ReplicateRow] = []
        for _ in range(3):
            winners = _winners(policy, workers, replicates + held)
            holders = {r.worker for r in held}
            free = [
                w.address
                for w in workers
                if w.address not in holders and not _adjacent(policy, w.address, holders)
            ]
            if free:
                assert all(not _adjacent(policy, w, holders) for w in winners), (seed, winners)
            held.append(_replicate(rng.choice(winners)))


def _adjacent(policy: SocialDistance, worker: str, holders: set[str]) -> bool:
    return any(policy.graph.has_edge(worker, holder) for holder in holders)


def test_social_graph_parses_addresses_and_comments() -> None:
    text = f"# pool A\n{W[0].lower()} {W[1]}\n\n{W[1]}  {W[2]}  # colleagues\n"
    graph = parse_edge_list(text)

    assert sorted(graph.edges) == sorted([(W[0], W[1]), (W[1], W[2])])
    assert hop_distances(graph, [W[0], W[9]]) == {W[0]: 0, W[1]: 1, W[2]: 2}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [(f"{W[0]}\n", "line 1: expected two addresses"), (f"{W[0]} 0x12\n", "line 1: expected 20")],
)
def test_social_graph_rejects_malformed_lines(text: str, fragment: str) -> None:
    with pytest.raises(PnyxInputError, match=fragment):
        parse_edge_list(text)


def test_social_distance_needs_a_readable_well_formed_graph(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PNYX_SCHEDULER_SOCIAL_GRAPH"):
        load_social_graph(None)
    with pytest.raises(ConfigError, match="cannot read the social graph"):
        load_social_graph(tmp_path / "missing.txt")
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{W[0]} {W[1]} {W[2]}\n")
    with pytest.raises(ConfigError, match="malformed social graph .*line 1"):
        load_social_graph(bad)


# ─── failure-aware ───


def _co_failing_history() -> list[TaskRecord]:
    """W0 and W1 are the most reliable but fail together (a shared host); W2 and W3 fail more
    often, each on its own."""
    four = frozenset(W[:4])
    fails = [{W[0], W[1]}] * 2 + [{W[2]}] * 3 + [{W[3]}] * 3 + [set()] * 2
    return [TaskRecord(four, frozenset(f)) for f in fails]


def test_failure_aware_spreads_a_three_replica_task_over_three_clusters() -> None:
    policy = FailureAware()
    policy.learn(_co_failing_history())
    assert policy.model.cluster_of(W[0]) == policy.model.cluster_of(W[1])
    workers = [_worker(a) for a in W[:4]]

    fillings = list(_fillings(policy, workers, 3))

    assert fillings
    for filled in fillings:
        assert len({policy.model.cluster_of(w) for w in filled}) == 3, filled
        assert filled[0] in (W[0], W[1])  # the most reliable goes first


def test_failure_aware_without_history_falls_back_to_the_least_loaded() -> None:
    workers = [_worker(a) for a in W[:3]]
    replicates = _load(W[0], 1) + _load(W[2], 2)

    assert _winners(FailureAware(), workers, replicates) == [W[1]]


def test_failure_aware_ranks_a_worker_with_no_history_after_reliable_ones() -> None:
    policy = FailureAware()
    policy.learn([TaskRecord(frozenset({W[0]}), frozenset())] * 4)  # 5/6 reliable
    workers = [_worker(W[0]), _worker(W[7])]

    assert _winners(policy, workers, _load(W[0], 2)) == [W[0]]


# ─── Settings ───


def _settings(**fields: Any) -> SchedulerSettings:
    return SchedulerSettings(
        chain_url="http://chain",
        deployment_file=Path("deployment.json"),
        workerpool=W[0],
        private_key="0x" + "11" * 32,
        database_url="sqlite://",
        result_store_url="http://results",
        **fields,
    )


def test_settings_refuse_an_unknown_policy_naming_the_allowed_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        _settings(policy="fastest")
    for name in ("least-loaded", "random", "social-distance", "failure-aware"):
        assert name in str(caught.value)
    with pytest.raises(ConfigError, match="SOCIAL_GRAPH"):
        _settings(policy="social-distance")
    assert _settings().policy == "least-loaded"


def test_settings_read_the_policy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "WORKERPOOL": W[0],
        "PRIVATE_KEY": "0x" + "11" * 32,
        "RESULT_STORE_URL": "http://results",
        "POLICY": "social-distance",
        "SOCIAL_GRAPH": "/etc/pnyx/graph.txt",
    }.items():
        monkeypatch.setenv(f"PNYX_SCHEDULER_{name}", value)

    settings = SchedulerSettings.from_env()

    assert (settings.policy, settings.social_graph) == (
        "social-distance",
        Path("/etc/pnyx/graph.txt"),
    )


def test_candidates_carry_their_load_and_tee() -> None:
    workers = [_worker(W[0], tee=True), _worker(W[1])]
    replicates = _load(W[0], 2) + [_replicate(W[1], state=ReplicateState.COMPLETED)]

    assert available_workers(workers, replicates, NOW, WINDOW) == [
        Candidate(W[0], 2, True),
        Candidate(W[1], 0, False),
    ]
