"""Wire schemas of the result store."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

# A TEE result travels with the worker that computed it and the enclave's signature of it.
WORKER_HEADER = "X-Pnyx-Worker"
ENCLAVE_SIGNATURE_HEADER = "X-Pnyx-Enclave-Signature"


class ResultRead(BaseModel):
    task_id: str = Field(description="0x-hex task id")
    archive_sha256: str = Field(description="sha256 of the stored zip: its content address")
    result_digest: str = Field(description="the digest the chain agreed on (DESIGN.md §5)")
    size: int = Field(description="archive size in bytes")
    uploaded_at: datetime
    link: str = Field(description="public download URL, the `results` value of finalize")
    kind: str = Field(default="standard", description="`standard`, or `tee` (ciphertext only)")
