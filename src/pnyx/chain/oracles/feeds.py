"""The numeric feeds on chain: `Aggregator` (one submission per node per round, median, stakes and
outlier slashing) and `OffchainReporting` (one signed report per round, transmitted by any node).
Both share `OracleBase`'s configuration, bounds and reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from pnyx.chain.binding import ContractBinding
from pnyx.chain.client import ChainClient
from pnyx.chain.signing import sign_eip191
from pnyx.domain.feeds import FeedConfig, Report, config_digest, pack_signatures
from pnyx.domain.reporting import AggregatorRound


@dataclass(frozen=True)
class FeedRead:
    """A feed's latest answer and its freshness, as `latestRoundData` gives them."""

    round_id: int
    answer: int
    updated_at: int


@dataclass
class _Feed(ContractBinding):
    def latest(self) -> FeedRead:
        round_id, answer, _, updated_at, _ = self.client.call(
            self.contract.functions.latestRoundData()
        )
        return FeedRead(int(round_id), int(answer), int(updated_at))

    def value_for(self, feed_id: bytes) -> tuple[int, int, int]:
        value, timestamp, status = self.client.call(self.contract.functions.valueFor(feed_id))
        return int(value), int(timestamp), int(status)

    def feed_config(self) -> FeedConfig:
        """Bounds, heartbeat, deviation threshold and decimals, as the contract holds them."""
        min_answer, max_answer, heartbeat, deviation, decimals = self.view("feedConfig")
        return FeedConfig(
            int(min_answer), int(max_answer), int(heartbeat), int(deviation), int(decimals)
        )

    def view(self, name: str, *args: Any) -> Any:
        """Any other view of the feed, by name (description, decimals, feedId, …)."""
        return self.client.call(getattr(self.contract.functions, name)(*args))

    def config_count(self) -> int:
        return int(self.client.call(self.contract.functions.configCount()))

    def digest(self) -> bytes:
        return bytes(self.client.call(self.contract.functions.latestConfigDigest()))

    def _set_config(
        self, owner: LocalAccount, nodes: list[str], f: int, threshold: int, extra: bytes
    ) -> TxReceipt:
        return self.client.transact(
            owner, self.contract.functions.setConfig(nodes, f, threshold, extra)
        )


@dataclass
class AggregatorFeed(_Feed):
    ARTIFACT = "Aggregator"

    @classmethod
    def deploy(
        cls,
        client: ChainClient,
        owner: LocalAccount,
        *,
        feed_id: bytes,
        description: str,
        feed: FeedConfig,
        token: str,
    ) -> AggregatorFeed:
        return cls._deploy(
            client, owner, owner.address, feed_id, description, feed.as_tuple(), token
        )

    def set_config(
        self,
        owner: LocalAccount,
        nodes: list[str],
        *,
        f: int,
        threshold: int,
        timeout_s: int,
        min_stake: int,
        payment: int,
        tolerance_bps: int,
        slash_amount: int,
    ) -> TxReceipt:
        extra = encode(
            ["uint32", "uint64", "uint64", "uint16", "uint96"],
            [timeout_s, min_stake, payment, tolerance_bps, slash_amount],
        )
        return self._set_config(owner, nodes, f, threshold, extra)

    def submit(self, node: LocalAccount, round_id: int, value: int) -> TxReceipt:
        return self.client.transact(node, self.contract.functions.submit(round_id, value))

    def stake(self, node: LocalAccount, amount: int) -> TxReceipt:
        return self.client.transact(node, self.contract.functions.stake(amount))

    def fund(self, funder: LocalAccount, amount: int) -> TxReceipt:
        return self.client.transact(funder, self.contract.functions.fund(amount))

    def withdraw_payment(self, node: LocalAccount) -> TxReceipt:
        return self.client.transact(node, self.contract.functions.withdrawPayment())

    def node(self, address: str) -> dict[str, Any]:
        index, enabled, last_round, stake, owed = self.client.call(
            self.contract.functions.nodeOf(address)
        )
        return {
            "index": int(index),
            "enabled": bool(enabled),
            "last_round": int(last_round),
            "stake": int(stake),
            "owed": int(owed),
        }

    def current_round(self) -> int:
        return int(self.client.call(self.contract.functions.currentRound())[0])

    def round_state(self) -> AggregatorRound:
        round_id, submissions, required, started_at, timeout, *_ = self.view("currentRound")
        return AggregatorRound(
            int(round_id), int(submissions), int(required), int(started_at), int(timeout)
        )

    def min_stake(self) -> int:
        return int(self.view("currentRound")[5])


@dataclass(frozen=True)
class ReportingConfig:
    """The current configuration, which every transmission repeats in calldata."""

    count: int
    f: int
    threshold: int
    nodes: tuple[str, ...]

    def as_tuple(self) -> tuple[int, int, int, list[str]]:
        return (self.count, self.f, self.threshold, list(self.nodes))


@dataclass
class ReportingFeed(_Feed):
    ARTIFACT = "OffchainReporting"

    config: ReportingConfig | None = None

    @classmethod
    def deploy(
        cls,
        client: ChainClient,
        owner: LocalAccount,
        *,
        feed_id: bytes,
        description: str,
        feed: FeedConfig,
        reward_token: str,
        reward_per_unit: int,
    ) -> ReportingFeed:
        return cls._deploy(
            client,
            owner,
            owner.address,
            feed_id,
            description,
            feed.as_tuple(),
            reward_token,
            reward_per_unit,
        )

    def set_config(
        self, owner: LocalAccount, nodes: list[str], *, f: int, threshold: int
    ) -> TxReceipt:
        receipt = self._set_config(owner, nodes, f, threshold, b"")
        self.config = ReportingConfig(self.config_count(), f, threshold, tuple(nodes))
        return receipt

    def current_digest(self) -> bytes:
        assert self.config is not None, "set_config first"
        c = self.config
        return config_digest(
            self.client.chain_id, self.address, c.count, c.f, c.threshold, list(c.nodes)
        )

    def sign(self, report: Report, signers: dict[int, LocalAccount]) -> bytes:
        """The packed signatures of `report` by {node index: key}."""
        message = report.message()
        return pack_signatures(
            [(index, sign_eip191(key, message)) for index, key in sorted(signers.items())]
        )

    def transmit(
        self,
        transmitter: LocalAccount,
        report: Report,
        signatures: bytes,
        *,
        config: ReportingConfig | None = None,
    ) -> TxReceipt:
        used = config or self.config
        assert used is not None, "set_config first"
        return self.client.transact(
            transmitter,
            self.contract.functions.transmit(
                used.as_tuple(),
                report.epoch_and_round,
                report.observers,
                list(report.observations),
                signatures,
            ),
        )

    def units_of(self, index: int) -> int:
        return int(self.client.call(self.contract.functions.unitsOf(index)))
