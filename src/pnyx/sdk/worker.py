"""A worker: commits its result, then reveals it (or does both and finalizes, at trust 1)."""

from __future__ import annotations

from pnyx.domain.deal import Deal
from pnyx.domain.task import result_hash, result_seal
from pnyx.sdk._actor import Actor
from pnyx.types import ZERO_ADDRESS


class Worker(Actor):
    def contribute(
        self,
        task_id: str,
        deal: Deal,
        result_digest: str,
        authorization: bytes,
        *,
        enclave_challenge: str = ZERO_ADDRESS,
        enclave_sign: bytes = b"",
    ) -> None:
        """Commits keccak256(task ‖ digest) and this worker's seal; locks its stake."""
        self.protocol.contribute(
            self.account,
            task_id,
            deal,
            result_hash(task_id, result_digest),
            result_seal(self.address, task_id, result_digest),
            authorization,
            enclave_challenge=enclave_challenge,
            enclave_sign=enclave_sign,
        )

    def reveal(self, task_id: str, result_digest: str) -> None:
        self.protocol.reveal(self.account, task_id, result_digest)

    def contribute_and_finalize(
        self,
        task_id: str,
        deal: Deal,
        result_digest: str,
        results: bytes,
        authorization: bytes,
        *,
        results_callback: bytes = b"",
        enclave_challenge: str = ZERO_ADDRESS,
        enclave_sign: bytes = b"",
    ) -> None:
        self.protocol.contribute_and_finalize(
            self.account,
            task_id,
            deal,
            result_digest,
            results,
            authorization,
            results_callback=results_callback,
            enclave_challenge=enclave_challenge,
            enclave_sign=enclave_sign,
        )
