"""The scripted end-to-end flow of `make demo`, on an auto-started local chain.

Providers register an app, a dataset and a workerpool and sign their orders; a requester deposits
and matches them at trust 8, which needs three agreeing fresh workers; the scheduler starts the
task and authorizes three worker keys, which each run the app (a word count, computed here in
Python until the workerpool services of the next milestone run real apps), commit their result
hash and seal; one reveal proves all three; the scheduler finalizes. The demo prints the deal, the
completed task, the result and every balance change.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from pnyx.chain.protocol import Protocol
from pnyx.devnet.network import Devnet, start_devnet
from pnyx.domain.task import digest_of_file
from pnyx.domain.views import TaskStatus
from pnyx.sdk import Provider, Requester, Scheduler, Worker
from pnyx.types import NANO_PER_TOKEN, Address

TRUST = 8
APP_PRICE = 1 * NANO_PER_TOKEN
DATASET_PRICE = 2 * NANO_PER_TOKEN
WORKERPOOL_PRICE = 10 * NANO_PER_TOKEN
DEPOSIT = 100 * NANO_PER_TOKEN
STAKE_DEPOSIT = 50 * NANO_PER_TOKEN
TEXT = "the quick brown fox jumps over the lazy dog the fox"


@dataclass(frozen=True)
class DemoOutcome:
    deal_id: str
    task_id: str
    status: TaskStatus
    result: dict[str, int]
    balance_changes: dict[str, tuple[int, int]]


def word_count_app(params: str) -> bytes:
    """The demo's deterministic app: counts words of the `text` parameter."""
    words = json.loads(params)["text"].split()
    counts = {word: words.count(word) for word in sorted(set(words))}
    return json.dumps(counts, sort_keys=True).encode()


def run_demo(console: Console | None = None, devnet: Devnet | None = None) -> DemoOutcome:
    """Runs the flow on `devnet`, or on a fresh one that is stopped afterwards."""
    console = console or Console()
    if devnet is not None:
        return _run(console, devnet)
    console.print("[bold]Starting a local chain (anvil) and deploying the protocol…[/bold]")
    with start_devnet() as fresh:
        console.print(f"  chain {fresh.client.chain_id} at {fresh.node.url}")
        console.print(f"  hub {fresh.deployment.hub}")
        return _run(console, fresh)


def _run(console: Console, devnet: Devnet) -> DemoOutcome:
    protocol = devnet.protocol
    _, app_dev, dataset_owner, scheduler_key, requester_key, *rest = devnet.accounts
    worker_keys = rest[:3]
    app_provider = Provider(protocol, app_dev)
    dataset_provider = Provider(protocol, dataset_owner)
    pool_owner = Provider(protocol, scheduler_key)
    requester = Requester(protocol, requester_key)
    scheduler = Scheduler(protocol, scheduler_key)
    workers = [Worker(protocol, key) for key in worker_keys]
    kitty = protocol.kitty_address()
    roles: dict[str, Address] = {
        "app developer": app_provider.address,
        "dataset owner": dataset_provider.address,
        "scheduler": scheduler.address,
        "requester": requester.address,
        **{f"worker {i + 1}": w.address for i, w in enumerate(workers)},
    }
    step = _stepper(console)

    step("The requester deposits its budget; workers and the scheduler deposit their stakes")
    requester.deposit(DEPOSIT)
    for actor in (scheduler, *workers):
        Requester(protocol, actor.account).deposit(STAKE_DEPOSIT)
    before = _balances(protocol, roles, kitty)

    step("Providers register an app, a dataset and a workerpool")
    app = app_provider.register_app("word-count", "file:///apps/word-count.wasm", "0x" + "ab" * 32)
    dataset = dataset_provider.register_dataset(
        "sentences", "file:///data/sentences.txt", "0x" + "cd" * 32
    )
    workerpool = pool_owner.register_workerpool("demo pool: 3 workers")

    step("Providers sign their orders (EIP-712)")
    app_order = app_provider.app_order(app, APP_PRICE)
    dataset_order = dataset_provider.dataset_order(dataset, DATASET_PRICE)
    pool_order = pool_owner.workerpool_order(workerpool, WORKERPOOL_PRICE, trust=TRUST)

    step(f"The requester signs a request at trust {TRUST} and matches the orders")
    request = requester.request_order(
        app,
        app_max_price=APP_PRICE,
        dataset=dataset,
        dataset_max_price=DATASET_PRICE,
        workerpool_max_price=WORKERPOOL_PRICE,
        trust=TRUST,
        params=json.dumps({"text": TEXT}),
    )
    matched = requester.match(app_order, pool_order, request, dataset_order)
    _show_deal(console, matched.deal_id, matched.deal.as_json())

    step("The scheduler starts the task and authorizes three workers")
    task_id = scheduler.initialize(matched.deal_id, matched.deal.bot_first)
    output = b""
    for i, worker in enumerate(workers):
        authorization = scheduler.authorize(worker.address, task_id)
        output = word_count_app(matched.params)
        worker.contribute(task_id, matched.deal, digest_of_file(output), authorization)
        status = protocol.task(task_id).status.name
        console.print(f"    worker {i + 1} committed its result; task is {status}")

    step("One reveal proves every agreeing worker; the scheduler finalizes")
    digest = digest_of_file(output)
    workers[0].protocol.reveal_all(workers[0].account, task_id, digest)
    results = b"data:application/json;base64," + base64.b64encode(output)
    scheduler.finalize(task_id, matched.deal, results)

    task = protocol.task(task_id)
    finalized = protocol.task_events(task_id, "TaskFinalized", from_block=matched.block_number)
    link = bytes(finalized[0]["results"]).decode()
    result = json.loads(base64.b64decode(link.split(",", 1)[1]))
    console.print(f"\n[bold green]Task {task_id} is {task.status.name}[/bold green]")
    console.print(f"  consensus: {task.consensus_value}  revealed by {task.reveal_count} workers")
    console.print(f"  result: {json.dumps(result)}")

    after = _balances(protocol, roles, kitty)
    changes = {
        name: (after[name][0] - before[name][0], after[name][1] - before[name][1]) for name in after
    }
    _show_balances(console, before, after)
    return DemoOutcome(matched.deal_id, task_id, task.status, result, changes)


def _stepper(console: Console) -> Callable[[str], None]:
    counter = iter(range(1, 100))

    def step(text: str) -> None:
        console.print(f"[bold cyan]{next(counter)}.[/bold cyan] {text}")

    return step


def _balances(
    protocol: Protocol, roles: dict[str, Address], kitty: Address
) -> dict[str, tuple[int, int]]:
    balances = {}
    for name, address in {**roles, "kitty": kitty}.items():
        account = protocol.account(address)
        balances[name] = (account.free, account.locked)
    return balances


def _show_deal(console: Console, deal_id: str, record: dict[str, object]) -> None:
    table = Table(title=f"Deal {deal_id}", show_header=False)
    for key in ("app", "dataset", "workerpool", "requester", "trust", "appPrice", "datasetPrice",
                "workerpoolPrice", "workerStake", "botSize", "startTime"):  # fmt: skip
        table.add_row(key, str(record[key]))
    console.print(table)


def _show_balances(
    console: Console, before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]
) -> None:
    table = Table(title="Escrow balances (tokens): free / locked, and their change")
    for column in ("account", "free", "locked", "Δ free", "Δ locked"):
        table.add_column(column, justify="right" if column != "account" else "left")
    for name in after:
        free, locked = after[name]
        delta_free, delta_locked = free - before[name][0], locked - before[name][1]
        table.add_row(
            name, _tokens(free), _tokens(locked), _signed(delta_free), _signed(delta_locked)
        )
    console.print(table)


def _tokens(nano: int) -> str:
    return f"{nano / NANO_PER_TOKEN:,.4f}"


def _signed(nano: int) -> str:
    return ("+" if nano > 0 else "") + _tokens(nano) if nano else "0"
