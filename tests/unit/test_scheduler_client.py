"""The requester's signature for a task's logs: the client signs what the scheduler checks."""

from __future__ import annotations

import pytest

from pnyx.chain.node import DEV_MNEMONIC
from pnyx.chain.signing import dev_account, recover_eip191
from pnyx.clients.scheduler import logs_message, sign_logs_request
from pnyx.services.scheduler import service

pytestmark = pytest.mark.unit

TASK = "0x" + "AB" * 32


def test_logs_message_is_the_one_the_scheduler_checks() -> None:
    assert logs_message(TASK) == service.logs_message(TASK)
    assert logs_message(TASK) == logs_message(TASK.lower())


def test_sign_logs_request_recovers_to_the_signer() -> None:
    account = dev_account(4, DEV_MNEMONIC)
    signature = sign_logs_request(account, TASK)
    assert recover_eip191(service.logs_message(TASK), signature) == account.address
