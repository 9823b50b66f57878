"""An off-chain reporting node (Chainlink OCR style, over HTTP): it answers leaders with signed
observations, signs the reports that pass `pnyx.domain.reporting.check_report`, and, in the rounds
it leads, gathers observations and signatures and transmits the report in one transaction.

Rounds open one per `round_timeout_s` while an update is due and nobody transmitted, each led by
`epoch_and_round % n`: a dead or slow leader is replaced by the next round's leader. A leader
retries its round until the next one opens, with the same report once it has built one (the nodes
that signed it sign it again identically), so a follower that came up late is not a lost round.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed, wait
from pathlib import Path
from typing import Protocol, TypeVar

from eth_account.signers.local import LocalAccount

from pnyx.api.schemas.oracle import NodeRead
from pnyx.chain import contract_errors
from pnyx.chain.oracles.feeds import ReportingFeed
from pnyx.chain.signing import recover_eip191, sign_eip191
from pnyx.clients.oracle import OracleNodeClient
from pnyx.domain._hex import to_bytes
from pnyx.domain.feeds import MAX_NODES, Report, pack_signatures
from pnyx.domain.reporting import (
    ConfigDigestMismatchError,
    SignedObservation,
    check_observation,
    check_report,
    is_update_due,
    observation_message,
    round_to_lead,
)
from pnyx.errors import PermissionDeniedError, PnyxError, ServiceError
from pnyx.services.oracle.config import Mechanism
from pnyx.services.oracle.onchain import ActiveConfig, ConfigFollower, FeedState, FeedWatcher
from pnyx.services.oracle.signing_log import SignedReport, SigningLog

log = logging.getLogger("pnyx.oracle")
_T = TypeVar("_T")
# Observations kept per node, so a node asked twice for a round answers the same value.
KEPT_OBSERVATIONS = 64


class Peer(Protocol):
    """What a leader asks of a node: this node itself, or another one over HTTP."""

    def observe(self, config_digest: str | bytes, epoch_and_round: int) -> SignedObservation: ...

    def sign_report(self, report: Report, observations: list[SignedObservation]) -> bytes: ...


class ReportingNode:
    mechanism = Mechanism.REPORTING

    def __init__(
        self,
        *,
        feed: ReportingFeed,
        account: LocalAccount,
        source: Callable[[], int],
        peers: Sequence[Peer | None],
        signing_log: SigningLog,
        round_timeout_s: float = 10.0,
        request_timeout_s: float = 2.0,
        tolerance_bps: int = 100,
        index: int | None = None,
        start_block: int = 0,
    ) -> None:
        self.feed = feed
        self.account = account
        self.source = source
        self.peers = list(peers)
        self.signing_log = signing_log
        self.round_timeout_s = round_timeout_s
        self.request_timeout_s = request_timeout_s
        self.tolerance_bps = tolerance_bps
        self.expected_index = index
        self.watcher = FeedWatcher(feed)
        self.follower = ConfigFollower(feed, start_block=start_block)
        self._observations: OrderedDict[tuple[bytes, int], SignedObservation] = OrderedDict()
        self._observations_lock = threading.Lock()
        self._signing_lock = threading.Lock()
        self._pending: tuple[bytes, Report, list[SignedObservation]] | None = None
        self._due_since: float | None = None
        self._due_for = -1
        self._latest_round = 0
        self._warned_outside = False
        self._pool = ThreadPoolExecutor(max_workers=2 * MAX_NODES, thread_name_prefix="oracle")

    # ─── As any node: observe, sign ───
    def observe(self, config_digest: str | bytes, epoch_and_round: int) -> SignedObservation:
        """This node's signed observation of a round (the same one if asked again)."""
        active = self._active()
        digest = to_bytes(config_digest, length=32)
        if digest != active.digest:
            raise ConfigDigestMismatchError(
                f"asked to observe for configuration 0x{digest.hex()}; this node follows "
                f"0x{active.digest.hex()}"
            )
        index = self._index(active)
        key = (digest, epoch_and_round)
        with self._observations_lock:
            kept = self._observations.get(key)
        if kept is not None:
            return kept
        value = self._read_source()
        signature = sign_eip191(self.account, observation_message(digest, epoch_and_round, value))
        observation = SignedObservation(index, epoch_and_round, value, signature)
        with self._observations_lock:
            observation = self._observations.setdefault(key, observation)
            while len(self._observations) > KEPT_OBSERVATIONS:
                self._observations.popitem(last=False)
        return observation

    def sign_report(self, report: Report, observations: list[SignedObservation]) -> bytes:
        """This node's signature of `report`, if it passes `check_report`. The same report asked
        again gets the same signature; any other report for that round or an older one, none."""
        active = self._active()
        self._index(active)
        message = report.message()
        with self._signing_lock:
            last = self.signing_log.last
            if last and last.epoch_and_round == report.epoch_and_round and last.message == message:
                return last.signature
            own = 0  # a report for another configuration is refused before the value matters
            if report.digest == active.digest:
                own = self.observe(active.digest, report.epoch_and_round).value
            check_report(
                report,
                observations,
                config_digest=active.digest,
                nodes=active.config.nodes,
                f=active.config.f,
                own_value=own,
                tolerance_bps=self.tolerance_bps,
                last_signed=max(last.epoch_and_round if last else 0, self._latest_round),
                recover=recover_eip191,
            )
            signature = sign_eip191(self.account, message)
            self.signing_log.record(SignedReport(report.epoch_and_round, message, signature))
        log.info(
            "round %d: signed report, median %d of %d observations",
            report.epoch_and_round,
            report.median,
            len(report.observations),
        )
        return signature

    # ─── The loop ───
    def sync(self) -> FeedState:
        """Reads the feed and its configuration again if a block arrived."""
        state, fresh = self.watcher.refresh()
        if fresh or self.follower.current is None:
            try:
                self.follower.poll()
            except PnyxError:
                self.watcher.invalidate()  # read it all again next time
                raise
            self._latest_round = state.latest.round_id
        return state

    def step(self) -> None:
        state = self.sync()
        active = self.follower.current
        if active is None:
            return
        try:
            index = self._index(active)
        except PermissionDeniedError as exc:
            if not self._warned_outside:
                log.warning("not leading: %s", exc)
                self._warned_outside = True
            return
        self._warned_outside = False
        latest = state.latest
        if self._pending is not None and self._pending[1].epoch_and_round <= latest.round_id:
            self._pending = None
        try:
            value = self._read_source()
        except ServiceError as exc:
            log.warning("no observation: %s", exc)
            self._due_since = None
            return
        now = time.time()
        due = is_update_due(
            value,
            answer=latest.answer,
            updated_at=latest.updated_at,
            now=now,
            heartbeat_s=state.config.heartbeat_s,
            deviation_bps=state.config.deviation_bps,
        )
        if not due:
            self._due_since = None
            return
        if self._due_since is None or self._due_for != latest.round_id:
            self._due_since, self._due_for = now, latest.round_id
        epoch_and_round = round_to_lead(
            index,
            len(active.config.nodes),
            latest.round_id,
            elapsed_s=now - self._due_since,
            round_timeout_s=self.round_timeout_s,
        )
        if epoch_and_round is not None:
            self.lead(active, epoch_and_round)

    # ─── As a leader ───
    def lead(self, active: ActiveConfig, epoch_and_round: int) -> bool:
        """Runs round `epoch_and_round`: observations, report, signatures, transmission. Returns
        whether this node transmitted it."""
        config = active.config
        pending = self._pending
        if (
            pending is None
            or pending[0] != active.digest
            or (pending[1].epoch_and_round != epoch_and_round)
        ):
            observed = self._gather_observations(active, epoch_and_round)
            if len(observed) <= 2 * config.f:
                log.info(
                    "round %d: %d observations, a report needs more than %d",
                    epoch_and_round,
                    len(observed),
                    2 * config.f,
                )
                return False
            report = Report.build(
                active.digest, epoch_and_round, {o.index: o.value for o in observed}
            )
            pending = (active.digest, report, observed)
            self._pending = pending
        _, report, observed = pending
        signatures = self._gather_signatures(active, report, observed)
        if len(signatures) < config.threshold:
            log.info(
                "round %d: %d report signatures, %d needed",
                epoch_and_round,
                len(signatures),
                config.threshold,
            )
            return False
        packed = pack_signatures(sorted(signatures[: config.threshold]))
        try:
            self.feed.transmit(self.account, report, packed, config=config)
        except contract_errors.ReportStale as exc:
            log.info("round %d: a newer report is on chain already (%s)", epoch_and_round, exc)
            self._pending = None
            return False
        self._pending = None
        self.watcher.invalidate()
        log.info(
            "round %d: transmitted median %d (%d observations, %d signatures)",
            epoch_and_round,
            report.median,
            len(observed),
            len(signatures[: config.threshold]),
        )
        return True

    def _gather_observations(
        self, active: ActiveConfig, epoch_and_round: int
    ) -> list[SignedObservation]:
        futures = {
            self._pool.submit(peer.observe, active.digest, epoch_and_round): index
            for index, peer in self._peers_of(active)
        }
        done, _ = wait(futures, timeout=self.request_timeout_s)
        observed: list[SignedObservation] = []
        for future in done:
            index = futures[future]
            observation = self._result(future, f"node {index}'s observation")
            if observation is None:
                continue
            try:
                if observation.index != index:
                    raise PermissionDeniedError(f"it claims to be node {observation.index}")
                check_observation(
                    observation,
                    config_digest=active.digest,
                    epoch_and_round=epoch_and_round,
                    nodes=active.config.nodes,
                    recover=recover_eip191,
                )
            except PnyxError as exc:
                log.warning(
                    "round %d: node %d's observation refused: %s", epoch_and_round, index, exc
                )
                continue
            observed.append(observation)
        return sorted(observed, key=lambda o: o.index)

    def _gather_signatures(
        self, active: ActiveConfig, report: Report, observed: list[SignedObservation]
    ) -> list[tuple[int, bytes]]:
        message = report.message()
        futures = {
            self._pool.submit(peer.sign_report, report, observed): index
            for index, peer in self._peers_of(active)
        }
        signatures: list[tuple[int, bytes]] = []
        try:
            for future in as_completed(futures, timeout=self.request_timeout_s):
                index = futures[future]
                signature = self._result(future, f"node {index}'s report signature")
                if signature is None:
                    continue
                signer = recover_eip191(message, signature)
                if signer.lower() != active.config.nodes[index].lower():
                    log.warning("node %d's report signature is by %s", index, signer or "nobody")
                    continue
                signatures.append((index, signature))
                if len(signatures) >= active.config.threshold:
                    break
        except TimeoutError:
            pass
        return signatures

    def _peers_of(self, active: ActiveConfig) -> list[tuple[int, Peer]]:
        mine = active.index_of(self.account.address)
        peers: list[tuple[int, Peer]] = []
        for index in range(len(active.config.nodes)):
            peer = (
                self if index == mine else (self.peers[index] if index < len(self.peers) else None)
            )
            if peer is not None:
                peers.append((index, peer))
        return peers

    @staticmethod
    def _result(future: Future[_T], what: str) -> _T | None:
        try:
            return future.result()
        except PnyxError as exc:
            log.info("%s: %s", what, exc)
        except Exception as exc:  # a peer's failure of any kind costs only its own answer
            log.warning("%s failed: %r", what, exc)
        return None

    # ─── Status and helpers ───
    @property
    def index(self) -> int | None:
        """This node's index in the configuration it follows (None: not a node of it)."""
        active = self.follower.current
        return active.index_of(self.account.address) if active else None

    def status(self) -> NodeRead:
        state = self.watcher.state
        active = self.follower.current
        last = self.signing_log.last
        return NodeRead(
            mechanism=self.mechanism.value,
            address=self.account.address,
            feed=self.feed.address,
            index=active.index_of(self.account.address) if active else None,
            latest_round=state.latest.round_id if state else 0,
            latest_answer=state.latest.answer if state else 0,
            last_signed=last.epoch_and_round if last else 0,
            config_digest="0x" + active.digest.hex() if active else None,
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        for peer in self.peers:
            if isinstance(peer, OracleNodeClient):
                peer.close()

    def _active(self) -> ActiveConfig:
        active = self.follower.current
        if active is None:
            raise ServiceError(f"no configuration of feed {self.feed.address} seen yet")
        return active

    def _index(self, active: ActiveConfig) -> int:
        index = active.index_of(self.account.address)
        if index is None:
            raise PermissionDeniedError(
                f"{self.account.address} is not a node of configuration {active.config.count}"
            )
        if self.expected_index is not None and index != self.expected_index:
            raise PermissionDeniedError(
                f"configured as node {self.expected_index}, but the feed has this key at {index}"
            )
        return index

    def _read_source(self) -> int:
        try:
            return int(self.source())
        except PnyxError:
            raise
        except Exception as exc:
            raise ServiceError(f"the data source failed: {exc!r}") from exc


def state_path(state_dir: Path, feed: str, address: str) -> Path:
    return state_dir / f"{feed.lower()}-{address.lower()}.json"
