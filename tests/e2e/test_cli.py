"""The CLI driven as a user would: real processes against a real devnet, JSON outputs checked,
and every failure a single readable line with exit code 1."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Cli

pytestmark = pytest.mark.e2e

CHECKSUM = "0x" + "ab" * 32


def test_provider_and_requester_flow_reaches_a_deal(cli: Cli) -> None:
    account = cli.json("account", "deposit", "50", "--dev-account", "4")
    assert account["free"] == "50"
    app = cli.json("app", "deploy", "--name", "cli-app", "--multiaddr", "file:///a.wasm",
                   "--checksum", CHECKSUM, "--dev-account", "1")  # fmt: skip
    dataset = cli.json("dataset", "deploy", "--name", "cli-data", "--multiaddr", "file:///d",
                       "--checksum", CHECKSUM, "--dev-account", "2")  # fmt: skip
    pool = cli.json("workerpool", "deploy", "--description", "cli pool", "--dev-account", "3")
    assert pool["worker_stake_ratio"] == 30
    assert cli.json("app", "show", app["address"])["name"] == "cli-app"
    cli.run("account", "deposit", "10", "--dev-account", "3")

    cli.json("order", "sign", "app", "--app", app["address"], "--price", "1", "--out", "app.json",
             "--dev-account", "1")  # fmt: skip
    cli.json("order", "sign", "dataset", "--dataset", dataset["address"], "--price", "2",
             "--out", "dataset.json", "--dev-account", "2")  # fmt: skip
    cli.json("order", "sign", "workerpool", "--workerpool", pool["address"], "--price", "10",
             "--trust", "8", "--out", "pool.json", "--dev-account", "3")  # fmt: skip
    request = cli.json(
        "order", "sign", "request", "--app", app["address"], "--app-max-price", "1",
        "--dataset", dataset["address"], "--dataset-max-price", "2", "--workerpool-max-price", "10",
        "--trust", "8", "--params", '{"text": "hello"}', "--out", "request.json",
        "--dev-account", "4",
    )  # fmt: skip
    assert request["type"] == "RequestOrder"
    assert cli.json("order", "show", "request.json")["remaining"] == 1

    deal = cli.json("order", "match", "--app", "app.json", "--dataset", "dataset.json",
                    "--workerpool", "pool.json", "--request", "request.json",
                    "--dev-account", "9")  # fmt: skip
    assert deal["volume"] == 1
    assert cli.json("order", "show", "request.json")["remaining"] == 0
    shown = cli.json("deal", "show", deal["deal_id"])
    assert shown["trust"] == 8 and shown["params"] == '{"text": "hello"}'
    assert list(shown["tasks"].values()) == ["UNSET"]
    task = cli.json("task", "show", deal["tasks"][0])
    assert task["status"] == "UNSET" and task["contributions"] == []
    after = cli.json("account", "show", "--dev-account", "4")
    assert (after["free"], after["locked"]) == ("37", "13")


def test_order_cancel_closes_the_remaining_volume(cli: Cli) -> None:
    app = cli.json("app", "deploy", "--name", "cancel-me", "--multiaddr", "file:///c",
                   "--checksum", CHECKSUM, "--dev-account", "1")  # fmt: skip
    cli.json("order", "sign", "app", "--app", app["address"], "--price", "1", "--volume", "5",
             "--out", "order.json", "--dev-account", "1")  # fmt: skip
    closed = cli.json("order", "cancel", "order.json", "--dev-account", "1")
    assert (closed["consumed"], closed["remaining"]) == (5, 0)


def test_revert_is_one_readable_line_with_exit_code_1(cli: Cli) -> None:
    result = cli.run("account", "withdraw", "1000000", "--dev-account", "5", check=False)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "error: EscrowInsufficientBalance(account=0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"
    )
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(cli: Cli) -> None:
    result = cli.run("--debug", "account", "withdraw", "1000000", "--dev-account", "5", check=False)
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "EscrowInsufficientBalance" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("task", "show", "0x1234"), "error: expected 32 bytes"),
        (("deal", "show", "0x" + "00" * 32), "error: no deal 0x" + "00" * 32),
        (("account", "deposit", "abc", "--dev-account", "1"), "error: not an amount: 'abc'"),
        (("account", "show"), "error: no signing key"),
        (("order", "show", "missing.json"), "error: no order file missing.json"),
    ],
)
def test_bad_input_gets_a_clear_error(cli: Cli, args: tuple[str, ...], message: str) -> None:
    result = cli.run(*args, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_node_is_reported_in_one_line(cli: Cli) -> None:
    cli.env["PNYX_CHAIN_URL"] = "http://127.0.0.1:9"
    result = cli.run("account", "show", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("error: no EVM node answers at http://127.0.0.1:9")


def test_wallet_create_import_show_and_sign_with_it(cli: Cli) -> None:
    cli.env["PNYX_WALLET_PASSWORD"] = "correct horse"
    created = cli.json("wallet", "create", "alice")
    imported = cli.json(
        "wallet", "import", "dev7", "--private-key",
        "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    )  # fmt: skip
    assert imported["address"] == "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"
    listed = cli.json("wallet", "show")
    assert listed == {"alice": created["address"], "dev7": imported["address"]}
    assert cli.json("account", "deposit", "1", "--wallet", "dev7")["free"] == "1"
    cli.env["PNYX_WALLET_PASSWORD"] = "wrong"
    result = cli.run("account", "show", "--wallet", "dev7", check=False)
    assert result.returncode == 1 and result.stderr.startswith(
        "error: wrong password for wallet 'dev7'"
    )
    again = cli.run("wallet", "create", "alice", check=False)
    assert again.returncode == 1 and "already exists" in again.stderr
