"""Numeric oracle feeds, the pure part: feed ids (EIP-2362), configuration digests, off-chain
reports and their signatures' packing, and the aggregation rules the contracts apply — computed
here exactly as on chain, so nodes and tests predict what the chain will accept.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi.abi import encode

from pnyx.domain._hex import keccak, to_bytes
from pnyx.errors import PnyxInputError

# One packed signature: node index (1 byte) ‖ r (32) ‖ s (32) ‖ v (1); see OracleBase.sol.
SIGNATURE_BYTES = 66
MAX_NODES = 31


def feed_id(kind: str, caption: str, decimals: int) -> bytes:
    """The EIP-2362 id: keccak256("<type>-<caption>-<decimals>"), e.g. "Price-ETH/USD-3"."""
    return keccak(f"{kind}-{caption}-{decimals}".encode())


@dataclass(frozen=True)
class FeedConfig:
    """Bounds, freshness and scale of a feed (`OracleBase.FeedConfig`)."""

    min_answer: int
    max_answer: int
    heartbeat_s: int = 3600
    deviation_bps: int = 50
    decimals: int = 8

    def as_tuple(self) -> tuple[int, int, int, int, int]:
        return (
            self.min_answer,
            self.max_answer,
            self.heartbeat_s,
            self.deviation_bps,
            self.decimals,
        )


def config_digest(
    chain_id: int, contract: str, count: int, f: int, threshold: int, nodes: list[str]
) -> bytes:
    """`OracleBase.configDigestOf`: binds a configuration to chain, contract and counter."""
    return keccak(
        encode(
            ["uint256", "address", "uint64", "uint8", "uint8", "address[]"],
            [chain_id, contract, count, f, threshold, nodes],
        )
    )


def epoch_and_round(epoch: int, round_: int) -> int:
    """A report's position: epoch in the high 24 bits, round in the low 8; only grows."""
    if not 0 <= epoch < 1 << 24 or not 0 <= round_ < 1 << 8:
        raise PnyxInputError(f"epoch {epoch} / round {round_} out of range (24 / 8 bits)")
    return epoch << 8 | round_


@dataclass(frozen=True)
class Report:
    """What the leader assembles: the observations sorted, and the bitmap of their observers."""

    digest: bytes
    epoch_and_round: int
    observers: int
    observations: tuple[int, ...]

    @classmethod
    def build(cls, digest: bytes, epoch_and_round: int, observed: dict[int, int]) -> Report:
        """From {node index: observation}."""
        observers = 0
        for index in observed:
            if not 0 <= index < MAX_NODES:
                raise PnyxInputError(f"node index {index} outside 0..{MAX_NODES - 1}")
            observers |= 1 << index
        return cls(digest, epoch_and_round, observers, tuple(sorted(observed.values())))

    def message(self) -> bytes:
        """What the signers sign (EIP-191): keccak256(abi.encode(digest, epochAndRound, observers,
        observations))."""
        return keccak(
            encode(
                ["bytes32", "uint32", "uint256", "int192[]"],
                [self.digest, self.epoch_and_round, self.observers, list(self.observations)],
            )
        )

    @property
    def median(self) -> int:
        return self.observations[len(self.observations) // 2]


def pack_signatures(signed: list[tuple[int, bytes]]) -> bytes:
    """(node index, 65-byte r‖s‖v signature) pairs, packed as the contracts read them."""
    out = b""
    for index, signature in signed:
        if len(signature) != 65:
            raise PnyxInputError(f"a signature is 65 bytes, got {len(signature)}")
        out += bytes([index]) + signature
    return out


def median(values: list[int]) -> int:
    """The aggregator's median: the middle value, or the mean of the two middle ones (rounded
    toward zero, as Solidity divides)."""
    ordered = sorted(values)
    n = len(ordered)
    if n % 2:
        return ordered[n // 2]
    total = ordered[n // 2 - 1] + ordered[n // 2]
    return int(total / 2) if total >= 0 else -int(-total / 2)


def outliers(values: list[int], tolerance_bps: int) -> list[int]:
    """Positions of the values farther from the median than `tolerance_bps` of |median|."""
    middle = median(values)
    return [
        i
        for i, value in enumerate(values)
        if abs(value - middle) * 10_000 > abs(middle) * tolerance_bps
    ]


def signature_bytes(signature: str | bytes) -> bytes:
    return to_bytes(signature, length=65)
