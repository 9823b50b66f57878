"""Which result the chain agreed on for a task, whichever way it completed."""

from __future__ import annotations

from pnyx.chain.protocol import Protocol
from pnyx.domain._hex import to_hex32
from pnyx.domain.views import TaskView
from pnyx.types import ZERO_BYTES32, Bytes32


def agreed_result_hash(
    protocol: Protocol, task_id: str, view: TaskView, *, from_block: int = 0
) -> Bytes32:
    """The task's consensus (keccak256(taskId ‖ resultDigest)), or ZERO_BYTES32 if none yet.

    A replicated task stores it. A task completed by contributeAndFinalize stores none and emits
    no TaskConsensus: its one contribution is the consensus, so it is read from that
    contribution's TaskContributed event."""
    if view.consensus_value != ZERO_BYTES32:
        return to_hex32(view.consensus_value)
    events = protocol.task_events(task_id, "TaskContributed", from_block=from_block)
    return to_hex32(bytes(events[-1]["resultHash"])) if events else ZERO_BYTES32
