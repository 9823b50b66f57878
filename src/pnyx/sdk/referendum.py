"""The transparent referendum, one function per step and actor (what `pnyx vote` runs):

1. `create` — the initiator opens a referendum among sorted participants, n workers, threshold t.
2. `join` — each participant posts an intent, with the X25519 public key its vote shares are to be
   sealed to should it be selected; the intents' ledger order seeds the selection.
3. `initiate` — the initiator computes the selection from the recorded order (AN → seed →
   Fisher–Yates); the contract checks the draw and, in polls of up to 57 participants, that the
   seed is that of the recorded order (it computes AN itself).
4. `cast` — a voter shares its vote (Shamir, degree t − 1) and seals share i to worker i.
5. `work` — after the vote deadline, a worker opens its shares from the `VoteCast` events, sums
   them and posts its intermediate result.
6. `count` — anyone, once t results are posted, records the tally the contract interpolates.
7. `audit` — anyone recomputes everything from the chain alone: the selection from the intent
   order, the tally from all posted results, tampered results.

A participant's box key is derived from its account key and the referendum id, so it needs no
storage and a worker finds its key again on any machine; it differs per referendum, so the key of
one referendum says nothing about another's.

A worker that cannot open a share (a voter sealed garbage, or to the wrong key) counts it as 0 and
reports the voter: its result then falls off the tally polynomial and `audit` flags the worker's
slot — the protocol has no proof that a ballot is well formed (reference/papers.md §2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount

from pnyx.chain.referendum import NotInitiatedError as NotInitiatedError  # raised from here too
from pnyx.chain.referendum import Referendum, ReferendumInfo
from pnyx.domain._hex import keccak, to_hex32
from pnyx.domain.collusion import t_max
from pnyx.domain.crypto import DecryptionError, box_public_key, open_sealed, seal
from pnyx.domain.referendum import (
    IntermediateResult,
    Verification,
    cast_ballot,
    combine_shares,
    tally,
    verify,
)
from pnyx.domain.selection import WorkerSelection, select_workers
from pnyx.domain.shamir import RandBelow
from pnyx.errors import ConflictError, PnyxInputError
from pnyx.types import Address

BOX_KEY_LABEL = b"pnyx-vote-box-key"
SHARE_BYTES = 32


class NotSelectedError(ConflictError):
    """The account is not one of the referendum's workers."""


def referendum_id(initiator: str, question: str) -> bytes:
    """The id of `question` asked by `initiator`: two initiators may ask the same question."""
    if not question.strip():
        raise PnyxInputError("the question is empty")
    return keccak(bytes.fromhex(initiator.removeprefix("0x")) + question.encode())


def box_private_key(account: LocalAccount, rid: bytes) -> bytes:
    return keccak(BOX_KEY_LABEL + bytes(account.key) + rid)


def share_context(rid: bytes, slot: int) -> str:
    # Binds a sealed share to its referendum and slot: a share cannot be replayed elsewhere.
    return f"pnyx-vote:{rid.hex()}:{slot}"


def _key(address: str) -> str:
    # Lowercase hex of equal length sorts like the numbers, as the contract orders participants.
    return address.lower()


def create(
    referendum: Referendum,
    initiator: LocalAccount,
    question: str,
    participants: Sequence[str],
    *,
    workers: int,
    threshold: int,
    vote_period_s: int,
    work_period_s: int,
) -> bytes:
    """Open a referendum; returns its id. The participants are sorted here."""
    if vote_period_s <= 0 or work_period_s <= 0:
        raise PnyxInputError("the vote and work periods must be positive")
    rid = referendum_id(initiator.address, question)
    ordered = sorted({_key(p): p for p in participants}.items())
    if len(ordered) != len(participants):
        raise PnyxInputError("a participant is listed twice")
    vote_end = referendum.client.timestamp() + vote_period_s
    referendum.create(
        initiator,
        rid,
        [address for _, address in ordered],
        workers,
        threshold,
        vote_end,
        vote_end + work_period_s,
    )
    return rid


def join(referendum: Referendum, participant: LocalAccount, rid: bytes) -> None:
    public = box_public_key(box_private_key(participant, rid))
    referendum.post_intent(participant, rid, public)


def expected_selection(referendum: Referendum, rid: bytes) -> WorkerSelection[str]:
    """The selection the recorded intents make (lowercase addresses)."""
    participants = [_key(p) for p in referendum.participants(rid)]
    order = [_key(v) for v in referendum.intent_order(rid)]
    if not order:
        raise ConflictError("no participant has posted an intent yet")
    return select_workers(participants, order, referendum.info(rid).n)


def initiate(referendum: Referendum, initiator: LocalAccount, rid: bytes) -> WorkerSelection[str]:
    selection = expected_selection(referendum, rid)
    referendum.initiate(initiator, rid, selection.seed, list(selection.positions))
    return selection


def cast(
    referendum: Referendum,
    voter: LocalAccount,
    rid: bytes,
    vote: bool,
    rng: RandBelow | None = None,
) -> list[int]:
    """Share and seal the vote; returns the slots whose worker posted no key (they get nothing)."""
    setup = referendum.setup(rid)
    keys = {_key(a): key for a, key in referendum.box_keys(rid).items()}
    ballot = cast_ballot(voter.address, vote, setup, rng)
    sealed: list[bytes] = []
    keyless: list[int] = []
    for slot, worker in enumerate(setup.workers):
        key = keys.get(_key(worker), bytes(32))
        if key == bytes(32):
            keyless.append(slot)
            sealed.append(b"")
            continue
        plaintext = ballot.share_for(slot).to_bytes(SHARE_BYTES, "big")
        sealed.append(seal(key, plaintext, context=share_context(rid, slot)))
    referendum.cast_vote(voter, rid, sealed)
    return keyless


@dataclass(frozen=True)
class WorkReport:
    """What a worker posted, and the voters whose share it could not open (counted as 0)."""

    result: IntermediateResult
    unreadable: list[Address] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {**self.result.to_dict(), "unreadable": list(self.unreadable)}


def intermediate_result(referendum: Referendum, worker: LocalAccount, rid: bytes) -> WorkReport:
    """Open the worker's shares from the chain and add them up (nothing is sent)."""
    setup = referendum.setup(rid)
    slots = {_key(w): slot for slot, w in enumerate(setup.workers)}
    slot = slots.get(_key(worker.address))
    if slot is None:
        raise NotSelectedError(f"{worker.address} is not a worker of this referendum")
    private = box_private_key(worker, rid)
    shares: dict[str, int] = {}
    unreadable: list[Address] = []
    for voter, sealed in referendum.votes(rid).items():
        share = _open_share(private, sealed[slot], rid, slot, setup.prime)
        if share is None:
            unreadable.append(voter)
        shares[voter] = share or 0
    return WorkReport(combine_shares(setup, slot, shares), unreadable)


def work(referendum: Referendum, worker: LocalAccount, rid: bytes) -> WorkReport:
    """Post the worker's intermediate result (between the vote and the work deadlines)."""
    report = intermediate_result(referendum, worker, rid)
    referendum.post_intermediate(worker, rid, report.result.value)
    return report


def _open_share(private: bytes, sealed: bytes, rid: bytes, slot: int, prime: int) -> int | None:
    try:
        plaintext = open_sealed(private, sealed, context=share_context(rid, slot))
    except DecryptionError:
        return None
    value = int.from_bytes(plaintext, "big")
    return value if len(plaintext) == SHARE_BYTES and value < prime else None


def count(referendum: Referendum, sender: LocalAccount, rid: bytes) -> int:
    """Record the outcome: the interpolation of the first t posted results, as the contract
    checks it. Returns the number of yes votes."""
    setup = referendum.setup(rid)
    posted = referendum.intermediate_results(rid)  # in posting order
    yes = tally(setup, posted[: setup.threshold])
    referendum.finalize(sender, rid, yes)
    return yes


@dataclass(frozen=True)
class Audit:
    """Everything `audit` checked, from the chain alone."""

    info: ReferendumInfo
    selection: WorkerSelection[str] | None  # what the intents make; None before any intent
    selection_matches: bool | None  # None while not initiated
    verification: Verification | None  # None with fewer than t results
    within_t_max: bool

    @property
    def tally_matches(self) -> bool | None:
        """Whether the recorded outcome is the verifier's tally (None while not finalized)."""
        if not self.info.finalized:
            return None
        return self.verification is not None and self.verification.tally == self.info.tally

    @property
    def ok(self) -> bool:
        return (
            self.selection_matches is not False
            and (self.verification is None or self.verification.is_valid)
            and self.tally_matches is not False
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "initiated": self.info.initiated,
            "finalized": self.info.finalized,
            "intents": self.info.intents,
            "votes": self.info.votes,
            "posted": self.info.posted,
            "workers": self.info.n,
            "threshold": self.info.t,
            "within_t_max": self.within_t_max,
            "seed": to_hex32(self.info.seed),
            "selection_matches": self.selection_matches,
            "verification": self.verification.to_dict() if self.verification else None,
            "recorded_tally": self.info.tally if self.info.finalized else None,
            "tally_matches": self.tally_matches,
        }


def audit(referendum: Referendum, rid: bytes) -> Audit:
    info = referendum.info(rid)
    selection = expected_selection(referendum, rid) if info.intents else None
    matches: bool | None = None
    verification: Verification | None = None
    if info.initiated:
        recorded = [_key(w) for w in referendum.workers(rid)]
        matches = (
            selection is not None
            and selection.seed == info.seed
            and list(selection.workers) == recorded
        )
        if info.posted >= info.t:
            setup = referendum.setup(rid)
            verification = verify(setup, referendum.intermediate_results(rid), ballots=info.votes)
    return Audit(
        info=info,
        selection=selection,
        selection_matches=matches,
        verification=verification,
        within_t_max=info.t <= t_max(info.n),
    )
