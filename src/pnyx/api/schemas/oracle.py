"""Wire schemas of an oracle node: the off-chain reporting exchanges between a round's leader and
the other nodes, and a node's status. Values are JSON integers (int192 range)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from pnyx.domain._hex import to_bytes
from pnyx.domain.feeds import MAX_NODES, Report
from pnyx.domain.reporting import INT192_MAX, INT192_MIN, MAX_EPOCH_AND_ROUND, SignedObservation

HEX_32 = r"^0x[0-9a-fA-F]{64}$"
HEX_65 = r"^0x[0-9a-fA-F]{130}$"


def _round_field() -> Any:
    return Field(ge=1, le=MAX_EPOCH_AND_ROUND, description="epoch (high 24 bits) ‖ round (low 8)")


def _value_field() -> Any:
    return Field(ge=INT192_MIN, le=INT192_MAX, description="a feed value (int192)")


class ObservationRequest(BaseModel):
    """The leader asks a node for its observation of one round."""

    config_digest: str = Field(pattern=HEX_32, description="the configuration the round is of")
    epoch_and_round: int = _round_field()


class ObservationRead(BaseModel):
    """A node's observation, signed (EIP-191) over
    keccak256(abi.encode(configDigest, epochAndRound, value)) with the node's key."""

    node_index: int = Field(ge=0, lt=MAX_NODES)
    epoch_and_round: int = _round_field()
    value: int = _value_field()
    signature: str = Field(pattern=HEX_65, description="65-byte r ‖ s ‖ v, 0x-hex")

    @classmethod
    def of(cls, observation: SignedObservation) -> ObservationRead:
        return cls(
            node_index=observation.index,
            epoch_and_round=observation.epoch_and_round,
            value=observation.value,
            signature="0x" + observation.signature.hex(),
        )

    def to_domain(self) -> SignedObservation:
        return SignedObservation(
            index=self.node_index,
            epoch_and_round=self.epoch_and_round,
            value=self.value,
            signature=to_bytes(self.signature, length=65),
        )


class ReportCreate(BaseModel):
    """The leader's report and the signed observations it is made of, for a node to sign."""

    config_digest: str = Field(pattern=HEX_32)
    epoch_and_round: int = _round_field()
    observers: int = Field(ge=0, lt=1 << MAX_NODES, description="bitmap of the observers")
    observations: list[Annotated[int, Field(ge=INT192_MIN, le=INT192_MAX)]] = Field(
        max_length=MAX_NODES, description="the observations (int192), sorted ascending"
    )
    signed_observations: list[ObservationRead] = Field(max_length=MAX_NODES)

    @classmethod
    def of(cls, report: Report, observations: list[SignedObservation]) -> ReportCreate:
        return cls(
            config_digest="0x" + report.digest.hex(),
            epoch_and_round=report.epoch_and_round,
            observers=report.observers,
            observations=list(report.observations),
            signed_observations=[ObservationRead.of(o) for o in observations],
        )

    def report(self) -> Report:
        return Report(
            digest=to_bytes(self.config_digest, length=32),
            epoch_and_round=self.epoch_and_round,
            observers=self.observers,
            observations=tuple(self.observations),
        )

    def backing(self) -> list[SignedObservation]:
        return [o.to_domain() for o in self.signed_observations]


class ReportSignatureRead(BaseModel):
    """A node's EIP-191 signature of the report's message (`Report.message`)."""

    node_index: int = Field(ge=0, lt=MAX_NODES)
    epoch_and_round: int = _round_field()
    signature: str = Field(pattern=HEX_65)


class NodeRead(BaseModel):
    """What a node is and where its feed stands."""

    mechanism: str = Field(description="`aggregation` or `reporting`")
    address: str = Field(description="the node's key")
    feed: str = Field(description="the feed contract")
    index: int | None = Field(description="the node's index in the on-chain configuration")
    latest_round: int = Field(description="the feed's latest round on chain (0: none yet)")
    latest_answer: int
    last_signed: int = Field(
        default=0, description="reporting: the newest round this node signed a report for"
    )
    config_digest: str | None = Field(
        default=None, description="reporting: the configuration the node follows"
    )
