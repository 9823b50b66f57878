"""TEE tasks on the worker: the `Enclave` interface, and its one implementation on this machine, a
**simulated enclave** (no SGX/TDX here; see docs/tee.md for what the simulation does and does not
protect).

An enclave opens a session per task: it generates a fresh X25519 key pair, measures the app it is
about to run, asks its platform for a quote binding (measurement, public key, the SMS's nonce),
and presents the quote to the SMS, which seals the task's secrets to that key only if every rule
holds. Through the session the executor then decrypts the dataset into the task's input folder,
gives the app its secrets, seals the output for the beneficiary and signs the result with the
task's enclave-challenge key — the signature the hub checks instead of replication.

A hardware backend implements `Enclave` (quote from the CPU, keys in enclave memory) and leaves
the SMS, the executor and the chain untouched.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from pnyx.api.schemas.scheduler import Assignment
from pnyx.api.schemas.sms import SessionSecrets
from pnyx.chain.signing import account_from_key, sign_enclave_result
from pnyx.clients.sms import SmsClient
from pnyx.domain import crypto
from pnyx.domain._hex import to_address, to_bytes
from pnyx.domain.archive import (
    COMPUTED_JSON,
    ENCRYPTED_RESULT_NAME,
    OUTPUT_ROOT,
    RESULT_SEAL_CONTEXT,
    Computed,
    build_archive,
)
from pnyx.domain.attestation import (
    PlatformCertificate,
    SimulatedAttestationService,
    SimulatedPlatform,
    measure,
    session_report_data,
)
from pnyx.domain.task import result_hash, result_seal
from pnyx.errors import PnyxError

SESSION_CONTEXT = "pnyx-sms-session"


class EnclaveError(PnyxError):
    """The enclave could not start a session for a task (no attestation, no secrets): the worker
    cannot produce a signed result, so it gives the replicate up."""


class EnclaveSession(ABC):
    """One task inside an attested enclave, holding the secrets the SMS released to it."""

    enclave_challenge: str

    @abstractmethod
    def decrypt_dataset(self, encrypted: Path, target: Path) -> None:
        """Writes the plaintext dataset where the app reads it."""

    @abstractmethod
    def app_env(self) -> dict[str, str]:
        """The app's secrets, as iExec names them (IEXEC_APP_DEVELOPER_SECRET, …)."""

    @abstractmethod
    def seal_output(self, files: dict[str, bytes]) -> dict[str, bytes]:
        """The archive entries that leave the enclave: the output sealed for the beneficiary."""

    @abstractmethod
    def sign(self, task_id: str, worker: str, digest: str) -> bytes:
        """The enclave-challenge key's signature of keccak256(resultHash ‖ resultSeal)."""


class Enclave(ABC):
    technology: str

    @abstractmethod
    def open_session(self, assignment: Assignment, worker: str, app: Path) -> EnclaveSession:
        """Attests to the SMS for this task and returns the session with its secrets."""


class SimulatedEnclave(Enclave):
    """SIMULATED TEE: runs in the worker's process, attested by a simulated platform key."""

    technology = "simulated"

    def __init__(self, platform: SimulatedPlatform, sms: SmsClient) -> None:
        self.platform = platform
        self.sms = sms

    def open_session(self, assignment: Assignment, worker: str, app: Path) -> EnclaveSession:
        private, public = crypto.new_box_keypair()
        measurement = measure(app.read_bytes())
        task_id = assignment.task_id
        try:
            nonce = self.sms.session_nonce(task_id, worker)
            quote = self.platform.quote(
                measurement, public, session_report_data(nonce, task_id, worker, public)
            )
            sealed = self.sms.open_session(
                task_id,
                worker,
                to_bytes(assignment.authorization),
                quote,
                nonce,
                assignment.dataset.address if assignment.dataset else None,
            )
            secrets = SessionSecrets.model_validate_json(
                crypto.open_sealed(private, sealed, context=SESSION_CONTEXT)
            )
        except PnyxError as exc:
            raise EnclaveError(f"ENCLAVE_SESSION_REFUSED: {exc}") from exc
        challenge = account_from_key(secrets.enclave_challenge_key)
        if to_address(challenge.address) != to_address(assignment.enclave_challenge):
            raise EnclaveError(
                f"ENCLAVE_SESSION_REFUSED: the SMS's key {challenge.address} is not the task's "
                f"enclave challenge {assignment.enclave_challenge}"
            )
        return _SimulatedSession(challenge, secrets)


@dataclass
class _SimulatedSession(EnclaveSession):
    challenge: LocalAccount
    secrets: SessionSecrets

    def __post_init__(self) -> None:
        self.enclave_challenge = to_address(self.challenge.address)

    def decrypt_dataset(self, encrypted: Path, target: Path) -> None:
        if self.secrets.dataset_key is None:
            raise EnclaveError("DATASET_KEY_MISSING: the SMS released no key for the dataset")
        target.parent.mkdir(parents=True, exist_ok=True)
        key = to_bytes(self.secrets.dataset_key, length=32)
        target.write_bytes(crypto.decrypt(key, encrypted.read_bytes()))

    def app_env(self) -> dict[str, str]:
        env = {
            f"IEXEC_REQUESTER_SECRET_{name}": value
            for name, value in sorted(self.secrets.requester_secrets.items())
        }
        if self.secrets.app_secret is not None:
            env["IEXEC_APP_DEVELOPER_SECRET"] = self.secrets.app_secret
        return env

    def seal_output(self, files: dict[str, bytes]) -> dict[str, bytes]:
        if self.secrets.result_encryption_key is None:
            raise EnclaveError(
                "RESULT_KEY_MISSING: the beneficiary pushed no result-encryption key to the SMS "
                "(`pnyx result keygen` then `pnyx result push-key`), and a TEE result never "
                "leaves the enclave in clear"
            )
        recipient = to_bytes(self.secrets.result_encryption_key, length=32)
        sealed = crypto.seal(recipient, build_archive(files), context=RESULT_SEAL_CONTEXT)
        computed = Computed(f"{OUTPUT_ROOT}/{ENCRYPTED_RESULT_NAME}", None, None)
        return {COMPUTED_JSON: computed.to_json(), ENCRYPTED_RESULT_NAME: sealed}

    def sign(self, task_id: str, worker: str, digest: str) -> bytes:
        return sign_enclave_result(
            self.challenge, result_hash(task_id, digest), result_seal(worker, task_id, digest)
        )


# ─── Simulated platforms on disk (the devnet gives one to each TEE worker) ───
def write_platform(path: Path, service: SimulatedAttestationService, platform_id: str) -> None:
    """Creates a platform certified by `service` and writes it (private key included, mode 0600)."""
    platform = SimulatedPlatform.new(service, platform_id)
    data = {
        "simulated": True,
        "private_key": "0x" + platform.private_bytes.hex(),
        "certificate": platform.certificate.as_json(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)


def load_platform(path: Path) -> SimulatedPlatform:
    try:
        data = json.loads(path.read_text())
        return SimulatedPlatform(
            to_bytes(data["private_key"], length=32),
            PlatformCertificate.from_json(data["certificate"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EnclaveError(f"cannot load the TEE platform file {path}: {exc}") from exc
