import pytest

from pnyx.chain import contract_errors as errors
from pnyx.domain.views import TaskStatus
from tests.helpers.world import DIGEST, RESULTS, World

pytestmark = pytest.mark.integration


def test_replicated_task_completes_when_three_workers_agree(world: World) -> None:
    matched, task_id = world.started_task(trust=8)
    for worker in world.workers[:3]:
        world.contribute(worker, task_id, matched)
    assert world.protocol.task(task_id).status == TaskStatus.REVEALING
    for worker in world.workers[:3]:
        worker.reveal(task_id, DIGEST)
    world.scheduler.finalize(task_id, matched.deal, RESULTS)
    assert world.protocol.task(task_id).status == TaskStatus.COMPLETED


def test_match_reverts_with_named_error_when_app_too_expensive(world: World) -> None:
    app, dataset, pool, _ = world.orders()
    request = world.request_order(app_max_price=0)
    with pytest.raises(errors.MarketAppPriceTooHigh) as caught:
        world.protocol.match_orders(world.requester.account, app, dataset, pool, request)
    assert caught.value.args_by_name == {"price": 10**9, "maxPrice": 0}
