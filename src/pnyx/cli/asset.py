"""`pnyx app|dataset|workerpool deploy|show`: the registries; and `pnyx dataset encrypt|push-secret|
check-secret`, what makes a dataset confidential (readable only inside TEE tasks)."""

from __future__ import annotations

from pathlib import Path

import typer

from pnyx.cli._context import (
    DeploymentOption,
    DevAccountOption,
    RpcOption,
    SmsOption,
    WalletOption,
    connect,
    output,
    signer,
    sms_url,
)
from pnyx.clients.sms import SmsClient
from pnyx.domain._hex import to_address, to_bytes, to_hex32
from pnyx.sdk.confidential import encrypt_dataset, push_dataset_secret, read_key_file

app_cli = typer.Typer(help="Register and inspect apps.", no_args_is_help=True)
dataset_cli = typer.Typer(help="Register, inspect and encrypt datasets.", no_args_is_help=True)
workerpool_cli = typer.Typer(help="Register and inspect workerpools.", no_args_is_help=True)

AddressArgument = typer.Argument(..., help="The asset's address")


@app_cli.command("deploy")
def deploy_app(
    ctx: typer.Context,
    name: str = typer.Option(..., help="App name"),
    multiaddr: str = typer.Option(..., help="Where workers download the app (URL)"),
    checksum: str = typer.Option(..., help="sha256 of the app file, 0x-hex"),
    app_type: str = typer.Option("WASM", "--type", help="WASM or BINARY"),
    mrenclave: str = typer.Option("", help="Enclave measurement for TEE apps, 0x-hex"),
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Register an app; you receive its NFT."""
    protocol, key = connect(rpc, deployment), signer(wallet, dev_account)
    address = protocol.create_app(
        key,
        name=name,
        app_type=app_type,
        multiaddr=multiaddr,
        checksum=to_hex32(checksum),
        mrenclave=to_bytes(mrenclave) if mrenclave else b"",
    )
    output(ctx).emit(protocol.app(address), title="app")


@app_cli.command("show")
def show_app(
    ctx: typer.Context,
    address: str = AddressArgument,
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
) -> None:
    """Show a registered app."""
    output(ctx).emit(connect(rpc, deployment).app(to_address(address)), title="app")


@dataset_cli.command("deploy")
def deploy_dataset(
    ctx: typer.Context,
    name: str = typer.Option(..., help="Dataset name"),
    multiaddr: str = typer.Option(..., help="Where workers download the dataset (URL)"),
    checksum: str = typer.Option(..., help="sha256 of the (encrypted) dataset file, 0x-hex"),
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Register a dataset; you receive its NFT."""
    protocol, key = connect(rpc, deployment), signer(wallet, dev_account)
    address = protocol.create_dataset(
        key, name=name, multiaddr=multiaddr, checksum=to_hex32(checksum)
    )
    output(ctx).emit(protocol.dataset(address), title="dataset")


@dataset_cli.command("show")
def show_dataset(
    ctx: typer.Context,
    address: str = AddressArgument,
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
) -> None:
    """Show a registered dataset."""
    output(ctx).emit(connect(rpc, deployment).dataset(to_address(address)), title="dataset")


@dataset_cli.command("encrypt")
def encrypt_file(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The clear dataset file"),
    out: Path = typer.Option(None, "--out", help="Where to write it (default FILE.enc)"),
    key_file: Path = typer.Option(
        None, "--key-file", help="Where to write the key (default FILE.key, mode 0600)"
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing key file"),
) -> None:
    """Encrypt a dataset file with a new AES-256 key; register the checksum it prints."""
    encrypted = encrypt_dataset(file, out, key_file=key_file, overwrite=force)
    out_ = output(ctx)
    out_.emit(encrypted.as_json(), title="encrypted dataset")
    out_.message(
        f"next: publish {encrypted.path.name}, `pnyx dataset deploy --checksum "
        f"{encrypted.checksum} …`, then `pnyx dataset push-secret DATASET --key-file "
        f"{encrypted.key_file}`"
    )


@dataset_cli.command("push-secret")
def push_secret(
    ctx: typer.Context,
    dataset: str = typer.Argument(..., help="The registered dataset's address"),
    key_file: Path = typer.Option(..., "--key-file", help="Its key file (from `dataset encrypt`)"),
    sms: str = SmsOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Give the dataset's key to the SMS, for attested enclaves only; sign as the dataset owner."""
    address, key = to_address(dataset), read_key_file(key_file)
    owner, url = signer(wallet, dev_account), sms_url(sms)
    client = SmsClient(url)
    try:
        push_dataset_secret(client, owner, address, key)
    finally:
        client.close()
    output(ctx).emit({"dataset": address, "owner": owner.address, "sms": url, "pushed": True})


@dataset_cli.command("check-secret")
def check_secret(
    ctx: typer.Context,
    dataset: str = typer.Argument(..., help="The registered dataset's address"),
    sms: str = SmsOption,
) -> None:
    """Tell whether the SMS holds the dataset's key (exit code 1 if not)."""
    address, url = to_address(dataset), sms_url(sms)
    client = SmsClient(url)
    try:
        present = client.has_dataset_key(address)
    finally:
        client.close()
    output(ctx).emit({"dataset": address, "sms": url, "secret": present})
    if not present:
        raise typer.Exit(1)


@workerpool_cli.command("deploy")
def deploy_workerpool(
    ctx: typer.Context,
    description: str = typer.Option(..., help="What the pool offers"),
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
    wallet: str = WalletOption,
    dev_account: int = DevAccountOption,
) -> None:
    """Register a workerpool (you become its scheduler); policy: stake 30 %, scheduler 1 %."""
    protocol, key = connect(rpc, deployment), signer(wallet, dev_account)
    address = protocol.create_workerpool(key, description=description)
    output(ctx).emit(protocol.workerpool(address), title="workerpool")


@workerpool_cli.command("show")
def show_workerpool(
    ctx: typer.Context,
    address: str = AddressArgument,
    rpc: str = RpcOption,
    deployment: Path = DeploymentOption,
) -> None:
    """Show a registered workerpool and its policy."""
    output(ctx).emit(connect(rpc, deployment).workerpool(to_address(address)), title="workerpool")
