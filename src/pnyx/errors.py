"""One exception tree for all of Pnyx.

Every error a user can cause or meet derives from `PnyxError`, so each boundary (CLI, HTTP API,
worker loop) catches one type. Errors that are also ordinary value or lookup errors inherit the
std-lib twin, so `except ValueError` keeps working."""

from __future__ import annotations

from typing import Any


class PnyxError(Exception):
    """Root of every Pnyx error."""


class PnyxInputError(PnyxError, ValueError):
    """A value given by the user is malformed or out of range."""


class ConflictError(PnyxError):
    """The request is valid but clashes with the current state (already done, already exists)."""


class AuthenticationError(PnyxError):
    """A signature or credential is missing, malformed or from the wrong signer."""


class PermissionDeniedError(PnyxError):
    """The caller is known but not allowed this (e.g. a secret asked for by an unattested enclave
    or for a task it does not run); the message says which rule refused."""


class ServiceError(PnyxError):
    """Another service answered with an error or could not be reached."""

    def __init__(
        self, message: str, *, status: int | None = None, error: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error


class PayloadTooLargeError(PnyxInputError):
    """An upload is larger than the service accepts."""


class ConfigError(PnyxError):
    """Configuration is missing or inconsistent."""


class NotFoundError(PnyxError, LookupError):
    """Something asked for by id does not exist."""


class ChainError(PnyxError):
    """The chain or the node could not do what was asked."""


class NodeStartError(ChainError):
    """The local node (anvil) could not be started."""


class ToolchainError(ChainError):
    """A tool the chain layer needs (anvil, compiled artifacts) is missing."""


class TransactionError(ChainError):
    """A transaction was not mined or failed without a decodable reason."""


class WalletError(PnyxError):
    """A keystore file cannot be created, read or unlocked."""


class ContractRevert(ChainError):
    """A contract call reverted with a custom error.

    `name` and `args` are the Solidity error's own; each error of the protocol has a subclass of
    this
    class with the same name in `pnyx.chain.contract_errors`.
    """

    error_name: str = ""

    def __init__(self, args: dict[str, Any] | None = None, name: str | None = None) -> None:
        self.name = name or self.error_name or type(self).__name__
        self.args_by_name: dict[str, Any] = dict(args or {})
        super().__init__(self._message())

    def _message(self) -> str:
        rendered = ", ".join(f"{key}={_render(value)}" for key, value in self.args_by_name.items())
        return f"{self.name}({rendered})"


def _render(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)
