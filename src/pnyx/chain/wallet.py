"""Encrypted keystore files (the Web3 Secret Storage format, scrypt + AES-128-CTR) for CLI users."""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from pnyx.errors import WalletError
from pnyx.types import Address


def wallet_path(directory: Path, name: str) -> Path:
    if not name or "/" in name or name.startswith("."):
        raise WalletError(f"invalid wallet name {name!r}")
    return directory / f"{name}.json"


def save_wallet(directory: Path, name: str, account: LocalAccount, password: str) -> Path:
    """Encrypts `account` with `password` into `<directory>/<name>.json` (never overwrites)."""
    path = wallet_path(directory, name)
    if path.exists():
        raise WalletError(f"wallet {name!r} already exists at {path}")
    if not password:
        raise WalletError("a wallet needs a non-empty password")
    keystore = Account.encrypt(account.key, password)
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(keystore, handle)
    return path


def load_wallet(directory: Path, name: str, password: str) -> LocalAccount:
    path = wallet_path(directory, name)
    try:
        keystore = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise WalletError(f"no wallet {name!r} (looked for {path})") from exc
    except json.JSONDecodeError as exc:
        raise WalletError(f"wallet file {path} is not a keystore") from exc
    try:
        key = Account.decrypt(keystore, password)
    except ValueError as exc:
        raise WalletError(f"wrong password for wallet {name!r}") from exc
    account: LocalAccount = Account.from_key(key)
    return account


def wallet_address(directory: Path, name: str) -> Address:
    """The address of a wallet, read without its password."""
    path = wallet_path(directory, name)
    try:
        keystore = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise WalletError(f"no wallet {name!r} (looked for {path})") from exc
    return Address(to_checksum_address("0x" + keystore["address"]))


def list_wallets(directory: Path) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.json")) if directory.is_dir() else []
