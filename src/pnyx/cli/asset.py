"""`pnyx app|dataset|workerpool deploy|show`: the registries."""

from __future__ import annotations

from pathlib import Path

import typer

from pnyx.cli._context import (
    DeploymentOption,
    DevAccountOption,
    RpcOption,
    WalletOption,
    connect,
    output,
    signer,
)
from pnyx.domain._hex import to_address, to_bytes, to_hex32

app_cli = typer.Typer(help="Register and inspect apps.", no_args_is_help=True)
dataset_cli = typer.Typer(help="Register and inspect datasets.", no_args_is_help=True)
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
