"""Oracle node sets on a local chain: a numeric feed (deployed by `pnyx.devnet.feeds` unless one is
given), its nodes given gas (and, for on-chain aggregation, their stakes), a local price source
(`pnyx.devnet.price_source`) when none is given, and the node daemons (`python -m
pnyx.services.oracle`) as processes, waited for until healthy.

One implementation for `pnyx devnet up --oracles` and the tests. Dev accounts: the marketplace
uses 0 (deployer), 1–4 (its roles) and 5–16 (its workers); oracle nodes use `ORACLE_FIRST_ACCOUNT`
and up. Those are beyond what anvil funds, so the funder (dev account 0) sends each node ether for
its gas: any devnet works, however many accounts its anvil was started with.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from eth_account.signers.local import LocalAccount

from pnyx.chain.client import ChainClient
from pnyx.chain.node import DEV_MNEMONIC, free_port
from pnyx.chain.oracles.feeds import AggregatorFeed, FeedRead, ReportingFeed
from pnyx.chain.protocol import Protocol
from pnyx.chain.signing import dev_account
from pnyx.devnet.feeds import (
    DEFAULT_CAPTION,
    DEVNET_FEED,
    FEED_FUNDING,
    AggregationTerms,
    DeployedFeed,
    Feed,
    as_mechanism,
    deploy_feed,
)
from pnyx.devnet.network import Devnet
from pnyx.devnet.price_source import PriceSource
from pnyx.devnet.processes import ServiceProcess
from pnyx.domain._hex import to_address
from pnyx.domain.feeds import MAX_NODES, FeedConfig
from pnyx.errors import PnyxError, PnyxInputError
from pnyx.services.oracle.config import Mechanism
from pnyx.services.oracle.onchain import ConfigFollower
from pnyx.types import Address

# Dev accounts 0–16 are the marketplace's (see `pnyx.devnet.marketplace`); 17–19 are spare.
ORACLE_FIRST_ACCOUNT = 20
NODE_GAS_WEI = 10 * 10**18


class OracleRoundTimeoutError(PnyxError):
    """The oracle nodes published no new answer in time."""


def oracle_accounts(count: int, *, first: int = ORACLE_FIRST_ACCOUNT) -> list[LocalAccount]:
    """The dev accounts oracle nodes use on a devnet: `first`, `first + 1`, …"""
    return [dev_account(first + i, DEV_MNEMONIC) for i in range(count)]


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
    mechanism = as_mechanism(mechanism)
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
    protocol.approve(node, missing, spender=feed.address)
    feed.stake(node, missing)
