"""Oracle node daemons as real processes (`python -m pnyx.services.oracle`) on the shared anvil,
each polling its own data source (a small HTTP server in a thread):

- off-chain reporting, 4 nodes (f = 1, threshold 2): a round ends with the median of the nodes'
  sources on chain; when the next round's leader is killed, the leader of the round after takes
  over; a node refuses forged observations and a second report for a round it signed;
- on-chain aggregation, 3 staked nodes: they complete a round when the value deviates.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from pnyx.api.schemas.oracle import ObservationRead, ReportCreate, ReportSignatureRead
from pnyx.chain.node import free_port
from pnyx.chain.oracles.feeds import AggregatorFeed, FeedRead, ReportingFeed
from pnyx.chain.signing import recover_eip191, sign_eip191
from pnyx.clients.oracle import OracleNodeClient
from pnyx.devnet.processes import ServiceProcess
from pnyx.domain.feeds import FeedConfig, Report, feed_id, median
from pnyx.domain.reporting import SignedObservation, observation_message
from pnyx.services.oracle.app import create_oracle_app
from pnyx.services.oracle.config import Mechanism, OracleSettings
from tests.helpers.world import World

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ETH_USD = feed_id("Price", "ETH/USD", 8)
FEED = FeedConfig(min_answer=100 * 10**8, max_answer=100_000 * 10**8, heartbeat_s=3600)
PRICE = 2_000 * 10**8
ROUND_TIMEOUT_S = 2.0
WAIT_S = 20.0


# ─── A data source per node ───
@dataclass
class DataSource:
    """Serves `GET /<node index>` → {"value": values[index]}; 503 while `values` is None."""

    values: dict[int, int] | None = None
    server: ThreadingHTTPServer = field(init=False)

    def __post_init__(self) -> None:
        source = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                values = source.values  # one read: a whole update is seen at once
                index = int(self.path.strip("/"))
                if values is None or index not in values:
                    self.send_response(503)
                    self.end_headers()
                    return
                body = json.dumps({"value": values[index]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{index}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def source() -> Iterator[DataSource]:
    data = DataSource()
    try:
        yield data
    finally:
        data.close()


# ─── Node processes ───
@dataclass
class NodeSet:
    feed: AggregatorFeed | ReportingFeed
    accounts: list[LocalAccount]
    urls: list[str]
    processes: list[ServiceProcess]

    def logs(self) -> str:
        return "\n".join(f"--- node {i}\n{p.tail(2500)}" for i, p in enumerate(self.processes))


def _start_nodes(
    world: World,
    tmp_path: Path,
    source: DataSource,
    feed: AggregatorFeed | ReportingFeed,
    accounts: list[LocalAccount],
    *,
    mechanism: str,
    start_block: int,
) -> NodeSet:
    ports = [free_port() for _ in accounts]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    processes = []
    for index, (account, port) in enumerate(zip(accounts, ports, strict=True)):
        env = {
            "PNYX_HOME": str(tmp_path / "home"),
            "PNYX_CHAIN_URL": world.client.url,
            "PNYX_ORACLE_MECHANISM": mechanism,
            "PNYX_ORACLE_FEED": feed.address,
            "PNYX_ORACLE_PRIVATE_KEY": account.key.to_0x_hex(),
            "PNYX_ORACLE_INDEX": str(index),
            "PNYX_ORACLE_PEERS": ",".join(urls),
            "PNYX_ORACLE_SOURCE_URL": source.url(index),
            "PNYX_ORACLE_PORT": str(port),
            "PNYX_ORACLE_POLL_INTERVAL_S": "0.2",
            "PNYX_ORACLE_ROUND_TIMEOUT_S": str(ROUND_TIMEOUT_S),
            "PNYX_ORACLE_REQUEST_TIMEOUT_S": "1.5",
            "PNYX_ORACLE_DIR": str(tmp_path / f"node{index}"),
            "PNYX_ORACLE_START_BLOCK": str(start_block),
        }
        processes.append(
            ServiceProcess(
                f"oracle-{index}",
                "pnyx.services.oracle",
                env,
                tmp_path / f"node{index}.log",
                f"{urls[index]}/v1/health",
            ).start()
        )
    nodes = NodeSet(feed, accounts, urls, processes)
    try:
        for process in processes:
            process.wait_healthy(timeout_s=30)
    except Exception:
        _stop(nodes)
        raise
    return nodes


def _stop(nodes: NodeSet) -> None:
    with ThreadPoolExecutor(max_workers=len(nodes.processes)) as pool:  # each waits for its exit
        list(pool.map(ServiceProcess.stop, nodes.processes))


def _wait_for_round(
    nodes: NodeSet, done: Callable[[FeedRead], bool], what: str, timeout_s: float = WAIT_S
) -> FeedRead:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        latest = nodes.feed.latest()
        if done(latest):
            return latest
        time.sleep(0.1)
    pytest.fail(f"{what} within {timeout_s:.0f} s; latest {nodes.feed.latest()}\n{nodes.logs()}")


def _approve(world: World, account: LocalAccount, spender: str, amount: int) -> None:
    world.client.transact(account, world.protocol.token.functions.approve(spender, amount))


# ─── Off-chain reporting ───
@pytest.fixture
def reporting_nodes(world: World, tmp_path: Path, source: DataSource) -> Iterator[NodeSet]:
    accounts = [w.account for w in world.workers[:4]]  # n = 4, f = 1, threshold 2
    start_block = world.client.block_number()
    feed = ReportingFeed.deploy(
        world.client, world.owner, feed_id=ETH_USD, description="ETH/USD", feed=FEED,
        reward_token=world.deployment.token, reward_per_unit=10**6,
    )  # fmt: skip
    feed.set_config(world.owner, [a.address for a in accounts], f=1, threshold=2)
    nodes = _start_nodes(
        world, tmp_path, source, feed, accounts, mechanism="reporting", start_block=start_block
    )
    try:
        yield nodes
    finally:
        _stop(nodes)


def _report_median(values: list[int]) -> int:
    return Report.build(b"\0" * 32, 1, dict(enumerate(values))).median


def test_a_reporting_round_publishes_the_median_of_the_nodes_sources(
    reporting_nodes: NodeSet, source: DataSource
) -> None:
    values = {0: PRICE - 20, 1: PRICE + 7, 2: PRICE + 30, 3: PRICE + 1}
    source.values = values  # the sources come up once every node is listening
    latest = _wait_for_round(reporting_nodes, lambda r: r.round_id > 0, "no report transmitted")
    assert latest.answer == _report_median(list(values.values())) == PRICE + 7
    statuses = [OracleNodeClient(url).node() for url in reporting_nodes.urls]
    assert [s.index for s in statuses] == [0, 1, 2, 3]
    assert sum(s.last_signed == latest.round_id for s in statuses) >= 2  # the threshold signed


@dataclass
class ReportingApps:
    feed: ReportingFeed
    apis: list[TestClient]
    values: dict[int, int]  # what each node's source answers


@pytest.fixture
def reporting_apps(world: World, tmp_path: Path) -> Iterator[ReportingApps]:
    """4 reporting nodes in-process, without their loops (nobody leads): for the refusal rules."""
    accounts = [w.account for w in world.workers[:4]]
    start_block = world.client.block_number()
    feed = ReportingFeed.deploy(
        world.client, world.owner, feed_id=ETH_USD, description="ETH/USD", feed=FEED,
        reward_token=world.deployment.token, reward_per_unit=10**6,
    )  # fmt: skip
    feed.set_config(world.owner, [a.address for a in accounts], f=1, threshold=2)
    values = dict.fromkeys(range(4), PRICE)
    with ExitStack() as stack:
        apps = []
        for index, account in enumerate(accounts):
            settings = OracleSettings(
                mechanism=Mechanism.REPORTING,
                chain_url=world.client.url,
                feed=feed.address,
                private_key=account.key.to_0x_hex(),
                index=index,
                peers=("http://127.0.0.1:9",) * 4,
                state_dir=tmp_path / f"node{index}",
                start_block=start_block,
            )
            app = create_oracle_app(
                settings, source=lambda index=index: values[index], run_loop=False
            )
            apps.append(stack.enter_context(TestClient(app)))
        yield ReportingApps(feed, apps, values)


def _observe_in(api: TestClient, digest: bytes, round_: int) -> SignedObservation:
    request = {"config_digest": "0x" + digest.hex(), "epoch_and_round": round_}
    response = api.post("/v1/observations", json=request)
    assert response.status_code == 200, response.text
    return ObservationRead.model_validate(response.json()).to_domain()


def _sign_in(
    api: TestClient, report: Report, observations: list[SignedObservation]
) -> httpx.Response:
    body = ReportCreate.of(report, observations).model_dump(mode="json")
    return api.post("/v1/reports", json=body)


def test_a_node_refuses_forged_observations_and_a_second_report_for_a_round(
    world: World, reporting_apps: ReportingApps
) -> None:
    feed, apis = reporting_apps.feed, reporting_apps.apis
    accounts = [w.account for w in world.workers[:4]]
    digest = feed.current_digest()
    round_ = 5
    observed = [_observe_in(api, digest, round_) for api in apis[:3]]
    assert observed[0] == _observe_in(apis[0], digest, round_)  # asked twice, the same answer
    report = Report.build(digest, round_, {o.index: o.value for o in observed})

    forged_value = PRICE * 2  # the leader puts words in node 2's mouth, signed with its own key
    forged = SignedObservation(
        2, round_, forged_value,
        sign_eip191(accounts[0], observation_message(digest, round_, forged_value)),
    )  # fmt: skip
    forged_report = Report.build(digest, round_, {0: PRICE, 1: PRICE, 2: forged_value})
    refused = _sign_in(apis[3], forged_report, [*observed[:2], forged])
    assert (refused.status_code, refused.json()["error"]) == (401, "ObservationForgedError")

    signed = _sign_in(apis[3], report, observed)
    assert signed.status_code == 200, signed.text
    signature = ReportSignatureRead.model_validate(signed.json())
    assert signature.node_index == 3
    assert recover_eip191(report.message(), signature.signature) == accounts[3].address
    assert _sign_in(apis[3], report, observed).json() == signed.json()  # same report, same answer

    own = _observe_in(apis[3], digest, round_)
    other = Report.build(digest, round_, {0: observed[0].value, 1: observed[1].value, 3: own.value})
    again = _sign_in(apis[3], other, [*observed[:2], own])
    assert (again.status_code, again.json()["error"]) == (409, "ReportAlreadySignedError")
    older = [_observe_in(api, digest, round_ - 1) for api in apis[:3]]
    stale = _sign_in(
        apis[3], Report.build(digest, round_ - 1, {o.index: o.value for o in older}), older
    )
    assert stale.status_code == 409
    overflow = ReportCreate.of(report, observed).model_dump(mode="json")
    overflow["observations"][0] = 1 << 191  # does not fit the contract's int192
    assert apis[3].post("/v1/reports", json=overflow).status_code == 422
    status = apis[3].get("/v1/node").json()
    assert (status["index"], status["last_signed"]) == (3, round_)


def test_a_node_refuses_a_report_whose_median_is_off_its_own_observation(
    reporting_apps: ReportingApps,
) -> None:
    digest = reporting_apps.feed.current_digest()
    reporting_apps.values[3] = PRICE * 102 // 100  # node 3 sees 2 % more: beyond its 1 %
    honest = [_observe_in(api, digest, 7) for api in reporting_apps.apis[:3]]
    report = Report.build(digest, 7, {o.index: o.value for o in honest})
    refused = _sign_in(reporting_apps.apis[3], report, honest)
    assert (refused.status_code, refused.json()["error"]) == (403, "ReportMedianOffError")
    assert _sign_in(reporting_apps.apis[2], report, honest).status_code == 200


def test_the_next_leader_transmits_when_the_leader_is_killed(
    reporting_nodes: NodeSet, source: DataSource
) -> None:
    source.values = {i: PRICE + i for i in range(4)}
    first = _wait_for_round(reporting_nodes, lambda r: r.round_id > 0, "no first report")
    doomed = (first.round_id + 1) % 4  # the leader of the next round
    reporting_nodes.processes[doomed].kill()
    moved = {i: PRICE * 103 // 100 + 11 * i for i in range(4) if i != doomed}  # +3 % ≫ 0.5 %
    source.values = moved
    latest = _wait_for_round(
        reporting_nodes, lambda r: r.round_id > first.round_id, "nobody took over"
    )
    assert latest.round_id == first.round_id + 2  # led by the next round's leader
    assert latest.answer == _report_median(sorted(moved.values()))


# ─── On-chain aggregation ───
STAKE = 5 * 10**9


@pytest.fixture
def aggregation_nodes(world: World, tmp_path: Path, source: DataSource) -> Iterator[NodeSet]:
    accounts = [w.account for w in world.workers[4:7]]
    feed = AggregatorFeed.deploy(
        world.client, world.owner, feed_id=ETH_USD, description="ETH/USD", feed=FEED,
        token=world.deployment.token,
    )  # fmt: skip
    for account in accounts:
        _approve(world, account, feed.address, STAKE)
        feed.stake(account, STAKE)
    _approve(world, world.owner, feed.address, 10**12)
    feed.fund(world.owner, 10**12)
    feed.set_config(
        world.owner, [a.address for a in accounts], f=1, threshold=3, timeout_s=60,
        min_stake=STAKE, payment=10**7, tolerance_bps=100, slash_amount=2 * 10**9,
    )  # fmt: skip
    source.values = {0: PRICE - 3, 1: PRICE + 2, 2: PRICE}
    nodes = _start_nodes(
        world, tmp_path, source, feed, accounts, mechanism="aggregation", start_block=0
    )
    try:
        yield nodes
    finally:
        _stop(nodes)


def test_aggregation_nodes_complete_a_round_when_the_value_deviates(
    aggregation_nodes: NodeSet, source: DataSource
) -> None:
    feed = aggregation_nodes.feed
    assert isinstance(feed, AggregatorFeed)
    first = _wait_for_round(aggregation_nodes, lambda r: r.round_id == 1, "no first round")
    assert first.answer == median([PRICE - 3, PRICE + 2, PRICE])
    time.sleep(1.0)  # no deviation, heartbeat an hour away: nothing to do
    assert feed.latest().round_id == 1
    moved = {0: PRICE * 102 // 100, 1: PRICE * 102 // 100 + 50, 2: PRICE * 102 // 100 - 20}
    source.values = moved  # +2 % ≫ the feed's 0.5 % deviation threshold
    second = _wait_for_round(aggregation_nodes, lambda r: r.round_id == 2, "no deviation round")
    assert second.answer == median(list(moved.values()))
    for account in aggregation_nodes.accounts:
        node = feed.node(account.address)
        assert (node["last_round"], node["stake"]) == (2, STAKE)
