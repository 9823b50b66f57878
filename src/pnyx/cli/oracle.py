"""`pnyx oracle deploy|nodes|status|read`: numeric oracle feeds from the command line.

`deploy` creates and configures a feed (on-chain aggregation or off-chain reporting) with the
signer's key; the others read any feed, finding its mechanism from the contract itself: an
`Aggregator`, an `OffchainReporting` or a keyed `PocoOracle`. Running the nodes is
`python -m pnyx.services.oracle` (one per node), or `pnyx devnet up --oracles` on a devnet.
"""

from __future__ import annotations

import time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from pnyx.chain.client import ChainClient
from pnyx.chain.oracles.feeds import AggregatorFeed, ReportingFeed
from pnyx.chain.oracles.poco_feed import STATUS_BAD_REQUEST, STATUS_NOT_FOUND, STATUS_OK, PocoFeed
from pnyx.cli._context import (
    DeploymentOption,
    DevAccountOption,
    RpcOption,
    WalletOption,
    chain_client,
    connect,
    format_tokens,
    output,
    parse_address,
    parse_tokens,
    require_contract,
    signer,
)
from pnyx.devnet.feeds import DEFAULT_CAPTION, REWARD_PER_UNIT, AggregationTerms, deploy_feed
from pnyx.domain._hex import keccak, to_bytes
from pnyx.domain.feeds import FeedConfig
from pnyx.errors import ContractRevert, NotFoundError, PnyxInputError
from pnyx.services.oracle.config import Mechanism
from pnyx.services.oracle.onchain import ConfigFollower

app = typer.Typer(
    help="Deploy numeric oracle feeds; show their nodes, status and values.", no_args_is_help=True
)

AnyOracle = AggregatorFeed | ReportingFeed | PocoFeed
STATUS_TEXT = {STATUS_OK: "ok", STATUS_BAD_REQUEST: "unknown id", STATUS_NOT_FOUND: "no value yet"}

FeedArgument = typer.Argument(..., help="The oracle contract's address")


class Kind(StrEnum):
    """What `pnyx oracle` finds at an address."""

    AGGREGATION = "aggregation"
    REPORTING = "reporting"
    POCO = "poco"


def kind_of(oracle: AnyOracle) -> Kind:
    if isinstance(oracle, AggregatorFeed):
        return Kind.AGGREGATION
    if isinstance(oracle, ReportingFeed):
        return Kind.REPORTING
    return Kind.POCO


# ─── Commands ───
@app.command("deploy")
def deploy(
    ctx: typer.Context,
    mechanism: Mechanism = typer.Argument(..., help="aggregation or reporting"),
    nodes: str = typer.Option(..., "--nodes", help="Node addresses, comma-separated, in order"),
    f: int = typer.Option(
        None, "--f", help="Faulty nodes tolerated [reporting (n-1)/3, aggregation (n-1)/2]"
    ),
    threshold: int = typer.Option(
        None, "--threshold", help="Signatures (reporting, default f+1) or submissions (default n)"
    ),
    minimum: str = typer.Option("0", "--min", help="Lowest answer accepted, in feed units"),
    maximum: str = typer.Option(
        "1000000000", "--max", help="Highest answer accepted, in feed units"
    ),
    heartbeat: int = typer.Option(3600, "--heartbeat", help="Seconds before an answer is stale"),
    deviation_bps: int = typer.Option(
        50, "--deviation-bps", help="A move (1/10,000) that calls for a new round"
    ),
    decimals: int = typer.Option(8, "--decimals", help="Decimals of the answers"),
    caption: str = typer.Option(
        DEFAULT_CAPTION, "--caption", help="EIP-2362 caption: the id is keccak('Price-CAPTION-DEC')"
    ),
    description: str = typer.Option(None, "--description", help="Default: the caption"),
    fund: str = typer.Option("0", "--fund", help="Tokens to put in the feed to pay its nodes"),
    reward_per_unit: str = typer.Option(
        format_tokens(REWARD_PER_UNIT),
        "--reward-per-unit",
        help="Reporting: tokens per observation or signature in a report",
    ),
    min_stake: str = typer.Option(
        format_tokens(AggregationTerms.min_stake),
        "--min-stake",
        help="Aggregation: tokens a node must stake",
    ),
    payment: str = typer.Option(
        format_tokens(AggregationTerms.payment),
        "--payment",
        help="Aggregation: tokens per accepted submission",
    ),
    tolerance_bps: int = typer.Option(
        AggregationTerms.tolerance_bps,
        "--tolerance-bps",
        help="Aggregation: distance from the median (1/10,000) beyond which a node is slashed",
    ),
    slash: str = typer.Option(
        format_tokens(AggregationTerms.slash_amount),
        "--slash",
        help="Aggregation: tokens an outlier loses",
    ),
    round_timeout: int = typer.Option(
        AggregationTerms.timeout_s,
        "--round-timeout",
        help="Aggregation: seconds before an unfinished round may be superseded",
    ),
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Deploy a feed and configure its nodes, owned by the signer; print its address and id."""
    addresses = [part.strip() for part in nodes.split(",") if part.strip()]
    if not addresses:
        raise PnyxInputError("--nodes needs at least one address")
    config = FeedConfig(
        min_answer=_parse_answer(minimum, decimals, "--min"),
        max_answer=_parse_answer(maximum, decimals, "--max"),
        heartbeat_s=heartbeat,
        deviation_bps=deviation_bps,
        decimals=decimals,
    )
    terms = AggregationTerms(
        timeout_s=round_timeout,
        min_stake=parse_tokens(min_stake),
        payment=parse_tokens(payment),
        tolerance_bps=tolerance_bps,
        slash_amount=parse_tokens(slash),
    )
    protocol = connect(rpc, deployment)
    deployed = deploy_feed(
        protocol,
        signer(wallet, dev_account),
        mechanism,
        [parse_address(a) for a in addresses],
        f=f,
        threshold=threshold,
        config=config,
        caption=caption,
        description=description,
        terms=terms,
        reward_per_unit=parse_tokens(reward_per_unit),
        funding=parse_tokens(fund),
    )
    out = output(ctx)
    out.emit(deployed.as_json(), title=f"{mechanism.value} feed")
    out.message(
        f"Run each node with PNYX_ORACLE_MECHANISM={mechanism.value} "
        f"PNYX_ORACLE_FEED={deployed.address} python -m pnyx.services.oracle"
    )


@app.command("nodes")
def nodes(
    ctx: typer.Context,
    feed: str = FeedArgument,
    from_block: int = typer.Option(
        0, "--from-block", help="Where to start looking for the configuration (ConfigSet)"
    ),
    rpc: str = RpcOption,
) -> None:
    """The feed's configured nodes; for on-chain aggregation their stake, payment owed and last
    round, for off-chain reporting their reward units."""
    oracle = _open(chain_client(rpc), feed)
    if isinstance(oracle, PocoFeed):
        raise PnyxInputError(
            f"{oracle.address} is a PocoOracle: it has no nodes, its values come from PoCo tasks "
            "(`pnyx oracle status` shows its policy)"
        )
    active = ConfigFollower(
        ReportingFeed.at(oracle.client, oracle.address), start_block=from_block
    ).poll()
    if active is None:
        raise NotFoundError(
            f"feed {oracle.address} has no node configuration (no ConfigSet since block "
            f"{from_block})"
        )
    rows: list[dict[str, Any]] = []
    for index, address in enumerate(active.config.nodes):
        row: dict[str, Any] = {"index": index, "address": address}
        if isinstance(oracle, AggregatorFeed):
            node = oracle.node(address)
            row.update(
                enabled=node["enabled"],
                stake=format_tokens(node["stake"]),
                owed=format_tokens(node["owed"]),
                last_round=node["last_round"],
            )
        else:
            row["reward_units"] = oracle.units_of(index)
        rows.append(row)
    data = {
        "address": oracle.address,
        "mechanism": kind_of(oracle).value,
        "config_count": active.config.count,
        "config_digest": "0x" + active.digest.hex(),
        "f": active.config.f,
        "threshold": active.config.threshold,
        "nodes": rows,
    }
    out = output(ctx)
    if out.as_json:
        out.emit(data)
        return
    out.message(
        f"{data['mechanism']} feed {data['address']}: configuration {data['config_count']}, "
        f"f={data['f']}, threshold {data['threshold']}"
    )
    table = Table(*rows[0].keys())
    for row in rows:
        table.add_row(*(str(value) for value in row.values()))
    out.console.print(table)


@app.command("status")
def status(ctx: typer.Context, feed: str = FeedArgument, rpc: str = RpcOption) -> None:
    """Mechanism, configuration, bounds, heartbeat and deviation threshold, and the latest answer
    with its round, its age, and whether it is fresh (younger than the heartbeat)."""
    client = chain_client(rpc)
    oracle = _open(client, feed)
    if isinstance(oracle, PocoFeed):
        policy = oracle.policy()
        output(ctx).emit(
            {
                "address": oracle.address,
                "mechanism": Kind.POCO.value,
                "hub": oracle.hub(),
                "app": policy.app,
                "dataset": policy.dataset,
                "workerpool": policy.workerpool,
                "min_trust": policy.min_trust,
                "required_tag": policy.required_tag,
                "values": "keyed: pnyx oracle read ADDRESS --key KEY",
            },
            title="PoCo oracle",
        )
        return
    config = oracle.feed_config()
    latest = oracle.latest()
    data: dict[str, Any] = {
        "address": oracle.address,
        "mechanism": kind_of(oracle).value,
        "description": _call(oracle, "description"),
        "feed_id": "0x" + bytes(_call(oracle, "feedId")).hex(),
        "config_count": oracle.config_count(),
        "config_digest": "0x" + oracle.digest().hex(),
        "decimals": config.decimals,
        "min": _scaled(config.min_answer, config.decimals),
        "max": _scaled(config.max_answer, config.decimals),
        "heartbeat_s": config.heartbeat_s,
        "deviation_bps": config.deviation_bps,
    }
    if latest.updated_at == 0:
        data.update(
            answer=None, value=None, round_id=0, updated_at=None, age_s=None, fresh=False,
            state="no answer yet",
        )  # fmt: skip
    else:
        # Wall-clock time, or the chain's if it runs ahead (a devnet that travelled in time).
        now = max(int(time.time()), client.timestamp())
        age_s = max(0, now - latest.updated_at)
        fresh = age_s <= config.heartbeat_s
        data.update(
            answer=latest.answer, value=_scaled(latest.answer, config.decimals),
            round_id=latest.round_id, updated_at=latest.updated_at, age_s=age_s, fresh=fresh,
            state="fresh" if fresh else "stale",
        )  # fmt: skip
    if isinstance(oracle, AggregatorFeed):
        current = oracle.round_state()
        data["round"] = {
            "id": current.id,
            "submissions": current.submissions,
            "required": current.required,
            "started_at": current.started_at,
            "timeout_s": current.timeout_s,
        }
    else:
        data["reward_per_unit"] = format_tokens(int(_call(oracle, "rewardPerUnit")))
    output(ctx).emit(data, title=f"{data['mechanism']} feed")


@app.command("read")
def read(
    ctx: typer.Context,
    feed: str = FeedArgument,
    feed_id: str = typer.Option(
        None, "--id", help="EIP-2362 id: 0x-hex, or the text it hashes (Price-ETH/USD-8)"
    ),
    key: str = typer.Option(None, "--key", help="PocoOracle: the key (0x-hex or its text)"),
    rpc: str = RpcOption,
) -> None:
    """EIP-2362 `valueFor(id)` with its status (200 ok, 400 unknown id, 404 no value yet), and
    `latestRoundData`. The id defaults to the feed's own; a PocoOracle needs --key."""
    oracle = _open(chain_client(rpc), feed)
    data: dict[str, Any] = {
        "address": oracle.address,
        "mechanism": kind_of(oracle),
    }
    if isinstance(oracle, PocoFeed):
        if key is None:
            raise PnyxInputError(f"{oracle.address} is a keyed PocoOracle: pass --key KEY")
        ident = _parse_id(key)
        keyed = oracle.value_for(ident)
        round_ = oracle.latest_round(ident)
        data.update(
            key="0x" + ident.hex(), status=keyed.status, status_text=_status_text(keyed.status),
            value=keyed.value, timestamp=keyed.observed_at, round_id=round_.round_id,
            answer=round_.answer, updated_at=round_.observed_at,
        )  # fmt: skip
    else:
        if key is not None:
            raise PnyxInputError("--key is for a PocoOracle; a feed takes --id")
        ident = _parse_id(feed_id) if feed_id else bytes(_call(oracle, "feedId"))
        value, timestamp, code = oracle.value_for(ident)
        latest = oracle.latest()
        decimals = int(_call(oracle, "decimals"))
        data.update(
            id="0x" + ident.hex(), status=code, status_text=_status_text(code), value=value,
            scaled=_scaled(value, decimals) if code == STATUS_OK else None,
            timestamp=timestamp, round_id=latest.round_id, answer=latest.answer,
            updated_at=latest.updated_at, decimals=decimals,
        )  # fmt: skip
    data["mechanism"] = data["mechanism"].value
    output(ctx).emit(data, title="valueFor / latestRoundData")


# ─── Finding what is at an address ───
# The reads `pnyx.chain.oracles` does not wrap yet (code at an address, `feedId`, `description`,
# `decimals`, `rewardPerUnit`, the probes) are made here, through the feeds' own contracts, as
# `pnyx.services.oracle.onchain` does for the nodes.
def _open(client: ChainClient, address: str) -> AnyOracle:
    """The oracle at `address`, its kind told by which of its own views answer."""
    checked = require_contract(client, address)
    reporting = ReportingFeed.at(client, checked)
    if not _answers(reporting, "feedId"):
        poco = PocoFeed.at(client, checked)
        if _answers(poco, "getHub"):
            return poco
        raise PnyxInputError(
            f"{checked} is not an oracle: neither a feed (Aggregator, OffchainReporting) "
            "nor a PocoOracle"
        )
    if _answers(reporting, "rewardPerUnit"):
        return reporting
    aggregator = AggregatorFeed.at(client, checked)
    if _answers(aggregator, "slashAmount"):
        return aggregator
    raise PnyxInputError(f"{checked} has a feed id but is neither an Aggregator nor reporting")


def _answers(oracle: AnyOracle, view: str) -> bool:
    try:
        _call(oracle, view)
    except ContractRevert:
        return False
    return True


def _call(oracle: AnyOracle, view: str) -> Any:
    if isinstance(oracle, PocoFeed):
        return oracle.client.call(getattr(oracle.contract.functions, view)())
    return oracle.view(view)


# ─── Parsing and formatting ───
def _parse_id(text: str) -> bytes:
    """A 0x-hex bytes32, or the text whose keccak256 it is ("Price-ETH/USD-8")."""
    if text.startswith(("0x", "0X")):
        return to_bytes(text, length=32)
    if not text:
        raise PnyxInputError("an empty id")
    return keccak(text.encode())


def _parse_answer(text: str, decimals: int, option: str) -> int:
    """A bound in feed units ("2000.5") as the integer the feed stores (× 10^decimals)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise PnyxInputError(f"{option}: not a number: {text!r}") from None
    if not 0 <= decimals <= 36:
        raise PnyxInputError(f"--decimals must be 0..36, not {decimals}")
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise PnyxInputError(f"{option}: {text} has more than {decimals} decimals")
    return int(scaled)


def _scaled(answer: int, decimals: int) -> str:
    return f"{Decimal(answer).scaleb(-decimals).normalize():f}"


def _status_text(code: int) -> str:
    return STATUS_TEXT.get(code, "unknown status")
