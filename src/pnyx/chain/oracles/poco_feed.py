"""The PoCo-fed oracle on chain (`PocoOracle`): a keyed numeric feed whose values arrive through the
hub's EIP-1154 result callback, from tasks of deals that passed a provenance policy (the allowed
app, dataset and workerpool, a minimum trust, required tag bits such as TEE).

The app of such a task writes as its callback data `encode_result(key, value, observed_at)`, i.e.
`abi.encode(bytes32 key, int256 value, uint256 observedAt)`; the value must fit in an int192 and
the observation time (Unix seconds) must be newer than the key's stored one. The hub keeps a deal
only as a commitment, so a deal's record is shown to the oracle once (`accept_deal`, right after
the match) before its tasks complete; results of a deal never accepted are refused by the
callback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode, encode
from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from pnyx.chain.binding import ContractBinding
from pnyx.chain.client import ChainClient
from pnyx.domain._hex import to_address, to_bytes, to_hex32
from pnyx.domain.deal import Deal
from pnyx.errors import PnyxInputError
from pnyx.types import ZERO_ADDRESS, ZERO_BYTES32, Address, Bytes32

# EIP-2362 status codes of `valueFor`.
STATUS_OK = 200
STATUS_BAD_REQUEST = 400
STATUS_NOT_FOUND = 404

_RESULT_TYPES = ["bytes32", "int256", "uint256"]
_INT192_BOUND = 2**191
_DIGEST_MASK = 2**160 - 1


@dataclass(frozen=True)
class ProvenancePolicy:
    """Which deals may feed the oracle; fixed at deployment.

    Attributes:
        app: The only app allowed.
        dataset: The only dataset allowed; the zero address means the deal must use none.
        workerpool: The only workerpool allowed; the zero address means any.
        min_trust: The lowest deal trust accepted.
        required_tag: Tag bits the deal must all carry (bit 0 = TEE).
    """

    app: Address
    dataset: Address = ZERO_ADDRESS
    workerpool: Address = ZERO_ADDRESS
    min_trust: int = 1
    required_tag: Bytes32 = ZERO_BYTES32

    def as_abi(self) -> tuple[str, str, str, int, bytes]:
        return (
            self.app,
            self.dataset,
            self.workerpool,
            self.min_trust,
            to_bytes(self.required_tag, length=32),
        )


@dataclass(frozen=True)
class KeyedValue:
    """A key's value as EIP-2362 `valueFor` answers: `status` 200, 404 (no value yet) or 400."""

    value: int
    observed_at: int
    status: int

    @property
    def is_found(self) -> bool:
        return self.status == STATUS_OK


@dataclass(frozen=True)
class KeyedRound:
    """A key's latest round as `latestRoundData(key)` gives it (all zero while it has no value)."""

    round_id: int
    answer: int
    observed_at: int


def encode_result(key: str | bytes, value: int, observed_at: int) -> bytes:
    """The callback data a task writes to feed `key`: abi.encode(bytes32, int256, uint256)."""
    if not -_INT192_BOUND <= value < _INT192_BOUND:
        raise PnyxInputError(f"value {value} does not fit in an int192")
    return encode(_RESULT_TYPES, [to_bytes(key, length=32), value, observed_at])


def decode_result(data: bytes) -> tuple[Bytes32, int, int]:
    """(key, value, observed_at) of callback data made by `encode_result`."""
    if len(data) != 96:
        raise PnyxInputError(f"callback data is {len(data)} bytes, expected 96")
    key, value, observed_at = decode(_RESULT_TYPES, data)
    return to_hex32(bytes(key)), int(value), int(observed_at)


def deal_digest(deal: Deal) -> int:
    """The low 160 bits of the deal's commitment: what the hub's task view and the oracle keep."""
    return int(deal.commitment(), 16) & _DIGEST_MASK


@dataclass
class PocoFeed(ContractBinding):
    """A deployed `PocoOracle`."""

    ARTIFACT = "PocoOracle"

    @classmethod
    def deploy(
        cls, client: ChainClient, deployer: LocalAccount, *, hub: str, policy: ProvenancePolicy
    ) -> PocoFeed:
        return cls._deploy(client, deployer, hub, policy.as_abi())

    # ─── Transactions ───
    def accept_deal(self, sender: LocalAccount, deal: Deal) -> TxReceipt:
        """Shows a deal's record to the oracle; reverts with the policy check it fails."""
        return self.client.transact(sender, self.contract.functions.acceptDeal(deal.as_abi()))

    # ─── Reads ───
    def is_deal_accepted(self, deal: Deal) -> bool:
        return bool(self.client.call(self.contract.functions.isDealAccepted(deal_digest(deal))))

    def value_for(self, key: str | bytes) -> KeyedValue:
        value, observed_at, status = self.client.call(
            self.contract.functions.valueFor(to_bytes(key, length=32))
        )
        return KeyedValue(int(value), int(observed_at), int(status))

    def result_for(self, key: str | bytes) -> bytes:
        """The key's latest result in the callback data format; `PocoOracleNoValue` if none."""
        return bytes(self.client.call(self.contract.functions.resultFor(to_bytes(key, length=32))))

    def latest_round(self, key: str | bytes) -> KeyedRound:
        round_id, answer, _, observed_at, _ = self.client.call(
            self.contract.functions.latestRoundData(to_bytes(key, length=32))
        )
        return KeyedRound(int(round_id), int(answer), int(observed_at))

    def policy(self) -> ProvenancePolicy:
        app, dataset, workerpool, min_trust, tag = self.client.call(
            self.contract.functions.getPolicy()
        )
        return ProvenancePolicy(
            app=to_address(app),
            dataset=to_address(dataset),
            workerpool=to_address(workerpool),
            min_trust=int(min_trust),
            required_tag=to_hex32(bytes(tag)),
        )

    def hub(self) -> Address:
        return to_address(self.client.call(self.contract.functions.getHub()))

    def value_updates(self, receipt: TxReceipt) -> list[dict[str, Any]]:
        """The `ValueUpdated` events this oracle emitted in `receipt`."""
        return [
            dict(log["args"]) for log in self.client.events(self.contract, "ValueUpdated", receipt)
        ]
