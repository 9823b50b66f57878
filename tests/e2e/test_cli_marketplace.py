"""The requester-side CLI against a running marketplace (issue 3, item 6): the order books,
publishing and unpublishing orders, a task's on-chain and off-chain views with `--watch`, and
refunds with `pnyx deal claim`. Every command runs as a separate process, as a user would run it;
one marketplace (anvil, market, result store, scheduler, one worker) serves the whole module."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pnyx.api.schemas.market import OrderRead
from pnyx.chain.node import free_port
from pnyx.cli._context import format_tokens
from pnyx.clients.market import MarketClient
from pnyx.devnet.marketplace import (
    APP_PRICE,
    MAX_TRUST,
    TEST_CATEGORY_TIME_REF_S,
    WORKERPOOL_PRICE,
    WORKERPOOL_TEE_PRICE,
    Marketplace,
    start_marketplace,
)
from pnyx.domain.views import TaskStatus
from pnyx.sdk import Provider
from pnyx.sdk.run import RunRequest, follow
from tests.e2e.conftest import Cli
from tests.helpers.marketplace import purchase

pytestmark = pytest.mark.e2e

TEST_CATEGORY = 5
# Dev accounts no process of the marketplace signs with (its services keep their own nonces):
# the orphan pool's owner (funded in the escrow like every worker account) and a claimer.
POOL_OWNER = 16
CLAIMER = "9"
STATS_STDOUT = "stats: 3 numbers, mean 2.0"


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Marketplace]:
    with start_marketplace(
        tmp_path_factory.mktemp("cli-market"), workers=1, heartbeat_s=1.0
    ) as running:
        yield running


@pytest.fixture
def cli(market: Marketplace, tmp_path: Path) -> Cli:
    env = {
        **os.environ,
        "PNYX_HOME": str(market.home),
        "PNYX_CHAIN_URL": market.devnet.node.url,
        "PNYX_CHAIN_DEPLOYMENT": str(market.home / "deployment.json"),
        "PNYX_MARKET_URL": market.urls["market"],
        "COLUMNS": "200",
    }
    env.pop("PNYX_WALLET_PRIVATE_KEY", None)
    env.pop("PNYX_WALLET_NAME", None)
    return Cli(env=env, cwd=tmp_path)


@pytest.fixture(scope="module")
def completed_task(market: Marketplace) -> str:
    """A trust-1 run of the Python app, completed on chain and at the scheduler."""
    matched, task_id = purchase(market, RunRequest(app=market.assets["python_app"], args="1 2 3"))
    view = follow(market.devnet.protocol, matched, task_id, timeout_s=60)
    assert view.status == TaskStatus.COMPLETED
    return task_id


# ─── Order books ───
def test_orderbook_lists_the_devnet_orders_cheapest_first(cli: Cli, market: Marketplace) -> None:
    pool = market.assets["workerpool"]
    book = cli.json("orderbook", "workerpool", "--workerpool", pool)
    # one standard and one TEE order per category; the standard ones are cheaper, so first
    assert book["total"] == 12
    prices = [o["price"] for o in book["orders"]]
    assert prices == [WORKERPOOL_PRICE] * 6 + [WORKERPOOL_TEE_PRICE] * 6
    assert [o["tags"] for o in book["orders"]] == [[]] * 6 + [["tee"]] * 6
    assert sorted(o["category"] for o in book["orders"][:6]) == list(range(6))
    assert {o["trust"] for o in book["orders"]} == {MAX_TRUST}

    table = cli.run("orderbook", "app").stdout
    assert "app orders (3 of 3), cheapest first" in table
    assert all(order.hash in table for order in _book(market, "app"))


def test_orderbook_filters_narrow_the_book(cli: Cli, market: Marketplace) -> None:
    pool, wasm = market.assets["workerpool"], market.assets["wasm_app"]
    test_pool = cli.json(
        "orderbook", "workerpool", "--workerpool", pool, "--category", str(TEST_CATEGORY),
        "--min-trust", "8", "--max-trust", str(MAX_TRUST), "--min-volume", "10",
    )  # fmt: skip
    assert [o["category"] for o in test_pool["orders"]] == [TEST_CATEGORY] * 2
    apps = cli.json("orderbook", "app", "--app", wasm)
    assert [o["asset"] for o in apps["orders"]] == [wasm]
    dataset_owner = market.devnet.accounts[2].address
    datasets = cli.json("orderbook", "dataset", "--owner", dataset_owner, "--app", wasm)
    assert [o["owner"] for o in datasets["orders"]] == [dataset_owner]
    tee = cli.json("orderbook", "dataset", "--tag", "tee")
    assert [o["asset"] for o in tee["orders"]] == [market.assets["confidential_dataset"]]
    tee_pools = cli.json("orderbook", "workerpool", "--tag", "tee", "--category", "0")
    assert [o["price"] for o in tee_pools["orders"]] == [WORKERPOOL_TEE_PRICE]

    bad = cli.run("orderbook", "app", "--owner", "0x1234", check=False)
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        "error: owner must be a 0x-hex address of 20 bytes: '0x1234'"
    ]


# ─── Publish and unpublish ───
def test_signed_order_is_published_first_in_its_book_and_unpublished(
    cli: Cli, market: Marketplace
) -> None:
    wasm = market.assets["wasm_app"]
    signed = cli.json("order", "sign", "app", "--app", wasm, "--price", "0.05", "--volume", "3",
                      "--out", "cheap.json", "--dev-account", "1")  # fmt: skip
    published = cli.json("order", "publish", "cheap.json")
    assert published == {
        "hash": signed["hash"],
        "kind": "app",
        "status": "open",
        "remaining": 3,
        "owner": market.devnet.accounts[1].address,
    }
    book = cli.json("orderbook", "app", "--app", wasm)["orders"]
    assert [(o["hash"], o["price"]) for o in book] == [
        (signed["hash"], APP_PRICE // 2),
        (book[1]["hash"], APP_PRICE),
    ]

    stranger = cli.run("order", "unpublish", "app", signed["hash"], "--dev-account", "2",
                       check=False)  # fmt: skip
    assert stranger.returncode == 1
    assert len(stranger.stderr.strip().splitlines()) == 1
    assert "only the order's owner" in stranger.stderr

    withdrawn = cli.json("order", "unpublish", "app", signed["hash"], "--dev-account", "1")
    assert withdrawn["status"] == "canceled"
    assert signed["hash"] not in [order.hash for order in _book(market, "app")]


def test_publish_of_a_tampered_order_fails_in_one_line(cli: Cli, market: Marketplace) -> None:
    cli.json("order", "sign", "app", "--app", market.assets["wasm_app"], "--price", "0.05",
             "--out", "order.json", "--dev-account", "1")  # fmt: skip
    document = json.loads((cli.cwd / "order.json").read_text())
    document["order"]["appPrice"] = 1  # cheaper than what the owner signed
    (cli.cwd / "tampered.json").write_text(json.dumps(document))
    result = cli.run("order", "publish", "tampered.json", check=False)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith("error: market refused (401 AuthenticationError): order 0x")
    assert "not by the app's current owner" in lines[0]


# ─── Tasks ───
def test_task_show_gives_the_scheduler_timeline_and_the_requesters_logs(
    cli: Cli, market: Marketplace, completed_task: str
) -> None:
    shown = cli.json("task", "show", completed_task, "--dev-account", "4")
    assert shown["status"] == "COMPLETED" and shown["results"].endswith(completed_task)
    scheduler = shown["scheduler"]
    assert (scheduler["url"], scheduler["available"]) == (market.urls["scheduler"], True)
    assert scheduler["state"] == "COMPLETED"
    assert [h["state"] for h in scheduler["history"]][-1] == "COMPLETED"
    (replicate,) = scheduler["replicates"]
    assert replicate["worker"] == market.devnet.accounts[5].address
    assert (replicate["state"], replicate["exit_cause"]) == ("COMPLETED", "SUCCESS")
    states = [h["state"] for h in replicate["history"]]
    assert states[0] == "CREATED" and states[-1] == "COMPLETED" and "RUNNING" in states
    assert all("at" in h for h in replicate["history"])
    (logs,) = shown["logs"]["replicates"]
    assert STATS_STDOUT in logs["stdout"] and logs["exit_cause"] == "SUCCESS"


def test_task_show_refuses_a_strangers_logs_gracefully(cli: Cli, completed_task: str) -> None:
    shown = cli.json("task", "show", completed_task, "--dev-account", "7")
    assert shown["scheduler"]["available"] is True
    assert "readable by its requester" in shown["logs"]["error"]
    assert "replicates" not in shown["logs"]

    table = cli.run("task", "show", completed_task, "--dev-account", "7")
    assert "logs unavailable: scheduler refused (401" in table.stdout
    assert "replicates" in table.stdout and STATS_STDOUT not in table.stdout
    assert table.stderr == ""


def test_task_show_watch_ends_when_the_task_completes(cli: Cli, market: Marketplace) -> None:
    protocol = market.devnet.protocol
    _, task_id = purchase(
        market, RunRequest(app=market.assets["python_app"], args="1 2 3 --sleep 2")
    )
    assert protocol.task(task_id).status != TaskStatus.COMPLETED
    started = time.monotonic()
    watched = cli.run("task", "show", task_id, "--watch", "--dev-account", "4")
    assert time.monotonic() - started < 60
    assert protocol.task(task_id).status == TaskStatus.COMPLETED
    assert "COMPLETED" in watched.stdout
    assert STATS_STDOUT in watched.stdout  # the final frame carries the requester's logs


# ─── Refunds ───
def test_deal_claim_refunds_the_requester_only_after_the_final_deadline(
    cli: Cli, market: Marketplace
) -> None:
    protocol = market.devnet.protocol
    requester = market.requester.address
    # A second pool whose scheduler is gone: nobody starts its tasks or claims them but us.
    dead_url = f"http://127.0.0.1:{free_port()}"
    owner = Provider(protocol, market.devnet.accounts[POOL_OWNER])
    orphan = owner.register_workerpool(json.dumps({"name": "orphan", "scheduler": dead_url}))
    client = MarketClient(market.urls["market"])
    try:
        client.publish(owner.workerpool_order(orphan, WORKERPOOL_PRICE, category=TEST_CATEGORY))
    finally:
        client.close()
    before = protocol.account(requester)
    request = RunRequest(app=market.assets["wasm_app"], workerpool=orphan, category=TEST_CATEGORY)
    matched, task_id = purchase(market, request)
    assert protocol.account(requester).locked == before.locked + matched.deal.task_price

    early = cli.run("deal", "claim", matched.deal_id, "--dev-account", CLAIMER, check=False)
    assert early.returncode == 1
    assert len(early.stderr.strip().splitlines()) == 1
    assert early.stderr.startswith(f"error: nothing to claim yet: deal {matched.deal_id}")

    # The test category's final deadline is 10 × 6 s after the match: travel past it.
    assert matched.deal.time_ref == TEST_CATEGORY_TIME_REF_S
    protocol.client.increase_time(matched.deal.final_deadline - protocol.client.timestamp() + 1)
    # Anyone may claim; the refund goes to the requester.
    refund = cli.json("deal", "claim", matched.deal_id, "--dev-account", CLAIMER)
    assert (refund["claimed"], refund["requester"]) == ([task_id], requester)
    assert refund["refunded"] == format_tokens(matched.deal.task_price)
    after = protocol.account(requester)
    assert (after.free, after.locked) == (before.free, before.locked)
    assert protocol.task(task_id).status == TaskStatus.FAILED

    again = cli.run("deal", "claim", matched.deal_id, "--dev-account", CLAIMER, check=False)
    assert again.returncode == 1
    assert again.stderr.strip() == (
        f"error: nothing to claim in deal {matched.deal_id}: every task is already FAILED"
    )

    shown = cli.json("task", "show", task_id)
    assert shown["status"] == "FAILED" and shown["deal_id"] == matched.deal_id
    assert shown["scheduler"]["available"] is False
    assert shown["scheduler"]["error"].startswith(f"scheduler at {dead_url} unreachable")
    table = cli.run("task", "show", task_id)
    assert f"off-chain view unavailable: scheduler at {dead_url} unreachable" in table.stdout
    assert table.stderr == ""


def _book(market: Marketplace, kind: str) -> list[OrderRead]:
    client = MarketClient(market.urls["market"])
    try:
        return client.orderbook(kind, page_size=100).orders
    finally:
        client.close()
