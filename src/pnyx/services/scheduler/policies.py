"""Selection policies: which of the available workers gets a task's next replicate
(docs/scheduler-policies.md).

The scheduler is pull-based — workers poll for work — so a policy does not pick a worker, it ranks
them: `SelectionPolicy.key` gives every candidate for a task a sortable key (lower is preferred),
and the polling worker gets a replicate of the task only if no other candidate has a strictly
better key (`wins`); between equal keys, whoever polls first. Candidates are the available workers
(`assignment.available_workers`) that may run the task (TEE-capable for a TEE deal) and do not
hold a replicate of it yet.

- `least-loaded` (default): fewest active replicates — a burst of tasks spreads evenly;
- `random`: the verifiable ticket keccak256(taskId ‖ worker), lowest first;
- `social-distance`: farthest on a social graph from the task's current holders, then least loaded;
- `failure-aware`: a failure cluster the task does not use yet, then the most reliable, then least
  loaded, learnt from the chain's task history.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar

from pnyx.chain.history import TaskHistory
from pnyx.chain.protocol import Protocol
from pnyx.domain.failure_aware import (
    TaskRecord,
    failure_clusters,
    failure_dependence,
    reliability,
)
from pnyx.domain.placement import hop_distances, parse_edge_list, ticket
from pnyx.errors import ConfigError, PnyxError, PnyxInputError
from pnyx.services.scheduler.assignment import Candidate
from pnyx.services.scheduler.config import POLICY_NAMES, SchedulerSettings
from pnyx.store.scheduler import ReplicateRow

log = logging.getLogger("pnyx.scheduler")

# A sortable preference, lower first (ints and floats compare across policies' fields).
Key = tuple[float, ...]


@dataclass(frozen=True)
class TaskSlot:
    """The task a replicate is for, and the workers that already hold one of its replicates (in
    any state: a worker never gets the same task twice, and its result may still count)."""

    task_id: str
    holders: frozenset[str]


class SelectionPolicy(ABC):
    name: ClassVar[str]

    @abstractmethod
    def key(self, slot: TaskSlot, candidate: Candidate) -> Key:
        """The candidate's preference for the task's next replicate; lower is preferred."""

    def refresh(self, head: int) -> None:  # noqa: B027 (most policies learn nothing)
        """Called by the engine loop on each new (confirmed) head block, never in the request path:
        a policy that learns from the chain reads it here."""


def wins(
    policy: SelectionPolicy,
    task_id: str,
    replicates: Iterable[ReplicateRow],
    me: Candidate,
    available: Sequence[Candidate],
    tee: bool,
) -> bool:
    """Whether the polling worker `me` may take the task's next replicate: no other candidate for
    it (one able to run a TEE task if `tee`) has a strictly better key."""
    slot = TaskSlot(task_id, frozenset(r.worker for r in replicates))
    mine = policy.key(slot, me)
    return not any(
        policy.key(slot, other) < mine for other in _rivals(slot, me, available, tee=tee)
    )


def _rivals(
    slot: TaskSlot, me: Candidate, available: Sequence[Candidate], *, tee: bool
) -> Iterable[Candidate]:
    for other in available:
        if other.address == me.address or other.address in slot.holders:
            continue
        if tee and not other.tee:
            continue
        yield other


# ─── The four policies ───


class LeastLoaded(SelectionPolicy):
    """Fewest active replicates first: a burst of tasks spreads evenly instead of going to
    whoever polls fastest (the scheduler's behaviour before policies existed)."""

    name = "least-loaded"

    def key(self, slot: TaskSlot, candidate: Candidate) -> Key:  # noqa: ARG002 (task-blind)
        return (candidate.load,)


class VerifiableRandom(SelectionPolicy):
    """Lowest keccak256(taskId ‖ worker) first (`pnyx.domain.placement.ticket`). The order is
    verifiable from the chain; who was available when the task was handed out is not."""

    name = "random"

    def key(self, slot: TaskSlot, candidate: Candidate) -> Key:
        return (ticket(slot.task_id, candidate.address),)


class SocialDistance(SelectionPolicy):
    """Farthest first from the workers already holding the task (the largest of the fewest hops
    to any of them; unknown or unreachable is infinitely far), then least loaded: replicas go to
    workers unlikely to know each other, so colluding on a result is harder."""

    name = "social-distance"
    _CACHE = 1_024  # holder sets remembered (one BFS each)

    def __init__(self, graph: Any) -> None:
        self.graph = graph
        self._distances: dict[frozenset[str], dict[str, int]] = {}

    def key(self, slot: TaskSlot, candidate: Candidate) -> Key:
        hops = self._from(slot.holders).get(candidate.address)
        distance = float("inf") if hops is None else float(hops)
        return (-distance, candidate.load)

    def _from(self, holders: frozenset[str]) -> dict[str, int]:
        # Every poll ranks each candidate against the same holders: one BFS per holder set.
        if holders not in self._distances:
            if len(self._distances) >= self._CACHE:
                self._distances.clear()
            self._distances[holders] = hop_distances(self.graph, holders)
        return self._distances[holders]


@dataclass(frozen=True)
class FailureModel:
    """What the history says: each worker's failure cluster and reliability."""

    cluster: dict[str, str] = field(default_factory=dict)  # worker → its cluster's id
    reliability: dict[str, Fraction] = field(default_factory=dict)

    def cluster_of(self, worker: str) -> str:
        return self.cluster.get(worker, worker)  # no history: a cluster of its own


class FailureAware(SelectionPolicy):
    """A candidate whose failure cluster the task does not use yet first, then the most reliable,
    then the least loaded (`pnyx.domain.failure_aware`, learnt from `TaskHistory`)."""

    name = "failure-aware"
    # A worker with no history: Laplace's prior, neither trusted nor distrusted.
    DEFAULT_RELIABILITY = Fraction(1, 2)

    def __init__(
        self,
        history: TaskHistory | None = None,
        *,
        refresh_s: float = 5.0,
        min_shared: int = 5,
        threshold: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.history = history
        self.refresh_s = refresh_s
        self.min_shared = min_shared
        self.threshold = threshold
        self.clock = clock
        self.model = FailureModel()
        self._refreshed_at: float | None = None

    def key(self, slot: TaskSlot, candidate: Candidate) -> Key:
        model = self.model  # one read: the engine thread may swap in a new model meanwhile
        used = {model.cluster_of(holder) for holder in slot.holders}
        shared = model.cluster_of(candidate.address) in used
        score = model.reliability.get(candidate.address, self.DEFAULT_RELIABILITY)
        return (int(shared), -float(score), candidate.load)

    def learn(self, records: Sequence[TaskRecord]) -> None:
        """Recomputes the model from the whole history (built aside, then swapped in at once)."""
        scores = reliability(records)
        dependence = failure_dependence(records, min_shared=self.min_shared)
        clusters = failure_clusters(scores, dependence, threshold=self.threshold)
        self.model = FailureModel(
            cluster={worker: min(group) for group in clusters for worker in group},
            reliability=scores,
        )

    def refresh(self, head: int) -> None:
        """Reads the new blocks at most once every `refresh_s`, and relearns if tasks closed. A
        chain error keeps the current model: selection goes on, the next refresh retries."""
        now = self.clock()
        if self.history is None or (
            self._refreshed_at is not None and now - self._refreshed_at < self.refresh_s
        ):
            return
        self._refreshed_at = now
        try:
            closed = self.history.update(head)
        except PnyxError as exc:
            log.warning("failure-aware policy: task history not read: %s", exc)
            return
        if closed:
            self.learn(self.history.records)
            log.info(
                "failure-aware policy: %d task(s) of history, %d cluster(s)",
                len(self.history.closed),
                len(set(self.model.cluster.values())),
            )


# ─── Choosing one per pool ───


def load_social_graph(path: Path | None) -> Any:
    if path is None:
        raise ConfigError("the social-distance policy needs PNYX_SCHEDULER_SOCIAL_GRAPH")
    try:
        return parse_edge_list(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read the social graph {path}: {exc}") from exc
    except PnyxInputError as exc:
        raise ConfigError(f"malformed social graph {path}: {exc}") from exc


def make_policy(settings: SchedulerSettings, protocol: Protocol) -> SelectionPolicy:
    """The policy named by `settings.policy` (PNYX_SCHEDULER_POLICY)."""
    name = settings.policy
    if name == LeastLoaded.name:
        return LeastLoaded()
    if name == VerifiableRandom.name:
        return VerifiableRandom()
    if name == SocialDistance.name:
        return SocialDistance(load_social_graph(settings.social_graph))
    if name == FailureAware.name:
        return FailureAware(TaskHistory(protocol, start_block=settings.start_block))
    raise ConfigError(f"unknown scheduler policy {name!r}: choose one of {', '.join(POLICY_NAMES)}")
