"""Oracle node sets on a local chain: a numeric feed deployed and configured, its nodes given gas
(and, for on-chain aggregation, their stakes), a local price source when none is given, and the
node daemons (`python -m pnyx.services.oracle`) as processes, waited for until healthy.

One implementation for `pnyx devnet up --oracles`, `pnyx oracle deploy` (its `deploy_feed` half)
and the tests. Dev accounts: the marketplace uses 0 (deployer), 1–4 (its roles) and 5–16 (its
workers); oracle nodes use `ORACLE_FIRST_ACCOUNT` and up. Those are beyond what anvil funds, so the
funder (dev account 0) sends each node ether for its gas: any devnet works, however many accounts
its anvil was started with.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from eth_account.signers.local import LocalAccount

from pnyx.chain.client import ChainClient
from pnyx.chain.node import DEV_MNEMONIC, free_port
from pnyx.chain.oracles.feeds import AggregatorFeed, FeedRead, ReportingFeed
from pnyx.chain.protocol import Protocol
from pnyx.chain.signing import dev_account
from pnyx.devnet.network import Devnet
from pnyx.devnet.processes import ServiceProcess
from pnyx.domain._hex import to_address, to_hex32
from pnyx.domain.feeds import MAX_NODES, FeedConfig, feed_id
from pnyx.errors import PnyxError, PnyxInputError
from pnyx.services.oracle.config import Mechanism
from pnyx.services.oracle.onchain import ConfigFollower
from pnyx.types import NANO_PER_TOKEN, Address, Bytes32

Feed = AggregatorFeed | ReportingFeed

# Dev accounts 0–16 are the marketplace's (see `pnyx.devnet.marketplace`); 17–19 are spare.
ORACLE_FIRST_ACCOUNT = 20
NODE_GAS_WEI = 10 * 10**18
FEED_KIND = "Price"
DEFAULT_CAPTION = "ETH/USD"
# The devnet's feeds: ETH/USD-like bounds, an hour's heartbeat, 0.5 % deviation, 8 decimals.
DEVNET_FEED = FeedConfig(
    min_answer=1, max_answer=10**9 * 10**8, heartbeat_s=3600, deviation_bps=50, decimals=8
)
REWARD_PER_UNIT = NANO_PER_TOKEN // 1000  # tokens per observation or signature in a report
FEED_FUNDING = 100 * NANO_PER_TOKEN  # what the devnet puts in a feed to pay its nodes
_INT96_BOUND = 2**95


class OracleRoundTimeoutError(PnyxError):
    """The oracle nodes published no new answer in time."""


# ─── Quorums and deployment ───
@dataclass(frozen=True)
class AggregationTerms:
    """What an `Aggregator` configuration adds to the nodes and quorum (amounts in nano-tokens).

    Attributes:
        timeout_s: How long a round may stay open before a node may start the next one.
        min_stake: The stake a node needs to submit.
        payment: What each accepted submission earns, from the feed's payment pool.
        tolerance_bps: How far from the median (1/10,000) a submission may be without slashing.
        slash_amount: What an outlier loses of its stake.
    """

    timeout_s: int = 60
    min_stake: int = 5 * NANO_PER_TOKEN
    payment: int = NANO_PER_TOKEN // 100
    tolerance_bps: int = 100
    slash_amount: int = 2 * NANO_PER_TOKEN


def default_quorum(mechanism: Mechanism, nodes: int) -> tuple[int, int]:
    """(f, threshold) for `nodes` nodes: off-chain reporting tolerates f = ⌊(n − 1)/3⌋ faulty
    nodes and needs f + 1 signatures; on-chain aggregation waits for every node's submission
    (threshold n) and its median tolerates f = ⌊(n − 1)/2⌋ wrong ones."""
    if mechanism is Mechanism.REPORTING:
        f = (nodes - 1) // 3
        return f, f + 1
    return (nodes - 1) // 2, nodes


def check_quorum(mechanism: Mechanism, nodes: int, f: int, threshold: int) -> None:
    """Refuses, before any transaction, what the contracts' `_validateQuorum` would revert on."""
    if not 1 <= nodes <= MAX_NODES:
        raise PnyxInputError(f"a feed has 1 to {MAX_NODES} nodes, not {nodes}")
    if mechanism is Mechanism.REPORTING:
        if f < 1 or nodes <= 3 * f or not f < threshold <= nodes:
            raise PnyxInputError(
                f"off-chain reporting needs f ≥ 1, n > 3f and f < threshold ≤ n "
                f"(n={nodes}, f={f}, threshold={threshold}); with 4 nodes: f=1, threshold=2"
            )
    elif not 2 * f < threshold <= nodes:
        raise PnyxInputError(
            f"on-chain aggregation needs 2f < threshold ≤ n "
            f"(n={nodes}, f={f}, threshold={threshold})"
        )


def check_feed_config(config: FeedConfig) -> None:
    """Refuses what `OracleBase` would revert on or what does not fit its fields."""
    if not -_INT96_BOUND <= config.min_answer <= config.max_answer < _INT96_BOUND:
        raise PnyxInputError(
            f"bounds must satisfy min ≤ max and fit an int96 "
            f"(min {config.min_answer}, max {config.max_answer})"
        )
    if not 0 <= config.heartbeat_s < 2**32:
        raise PnyxInputError(f"heartbeat {config.heartbeat_s} s does not fit a uint32")
    if not 0 <= config.deviation_bps < 2**16:
        raise PnyxInputError(f"deviation {config.deviation_bps} bps does not fit a uint16")
    if not 0 <= config.decimals <= 36:
        raise PnyxInputError(f"decimals must be 0..36, not {config.decimals}")


@dataclass(frozen=True)
class DeployedFeed:
    """A feed just deployed and configured, and what it was configured with."""

    mechanism: Mechanism
    feed: Feed
    feed_id: Bytes32  # the EIP-2362 id: keccak256 of `id_text`
    id_text: str  # e.g. "Price-ETH/USD-8"
    description: str
    nodes: tuple[Address, ...]
    f: int
    threshold: int
    start_block: int  # the block before the deployment: where its events start

    @property
    def address(self) -> Address:
        return to_address(self.feed.address)

    def as_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "mechanism": self.mechanism.value,
            "feed_id": self.feed_id,
            "id_text": self.id_text,
            "description": self.description,
            "nodes": list(self.nodes),
            "f": self.f,
            "threshold": self.threshold,
            "config_count": self.feed.config_count(),
            "config_digest": "0x" + self.feed.digest().hex(),
        }


def deploy_feed(
    protocol: Protocol,
    owner: LocalAccount,
    mechanism: Mechanism,
    nodes: Sequence[str],
    *,
    f: int | None = None,
    threshold: int | None = None,
    config: FeedConfig = DEVNET_FEED,
    caption: str = DEFAULT_CAPTION,
    description: str | None = None,
    terms: AggregationTerms | None = None,
    reward_per_unit: int = REWARD_PER_UNIT,
    funding: int = 0,
) -> DeployedFeed:
    """Deploys a feed owned by `owner` and sets its node configuration.

    Args:
        protocol: The deployment whose token pays the nodes (and, for aggregation, is staked).
        owner: Deploys, configures and owns the feed; pays `funding` from its tokens.
        mechanism: On-chain aggregation (`Aggregator`) or off-chain reporting (`OffchainReporting`).
        nodes: The node addresses, in configuration order (a node's index is its position).
        f: Faulty nodes tolerated; `threshold`: submissions or signatures a round needs. Both
            default to `default_quorum`.
        config: Bounds, heartbeat, deviation threshold and decimals.
        caption: The feed's EIP-2362 caption: its id is keccak256("Price-<caption>-<decimals>").
        terms: Aggregation only: stakes, payment and slashing (default `AggregationTerms()`).
        reward_per_unit: Reporting only: nano-tokens per observation or signature in a report.
        funding: Nano-tokens the owner puts in the feed to pay its nodes (0: none).

    Raises:
        PnyxInputError: Nodes, quorum or bounds the contract would refuse (nothing is sent).
    """
    addresses = tuple(to_address(node) for node in nodes)
    if len(set(addresses)) != len(addresses):
        raise PnyxInputError("a node appears twice in --nodes")
    default_f, default_threshold = default_quorum(mechanism, len(addresses))
    f = default_f if f is None else f
    threshold = default_threshold if threshold is None else threshold
    check_quorum(mechanism, len(addresses), f, threshold)
    check_feed_config(config)
    if not caption:
        raise PnyxInputError("a feed needs a caption, e.g. ETH/USD")
    id_text = f"{FEED_KIND}-{caption}-{config.decimals}"
    described = description or caption
    client = protocol.client
    start_block = client.block_number()
    token = protocol.deployment.token
    ident = feed_id(FEED_KIND, caption, config.decimals)
    feed: Feed
    if mechanism is Mechanism.AGGREGATION:
        terms = terms or AggregationTerms()
        aggregator = AggregatorFeed.deploy(
            client, owner, feed_id=ident, description=described, feed=config, token=token
        )
        aggregator.set_config(
            owner, list(addresses), f=f, threshold=threshold, timeout_s=terms.timeout_s,
            min_stake=terms.min_stake, payment=terms.payment, tolerance_bps=terms.tolerance_bps,
            slash_amount=terms.slash_amount,
        )  # fmt: skip
        if funding:
            _approve(protocol, owner, aggregator.address, funding)
            aggregator.fund(owner, funding)
        feed = aggregator
    else:
        reporting = ReportingFeed.deploy(
            client, owner, feed_id=ident, description=described, feed=config,
            reward_token=token, reward_per_unit=reward_per_unit,
        )  # fmt: skip
        reporting.set_config(owner, list(addresses), f=f, threshold=threshold)
        if funding:  # rewards are paid from the feed's own token balance
            protocol.transfer_tokens(owner, reporting.address, funding)
        feed = reporting
    return DeployedFeed(
        mechanism, feed, to_hex32(ident), id_text, described, addresses, f, threshold, start_block
    )


def oracle_accounts(count: int, *, first: int = ORACLE_FIRST_ACCOUNT) -> list[LocalAccount]:
    """The dev accounts oracle nodes use on a devnet: `first`, `first + 1`, …"""
    return [dev_account(first + i, DEV_MNEMONIC) for i in range(count)]


# ─── A local price source ───
class PriceSource:
    """A price to observe, served on 127.0.0.1: `GET` (any path) → `{"value": <int>}`.

    The value starts at `base` and drifts slowly and deterministically: a sine of `amplitude_bps`
    over `period_s`, held for `step_s` at a time, so every node that polls within one step reads
    the same value, and the feed moves by its deviation threshold every half minute or so. Set
    `value` to hold a fixed value instead (tests).
    """

    def __init__(
        self,
        *,
        base: int = 2_000 * 10**8,
        amplitude_bps: int = 200,
        period_s: float = 600.0,
        step_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base = base
        self.amplitude_bps = amplitude_bps
        self.period_s = period_s
        self.step_s = step_s
        self.value: int | None = None
        self._clock = clock
        self._started = clock()
        source = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                body = json.dumps({"value": source.current()}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="price-source", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/price"

    def value_at(self, elapsed_s: float) -> int:
        """The drifting value `elapsed_s` seconds after the start."""
        held_since = math.floor(elapsed_s / self.step_s) * self.step_s
        drift = math.sin(2 * math.pi * held_since / self.period_s) * self.amplitude_bps / 10_000
        return self.base + round(self.base * drift)

    def current(self) -> int:
        held = self.value
        return held if held is not None else self.value_at(self._clock() - self._started)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# ─── Node processes ───
@dataclass
class OracleNodes:
    """A running node set. Stop it with `stop` or a `with` block (the feed stays on chain)."""

    mechanism: Mechanism
    feed: Feed
    accounts: list[LocalAccount]
    urls: list[str]
    processes: list[ServiceProcess]
    source_url: str
    source: PriceSource | None = None  # the one started here, if no source URL was given
    deployed: DeployedFeed | None = None  # the feed deployed here, if none was given
    logs_dir: Path | None = None

    @property
    def feed_address(self) -> Address:
        return to_address(self.feed.address)

    def info(self) -> dict[str, Any]:
        """What `pnyx devnet up --oracles` prints and writes into devnet.json."""
        return {
            "mechanism": self.mechanism.value,
            "feed": self.feed_address,
            "feed_id": self.deployed.feed_id if self.deployed else None,
            "nodes": list(self.urls),
            "node_addresses": [account.address for account in self.accounts],
            "source_url": self.source_url,
            "logs": str(self.logs_dir) if self.logs_dir else None,
        }

    def wait_for_answer(self, *, after_round: int = 0, timeout_s: float = 30.0) -> FeedRead:
        """The feed's latest answer once its round passes `after_round`."""
        deadline = time.monotonic() + timeout_s
        while True:
            latest = self.feed.latest()
            if latest.round_id > after_round:
                return latest
            if time.monotonic() > deadline:
                raise OracleRoundTimeoutError(
                    f"no answer after round {after_round} on {self.feed_address} within "
                    f"{timeout_s:.0f} s\n{self.tail()}"
                )
            time.sleep(0.2)

    def tail(self, size: int = 1500) -> str:
        return "\n".join(f"--- {p.name}\n{p.tail(size)}" for p in self.processes)

    def stop(self) -> None:
        if self.processes:  # each stop waits for its process: stop them all at once
            with ThreadPoolExecutor(max_workers=len(self.processes)) as pool:
                list(pool.map(ServiceProcess.stop, self.processes))
        if self.source is not None:
            self.source.close()
            self.source = None

    def __enter__(self) -> OracleNodes:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_oracle_nodes(
    network: Devnet | Protocol,
    home: Path,
    *,
    mechanism: Mechanism | str,
    nodes: int = 4,
    source_url: str | None = None,
    feed: str | None = None,
    funder: LocalAccount | None = None,
    first_account: int = ORACLE_FIRST_ACCOUNT,
    config: FeedConfig = DEVNET_FEED,
    caption: str = DEFAULT_CAPTION,
    terms: AggregationTerms | None = None,
    poll_interval_s: float = 0.5,
    round_timeout_s: float = 5.0,
    health_timeout_s: float = 30.0,
) -> OracleNodes:
    """Starts `nodes` oracle node processes on a devnet, with the feed they serve.

    Args:
        network: The devnet (or its protocol) to run on.
        home: Where the nodes keep their state (`oracles/node<i>/`) and logs (`logs/`).
        mechanism: "reporting" (off-chain reporting, f = ⌊(n − 1)/3⌋, threshold f + 1) or
            "aggregation" (on-chain aggregation, staked nodes, threshold n).
        nodes: How many nodes, on dev accounts `first_account`, `first_account + 1`, … (ignored
            when `feed` is given: its configuration says).
        source_url: What every node observes (GET → {"value": int}); default: a `PriceSource`
            started here and stopped with the nodes.
        feed: A feed already deployed and configured with dev accounts from `first_account` on
            (e.g. by `pnyx oracle deploy`); default: one deployed here by `funder`.
        funder: Sends the nodes ether for gas and tokens to stake, and deploys the feed
            (default: dev account 0, the devnet's deployer).
        config, caption, terms: Of the feed deployed here (see `deploy_feed`).
        poll_interval_s, round_timeout_s: The nodes' loop period and a reporting leader's time.
        health_timeout_s: How long each node has to answer `/v1/health`.

    Raises:
        PnyxInputError: `feed` is configured with keys that are not dev accounts from
            `first_account` on.
        ServiceStartError: A node did not become healthy (every node is stopped).
    """
    mechanism = _mechanism(mechanism)
    base = network.protocol if isinstance(network, Devnet) else network
    # A client of our own, with no nonce cached: the funder may have sent transactions through
    # other clients (a `pnyx` command, the devnet's own client) since they last looked.
    client = ChainClient(base.client.url)
    protocol = Protocol(client, base.deployment)
    funder = funder or dev_account(0, DEV_MNEMONIC)
    terms = terms or AggregationTerms()
    deployed: DeployedFeed | None = None
    if feed is None:
        accounts = oracle_accounts(nodes, first=first_account)
        deployed = deploy_feed(
            protocol, funder, mechanism, [a.address for a in accounts], config=config,
            caption=caption, terms=terms, funding=FEED_FUNDING,
        )  # fmt: skip
        chosen: Feed = deployed.feed
        start_block = deployed.start_block
    else:
        chosen = _feed_at(client, mechanism, feed)
        accounts = _configured_accounts(chosen, first_account)
        start_block = 0
    for account in accounts:
        client.send_ether(funder, account.address, NODE_GAS_WEI)
        if isinstance(chosen, AggregatorFeed):
            _stake(protocol, funder, chosen, account, terms.min_stake)

    home.mkdir(parents=True, exist_ok=True)
    source = PriceSource() if source_url is None else None
    url = source_url or (source.url if source else "")
    ports = [free_port() for _ in accounts]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    logs = home / "logs"
    running = OracleNodes(
        mechanism, chosen, accounts, urls, [], url, source, deployed, logs_dir=logs
    )
    try:
        for index, (account, port) in enumerate(zip(accounts, ports, strict=True)):
            env = {
                "PNYX_HOME": str(home),
                "PNYX_CHAIN_URL": client.url,
                "PNYX_ORACLE_MECHANISM": mechanism.value,
                "PNYX_ORACLE_FEED": chosen.address,
                "PNYX_ORACLE_PRIVATE_KEY": "0x" + bytes(account.key).hex(),
                "PNYX_ORACLE_INDEX": str(index),
                "PNYX_ORACLE_PEERS": ",".join(urls),
                "PNYX_ORACLE_SOURCE_URL": url,
                "PNYX_ORACLE_PORT": str(port),
                "PNYX_ORACLE_POLL_INTERVAL_S": str(poll_interval_s),
                "PNYX_ORACLE_ROUND_TIMEOUT_S": str(round_timeout_s),
                "PNYX_ORACLE_DIR": str(home / "oracles" / f"node{index}"),
                "PNYX_ORACLE_START_BLOCK": str(start_block),
            }
            name = f"oracle{index}"
            running.processes.append(
                ServiceProcess(
                    name, "pnyx.services.oracle", env, logs / f"{name}.log",
                    f"{urls[index]}/v1/health",
                ).start()
            )  # fmt: skip
        for process in running.processes:
            process.wait_healthy(timeout_s=health_timeout_s)
    except BaseException:
        running.stop()
        raise
    return running


# ─── Private ───
def _mechanism(value: Mechanism | str) -> Mechanism:
    try:
        return Mechanism(value)
    except ValueError:
        choices = ", ".join(m.value for m in Mechanism)
        raise PnyxInputError(f"no oracle mechanism {value!r}: one of {choices}") from None


def _feed_at(client: ChainClient, mechanism: Mechanism, address: str) -> Feed:
    checked = to_address(address)
    if mechanism is Mechanism.AGGREGATION:
        return AggregatorFeed.at(client, checked)
    return ReportingFeed.at(client, checked)


def _configured_accounts(feed: Feed, first_account: int) -> list[LocalAccount]:
    """The dev keys of the nodes `feed` is configured with, in configuration order."""
    active = ConfigFollower(ReportingFeed.at(feed.client, feed.address)).poll()
    if active is None:
        raise PnyxInputError(f"feed {feed.address} has no node configuration yet")
    configured = list(active.config.nodes)
    keys = {str(a.address): a for a in oracle_accounts(MAX_NODES, first=first_account)}
    missing = [node for node in configured if node not in keys]
    if missing:
        raise PnyxInputError(
            f"feed {feed.address} is configured with nodes that are not dev accounts "
            f"{first_account}..{first_account + MAX_NODES - 1}: {', '.join(missing)}"
        )
    return [keys[node] for node in configured]


def _approve(protocol: Protocol, owner: LocalAccount, spender: str, amount: int) -> None:
    protocol.client.transact(owner, protocol.token.functions.approve(spender, amount))


def _stake(
    protocol: Protocol, funder: LocalAccount, feed: AggregatorFeed, node: LocalAccount, stake: int
) -> None:
    # The configured minimum, in case the feed was configured elsewhere with more than `stake`.
    stake = max(stake, feed.min_stake())
    missing = stake - feed.node(node.address)["stake"]
    if missing <= 0:
        return
    if protocol.token_balance(node.address) < missing:
        protocol.transfer_tokens(funder, node.address, missing)
    _approve(protocol, node, feed.address, missing)
    feed.stake(node, missing)
