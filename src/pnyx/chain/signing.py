"""Signatures made by local keys: orders (EIP-712), order operations, worker authorizations and
enclave results (EIP-191). Keys never leave the process."""

from __future__ import annotations

from typing import TypeVar

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_typing import Hash32

from pnyx.domain.orders import Eip712Domain, Order, OrderOperation
from pnyx.domain.task import authorization_message, enclave_message
from pnyx.types import ZERO_ADDRESS

_O = TypeVar("_O", bound=Order)


def sign_digest(account: LocalAccount, digest: bytes) -> bytes:
    """A 65-byte signature (r ‖ s ‖ v) of a 32-byte digest, with no prefix (EIP-712 digests)."""
    return bytes(account.unsafe_sign_hash(Hash32(digest)).signature)


def sign_eip191(account: LocalAccount, message32: bytes) -> bytes:
    """A 65-byte EIP-191 ("\\x19Ethereum Signed Message:\\n32") signature of 32 bytes."""
    return bytes(account.sign_message(encode_defunct(primitive=message32)).signature)


def sign_order(account: LocalAccount, order: _O, domain: Eip712Domain) -> _O:
    """The order with its owner's EIP-712 signature."""
    digest = bytes.fromhex(order.digest(domain)[2:])
    return order.with_sign(sign_digest(account, digest))


def sign_order_operation(
    account: LocalAccount, order: Order, operation: OrderOperation, domain: Eip712Domain
) -> bytes:
    return sign_digest(account, order.operation_digest(operation, domain))


def sign_authorization(
    scheduler: LocalAccount, worker: str, task_id: str, enclave_challenge: str = ZERO_ADDRESS
) -> bytes:
    """The scheduler's permission for `worker` to contribute to `task_id` (with that enclave)."""
    return sign_eip191(scheduler, authorization_message(worker, task_id, enclave_challenge))


def sign_enclave_result(enclave: LocalAccount, result_hash: str, result_seal: str) -> bytes:
    """An enclave key's signature vouching for a TEE result."""
    return sign_eip191(enclave, enclave_message(result_hash, result_seal))


def new_account() -> LocalAccount:
    account: LocalAccount = Account.create()
    return account


def account_from_key(private_key: str | bytes) -> LocalAccount:
    account: LocalAccount = Account.from_key(private_key)
    return account


def dev_account(index: int, mnemonic: str) -> LocalAccount:
    """Account `index` of a development mnemonic (anvil's funded accounts)."""
    Account.enable_unaudited_hdwallet_features()
    account: LocalAccount = Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{index}")
    return account


def recover_eip191(message32: bytes, signature: str | bytes) -> str:
    """The address that made an EIP-191 signature of 32 bytes ("" if the signature is malformed)."""
    try:
        raw = (
            bytes.fromhex(signature.removeprefix("0x")) if isinstance(signature, str) else signature
        )
        return str(Account.recover_message(encode_defunct(primitive=message32), signature=raw))
    except Exception:  # noqa: BLE001 - eth_account raises ValidationError, BadSignature, IndexError...
        return ""
