"""A small SDK per actor of the marketplace, on top of `pnyx.chain.protocol.Protocol`:

- `Provider`: registers apps, datasets and workerpools; signs, presigns and cancels their orders;
- `Requester`: deposits and withdraws, signs requests, matches orders, claims refunds;
- `Scheduler`: initializes tasks, authorizes workers, finalizes, reopens;
- `Worker`: contributes, reveals, or contributes and finalizes in one transaction.

and, for what the CLI does as a requester: `run` (buy an execution, follow it, fetch its result),
`market` (read the order books, publish and unpublish orders), `tasks` (a task on chain and at its
scheduler, watched until it ends) and `refunds` (claim a deal's tasks past their final deadline).
"""

from pnyx.sdk.provider import Provider
from pnyx.sdk.requester import Requester
from pnyx.sdk.scheduler import Scheduler
from pnyx.sdk.worker import Worker

__all__ = ["Provider", "Requester", "Scheduler", "Worker"]
