"""`pnyx oracle` against a devnet: an off-chain reporting feed deployed through the CLI, served by
real node processes (`start_oracle_nodes`), then read back with `status`, `read` and `nodes` in
--json; bad addresses and impossible quorums fail in one line, before any transaction."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pnyx.devnet.network import Devnet
from pnyx.devnet.oracles import OracleNodes, oracle_accounts, start_oracle_nodes
from pnyx.devnet.price_source import PriceSource
from pnyx.domain.feeds import feed_id
from tests.e2e.conftest import Cli

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PRICE = 1_234_567_890_00  # 1234.5678900 at 8 decimals, held still: one round, no deviation
NODE_ADDRESSES = [account.address for account in oracle_accounts(4)]


@dataclass
class ServedFeed:
    deployed: dict[str, Any]
    before: dict[str, Any]  # `status` before any node ran
    unanswered: dict[str, Any]  # `read` before any node ran
    nodes: OracleNodes


@pytest.fixture(scope="module")
def served_feed(
    devnet: tuple[Devnet, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedFeed]:
    """A reporting feed deployed with the CLI by dev account 9, then its 4 nodes started."""
    net, home = devnet
    cli = _cli(net, home, tmp_path_factory.mktemp("oracle-cli"))
    deployed = cli.json(
        "oracle", "deploy", "reporting", "--nodes", ",".join(NODE_ADDRESSES),
        "--min", "100", "--max", "100000", "--heartbeat", "600", "--deviation-bps", "100",
        "--caption", "ETH/USD", "--fund", "5", "--dev-account", "9",
    )  # fmt: skip
    before = cli.json("oracle", "status", deployed["address"])
    unanswered = cli.json("oracle", "read", deployed["address"])
    source = PriceSource()
    source.value = PRICE
    try:
        with start_oracle_nodes(
            net, tmp_path_factory.mktemp("oracle-nodes"), mechanism="reporting",
            feed=deployed["address"], source_url=source.url,
        ) as nodes:  # fmt: skip
            nodes.wait_for_answer(timeout_s=20)
            yield ServedFeed(deployed, before, unanswered, nodes)
    finally:
        source.close()


@pytest.fixture
def oracle_cli(devnet: tuple[Devnet, Path], tmp_path: Path) -> Cli:
    net, home = devnet
    return _cli(net, home, tmp_path)


def _cli(net: Devnet, home: Path, cwd: Path) -> Cli:
    env = {
        **os.environ,
        "PNYX_HOME": str(home),
        "PNYX_CHAIN_URL": net.node.url,
        "PNYX_CHAIN_DEPLOYMENT": str(home / "deployment.json"),
        "COLUMNS": "200",
    }
    env.pop("PNYX_WALLET_PRIVATE_KEY", None)
    return Cli(env=env, cwd=cwd)


def test_deploy_prints_the_address_the_id_and_the_configuration(served_feed: ServedFeed) -> None:
    deployed = served_feed.deployed
    assert deployed["mechanism"] == "reporting"
    assert deployed["feed_id"] == "0x" + feed_id("Price", "ETH/USD", 8).hex()
    assert deployed["id_text"] == "Price-ETH/USD-8"
    assert deployed["nodes"] == NODE_ADDRESSES
    assert (deployed["f"], deployed["threshold"], deployed["config_count"]) == (1, 2, 1)


def test_status_shows_no_answer_before_the_nodes_run(served_feed: ServedFeed) -> None:
    before = served_feed.before
    assert (before["state"], before["fresh"], before["round_id"]) == ("no answer yet", False, 0)
    assert (before["min"], before["max"], before["heartbeat_s"]) == ("100", "100000", 600)
    assert served_feed.unanswered["status"] == 404
    assert served_feed.unanswered["status_text"] == "no value yet"


def test_status_shows_the_nodes_answer_fresh(served_feed: ServedFeed, oracle_cli: Cli) -> None:
    deployed = served_feed.deployed
    status = oracle_cli.json("oracle", "status", deployed["address"])
    assert status["mechanism"] == "reporting"
    assert status["config_digest"] == deployed["config_digest"]
    assert (status["description"], status["feed_id"]) == ("ETH/USD", deployed["feed_id"])
    assert (status["deviation_bps"], status["decimals"]) == (100, 8)
    assert status["answer"] == PRICE and status["value"] == "1234.56789"
    assert status["round_id"] >= 1
    assert status["state"] == "fresh" and status["fresh"] is True and status["age_s"] < 600


def test_read_gives_value_for_and_latest_round_data(
    served_feed: ServedFeed, oracle_cli: Cli
) -> None:
    address = served_feed.deployed["address"]
    read = oracle_cli.json("oracle", "read", address)
    assert (read["status"], read["status_text"]) == (200, "ok")
    assert read["id"] == served_feed.deployed["feed_id"]
    assert read["value"] == read["answer"] == PRICE and read["scaled"] == "1234.56789"
    assert read["timestamp"] == read["updated_at"] > 0
    other = oracle_cli.json("oracle", "read", address, "--id", "Price-BTC/USD-8")
    assert (other["status"], other["status_text"], other["value"]) == (400, "unknown id", 0)


def test_nodes_lists_the_configuration_and_reward_units(
    served_feed: ServedFeed, oracle_cli: Cli
) -> None:
    listed = oracle_cli.json("oracle", "nodes", served_feed.deployed["address"])
    assert (listed["f"], listed["threshold"], listed["config_count"]) == (1, 2, 1)
    assert [node["address"] for node in listed["nodes"]] == NODE_ADDRESSES
    assert [node["index"] for node in listed["nodes"]] == [0, 1, 2, 3]
    # A report pays its observers (more than 2f) and its signers (the threshold) a unit each.
    assert sum(node["reward_units"] for node in listed["nodes"]) >= 3 + 2


@pytest.mark.parametrize(
    ("command", "target", "message"),
    [
        ("status", "0x1234", "error: not an address: '0x1234'"),
        ("read", NODE_ADDRESSES[0], f"error: no contract at {NODE_ADDRESSES[0]} on chain 31337"),
        ("nodes", "hub", "is not an oracle: neither a feed"),
    ],
)
def test_a_command_on_something_else_fails_in_one_line(
    devnet: tuple[Devnet, Path], oracle_cli: Cli, command: str, target: str, message: str
) -> None:
    deployment = devnet[0].deployment
    address = deployment.hub if target == "hub" else target
    result = oracle_cli.run("oracle", command, address, check=False)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_deploy_refuses_an_impossible_quorum_in_one_line(oracle_cli: Cli) -> None:
    result = oracle_cli.run(
        "oracle", "deploy", "reporting", "--nodes", ",".join(NODE_ADDRESSES[:3]),
        "--dev-account", "9", check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("error: off-chain reporting needs f ≥ 1, n > 3f")
    assert len(result.stderr.strip().splitlines()) == 1


def test_read_of_a_feed_refuses_a_poco_key(served_feed: ServedFeed, oracle_cli: Cli) -> None:
    address = served_feed.deployed["address"]
    result = oracle_cli.run("oracle", "read", address, "--key", "0x" + "11" * 32, check=False)
    assert (result.returncode, result.stderr.strip()) == (
        1,
        "error: --key is for a PocoOracle; a feed takes --id",
    )
