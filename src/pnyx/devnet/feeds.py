"""Numeric feeds on a local chain: the quorum and bound checks, and a feed deployed, configured for
its nodes and funded — what `pnyx oracle deploy` and `pnyx devnet up --oracles` share. The node
processes are `pnyx.devnet.oracles`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount

from pnyx.chain.oracles.feeds import AggregatorFeed, ReportingFeed
from pnyx.chain.protocol import Protocol
from pnyx.domain._hex import to_address, to_hex32
from pnyx.domain.feeds import MAX_NODES, FeedConfig, feed_id
from pnyx.errors import PnyxInputError
from pnyx.services.oracle.config import Mechanism
from pnyx.types import NANO_PER_TOKEN, Address, Bytes32

Feed = AggregatorFeed | ReportingFeed

FEED_KIND = "Price"
DEFAULT_CAPTION = "ETH/USD"
# The devnet's feeds: ETH/USD-like bounds, an hour's heartbeat, 0.5 % deviation, 8 decimals.
DEVNET_FEED = FeedConfig(
    min_answer=1, max_answer=10**9 * 10**8, heartbeat_s=3600, deviation_bps=50, decimals=8
)
REWARD_PER_UNIT = NANO_PER_TOKEN // 1000  # tokens per observation or signature in a report
FEED_FUNDING = 100 * NANO_PER_TOKEN  # what the devnet puts in a feed to pay its nodes
_INT96_BOUND = 2**95


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
            protocol.approve(owner, funding, spender=aggregator.address)
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


def as_mechanism(value: Mechanism | str) -> Mechanism:
    try:
        return Mechanism(value)
    except ValueError:
        choices = ", ".join(m.value for m in Mechanism)
        raise PnyxInputError(f"no oracle mechanism {value!r}: one of {choices}") from None
