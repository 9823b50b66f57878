"""Gas per task, Pnyx vs iExec PoCo v6.2.0, on the scenarios of reference/poco.md §2.3.

Same parameters as the iExec measurement: app 1, dataset 2, workerpool 10 tokens (9 decimals);
category 0; a 125-byte JSON `params`; a 52-byte "/ipfs/Qm…" result; no callback; 65-byte EOA
signatures; anvil with its defaults (hardfork prague, 30M block gas limit, automine). Every scenario
runs twice with fresh orders and the same accounts; the second ("warm") run is the one compared, as
in the reference, where the requester's and scheduler's locked balances and the providers' balances
are already non-zero. The iExec figures are the reference's warm figures, measured the same way.

Writes benchmarks/results/gas.json, a PNG chart, and appends a section to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.table import Table

from _results import RESULTS_DIR, append_section, write_json
from pnyx.chain.client import ChainClient
from pnyx.chain.deploy import deploy_protocol
from pnyx.chain.node import DEV_MNEMONIC, AnvilNode
from pnyx.chain.protocol import MatchedDeal, Protocol
from pnyx.chain.signing import dev_account, sign_authorization, sign_enclave_result
from pnyx.domain.orders import DatasetOrder
from pnyx.domain.task import digest_of_file, result_hash, result_seal
from pnyx.sdk import Provider, Requester
from pnyx.types import NANO_PER_TOKEN, ZERO_ADDRESS

TOKEN = NANO_PER_TOKEN
APP_PRICE, DATASET_PRICE, WORKERPOOL_PRICE = 1 * TOKEN, 2 * TOKEN, 10 * TOKEN
PARAMS = (
    '{"iexec_args":"--input data.csv --output result.json --model linear '
    '--epochs 10 --seed 42 --format json --verbose 3 --x 123"}'
)
RESULTS = b"/ipfs/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"
DIGEST = digest_of_file(b"deterministic output")
assert len(PARAMS) == 125 and len(RESULTS) == 52

# reference/poco.md §2.3, warm run (the bag of 100 is derived from the same per-transaction
# figures: match once, initializeArray at 174,906 per task, then contribute, reveal, finalize).
IEXEC = {
    "A": 1_854_914,
    "B": 2_635_172,
    "C": 1_906_164,
    "D": 1_584_037,
    "E": 3_407_663,
    "F": 1_578_199,
    "H10": 1_049_000,
    "H100": (832_679 + 100 * 174_906 + 100 * (399_104 + 93_455 + 298_589)) // 100,
    "J-claim": 170_882,
    "J-initializeAndClaim": 283_066,
}
# Acceptance targets of the protocol milestone (issue 2).
TARGETS = {"A": 620_000, "replica": 130_000, "F": 350_000, "H100": 300_000}
# … and of the TEE milestone (issue 4).
TARGETS["F-TEE"] = 350_000


@dataclass
class Run:
    scenario: str
    description: str
    transactions: dict[str, int]
    tasks: int = 1

    @property
    def gas_per_task(self) -> int:
        return sum(self.transactions.values()) // self.tasks


class Bench:
    """One chain with the protocol deployed and its cast of accounts."""

    def __init__(self, client: ChainClient) -> None:
        keys = [dev_account(i, DEV_MNEMONIC) for i in range(12)]
        self.owner, app_dev, dataset_owner, scheduler, requester, *self.workers = keys
        self.client = client
        self.protocol = Protocol(client, deploy_protocol(client, self.owner))
        for key in keys[1:]:
            self.protocol.transfer_tokens(self.owner, key.address, 100_000 * TOKEN)
            self.protocol.approve(key, 2**255)
            self.protocol.deposit(key, 50_000 * TOKEN)
        self.app_provider = Provider(self.protocol, app_dev)
        self.dataset_provider = Provider(self.protocol, dataset_owner)
        self.pool = Provider(self.protocol, scheduler)
        self.scheduler = scheduler
        self.requester = Requester(self.protocol, requester)
        self.app = self.app_provider.register_app("bench-app", "ipfs://app", "0x" + "11" * 32)
        self.dataset = self.dataset_provider.register_dataset(
            "bench-data", "ipfs://data", "0x" + "22" * 32
        )
        self.workerpool = self.pool.register_workerpool("bench pool")

    def match(
        self,
        *,
        trust: int = 1,
        volume: int = 1,
        dataset: bool = True,
        tee: bool = False,
        params: str = PARAMS,
    ) -> tuple[MatchedDeal, int]:
        tags = ("tee",) if tee else ()
        app = self.app_provider.app_order(self.app, APP_PRICE, volume=volume, tags=tags)
        pool = self.pool.workerpool_order(
            self.workerpool, WORKERPOOL_PRICE, volume=volume, trust=trust, tags=tags
        )
        data: DatasetOrder | None = None
        if dataset:
            data = self.dataset_provider.dataset_order(self.dataset, DATASET_PRICE, volume=volume)
        request = self.requester.request_order(
            self.app,
            app_max_price=APP_PRICE,
            dataset=self.dataset if dataset else ZERO_ADDRESS,
            dataset_max_price=DATASET_PRICE if dataset else 0,
            workerpool_max_price=WORKERPOOL_PRICE,
            volume=volume,
            trust=trust,
            tags=tags,
            params=params,
        )
        matched, receipt = self.protocol.match_orders(
            self.requester.account, app, data, pool, request
        )
        return matched, int(receipt["gasUsed"])

    def contribute(
        self,
        worker: LocalAccount,
        task_id: str,
        matched: MatchedDeal,
        enclave: LocalAccount | None = None,
    ) -> int:
        challenge = enclave.address if enclave else ZERO_ADDRESS
        hash_, seal = result_hash(task_id, DIGEST), result_seal(worker.address, task_id, DIGEST)
        receipt = self.protocol.contribute(
            worker,
            task_id,
            matched.deal,
            hash_,
            seal,
            sign_authorization(self.scheduler, worker.address, task_id, challenge),
            enclave_challenge=challenge,
            enclave_sign=sign_enclave_result(enclave, hash_, seal) if enclave else b"",
        )
        return int(receipt["gasUsed"])

    def gas(self, receipt: object) -> int:
        return int(receipt["gasUsed"])  # type: ignore[index]


def replicated(
    bench: Bench, name: str, workers: int, trust: int, *, reveal_all: bool, **match: object
) -> Run:
    tx: dict[str, int] = {}
    matched, tx["matchOrders"] = bench.match(trust=trust, **match)  # type: ignore[arg-type]
    task_id = matched.task_ids[0]
    tx["initialize"] = bench.gas(
        bench.protocol.initialize(bench.scheduler, matched.deal_id, matched.deal.bot_first)
    )
    enclave = dev_account(19, DEV_MNEMONIC) if match.get("tee") else None
    for i, worker in enumerate(bench.workers[:workers]):
        tx[f"contribute #{i + 1}"] = bench.contribute(worker, task_id, matched, enclave)
    if reveal_all:
        tx["revealAll"] = bench.gas(bench.protocol.reveal_all(bench.workers[0], task_id, DIGEST))
    else:
        for i, worker in enumerate(bench.workers[:workers]):
            tx[f"reveal #{i + 1}"] = bench.gas(bench.protocol.reveal(worker, task_id, DIGEST))
    tx["finalize"] = bench.gas(
        bench.protocol.finalize(bench.scheduler, task_id, matched.deal, RESULTS)
    )
    return Run(name, "", tx)


def fast_path(bench: Bench, *, tee: bool = False) -> Run:
    """Trust 1 in one transaction; with `tee`, a TEE deal whose result the enclave signs."""
    tx: dict[str, int] = {}
    matched, tx["matchOrders"] = bench.match(tee=tee)
    task_id = matched.task_ids[0]
    tx["initialize"] = bench.gas(
        bench.protocol.initialize(bench.scheduler, matched.deal_id, matched.deal.bot_first)
    )
    worker = bench.workers[0]
    enclave = dev_account(19, DEV_MNEMONIC) if tee else None
    challenge = enclave.address if enclave else ZERO_ADDRESS
    authorization = sign_authorization(bench.scheduler, worker.address, task_id, challenge)
    enclave_sign = b""
    if enclave is not None:
        enclave_sign = sign_enclave_result(
            enclave, result_hash(task_id, DIGEST), result_seal(worker.address, task_id, DIGEST)
        )
    receipt = bench.protocol.contribute_and_finalize(
        worker,
        task_id,
        matched.deal,
        DIGEST,
        RESULTS,
        authorization,
        enclave_challenge=challenge,
        enclave_sign=enclave_sign,
    )
    tx["contributeAndFinalize"] = bench.gas(receipt)
    return Run("F-TEE" if tee else "F", "", tx)


def bag(bench: Bench, size: int) -> Run:
    tx: dict[str, int] = {}
    matched, tx["matchOrders"] = bench.match(volume=size)
    deal = matched.deal
    receipt = bench.protocol.initialize_batch(
        bench.scheduler, matched.deal_id, deal.bot_first, size
    )
    tx[f"initializeBatch({size})"] = bench.gas(receipt)
    worker = bench.workers[0]
    totals = {"contribute": 0, "reveal": 0, "finalize": 0}
    for task_id in matched.task_ids:
        totals["contribute"] += bench.contribute(worker, task_id, matched)
        totals["reveal"] += bench.gas(bench.protocol.reveal(worker, task_id, DIGEST))
        totals["finalize"] += bench.gas(
            bench.protocol.finalize(bench.scheduler, task_id, deal, RESULTS)
        )
    tx.update({f"{name} ×{size}": gas for name, gas in totals.items()})
    return Run(f"H{size}", "", tx, tasks=size)


def claims(bench: Bench) -> tuple[Run, Run]:
    matched, _ = bench.match(trust=8)
    task_id = matched.task_ids[0]
    bench.protocol.initialize(bench.scheduler, matched.deal_id, matched.deal.bot_first)
    bench.contribute(bench.workers[0], task_id, matched)
    unstarted, _ = bench.match()
    bench.client.increase_time(matched.deal.final_deadline - bench.client.timestamp() + 1)
    claim = bench.gas(bench.protocol.claim(bench.requester.account, task_id, matched.deal))
    deal = unstarted.deal
    both = bench.protocol.initialize_and_claim_batch(
        bench.requester.account, unstarted.deal_id, deal, deal.bot_first, deal.bot_size
    )
    return Run("J-claim", "", {"claim": claim}), Run(
        "J-initializeAndClaim", "", {"initializeAndClaimBatch(1)": bench.gas(both)}
    )


SCENARIOS: dict[str, tuple[str, Callable[[Bench], Run]]] = {
    "A": (
        "1 worker, trust 1, dataset, 125-byte params",
        lambda b: replicated(b, "A", 1, 1, reveal_all=False),
    ),
    "B": (
        "3 workers, trust 8, each worker reveals (iExec's flow)",
        lambda b: replicated(b, "B", 3, 8, reveal_all=False),
    ),
    "B-revealAll": (
        "3 workers, trust 8, one revealAll (Pnyx's flow)",
        lambda b: replicated(b, "B-revealAll", 3, 8, reveal_all=True),
    ),
    "C": (
        "1 worker, TEE tag, enclave signature",
        lambda b: replicated(b, "C", 1, 1, reveal_all=False, tee=True),
    ),
    "D": (
        "1 worker, no dataset, empty params",
        lambda b: replicated(b, "D", 1, 1, reveal_all=False, dataset=False, params=""),
    ),
    "E": (
        "5 workers, trust 24, each worker reveals",
        lambda b: replicated(b, "E", 5, 24, reveal_all=False),
    ),
    "E-revealAll": (
        "5 workers, trust 24, one revealAll",
        lambda b: replicated(b, "E-revealAll", 5, 24, reveal_all=True),
    ),
    "F": ("match + initialize + contributeAndFinalize (trust 1)", fast_path),
    "F-TEE": (
        "TEE: match + initialize + contributeAndFinalize, enclave-signed result",
        lambda b: fast_path(b, tee=True),
    ),
    "H10": ("bag of 10 tasks, batch initialize, 1 worker each", lambda b: bag(b, 10)),
    "H100": ("bag of 100 tasks, batch initialize, 1 worker each", lambda b: bag(b, 100)),
}
# iExec's contributeAndFinalize is TEE-only: its F figure is the TEE one.
IEXEC_FOR = {"B-revealAll": "B", "E-revealAll": "E", "F-TEE": "F"}


def measure(console: Console) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with AnvilNode(accounts=20) as node:
        bench = Bench(ChainClient(node.url))
        for name, (description, run) in SCENARIOS.items():
            cold, warm = run(bench), run(bench)
            rows.append(_row(name, description, cold, warm))
            console.print(f"  measured {name}: {warm.gas_per_task:,} gas per task")
        cold_claims, warm_claims = claims(bench), claims(bench)
        for cold, warm in zip(cold_claims, warm_claims, strict=True):
            rows.append(
                _row(warm.scenario, "failure path: refund after the final deadline", cold, warm)
            )
    return rows


def _row(name: str, description: str, cold: Run, warm: Run) -> dict[str, object]:
    iexec = IEXEC[IEXEC_FOR.get(name, name)]
    return {
        "scenario": name,
        "description": description,
        "gas_per_task": warm.gas_per_task,
        "gas_per_task_cold": cold.gas_per_task,
        "iexec_gas_per_task": iexec,
        "ratio": round(warm.gas_per_task / iexec, 3),
        "transactions": warm.transactions,
        "tasks": warm.tasks,
    }


def derived(rows: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    gas = {str(r["scenario"]): int(r["gas_per_task"]) for r in rows}  # type: ignore[call-overload]
    per_replica_self = (gas["B"] - gas["A"]) // 2
    per_replica_all = (gas["B-revealAll"] - gas["A"]) // 2
    iexec_replica = (IEXEC["B"] - IEXEC["A"]) // 2
    checks = {
        "A per task": (gas["A"], TARGETS["A"]),
        "extra replica (one revealAll)": (per_replica_all, TARGETS["replica"]),
        "extra replica (each worker reveals)": (per_replica_self, TARGETS["replica"]),
        "F match+initialize+contributeAndFinalize": (gas["F"], TARGETS["F"]),
        "TEE match+initialize+contributeAndFinalize": (gas["F-TEE"], TARGETS["F-TEE"]),
        "H100 per task": (gas["H100"], TARGETS["H100"]),
    }
    out: dict[str, dict[str, object]] = {
        key: {"gas": value, "target": target, "met": value <= target}
        for key, (value, target) in checks.items()
    }
    out["extra replica (one revealAll)"]["iexec"] = iexec_replica
    out["extra replica (each worker reveals)"]["iexec"] = iexec_replica
    return out


def report(
    console: Console, rows: list[dict[str, object]], checks: dict[str, dict[str, object]]
) -> None:
    table = Table(title="Gas per task: Pnyx vs iExec PoCo v6.2.0 (same scenarios, anvil prague)")
    for column in ("scenario", "Pnyx warm", "Pnyx cold", "iExec warm", "Pnyx / iExec"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for row in rows:
        table.add_row(
            f"{row['scenario']}: {row['description']}",
            f"{row['gas_per_task']:,}",
            f"{row['gas_per_task_cold']:,}",
            f"{row['iexec_gas_per_task']:,}",
            f"{row['ratio']:.2f}",
        )
    console.print(table)
    console.print("[bold]Per transaction (warm)[/bold]")
    for row in rows:
        txs = " · ".join(f"{k} {v:,}" for k, v in row["transactions"].items())  # type: ignore[attr-defined]
        console.print(f"  {row['scenario']}: {txs}")
    targets = Table(title="Targets (issue 2)")
    for column in ("figure", "gas", "target", "iExec", "met"):
        targets.add_column(column, justify="left" if column == "figure" else "right")
    for key, check in checks.items():
        met = "[green]yes[/green]" if check["met"] else "[red]no[/red]"
        iexec = f"{check['iexec']:,}" if "iexec" in check else ""
        targets.add_row(key, f"{check['gas']:,}", f"{check['target']:,}", iexec, met)
    console.print(targets)


def plot(rows: list[dict[str, object]], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    names = [str(r["scenario"]) for r in rows]
    ours = [int(r["gas_per_task"]) / 1000 for r in rows]  # type: ignore[call-overload]
    theirs = [int(r["iexec_gas_per_task"]) / 1000 for r in rows]  # type: ignore[call-overload]
    fig, ax = plt.subplots(figsize=(11, 4.5))
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], theirs, width=0.4, label="iExec PoCo v6.2.0", color="#bbbbbb")
    ax.bar([x + 0.2 for x in xs], ours, width=0.4, label="Pnyx", color="#3b6fb6")
    ax.set_xticks(list(xs), names, rotation=30, ha="right")
    ax.set_ylabel("thousand gas per task")
    ax.set_title("Gas per task (warm), same scenarios, anvil prague")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main() -> int:
    console = Console()
    console.print(
        "[bold]bench-gas[/bold]: running the scenarios of reference/poco.md §2.3 on a fresh anvil…"
    )
    rows = measure(console)
    checks = derived(rows)
    report(console, rows, checks)
    write_json("gas.json", rows)
    write_json("gas-targets.json", checks)
    if plot(rows, RESULTS_DIR / "gas.png"):
        console.print(f"chart: {RESULTS_DIR / 'gas.png'}")
    _append_results(rows, checks)
    console.print(f"wrote {RESULTS_DIR / 'gas.json'}")
    return 0


def _append_results(rows: list[dict[str, object]], checks: dict[str, dict[str, object]]) -> None:
    lines = [
        "| scenario | Pnyx gas/task (warm) | iExec | ratio |",
        "|---|---:|---:|---:|",
    ]
    for row in rows:
        cells = (row["scenario"], f"{row['gas_per_task']:,}", f"{row['iexec_gas_per_task']:,}")
        lines.append(f"| {' | '.join(cells)} | {row['ratio']:.2f} |")
    lines.append("")
    for key, check in checks.items():
        verdict = "met" if check["met"] else "MISSED"
        lines.append(f"- {key}: {check['gas']:,} (target {check['target']:,}, {verdict})")
    append_section("bench-gas", lines)


if __name__ == "__main__":
    sys.exit(main())
