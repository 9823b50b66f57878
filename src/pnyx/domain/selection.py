"""Verifiable random worker selection from the ledger order of participants' messages (Bettinger,
Barbero & Hasan 2022, proposal 1; reference/papers.md §1.1). Nobody chooses the seed alone: it is
the number of *who* posted and *in which order*, and anyone can recompute it from the ledger.

The rule, which a contract computes identically from the seed:

1. `P` = the participant ids in ascending order (`<` of the ids; for addresses, ints or lowercase
   0x-hex, so that the order is the numeric one a contract uses), positions 0..p−1.
2. `V` = the ids of the participants who posted, in ledger order.
3. `number` = AN(V, P) (`pnyx.domain.numbering`, Table 1 of the paper).
4. `seed` = keccak256 of `number` as a minimal big-endian byte string (no leading zero byte, the
   empty string for 0, so the seed of "nobody posted" is keccak256("")).
5. the draw: a Fisher–Yates shuffle of the positions 0..p−1, run for n steps: step i (from 0) swaps
   position i with j = i + uint256(keccak256(seed ‖ uint256(i))) mod (p − i); the participant then
   at position i is the i-th worker and holds share slot i. This is `pnyx.domain.groups.draw_group`,
   the rule the random-group oracle contract already checks on chain. The modulo bias is below
   p / 2²⁵⁶.

Steps 1–3 are big-integer work done off chain (AN has ~118,000 bits for 10⁴ voters); step 5 is what
a contract verifies from the seed (`draw_workers`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic

from pnyx.domain._hex import keccak, to_bytes
from pnyx.domain.groups import draw_group
from pnyx.domain.numbering import Id, an, sort_participants
from pnyx.errors import PnyxInputError


@dataclass(frozen=True)
class WorkerSelection(Generic[Id]):
    """The outcome of a selection: the worker ids in draw order; a worker's share slot (share
    affiliation) is its position in `workers`."""

    number: int  # AN(V, P)
    seed: bytes  # keccak256(minimal big-endian bytes of `number`)
    positions: tuple[int, ...]  # indexes in the ascending participant list, in draw order
    workers: tuple[Id, ...]

    @property
    def affiliations(self) -> dict[Id, int]:
        """worker id → share slot."""
        return {worker: slot for slot, worker in enumerate(self.workers)}


def arrangement_seed(number: int) -> bytes:
    """keccak256 of `number` as minimal big-endian bytes (empty for 0): the draw's 32-byte seed."""
    if number < 0:
        raise PnyxInputError(f"an arrangement number is ≥ 0, got {number}")
    return keccak(number.to_bytes((number.bit_length() + 7) // 8, "big"))


def draw_workers(seed: str | bytes, participants: Iterable[Id], n: int) -> list[Id]:
    """The n workers the seed selects among `participants` (sorted here), in share-slot order:
    what a contract recomputes to verify a claimed selection.

    Raises:
        PnyxInputError: a participant is listed twice, the seed is not 32 bytes, or n is not in
            1..|participants|.
    """
    ordered = sort_participants(participants)
    return [ordered[i] for i in _draw(to_bytes(seed, length=32), len(ordered), n)]


def select_workers(
    participants: Iterable[Id], ledger_order: Sequence[Id], n: int
) -> WorkerSelection[Id]:
    """Select n workers among `participants` from `ledger_order`, the ids of the participants who
    posted, in the ledger's order (each at most once).

    Raises:
        PnyxInputError: a voter is not a participant or posted twice, a participant is listed twice,
            or n is not in 1..|participants|.
    """
    ordered = sort_participants(participants)
    number = an(ledger_order, ordered)
    seed = arrangement_seed(number)
    positions = _draw(seed, len(ordered), n)
    return WorkerSelection(
        number=number,
        seed=seed,
        positions=tuple(positions),
        workers=tuple(ordered[i] for i in positions),
    )


def _draw(seed: bytes, pool: int, n: int) -> list[int]:
    if not 0 < n <= pool:
        raise PnyxInputError(f"cannot select {n} workers among {pool} participants")
    return draw_group(seed, pool, n)
