"""The verifiable worker selection on chain (`WorkerSelectionVerifier`, contracts/src/voting): the
contract draws, or checks, the positions of the n workers a seed selects among the participants in
ascending order, exactly as `pnyx.domain.selection.draw_workers` does in Python.

The seed is keccak256 of AN(V, P), the arrangement number of the ledger order of the participants'
messages. AN is a big integer computed off chain (`pnyx.domain.selection.select_workers`); anyone
can recompute it, and then the seed, from the ledger. Only when AN fits in a uint256 can the
contract hash it itself (`seed_of`, `verify_from_number`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3.contract.contract import ContractFunction

from pnyx.chain.binding import ContractBinding
from pnyx.chain.client import ChainClient
from pnyx.domain._hex import to_bytes


@dataclass
class WorkerSelectionVerifier(ContractBinding):
    """A deployed verifier; every method is a view (no transaction, no state)."""

    ARTIFACT = "WorkerSelectionVerifier"

    @classmethod
    def deploy(cls, client: ChainClient, owner: LocalAccount) -> WorkerSelectionVerifier:
        return cls._deploy(client, owner)

    def draw(self, seed: str | bytes, participants: int, n: int) -> list[int]:
        """The positions (into the ascending participant list) of the n workers `seed` selects, in
        share-slot order. Raises `SelectionBadSize` unless 1 ≤ n ≤ participants."""
        fn = self.contract.functions.draw(to_bytes(seed, length=32), participants, n)
        return [int(p) for p in self.client.call(fn)]

    def verify(self, seed: str | bytes, participants: int, n: int, claimed: Sequence[int]) -> bool:
        """Whether `claimed` is exactly the selection of n workers `seed` makes (the same
        positions in the same order)."""
        return bool(self.client.call(self._verify_fn(seed, participants, n, claimed)))

    def verify_gas(
        self, seed: str | bytes, participants: int, n: int, claimed: Sequence[int]
    ) -> int:
        """The gas a transaction calling `verify` would use (eth_estimateGas: the 21,000 base and
        the calldata included)."""
        return int(self._verify_fn(seed, participants, n, claimed).estimate_gas())

    def seed_of(self, number: int) -> bytes:
        """keccak256 of `number` (< 2²⁵⁶) as minimal big-endian bytes, computed by the contract."""
        return bytes(self.client.call(self.contract.functions.seedOf(number)))

    def verify_from_number(
        self, number: int, participants: int, n: int, claimed: Sequence[int]
    ) -> bool:
        """`verify` from the arrangement number itself (only for AN < 2²⁵⁶)."""
        fn = self.contract.functions.verifyFromNumber(number, participants, n, list(claimed))
        return bool(self.client.call(fn))

    def _verify_fn(
        self, seed: str | bytes, participants: int, n: int, claimed: Sequence[int]
    ) -> ContractFunction:
        return self.contract.functions.verify(
            to_bytes(seed, length=32), participants, n, list(claimed)
        )
