"""The referendum's on-chain record (`Referendum`, contracts/src/voting/Referendum.sol): creation,
participants' intents (whose ledger order seeds the worker selection), initiation with the selected
workers, secret-shared votes, the workers' intermediate results and the outcome.

What the chain checks: the participants are sorted and each acts once per phase; the claimed
selection is the draw of the given seed (`WorkerSelection.verify`); deadlines; only workers post
intermediate results, once each; the outcome is the Lagrange interpolation at 0 (mod 2²⁵⁵ − 19) of
the first t posted results; and, in polls of at most 57 participants, that the seed is keccak256(AN)
of the recorded intent order (it computes AN itself). What it does not check: that seed in larger
polls (AN is a big integer there: `intent_order` + `pnyx.domain.selection.select_workers` recompute
it), the content of the encrypted shares, and the consistency of the results beyond the first t
(`pnyx.domain.referendum.verify` over `intermediate_results`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from pnyx.chain.binding import ContractBinding
from pnyx.chain.client import ChainClient
from pnyx.domain._hex import to_bytes
from pnyx.domain.referendum import IntermediateResult, ReferendumSetup
from pnyx.errors import ConflictError
from pnyx.types import Address

# Up to this many participants the contract computes AN itself and accepts only its seed.
LEDGER_AN_MAX_PARTICIPANTS = 57


class NotInitiatedError(ConflictError):
    """The referendum has no workers yet: nothing can be shared or counted."""


@dataclass(frozen=True)
class ReferendumInfo:
    initiator: Address
    n: int
    t: int
    vote_end: int
    work_end: int
    initiated: bool
    finalized: bool
    intents: int
    votes: int
    posted: int
    seed: bytes
    tally: int


@dataclass
class Referendum(ContractBinding):
    """A deployed `Referendum` contract, holding any number of referendums by id."""

    ARTIFACT = "Referendum"

    @classmethod
    def deploy(cls, client: ChainClient, owner: LocalAccount) -> Referendum:
        return cls._deploy(client, owner)

    # ─── Transactions ───
    def create(
        self,
        initiator: LocalAccount,
        referendum_id: str | bytes,
        participants: Sequence[str],
        n: int,
        t: int,
        vote_end: int,
        work_end: int,
    ) -> TxReceipt:
        """Open a referendum; `participants` must be in ascending (numeric) order."""
        fn = self.contract.functions.create(
            _id(referendum_id), list(participants), n, t, vote_end, work_end
        )
        return self.client.transact(initiator, fn)

    def post_intent(
        self, participant: LocalAccount, referendum_id: str | bytes, box_key: bytes = bytes(32)
    ) -> TxReceipt:
        """Join the posting phase with the X25519 public key the participant's shares are to be
        sealed to if it is selected (zero: it will not work)."""
        fn = self.contract.functions.postIntent(_id(referendum_id), to_bytes(box_key, length=32))
        return self.client.transact(participant, fn)

    def initiate(
        self,
        initiator: LocalAccount,
        referendum_id: str | bytes,
        seed: str | bytes,
        positions: Sequence[int],
    ) -> TxReceipt:
        fn = self.contract.functions.initiate(
            _id(referendum_id), to_bytes(seed, length=32), list(positions)
        )
        return self.client.transact(initiator, fn)

    def cast_vote(
        self, voter: LocalAccount, referendum_id: str | bytes, encrypted_shares: Sequence[bytes]
    ) -> TxReceipt:
        """One (encrypted) share per worker, in share-slot order."""
        fn = self.contract.functions.castVote(_id(referendum_id), list(encrypted_shares))
        return self.client.transact(voter, fn)

    def post_intermediate(
        self, worker: LocalAccount, referendum_id: str | bytes, value: int
    ) -> TxReceipt:
        fn = self.contract.functions.postIntermediate(_id(referendum_id), value)
        return self.client.transact(worker, fn)

    def finalize(self, sender: LocalAccount, referendum_id: str | bytes, tally: int) -> TxReceipt:
        fn = self.contract.functions.finalize(_id(referendum_id), tally)
        return self.client.transact(sender, fn)

    # ─── Views ───
    def info(self, referendum_id: str | bytes) -> ReferendumInfo:
        raw = self.client.call(self.contract.functions.info(_id(referendum_id)))
        return ReferendumInfo(
            initiator=Address(str(raw[0])),
            n=int(raw[1]),
            t=int(raw[2]),
            vote_end=int(raw[3]),
            work_end=int(raw[4]),
            initiated=bool(raw[5]),
            finalized=bool(raw[6]),
            intents=int(raw[7]),
            votes=int(raw[8]),
            posted=int(raw[9]),
            seed=bytes(raw[10]),
            tally=int(raw[11]),
        )

    def participants(self, referendum_id: str | bytes) -> list[Address]:
        raw = self.client.call(self.contract.functions.participantsOf(_id(referendum_id)))
        return [Address(str(a)) for a in raw]

    def workers(self, referendum_id: str | bytes) -> list[Address]:
        raw = self.client.call(self.contract.functions.workersOf(_id(referendum_id)))
        return [Address(str(a)) for a in raw]

    def ledger_number(self, referendum_id: str | bytes) -> int:
        """AN of the intents recorded so far, as the chain computes it (polls of at most
        `LEDGER_AN_MAX_PARTICIPANTS`)."""
        return int(self.client.call(self.contract.functions.ledgerNumber(_id(referendum_id))))

    def interpolated_tally(self, referendum_id: str | bytes) -> int:
        return int(self.client.call(self.contract.functions.interpolatedTally(_id(referendum_id))))

    def setup(self, referendum_id: str | bytes) -> ReferendumSetup:
        """The arithmetic's setup, from the chain alone: workers in slot order and t.

        Raises:
            NotInitiatedError: the referendum has no workers yet.
        """
        info = self.info(referendum_id)
        if not info.initiated:
            raise NotInitiatedError("the referendum is not initiated yet: it has no workers")
        return ReferendumSetup(workers=tuple(self.workers(referendum_id)), threshold=info.t)

    def intermediate_results(self, referendum_id: str | bytes) -> list[IntermediateResult]:
        """The posted results in posting order, for `pnyx.domain.referendum.verify` (`ballots` is
        the number of votes recorded)."""
        rid = _id(referendum_id)
        slots, values = self.client.call(self.contract.functions.resultsOf(rid))
        workers = self.workers(rid)
        votes = self.info(rid).votes
        return [
            IntermediateResult(slot=int(s), worker=workers[int(s)], value=int(v), ballots=votes)
            for s, v in zip(slots, values, strict=True)
        ]

    def intent_order(self, referendum_id: str | bytes, from_block: int = 0) -> list[Address]:
        """V: the participants who posted an intent, in ledger order (from the events)."""
        return list(self.box_keys(referendum_id, from_block))

    def box_keys(self, referendum_id: str | bytes, from_block: int = 0) -> dict[Address, bytes]:
        """Each intent's box public key, in ledger order of the intents."""
        logs = self.contract.events.IntentPosted().get_logs(
            from_block=from_block, argument_filters={"id": _id(referendum_id)}
        )
        ordered = sorted(logs, key=lambda log: int(log["args"]["order"]))
        return {
            Address(str(log["args"]["participant"])): bytes(log["args"]["boxKey"])
            for log in ordered
        }

    def votes(self, referendum_id: str | bytes, from_block: int = 0) -> dict[Address, list[bytes]]:
        """Each voter's encrypted shares (slot order), from the `VoteCast` events."""
        logs = self.contract.events.VoteCast().get_logs(
            from_block=from_block, argument_filters={"id": _id(referendum_id)}
        )
        return {
            Address(str(log["args"]["voter"])): [bytes(s) for s in log["args"]["encryptedShares"]]
            for log in logs
        }


def _id(referendum_id: str | bytes) -> bytes:
    return to_bytes(referendum_id, length=32)
