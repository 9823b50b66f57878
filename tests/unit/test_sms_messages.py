"""The messages the SMS checks: the client signs exactly what the service recovers, each part of a
push is bound (address, secret name, value), and a secret's identity separates kinds and owners."""

from __future__ import annotations

import pytest
from eth_utils.crypto import keccak

from pnyx.api.schemas.sms import QuoteBody, SessionSecrets
from pnyx.chain.node import DEV_MNEMONIC
from pnyx.chain.signing import dev_account, recover_eip191
from pnyx.clients.sms import sign_challenge_request, sign_push
from pnyx.domain.attestation import (
    FRAMEWORK,
    SimulatedAttestationService,
    SimulatedPlatform,
    measure,
)
from pnyx.domain.crypto import DecryptionError, new_box_keypair
from pnyx.domain.sms import (
    SecretKind,
    challenge_identity,
    challenge_message,
    push_message,
    secret_identity,
    secret_key,
)
from pnyx.errors import PnyxInputError

pytestmark = pytest.mark.unit

ADDRESS = "0x" + "Ab" * 20
OTHER = "0x" + "cd" * 20
TASK = "0x" + "ef" * 32


def test_push_message_is_keccak_of_domain_address_key_and_value() -> None:
    expected = keccak(
        keccak(b"PNYX_SMS") + bytes.fromhex("ab" * 20) + keccak(b"requester/api") + keccak(b"v")
    )

    assert push_message(ADDRESS, "requester/api", "v") == expected


def test_push_message_ignores_address_case() -> None:
    assert push_message(ADDRESS, "app", "v") == push_message(ADDRESS.lower(), "app", "v")


@pytest.mark.parametrize(
    ("address", "key", "value"),
    [(OTHER, "app", "v"), (ADDRESS, "dataset", "v"), (ADDRESS, "app", "w"), (ADDRESS, "app", "V")],
    ids=["address", "key", "value", "value-case"],
)
def test_push_message_changes_when_any_part_changes(address: str, key: str, value: str) -> None:
    assert push_message(address, key, value) != push_message(ADDRESS, "app", "v")


def test_push_message_separates_key_from_value() -> None:
    # Hashing each part apart: "ab" + "c" cannot collide with "a" + "bc".
    assert push_message(ADDRESS, "ab", "c") != push_message(ADDRESS, "a", "bc")


def test_challenge_message_is_keccak_of_domain_and_task() -> None:
    expected = keccak(keccak(b"PNYX_SMS_CHALLENGE") + bytes.fromhex("ef" * 32))

    assert challenge_message(TASK) == expected
    assert challenge_message(TASK.upper().replace("0X", "0x")) == expected


def test_challenge_message_refuses_when_task_id_not_32_bytes() -> None:
    with pytest.raises(PnyxInputError):
        challenge_message("0x1234")


@pytest.mark.parametrize(
    ("kind", "name", "key"),
    [
        (SecretKind.DATASET, "", "dataset"),
        (SecretKind.APP, "", "app"),
        (SecretKind.REQUESTER, "api-key_1", "requester/api-key_1"),
        (SecretKind.RESULT_KEY, "", "result-key"),
    ],
)
def test_secret_key_names_kind_and_requester_secret(kind: SecretKind, name: str, key: str) -> None:
    assert secret_key(kind, name) == key


@pytest.mark.parametrize("name", ["", "a" * 65, "a/b", "a b", "é", "../x"])
def test_secret_key_refuses_when_requester_name_invalid(name: str) -> None:
    with pytest.raises(PnyxInputError, match="1 to 64 of"):
        secret_key(SecretKind.REQUESTER, name)


def test_secret_key_refuses_when_name_given_to_unnamed_kind() -> None:
    with pytest.raises(PnyxInputError, match="has no name"):
        secret_key(SecretKind.APP, "x")


def test_secret_identity_separates_kinds_owners_and_names() -> None:
    identities = {
        secret_identity(SecretKind.DATASET, ADDRESS),
        secret_identity(SecretKind.APP, ADDRESS),
        secret_identity(SecretKind.RESULT_KEY, ADDRESS),
        secret_identity(SecretKind.REQUESTER, ADDRESS, "a"),
        secret_identity(SecretKind.REQUESTER, ADDRESS, "b"),
        secret_identity(SecretKind.REQUESTER, OTHER, "a"),
        challenge_identity(TASK),
    }

    assert len(identities) == 7
    assert secret_identity(SecretKind.APP, ADDRESS) == secret_identity(
        SecretKind.APP, ADDRESS.lower()
    )


def test_sign_push_recovers_to_the_signer() -> None:
    account = dev_account(3, DEV_MNEMONIC)

    signature = sign_push(account, ADDRESS, "dataset", "0x" + "11" * 32)

    assert recover_eip191(push_message(ADDRESS, "dataset", "0x" + "11" * 32), signature) == (
        account.address
    )


def test_sign_challenge_request_recovers_to_the_signer() -> None:
    account = dev_account(3, DEV_MNEMONIC)

    assert recover_eip191(challenge_message(TASK), sign_challenge_request(account, TASK)) == (
        account.address
    )


def test_quote_body_parses_quote_json_back_to_the_quote() -> None:
    platform = SimulatedPlatform.new(SimulatedAttestationService(), "p")
    quote = platform.quote(measure(b"app"), new_box_keypair()[1], bytes(32))

    body = QuoteBody.model_validate(quote.as_json())

    assert body.framework == FRAMEWORK
    assert body.to_quote() == quote


def test_session_secrets_unseal_with_enclave_key_only() -> None:
    private, public = new_box_keypair()
    secrets = SessionSecrets(
        task_id=TASK,
        enclave_challenge_key="0x" + "01" * 32,
        dataset_key=None,
        app_secret="s",
        requester_secrets={"a": "b"},
        result_encryption_key=None,
    )

    sealed = secrets.seal_to(public)

    assert SessionSecrets.unseal(private, sealed) == secrets
    with pytest.raises(DecryptionError):
        SessionSecrets.unseal(new_box_keypair()[0], sealed)
