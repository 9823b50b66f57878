"""A TEE task end to end (issue 4): real processes, real anvil, a SIMULATED enclave.

`pnyx run --tag tee --decrypt` buys the statistics app on the encrypted confidential dataset; the
scheduler obtains the task's enclave challenge from the SMS and gives the task to the TEE worker
only; its enclave attests to the SMS, decrypts the dataset, runs the app, seals the result for the
requester and signs it; one contributeAndFinalize; the requester decrypts. Then nothing stored
outside the enclave and the requester — the result store's files, every transaction and log on
the chain — holds the dataset's marker or the plaintext result.
"""

from __future__ import annotations

import importlib.util
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from pnyx.devnet.marketplace import (
    CONFIDENTIAL_DATASET,
    CONFIDENTIAL_MARKER,
    FIRST_WORKER_ACCOUNT,
    PYTHON_APP,
    Marketplace,
    start_marketplace,
)
from tests.e2e.conftest import Cli
from tests.helpers.marketplace import scheduled

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Marketplace]:
    # Two workers: a standard one, and the TEE-capable one that alone may take TEE tasks.
    with start_marketplace(tmp_path_factory.mktemp("tee"), workers=2, tee_workers=1) as running:
        yield running


@pytest.fixture(scope="module")
def tee_run(market: Marketplace, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """(task id, output folder) of one `pnyx run --tag tee --decrypt`."""
    out = tmp_path_factory.mktemp("tee-out")
    cli = Cli(env=_env(market), cwd=out)
    summary = cli.json(
        "run",
        market.assets["tee_app"],
        "--dataset",
        market.assets["confidential_dataset"],
        "--tag",
        "tee",
        "--decrypt",
        "--dev-account",
        "4",
        "--output",
        str(out / "result"),
        "--timeout",
        "120",
    )
    assert summary["status"] == "COMPLETED", summary
    return str(summary["task_id"]), out / "result"


def test_the_requester_decrypts_the_statistics_of_the_confidential_data(
    tee_run: tuple[str, Path],
) -> None:
    _, out = tee_run
    decrypted = json.loads((out / "decrypted" / "result.json").read_text())
    app = _stats_app()
    assert decrypted == app.summarize(app.read_dataset(CONFIDENTIAL_DATASET))
    # What arrived encrypted is only the sealed output and the computed.json naming it.
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == [
        "computed.json",
        "result.zip.enc",
    ]


def test_only_the_tee_worker_ran_it_with_the_tasks_enclave_challenge(
    market: Marketplace, tee_run: tuple[str, Path]
) -> None:
    task_id, _ = tee_run
    view = scheduled(market, task_id)
    assert view is not None and view.state == "COMPLETED"
    tee_worker = market.devnet.accounts[FIRST_WORKER_ACCOUNT + 1].address
    assert [r.worker for r in view.replicates] == [tee_worker]
    (contributed,) = market.devnet.protocol.task_events(task_id, "TaskContributed")
    assert int(contributed["enclaveChallenge"], 16) != 0


def test_no_plaintext_reaches_the_result_store_or_the_chain(
    market: Marketplace, tee_run: tuple[str, Path]
) -> None:
    _, out = tee_run
    plaintext_result = (out / "decrypted" / "result.json").read_bytes().strip()
    secrets = [CONFIDENTIAL_MARKER, plaintext_result, b'"count"']

    stored = list((market.home / "results").rglob("*.zip"))
    assert stored, "the result store holds the archive"
    for path in stored:
        raw = path.read_bytes()
        with zipfile.ZipFile(path) as archive:
            assert sorted(archive.namelist()) == ["computed.json", "result.zip.enc"]
            contents = [archive.read(name) for name in archive.namelist()]
        for secret in secrets:
            assert secret not in raw and all(secret not in c for c in contents), secret

    chain = market.devnet.client
    w3 = chain.w3
    for number in range(w3.eth.block_number + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            data = bytes(tx["input"])
            receipt = w3.eth.get_transaction_receipt(tx["hash"])
            logs = b"".join(bytes(log["data"]) for log in receipt["logs"])
            for secret in secrets:
                assert secret not in data and secret not in logs, (number, secret)


def test_the_encrypted_dataset_file_hides_the_marker(market: Marketplace) -> None:
    encrypted = (market.home / "tee" / "confidential.csv.enc").read_bytes()
    assert CONFIDENTIAL_MARKER in CONFIDENTIAL_DATASET.read_bytes()
    assert CONFIDENTIAL_MARKER not in encrypted


def _env(market: Marketplace) -> dict[str, str]:
    env = {
        **os.environ,
        "PNYX_HOME": str(market.home),
        "PNYX_CHAIN_URL": market.devnet.node.url,
        "PNYX_CHAIN_DEPLOYMENT": str(market.home / "deployment.json"),
        "PNYX_MARKET_URL": market.urls["market"],
        "PNYX_SMS_URL": market.urls["sms"],
        "COLUMNS": "200",
    }
    env.pop("PNYX_WALLET_PRIVATE_KEY", None)
    return env


def _stats_app() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stats_app", PYTHON_APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
