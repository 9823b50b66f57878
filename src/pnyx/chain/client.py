"""A connection to one EVM node: locally signed transactions with nonce management, reads,
deployment and the node's test controls (snapshot, revert, time travel).

Every revert, whether found while estimating gas, calling, or in a mined receipt, is raised as the
named `ContractRevert` of `pnyx.chain.contract_errors`."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import requests
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError
from web3.logs import DISCARD
from web3.types import EventData, TxReceipt

from pnyx.chain.artifacts import Artifact
from pnyx.chain.reverts import from_web3_error
from pnyx.errors import ChainError, TransactionError

_GAS_MARGIN = 1.2
_ESTIMATE_ATTEMPTS = 3
_ESTIMATE_RETRY_S = 0.25
RECEIPT_POLL_FIRST_S = 0.01
RECEIPT_POLL_MAX_S = 0.2
# View calls: a node error is retried this many times in all, waiting CALL_RETRY_S × attempt.
CALL_ATTEMPTS = 3
CALL_RETRY_S = 0.1


@dataclass(frozen=True)
class PreparedTransaction:
    """A signed transaction not yet sent: its hash is final, so it can be recorded first."""

    tx_hash: str
    raw: bytes
    sender: str


_PRIORITY_FEE_WEI = 1_000_000_000


class ChainClient:
    """Talks to one node over JSON-RPC (HTTP)."""

    def __init__(
        self, url: str, *, request_timeout_s: float = 30.0, receipt_timeout_s: float = 120.0
    ) -> None:
        self.url = url
        session = requests.Session()
        # A node on this machine is never behind a proxy; requests would otherwise scan the
        # environment for proxy settings on every call (a fifth of a test run's time).
        session.trust_env = urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1")
        self.w3 = Web3(
            Web3.HTTPProvider(url, request_kwargs={"timeout": request_timeout_s}, session=session)
        )
        self.receipt_timeout_s = receipt_timeout_s
        try:
            self.chain_id: int = self.w3.eth.chain_id
        except (OSError, Web3RPCError) as exc:
            raise ChainError(f"no EVM node answers at {url}: {exc}") from exc
        self._nonces: dict[str, int] = {}
        self._lock = threading.Lock()
        self._fees: tuple[float, int] | None = None

    # ─── Contracts ───
    def contract(self, address: str, abi: list[dict[str, Any]]) -> Contract:
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)

    def deploy(self, account: LocalAccount, artifact: Artifact, *args: Any) -> str:
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self.transact(account, factory.constructor(*args))
        address = receipt["contractAddress"]
        if not address:
            raise TransactionError(f"deploying {artifact.name} created no contract")
        return str(address)

    # ─── Transactions ───
    def transact(
        self, account: LocalAccount, fn: Any, *, gas: int | None = None, value: int = 0
    ) -> TxReceipt:
        """Signs `fn` (a contract function or constructor call) with `account`, sends it and
        waits for its receipt. Raises the named ContractRevert if it would revert or did."""
        sender = account.address
        base: dict[str, Any] = {"from": sender, "value": value, "chainId": self.chain_id}
        if gas is None:
            gas = self._estimate(fn, base)
        max_fee, priority = self._fee_caps()
        with self._lock:
            nonce = self._next_nonce(sender)
            tx = fn.build_transaction(
                {
                    **base,
                    "gas": gas,
                    "nonce": nonce,
                    "maxFeePerGas": max_fee,
                    "maxPriorityFeePerGas": priority,
                }
            )
            signed = account.sign_transaction(tx)
            try:
                tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            except Web3RPCError as exc:
                self._nonces.pop(sender, None)
                raise TransactionError(f"node refused the transaction: {exc}") from exc
            self._nonces[sender] = nonce + 1
        receipt = self.wait_for_receipt(tx_hash)
        if receipt["status"] != 1:
            raise self._revert_of(tx, receipt)
        return receipt

    def _estimate(self, fn: Any, base: dict[str, Any]) -> int:
        """Gas with a margin; a revert raises its named error at once. A node error is retried a
        few times: estimation is read-only, and a node producing a block can briefly answer that
        the block it was asked about is out of range (seen with anvil under load)."""
        for attempt in range(_ESTIMATE_ATTEMPTS):
            try:
                return int(fn.estimate_gas(base) * _GAS_MARGIN)
            except ContractLogicError as exc:
                raise from_web3_error(exc) from None
            except (Web3RPCError, OSError) as exc:
                if attempt + 1 == _ESTIMATE_ATTEMPTS:
                    raise ChainError(f"gas estimation failed: {exc}") from exc
                time.sleep(_ESTIMATE_RETRY_S * (attempt + 1))
        raise AssertionError("unreachable")

    def send_ether(self, account: LocalAccount, to: str, wei: int) -> TxReceipt:
        """A plain ether transfer (gas money for a new account), through the same nonce and fee
        handling as every other transaction."""
        return self.transact(account, _PlainTransfer(Web3.to_checksum_address(to)), value=wei)

    def prepare(
        self, account: LocalAccount, fn: Any, *, gas: int, value: int = 0
    ) -> PreparedTransaction:
        """Signs `fn` with the next nonce without sending it, so its hash can be recorded first
        (services that must never send the same action twice store the hash, then broadcast)."""
        sender = account.address
        max_fee, priority = self._fee_caps()
        with self._lock:
            nonce = self._next_nonce(sender)
            tx = fn.build_transaction(
                {
                    "from": sender,
                    "value": value,
                    "chainId": self.chain_id,
                    "gas": gas,
                    "nonce": nonce,
                    "maxFeePerGas": max_fee,
                    "maxPriorityFeePerGas": priority,
                }
            )
            self._nonces[sender] = nonce + 1
        signed = account.sign_transaction(tx)
        return PreparedTransaction(
            tx_hash=HexBytes(signed.hash).to_0x_hex(),
            raw=bytes(signed.raw_transaction),
            sender=sender,
        )

    def broadcast(self, prepared: PreparedTransaction) -> str:
        """Sends a prepared transaction without waiting for it to be mined."""
        try:
            self.w3.eth.send_raw_transaction(prepared.raw)
        except Web3RPCError as exc:
            if "already known" in str(exc) or "AlreadyKnown" in str(exc):
                return prepared.tx_hash
            with self._lock:
                self._nonces.pop(prepared.sender, None)
            raise TransactionError(f"node refused transaction {prepared.tx_hash}: {exc}") from exc
        return prepared.tx_hash

    def send(self, account: LocalAccount, fn: Any, *, gas: int, value: int = 0) -> str:
        """Signs and sends without waiting; returns the transaction hash."""
        return self.broadcast(self.prepare(account, fn, gas=gas, value=value))

    def receipt(self, tx_hash: str) -> TxReceipt | None:
        """The receipt if the transaction is mined, else None (never waits)."""
        try:
            return self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
        except TransactionNotFound:
            return None

    def is_known(self, tx_hash: str) -> bool:
        """Whether the node knows the transaction (pending or mined)."""
        try:
            self.w3.eth.get_transaction(HexBytes(tx_hash))
        except TransactionNotFound:
            return False
        return True

    def failure(self, tx_hash: str) -> ChainError:
        """Why a mined transaction failed, replayed as a call at its block."""
        tx = self.w3.eth.get_transaction(HexBytes(tx_hash))
        receipt = self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
        call = {
            "from": tx["from"],
            "to": tx["to"],
            "data": tx["input"],
            "value": tx["value"],
            "gas": tx["gas"],
        }
        return self._revert_of(call, receipt)

    def wait_for_receipt(self, tx_hash: HexBytes | bytes) -> TxReceipt:
        """Polls for the receipt, quickly at first (automine answers at once), then backing off
        to RECEIPT_POLL_MAX_S: with real block times a busy process would otherwise spend its CPU
        asking for receipts that cannot exist before the next block."""
        deadline = time.monotonic() + self.receipt_timeout_s
        pause = RECEIPT_POLL_FIRST_S
        while True:
            try:
                return self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
            except TransactionNotFound:
                pass
            except (Web3RPCError, OSError) as exc:
                raise ChainError(f"cannot read a receipt: {exc}") from exc
            if time.monotonic() > deadline:
                raise TransactionError(
                    f"transaction {HexBytes(tx_hash).to_0x_hex()} not mined in time"
                )
            time.sleep(pause)
            pause = min(pause * 1.5, RECEIPT_POLL_MAX_S)

    def call(self, fn: ContractFunction, *, sender: str | None = None) -> Any:
        """Calls a view (or simulates a transaction) and decodes any revert.

        A node error is retried (CALL_ATTEMPTS in all): a call changes nothing, and anvil mining on
        an interval briefly answers "BlockOutOfRangeError" for a head it is still sealing."""
        for attempt in range(CALL_ATTEMPTS):
            try:
                return fn.call({"from": sender} if sender else {})
            except ContractLogicError as exc:
                raise from_web3_error(exc) from None
            except (Web3RPCError, OSError) as exc:
                if attempt + 1 == CALL_ATTEMPTS:
                    raise ChainError(f"call to {fn.fn_name} failed: {exc}") from exc
                time.sleep(CALL_RETRY_S * (attempt + 1))
        raise AssertionError("unreachable")

    # ─── Events ───
    @staticmethod
    def events(contract: Contract, event_name: str, receipt: TxReceipt) -> list[EventData]:
        """The `event_name` logs `contract` emitted in `receipt` (other contracts' logs ignored)."""
        event = contract.events[event_name]()
        return list(event.process_receipt(receipt, errors=DISCARD))

    # ─── Node controls (anvil and other dev nodes) ───
    def snapshot(self) -> str:
        return str(self.w3.provider.make_request("evm_snapshot", [])["result"])  # type: ignore[arg-type]

    def revert(self, snapshot_id: str) -> None:
        response = self.w3.provider.make_request("evm_revert", [snapshot_id])  # type: ignore[arg-type]
        if not response.get("result"):
            raise ChainError(f"could not revert to snapshot {snapshot_id}")
        self._nonces.clear()

    def increase_time(self, seconds: int) -> None:
        self.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        self.mine()

    def mine(self) -> None:
        self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    def timestamp(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def block_number(self) -> int:
        try:
            return int(self.w3.eth.block_number)
        except (Web3RPCError, OSError) as exc:
            raise ChainError(f"cannot read the block number: {exc}") from exc

    # ─── Private ───
    def _next_nonce(self, sender: str) -> int:
        if sender not in self._nonces:
            self._nonces[sender] = self.w3.eth.get_transaction_count(
                Web3.to_checksum_address(sender), "pending"
            )
        return self._nonces[sender]

    def _fee_caps(self) -> tuple[int, int]:
        """(maxFeePerGas, maxPriorityFeePerGas): twice the latest base fee plus the tip,
        refreshed at most once a second."""
        now = time.monotonic()
        if self._fees is None or now - self._fees[0] > 1.0:
            base_fee = int(self.w3.eth.get_block("latest").get("baseFeePerGas", 0))
            self._fees = (now, base_fee)
        return 2 * self._fees[1] + _PRIORITY_FEE_WEI, _PRIORITY_FEE_WEI

    def _revert_of(self, tx: dict[str, Any], receipt: TxReceipt) -> ChainError:
        """Replays a failed transaction as a call at its block to learn why it reverted."""
        call = {key: tx[key] for key in ("from", "to", "data", "value", "gas") if key in tx}
        try:
            self.w3.eth.call(call, receipt["blockNumber"])  # type: ignore[arg-type]
        except ContractLogicError as exc:
            return from_web3_error(exc)
        except Web3RPCError as exc:
            return TransactionError(
                f"transaction {receipt['transactionHash'].to_0x_hex()} failed: {exc}"
            )
        return TransactionError(
            f"transaction {receipt['transactionHash'].to_0x_hex()} failed (out of gas?)"
        )


@dataclass(frozen=True)
class _PlainTransfer:
    """A value transfer in the shape `transact` sends: what a contract call offers
    (`estimate_gas`, `build_transaction`), with no data."""

    to: str

    def estimate_gas(self, _transaction: dict[str, Any]) -> int:
        return 21_000

    def build_transaction(self, transaction: dict[str, Any]) -> dict[str, Any]:
        return {**transaction, "to": self.to, "data": "0x"}
