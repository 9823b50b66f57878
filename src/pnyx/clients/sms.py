"""Client of the Secret Management Service, for secret owners (signed pushes), schedulers (enclave
challenges), result stores (challenge addresses) and enclaves (sessions).

Pushes and challenge requests are signed here, with the same messages the SMS checks
(`pnyx.domain.sms`), so a caller only passes its account."""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from pnyx.api.schemas.sms import SIGNATURE_HEADER, ChallengeRead, NonceRead, SessionRead
from pnyx.chain.signing import sign_eip191
from pnyx.clients._http import HttpClient, ServiceNotFoundError
from pnyx.domain._hex import to_address, to_bytes, to_hex32
from pnyx.domain.attestation import Quote
from pnyx.domain.sms import SecretKind, challenge_message, push_message, secret_key


def sign_push(account: LocalAccount, address: str, key: str, value: str) -> str:
    """The `X-Pnyx-Signature` of a push of `value` under (address, key)."""
    return "0x" + sign_eip191(account, push_message(address, key, value)).hex()


def sign_challenge_request(account: LocalAccount, task_id: str) -> str:
    """The `X-Pnyx-Signature` with which a workerpool owner asks for a task's enclave challenge."""
    return "0x" + sign_eip191(account, challenge_message(task_id)).hex()


class SmsClient(HttpClient):
    def __init__(self, base_url: str, *, timeout_s: float = 10.0) -> None:
        super().__init__(base_url, timeout_s=timeout_s, service="SMS")

    # ─── Pushes (signed by the secret's owner) ───
    def push_dataset_key(self, dataset: str, key: bytes, account: LocalAccount) -> None:
        """The dataset's AES-256 key; `account` must own the dataset on chain. Pushed once."""
        dataset = to_address(dataset)
        path = f"/v1/secrets/datasets/{dataset}"
        self._push("POST", path, dataset, SecretKind.DATASET, _hex(key), account)

    def push_app_secret(self, app: str, value: str, account: LocalAccount) -> None:
        """The app developer's secret; `account` must own the app on chain. Pushed once."""
        app = to_address(app)
        self._push("POST", f"/v1/secrets/apps/{app}", app, SecretKind.APP, value, account)

    def push_requester_secret(
        self, key: str, value: str, account: LocalAccount, *, replace: bool = False
    ) -> None:
        """A named secret of `account` (the requester); `replace` overwrites an existing one."""
        path = f"/v1/secrets/requesters/{account.address}/{key}"
        method = "PUT" if replace else "POST"
        self._push(method, path, account.address, SecretKind.REQUESTER, value, account, name=key)

    def push_result_key(
        self, public_key: bytes, account: LocalAccount, *, replace: bool = False
    ) -> None:
        """The X25519 public key results for `account` (the beneficiary) are sealed to."""
        path = f"/v1/secrets/result-keys/{account.address}"
        method = "PUT" if replace else "POST"
        self._push(method, path, account.address, SecretKind.RESULT_KEY, _hex(public_key), account)

    # ─── Presence (anyone) ───
    def has_dataset_key(self, dataset: str) -> bool:
        return self._exists(f"/v1/secrets/datasets/{to_address(dataset)}")

    def has_app_secret(self, app: str) -> bool:
        return self._exists(f"/v1/secrets/apps/{to_address(app)}")

    def has_requester_secret(self, requester: str, key: str) -> bool:
        return self._exists(f"/v1/secrets/requesters/{to_address(requester)}/{key}")

    def has_result_key(self, beneficiary: str) -> bool:
        return self._exists(f"/v1/secrets/result-keys/{to_address(beneficiary)}")

    def result_key(self, beneficiary: str) -> bytes | None:
        """The public key results for `beneficiary` are sealed to; None if none was pushed."""
        try:
            body = self.get_json(f"/v1/secrets/result-keys/{to_address(beneficiary)}")
        except ServiceNotFoundError:
            return None
        return to_bytes(str(body["value"]), length=32)

    # ─── Enclave challenges ───
    def create_challenge(self, task_id: str, scheduler_account: LocalAccount) -> str:
        """The task's enclave challenge address, created at the first call (pool owner only)."""
        response = self.request(
            "POST",
            f"/v1/challenges/{to_hex32(task_id)}",
            headers={SIGNATURE_HEADER: sign_challenge_request(scheduler_account, task_id)},
        )
        return to_address(ChallengeRead.model_validate(response.json()).enclave_challenge)

    def challenge(self, task_id: str) -> str | None:
        """The task's enclave challenge address; None if its scheduler never asked for one."""
        try:
            body = self.get_json(f"/v1/challenges/{to_hex32(task_id)}")
        except ServiceNotFoundError:
            return None
        return to_address(ChallengeRead.model_validate(body).enclave_challenge)

    # ─── Sessions (enclaves) ───
    def session_nonce(self, task_id: str, worker: str) -> bytes:
        """A fresh nonce for one session; the enclave's quote must bind it."""
        body = self.post_json(
            "/v1/sessions/nonce", {"task_id": to_hex32(task_id), "worker": to_address(worker)}
        )
        return to_bytes(NonceRead.model_validate(body).nonce, length=32)

    def open_session(
        self,
        task_id: str,
        worker: str,
        authorization: bytes,
        quote: Quote,
        nonce: bytes,
        dataset: str | None,
    ) -> bytes:
        """The task's secrets, sealed to the quote's enclave key (open with
        `SessionSecrets.unseal`)."""
        body = self.post_json(
            "/v1/sessions",
            {
                "task_id": to_hex32(task_id),
                "worker": to_address(worker),
                "authorization": _hex(authorization),
                "quote": quote.as_json(),
                "nonce": _hex(nonce),
                "dataset": to_address(dataset) if dataset else None,
            },
        )
        return to_bytes(SessionRead.model_validate(body).sealed)

    def _push(
        self,
        method: str,
        path: str,
        address: str,
        kind: SecretKind,
        value: str,
        account: LocalAccount,
        *,
        name: str = "",
    ) -> None:
        signature = sign_push(account, address, secret_key(kind, name), value)
        self.request(method, path, json={"value": value}, headers={SIGNATURE_HEADER: signature})

    def _exists(self, path: str) -> bool:
        try:
            self.request("HEAD", path)
        except ServiceNotFoundError:
            return False
        return True


def _hex(raw: bytes) -> str:
    return "0x" + raw.hex()
