"""`pnyx vote` as users would run it, one process per command, against a devnet: a referendum
among 5 dev accounts counted by 3 workers with t = 2 — deploy, create, join, initiate, cast, work,
tally, verify — then the one-line errors of a wrong caller, a closed vote and a bad id; and
`pnyx vote demo` (what `make demo-vote` runs), with its 50 voters and its byzantine worker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pnyx.chain.node import DEV_MNEMONIC
from pnyx.chain.signing import dev_account
from pnyx.devnet.network import Devnet
from tests.e2e.conftest import Cli

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PARTICIPANTS = (1, 2, 3, 4, 5)  # dev accounts
VOTES = {1: "yes", 2: "no", 3: "yes", 4: "yes", 5: "no"}


def _address(index: int) -> str:
    return dev_account(index, DEV_MNEMONIC).address


def test_a_referendum_through_the_cli(cli: Cli, devnet: tuple[Devnet, Path]) -> None:
    net, _ = devnet
    contract = cli.json("vote", "deploy", "--dev-account", "0")["contract"]
    cli.env["PNYX_VOTE_CONTRACT"] = contract
    created = cli.json(
        "vote", "create", "More benches in the park?",
        "--participants", ",".join(_address(i) for i in PARTICIPANTS),
        "--workers", "3", "--threshold", "2", "--vote-period", "600", "--work-period", "600",
        "--dev-account", "0",
    )  # fmt: skip
    rid = created["id"]
    assert created["participants"] == 5 and created["threshold"] == 2
    assert created["within_t_max"] is False  # t_max(3) = 1: reported, not enforced

    for index in (4, 2, 5, 1, 3):
        cli.json("vote", "join", rid, "--dev-account", str(index))
    selected = cli.json("vote", "initiate", rid, "--dev-account", "0")
    workers = selected["workers"]
    assert len(workers) == 3 and set(workers) <= {_address(i) for i in PARTICIPANTS}

    for index, choice in VOTES.items():
        cast = cli.json("vote", "cast", rid, choice, "--dev-account", str(index))
        assert cast["keyless_slots"] == []
    again = cli.run("vote", "cast", rid, "no", "--dev-account", "1", check=False)
    assert again.returncode == 1 and "ReferendumAlreadyVoted" in again.stderr

    early = cli.run("vote", "work", rid, "--dev-account", _index(workers[0]), check=False)
    assert early.returncode == 1 and "ReferendumWorkNotOpen" in early.stderr
    net.client.increase_time(600)

    closed = cli.run("vote", "cast", rid, "yes", "--dev-account", "6", check=False)
    assert closed.returncode == 1 and closed.stderr.count("\n") == 1
    outsider = cli.run("vote", "work", rid, "--dev-account", "6", check=False)
    assert outsider.returncode == 1 and "is not a worker" in outsider.stderr

    for worker in workers:
        posted = cli.json("vote", "work", rid, "--dev-account", _index(worker))
        assert posted["ballots"] == 5 and posted["unreadable"] == []
    outcome = cli.json("vote", "tally", rid, "--dev-account", "7")
    assert outcome == {"yes": 3, "no": 2, "votes": 5}

    verified = cli.json("vote", "verify", rid)
    assert verified["ok"] is True and verified["selection_matches"] is True
    assert verified["verification"]["verdict"] == "consistent"
    assert verified["recorded_tally"] == 3 and verified["tally_matches"] is True

    bad = cli.run("vote", "show", "0x1234", check=False)
    assert bad.returncode == 1 and bad.stderr.startswith("error: not a referendum id")


def _index(address: str) -> str:
    return str(next(i for i in PARTICIPANTS if _address(i) == address))


def test_make_demo_vote_runs_a_50_voter_referendum(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pnyx.cli.main", "vote", "demo"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "50 intents posted" in result.stdout and "50 votes cast" in result.stdout
    assert "selection ✓, verdict corrected, culprit slots [9]" in result.stdout
    assert "referendum ok" in result.stdout
