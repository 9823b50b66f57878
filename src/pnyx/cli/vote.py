"""`pnyx vote`: the transparent referendum from the command line (docs/selection.md).

    pnyx vote deploy                                   # once: a Referendum contract
    pnyx vote create "Question?" --participants A,B,… --workers 5 --threshold 2
    pnyx vote join ID                                  # each participant (the order seeds the draw)
    pnyx vote initiate ID                              # the initiator: workers selected and checked
    pnyx vote cast ID yes|no                           # each voter, before the vote deadline
    pnyx vote work ID                                  # each selected worker, after it
    pnyx vote tally ID                                 # anyone, once t results are posted
    pnyx vote verify ID                                # anyone, from the chain alone

The contract is `--contract` or PNYX_VOTE_CONTRACT; the signer is the usual `--wallet` /
`--dev-account` / PNYX_WALLET_PRIVATE_KEY.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from pnyx.chain.referendum import Referendum
from pnyx.cli._context import (
    DevAccountOption,
    RpcOption,
    WalletOption,
    chain_client,
    output,
    parse_address,
    require_contract,
    signer,
)
from pnyx.config import setting
from pnyx.domain._hex import to_address, to_bytes, to_hex32
from pnyx.domain.collusion import t_max
from pnyx.errors import PnyxInputError
from pnyx.sdk import referendum as votes

app = typer.Typer(
    help="Referendums whose votes are secret-shared among verifiably selected workers.",
    no_args_is_help=True,
)

ContractOption = typer.Option(
    None, "--contract", help="Referendum contract address [env PNYX_VOTE_CONTRACT]"
)
IdArgument = typer.Argument(..., help="The referendum id (0x…, printed by `pnyx vote create`)")


class Choice(StrEnum):
    YES = "yes"
    NO = "no"


@app.command("deploy")
def deploy(
    ctx: typer.Context,
    rpc: str = RpcOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Deploy a Referendum contract (it holds any number of referendums)."""
    deployed = Referendum.deploy(chain_client(rpc), signer(wallet, dev_account))
    out = output(ctx)
    out.emit({"contract": deployed.address}, title="Referendum")
    out.message(f"export PNYX_VOTE_CONTRACT={deployed.address}")


@app.command("create")
def create(
    ctx: typer.Context,
    question: str = typer.Argument(..., help="What is asked (its hash and the signer make the id)"),
    participants: str = typer.Option(
        None, "--participants", help="Participant addresses, comma-separated"
    ),
    participants_file: Path = typer.Option(
        None, "--participants-file", help="A file with one participant address per line"
    ),
    workers: int = typer.Option(..., "--workers", help="n: workers to select among them"),
    threshold: int = typer.Option(
        None, "--threshold", help="t: shares that reveal a vote [default t_max(n), t²+t ≤ n+1]"
    ),
    vote_period: int = typer.Option(600, "--vote-period", help="Seconds to post intents and vote"),
    work_period: int = typer.Option(600, "--work-period", help="Seconds for the workers after it"),
    contract: str = ContractOption,
    rpc: str = RpcOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Open a referendum, the signer as initiator; print its id."""
    addresses = _participants(participants, participants_file)
    t = threshold if threshold is not None else max(1, t_max(workers))
    referendum = _open(rpc, contract)
    rid = votes.create(
        referendum,
        signer(wallet, dev_account),
        question,
        addresses,
        workers=workers,
        threshold=t,
        vote_period_s=vote_period,
        work_period_s=work_period,
    )
    info = referendum.info(rid)
    output(ctx).emit(
        {
            "id": to_hex32(rid),
            "participants": len(addresses),
            "workers": workers,
            "threshold": t,
            "within_t_max": t <= t_max(workers),
            "vote_end": info.vote_end,
            "work_end": info.work_end,
        },
        title="referendum",
    )


@app.command("join")
def join(
    ctx: typer.Context,
    rid: str = IdArgument,
    contract: str = ContractOption,
    rpc: str = RpcOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Post the signer's intent (and the key its shares are sealed to if it is selected)."""
    referendum, rid_bytes = _open(rpc, contract), _id(rid)
    account = signer(wallet, dev_account)
    votes.join(referendum, account, rid_bytes)
    order = referendum.info(rid_bytes).intents
    output(ctx).emit({"participant": account.address, "order": order - 1}, title="intent")


@app.command("initiate")
def initiate(
    ctx: typer.Context,
    rid: str = IdArgument,
    contract: str = ContractOption,
    rpc: str = RpcOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Close the intents and record the workers their ledger order selects (checked on chain)."""
    referendum, rid_bytes = _open(rpc, contract), _id(rid)
    selection = votes.initiate(referendum, signer(wallet, dev_account), rid_bytes)
    output(ctx).emit(
        {
            "seed": to_hex32(selection.seed),
            "positions": list(selection.positions),
            "workers": [to_address(w) for w in selection.workers],
        },
        title="selected workers (share slot order)",
    )


@app.command("cast")
def cast(
    ctx: typer.Context,
    rid: str = IdArgument,
    choice: Choice = typer.Argument(..., help="yes or no"),
    contract: str = ContractOption,
    rpc: str = RpcOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Share the signer's vote among the workers, each share sealed to its worker."""
    referendum, rid_bytes = _open(rpc, contract), _id(rid)
    account = signer(wallet, dev_account)
    keyless = votes.cast(referendum, account, rid_bytes, choice is Choice.YES)
    out = output(ctx)
    out.emit({"voter": account.address, "keyless_slots": keyless}, title="vote cast")
    if keyless:
        out.message(f"slots {keyless} have no key (their worker posted no intent): no share sent")


@app.command("work")
def work(
    ctx: typer.Context,
    rid: str = IdArgument,
    contract: str = ContractOption,
    rpc: str = RpcOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """As a selected worker: open its shares, add them up and post the intermediate result."""
    referendum, rid_bytes = _open(rpc, contract), _id(rid)
    report = votes.work(referendum, signer(wallet, dev_account), rid_bytes)
    out = output(ctx)
    out.emit(report.as_json(), title="intermediate result")
    if report.unreadable:
        out.message(f"{len(report.unreadable)} share(s) did not open and were counted as 0")


@app.command("tally")
def tally(
    ctx: typer.Context,
    rid: str = IdArgument,
    contract: str = ContractOption,
    rpc: str = RpcOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Record the outcome (the contract interpolates the first t results and checks it)."""
    referendum, rid_bytes = _open(rpc, contract), _id(rid)
    yes = votes.count(referendum, signer(wallet, dev_account), rid_bytes)
    info = referendum.info(rid_bytes)
    output(ctx).emit({"yes": yes, "no": info.votes - yes, "votes": info.votes}, title="outcome")


@app.command("verify")
def verify(
    ctx: typer.Context,
    rid: str = IdArgument,
    contract: str = ContractOption,
    rpc: str = RpcOption,
) -> None:
    """Recompute the selection and the tally from the chain alone; exit 1 if anything is wrong."""
    result = votes.audit(_open(rpc, contract), _id(rid))
    output(ctx).emit(result.as_json(), title="verification")
    if not result.ok:
        raise typer.Exit(1)


@app.command("show")
def show(
    ctx: typer.Context,
    rid: str = IdArgument,
    contract: str = ContractOption,
    rpc: str = RpcOption,
) -> None:
    """The referendum's parameters and progress."""
    referendum, rid_bytes = _open(rpc, contract), _id(rid)
    info = referendum.info(rid_bytes)
    output(ctx).emit(
        {
            "initiator": info.initiator,
            "workers": [str(w) for w in referendum.workers(rid_bytes)] if info.initiated else [],
            "n": info.n,
            "t": info.t,
            "vote_end": info.vote_end,
            "work_end": info.work_end,
            "intents": info.intents,
            "votes": info.votes,
            "posted": info.posted,
            "finalized": info.finalized,
            "yes": info.tally if info.finalized else None,
        },
        title="referendum",
    )


@app.command("demo")
def demo(
    voters: int = typer.Option(50, "--voters", help="Participants, all of whom vote"),
    workers: int = typer.Option(10, "--workers", help="n: workers selected among them"),
) -> None:
    """A local chain and a whole referendum: intents, selection, votes, work, tally, audit."""
    from pnyx.devnet.vote import run_vote_demo

    if not run_vote_demo(voters=voters, workers=workers).ok:
        raise typer.Exit(1)


def _open(rpc: str | None, contract: str | None) -> Referendum:
    address = contract or setting("vote", "contract")
    if not address:
        raise PnyxInputError("no Referendum contract: pass --contract or set PNYX_VOTE_CONTRACT")
    client = chain_client(rpc)
    return Referendum.at(client, require_contract(client, address))


def _id(text: str) -> bytes:
    try:
        return to_bytes(text, length=32)
    except PnyxInputError:
        raise PnyxInputError(f"not a referendum id (32-byte 0x-hex): {text!r}") from None


def _participants(listed: str | None, path: Path | None) -> list[str]:
    if (listed is None) == (path is None):
        raise PnyxInputError("give the participants with --participants or --participants-file")
    if path is not None:
        try:
            listed = ",".join(path.read_text().split())
        except OSError as exc:
            raise PnyxInputError(f"cannot read {path}: {exc.strerror}") from None
    return [parse_address(a) for a in (listed or "").split(",") if a.strip()]
