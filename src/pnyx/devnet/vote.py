"""`make demo-vote`: a whole referendum on a local chain (`pnyx vote demo`).

50 participants post their intents in a random order; the order selects n workers verifiably (AN →
keccak256 → Fisher–Yates, checked by the contract), so neither the initiator nor any participant
chooses them; every participant votes, each share sealed to its worker; the workers open and add
their shares; the outcome is interpolated on chain; then an audit recomputes everything from the
chain alone. One worker is byzantine on purpose: it posts its result last, off by one, and the audit
names it. The devnet's clock is moved past the vote deadline instead of waiting for it.
"""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from pnyx.chain.client import ChainClient
from pnyx.chain.node import DEV_MNEMONIC, AnvilNode
from pnyx.chain.referendum import LEDGER_AN_MAX_PARTICIPANTS, Referendum
from pnyx.chain.signing import dev_account
from pnyx.domain._hex import to_address
from pnyx.domain.collusion import (
    p_malicious_majority,
    p_outcome_blocked,
    p_threshold_reached,
    t_max,
)
from pnyx.domain.shamir import PRIME
from pnyx.sdk import referendum as votes
from pnyx.sdk.referendum import Audit

QUESTION = "Shall the park get more benches?"
PERIOD_S = 3_600
MALICIOUS_SHARES = (0.1, 0.2, 0.3)


@dataclass(frozen=True)
class VoteDemoOutcome:
    yes: int  # the true count, known to the demo only
    recorded: int  # the outcome on chain
    audit: Audit
    tampered_slot: int

    @property
    def ok(self) -> bool:
        """The outcome is right, the selection checks out and the audit names the byzantine
        worker, and only it."""
        verification = self.audit.verification
        return (
            self.recorded == self.yes
            and self.audit.selection_matches is True
            and verification is not None
            and verification.tally == self.yes
            and verification.culprits == (self.tampered_slot,)
        )


def run_vote_demo(
    console: Console | None = None, *, voters: int = 50, workers: int = 10
) -> VoteDemoOutcome:
    console = console or Console()
    seed = secrets.randbits(32)
    rng = random.Random(seed)
    started = time.monotonic()
    console.print(f"[bold]Starting a local chain for {voters} participants…[/bold] (seed {seed})")
    with AnvilNode(accounts=voters + 1) as node:
        client = ChainClient(node.url)
        initiator = dev_account(0, DEV_MNEMONIC)
        people = [dev_account(i, DEV_MNEMONIC) for i in range(1, voters + 1)]
        referendum = Referendum.deploy(client, initiator)
        t = max(1, t_max(workers))
        rid = votes.create(
            referendum,
            initiator,
            QUESTION,
            [p.address for p in people],
            workers=workers,
            threshold=t,
            vote_period_s=PERIOD_S,
            work_period_s=PERIOD_S,
        )
        console.print(f"Referendum [cyan]{rid.hex()}[/cyan]: {QUESTION!r}")
        console.print(f"  n = {workers} workers, t = {t} = t_max(n) (t² + t ≤ n + 1)")

        _post_intents(console, rng.sample(people, len(people)), rid, referendum)
        selection = votes.initiate(referendum, initiator, rid)
        checked = (
            "AN computed by the contract itself, draw checked"
            if voters <= LEDGER_AN_MAX_PARTICIPANTS
            else "draw checked on chain, AN audited off chain"
        )
        console.print(
            f"Workers drawn from the intents' order (AN has {selection.number.bit_length()} bits,"
            f" seed {selection.seed.hex()[:16]}…; {checked}):"
        )
        for slot, address in enumerate(selection.workers):
            console.print(f"  slot {slot}: {to_address(address)}")
        console.print(_risk_table(voters, workers, t))

        ballots = {p.address: rng.random() < 0.5 for p in people}
        with Progress(console=console, transient=True) as progress:
            job = progress.add_task("votes (shares sealed per worker)", total=len(people))
            for person in people:
                votes.cast(referendum, person, rid, ballots[person.address])
                progress.advance(job)
        yes = sum(ballots.values())
        console.print(
            f"{len(people)} votes cast. Moving the devnet's clock past the vote deadline."
        )
        client.increase_time(PERIOD_S)

        by_address = {p.address.lower(): p for p in people}
        chosen = [by_address[w] for w in selection.workers]
        tampered_slot = len(chosen) - 1
        for slot, worker in enumerate(chosen):
            report = votes.intermediate_result(referendum, worker, rid)
            value = report.result.value
            if slot == tampered_slot:
                value = (value + 1) % PRIME  # the byzantine worker, posting last
            referendum.post_intermediate(worker, rid, value)
        console.print(f"{len(chosen)} intermediate results posted (slot {tampered_slot} tampered).")

        recorded = votes.count(referendum, people[0], rid)
        audit = votes.audit(referendum, rid)
    outcome = VoteDemoOutcome(yes=yes, recorded=recorded, audit=audit, tampered_slot=tampered_slot)
    _report(console, outcome, voters, time.monotonic() - started)
    return outcome


def _post_intents(
    console: Console, people: list[LocalAccount], rid: bytes, referendum: Referendum
) -> None:
    with Progress(console=console, transient=True) as progress:
        job = progress.add_task("intents (ledger order)", total=len(people))
        for person in people:
            votes.join(referendum, person, rid)
            progress.advance(job)
    console.print(f"{len(people)} intents posted in a random order.")


def _risk_table(voters: int, workers: int, t: int) -> Table:
    table = Table(title=f"Collusion risk with {workers} of {voters} drawn (exact hypergeometric)")
    for column in ("malicious participants", "P(≥ t: votes revealed)", "P(majority)", "P(blocked)"):
        table.add_column(column, justify="right")
    for share in MALICIOUS_SHARES:
        m = round(voters * share)
        table.add_row(
            f"{m} ({share:.0%})",
            f"{float(p_threshold_reached(voters, m, workers, t)):.3f}",
            f"{float(p_malicious_majority(voters, m, workers)):.3f}",
            f"{float(p_outcome_blocked(voters, m, workers, t)):.2e}",
        )
    return table


def _report(console: Console, outcome: VoteDemoOutcome, voters: int, seconds: float) -> None:
    verification = outcome.audit.verification
    console.print(
        f"Outcome on chain: [bold]{outcome.recorded} yes, {voters - outcome.recorded} no[/bold]"
        f" (true count {outcome.yes})."
    )
    if verification is not None:
        mark = "✓" if outcome.audit.selection_matches else "✗"
        console.print(
            f"Audit from the chain alone: selection {mark},"
            f" verdict {verification.verdict.value}, culprit slots {list(verification.culprits)},"
            f" tally {verification.tally}."
        )
    status = "[green]referendum ok[/green]" if outcome.ok else "[red]referendum FAILED[/red]"
    console.print(f"{status} in {seconds:.1f} s")
