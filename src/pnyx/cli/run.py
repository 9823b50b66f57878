"""`pnyx run` and `pnyx result get`: buy an execution at market price, get its verified result;
`pnyx result keygen|push-key` and `--decrypt`: results sealed to the beneficiary by a TEE task."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.live import Live
from rich.table import Table

from pnyx.chain.protocol import MatchedDeal, Protocol
from pnyx.cli._context import (
    DeploymentOption,
    DevAccountOption,
    MarketOption,
    RpcOption,
    SmsOption,
    WalletOption,
    connect,
    market_url,
    output,
    signer,
    sms_url,
)
from pnyx.clients.market import MarketClient
from pnyx.clients.sms import SmsClient
from pnyx.config import home_dir
from pnyx.domain._hex import to_address, to_hex32
from pnyx.domain.crypto import box_public_key
from pnyx.errors import PnyxInputError
from pnyx.sdk.confidential import (
    check_result_key,
    load_result_key,
    open_result,
    push_result_key,
    read_key_file,
    result_beneficiary,
    result_keygen,
    write_files,
)
from pnyx.sdk.run import Progress, RunRequest, TaskResult, buy, fetch_result, follow

result_app = typer.Typer(
    help="Download and decrypt results; manage the key TEE results are sealed to.",
    no_args_is_help=True,
)

DECRYPTED_DIR = "decrypted"
DecryptOption = typer.Option(
    False, "--decrypt", help="Decrypt a TEE result (result.zip.enc) into OUTPUT/decrypted"
)
ResultKeyOption = typer.Option(
    None,
    "--key-file",
    help="Private result key [default: the beneficiary's, in $PNYX_HOME/result-keys]",
)


def run(
    ctx: typer.Context,
    app_address: str = typer.Argument(..., metavar="APP", help="The app to run"),
    dataset: str = typer.Option(None, help="A dataset to run it on"),
    workerpool: str = typer.Option(None, help="Only this workerpool"),
    trust: int = typer.Option(
        1, help="Required trust: 1 = one worker; 8 = three agreeing fresh workers"
    ),
    category: int = typer.Option(0, help="Category (0 = XS, 300 s)"),
    args: str = typer.Option("", "--args", help="The app's arguments"),
    input_file: list[str] = typer.Option(
        [], "--input-file", help="URL of an input file (repeatable)"
    ),
    callback: str = typer.Option(None, help="EIP-1154 consumer contract"),
    tag: list[str] = typer.Option([], "--tag", help="Required tag (tee, gpu…)"),
    watch: bool = typer.Option(True, "--watch/--no-watch", help="Follow the task to its result"),
    out: Path = typer.Option(
        None, "--output", help="Where to extract the result (default ./pnyx-results/TASK)"
    ),
    timeout: float = typer.Option(600, help="Seconds to wait for the result"),
    decrypt: bool = DecryptOption,
    key_file: Path = ResultKeyOption,
    market: str = MarketOption,
    sms: str = typer.Option(
        None, "--sms", help="SMS to check the result key at before buying, with --decrypt"
    ),
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Buy one execution of APP at market price, then follow it to its verified result."""
    protocol, key = connect(rpc, deployment), signer(wallet, dev_account)
    private_key: bytes | None = None
    if decrypt:  # before paying: a result nobody can open is worth nothing
        if not watch:
            raise PnyxInputError("--decrypt needs --watch: use `pnyx result get TASK --decrypt`")
        private_key = (
            read_key_file(key_file) if key_file else load_result_key(home_dir(), key.address)
        )
        _check_sms_key(sms, key.address, private_key)
    request = RunRequest(
        app=to_address(app_address),
        dataset=to_address(dataset) if dataset else None,
        workerpool=to_address(workerpool) if workerpool else None,
        trust=trust,
        category=category,
        args=args,
        input_files=tuple(input_file),
        callback=to_address(callback) if callback else to_address("0x" + "00" * 20),
        tags=tuple(tag),
    )
    client = MarketClient(market_url(market))
    try:
        matched = buy(protocol, client, key, request)
    finally:
        client.close()
    task_id = matched.task_ids[0]
    out_ = output(ctx)
    out_.message(f"deal {matched.deal_id}\ntask {task_id}")
    if not watch:
        out_.emit({"deal_id": matched.deal_id, "task_id": task_id})
        return
    view = _follow(ctx, protocol, matched, task_id, timeout)
    if view != "COMPLETED":
        out_.emit({"deal_id": matched.deal_id, "task_id": task_id, "status": view})
        raise typer.Exit(1)
    result = fetch_result(protocol, task_id, from_block=matched.block_number)
    _show_result(ctx, result, out, deal_id=matched.deal_id, private_key=private_key)


@result_app.command("get")
def get(
    ctx: typer.Context,
    task_id: str = typer.Argument(..., help="0x-hex task id"),
    out: Path = typer.Option(
        None, "--output", help="Where to extract it (default ./pnyx-results/TASK)"
    ),
    decrypt: bool = DecryptOption,
    key_file: Path = ResultKeyOption,
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
) -> None:
    """Download a completed task's result archive, check it against the chain and extract it."""
    protocol, task = connect(rpc, deployment), to_hex32(task_id)
    private_key: bytes | None = None
    if decrypt:
        private_key = (
            read_key_file(key_file)
            if key_file
            else load_result_key(home_dir(), result_beneficiary(protocol, task))
        )
    result = fetch_result(protocol, task)
    _show_result(ctx, result, out, private_key=private_key)


@result_app.command("keygen")
def keygen(
    ctx: typer.Context,
    force: bool = typer.Option(False, "--force", help="Replace the stored key (old results lost)"),
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Make the key pair your TEE results are sealed to; the private key stays in $PNYX_HOME."""
    beneficiary = signer(wallet, dev_account).address
    path, public = result_keygen(home_dir(), beneficiary, force=force)
    out_ = output(ctx)
    out_.emit(
        {"beneficiary": beneficiary, "key_file": str(path), "public_key": "0x" + public.hex()},
        title="result key",
    )
    out_.message("next: `pnyx result push-key` so that enclaves seal your results to it")


@result_app.command("push-key")
def push_key(
    ctx: typer.Context,
    replace: bool = typer.Option(False, "--replace", help="Replace the key the SMS holds"),
    sms: str = SmsOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Give the SMS the public half of your stored result key."""
    account, url = signer(wallet, dev_account), sms_url(sms)
    public = box_public_key(load_result_key(home_dir(), account.address))
    client = SmsClient(url)
    try:
        push_result_key(client, account, public, replace=replace)
    finally:
        client.close()
    output(ctx).emit(
        {"beneficiary": account.address, "public_key": "0x" + public.hex(), "sms": url},
        title="result key pushed",
    )


def _follow(
    ctx: typer.Context, protocol: Protocol, matched: MatchedDeal, task_id: str, timeout: float
) -> str:
    out = output(ctx)
    if out.as_json:
        return follow(protocol, matched, task_id, timeout_s=timeout).status.name
    with Live(
        _progress_table(Progress(task_id)), console=out.console, refresh_per_second=8
    ) as live:
        view = follow(
            protocol,
            matched,
            task_id,
            timeout_s=timeout,
            on_progress=lambda progress: live.update(_progress_table(progress)),
        )
    if not out.console.is_terminal:
        out.console.line()  # Live leaves its last frame unterminated when not on a terminal
    return view.status.name


def _progress_table(progress: Progress) -> Table:
    table = Table(
        title=f"task {progress.task_id[:18]}…  {progress.elapsed_s:5.1f} s", show_header=False
    )
    table.add_row("on chain", progress.chain_status)
    table.add_row("scheduler", progress.scheduler_state)
    for worker, state in progress.replicates.items():
        table.add_row(f"worker {worker[:10]}…", state)
    return table


def _check_sms_key(url: str | None, beneficiary: str, private_key: bytes) -> None:
    """Checks the SMS seals results to `private_key`, when an SMS is known at all."""
    try:
        chosen = sms_url(url)
    except PnyxInputError:
        return  # no SMS configured: nothing to check against here
    client = SmsClient(chosen)
    try:
        check_result_key(client, beneficiary, private_key)
    finally:
        client.close()


def _show_result(
    ctx: typer.Context,
    result: TaskResult,
    out: Path | None,
    *,
    deal_id: str | None = None,
    private_key: bytes | None = None,
) -> None:
    folder = out or Path("pnyx-results") / result.task_id
    folder.mkdir(parents=True, exist_ok=True)
    write_files(folder, result.files)
    summary: dict[str, object] = {
        "task_id": result.task_id,
        "status": result.status.name,
        "digest": result.digest,
        "archive": result.link,
        "extracted_to": str(folder),
        "files": sorted(result.files),
    }
    if deal_id:
        summary["deal_id"] = deal_id
    shown = result.files
    if private_key is not None:
        shown = open_result(result.files, private_key)
        write_files(folder / DECRYPTED_DIR, shown)
        summary["decrypted_to"] = str(folder / DECRYPTED_DIR)
        summary["decrypted_files"] = sorted(shown)
    for name in ("result.json", "error.txt"):
        if name in shown:
            text = shown[name].decode(errors="replace").strip()
            try:
                summary[name] = json.loads(text)
            except ValueError:
                summary[name] = text
    output(ctx).emit(summary, title="result")
