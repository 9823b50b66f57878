"""The workerpool's scheduler (its owner): starts tasks, authorizes workers, finalizes."""

from __future__ import annotations

from pnyx.chain.signing import sign_authorization
from pnyx.domain.deal import Deal
from pnyx.domain.task import task_id as make_task_id
from pnyx.sdk._actor import Actor
from pnyx.types import ZERO_ADDRESS, TaskId


class Scheduler(Actor):
    def initialize(self, deal_id: str, idx: int) -> TaskId:
        self.protocol.initialize(self.account, deal_id, idx)
        return make_task_id(deal_id, idx)

    def initialize_all(self, deal_id: str, deal: Deal) -> list[TaskId]:
        """Starts every task of the deal in one transaction."""
        self.protocol.initialize_batch(self.account, deal_id, deal.bot_first, deal.bot_size)
        return [
            make_task_id(deal_id, idx)
            for idx in range(deal.bot_first, deal.bot_first + deal.bot_size)
        ]

    def authorize(self, worker: str, task_id: str, enclave_challenge: str = ZERO_ADDRESS) -> bytes:
        """The signed permission a worker presents to contribute."""
        return sign_authorization(self.account, worker, task_id, enclave_challenge)

    def reveal_all(self, task_id: str, result_digest: str) -> None:
        """Reveals every winner at once with a digest a worker reported."""
        self.protocol.reveal_all(self.account, task_id, result_digest)

    def finalize(
        self, task_id: str, deal: Deal, results: bytes, results_callback: bytes = b""
    ) -> None:
        self.protocol.finalize(self.account, task_id, deal, results, results_callback)

    def reopen(self, task_id: str, deal: Deal) -> None:
        self.protocol.reopen(self.account, task_id, deal)
