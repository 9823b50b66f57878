"""The one event listener (scheduler, market watcher, oracle nodes, dApp notifier): resumable from
its stored cursor, at-least-once with idempotent handlers, confirmation depth, filters, reorgs and
node outages."""

from __future__ import annotations

import pytest

from pnyx.chain.client import ChainClient
from pnyx.chain.events import ChainEvent, EventListener, MemoryCursorStore, Subscription
from pnyx.errors import ChainError
from tests.helpers.world import World

pytestmark = pytest.mark.integration


def _listener(world: World, cursors: MemoryCursorStore, **options: object) -> EventListener:
    start = world.client.w3.eth.block_number + 1  # only what the test does
    options.setdefault("start_block", start)
    filters = options.pop("filters", {})
    subscription = Subscription(world.protocol.token, "Transfer", filters)  # type: ignore[arg-type]
    return EventListener(world.client, [subscription], key="test", cursors=cursors, **options)  # type: ignore[arg-type]


def _pay(world: World, index: int, amount: int = 1) -> None:
    world.protocol.transfer_tokens(world.owner, world.workers[index].address, amount)


def _collect(listener: EventListener) -> list[ChainEvent]:
    seen: list[ChainEvent] = []
    listener.poll(seen.append)
    return seen


def _mine(client: ChainClient, blocks: int) -> None:
    for _ in range(blocks):
        client.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def test_a_restarted_listener_resumes_from_its_cursor(world: World) -> None:
    cursors = MemoryCursorStore()
    first = _listener(world, cursors)
    _pay(world, 0)
    _pay(world, 1)
    assert [e.args["to"] for e in _collect(first)] == [
        world.workers[0].address,
        world.workers[1].address,
    ]
    restarted = EventListener(
        world.client, first.subscriptions, key="test", cursors=cursors, start_block=0
    )
    assert _collect(restarted) == []  # nothing delivered twice, even with start_block 0
    _pay(world, 2)
    assert [e.args["to"] for e in _collect(restarted)] == [world.workers[2].address]


def test_a_failing_handler_gets_the_range_again(world: World) -> None:
    listener = _listener(world, MemoryCursorStore())
    _pay(world, 0)

    def explode(event: ChainEvent) -> None:
        raise RuntimeError("handler down")

    with pytest.raises(RuntimeError):
        listener.poll(explode)
    assert len(_collect(listener)) == 1  # replayed: at least once


def test_events_wait_for_their_confirmations(world: World) -> None:
    listener = _listener(world, MemoryCursorStore(), confirmations=2)
    _pay(world, 0)
    assert _collect(listener) == []
    _mine(world.client, 2)
    assert len(_collect(listener)) == 1


def test_filters_on_indexed_arguments(world: World) -> None:
    target = world.workers[3].address
    listener = _listener(world, MemoryCursorStore(), filters={"to": target})
    _pay(world, 0)
    _pay(world, 3)
    assert [e.args["to"] for e in _collect(listener)] == [target]


def test_a_reorg_under_the_cursor_is_replayed(world: World) -> None:
    cursors = MemoryCursorStore()
    listener = _listener(world, cursors)
    snapshot = world.client.snapshot()
    _pay(world, 0, amount=7)
    assert [e.args["value"] for e in _collect(listener)] == [7]
    world.client.revert(snapshot)  # the block holding the transfer is gone…
    _pay(world, 1, amount=9)  # …replaced by another chain of the same height
    replayed = _collect(listener)
    assert [e.args["value"] for e in replayed] == [9]


def test_a_reorg_to_a_shorter_chain_is_replayed(world: World) -> None:
    listener = _listener(world, MemoryCursorStore())
    snapshot = world.client.snapshot()
    _pay(world, 0, amount=7)
    _mine(world.client, 3)
    _collect(listener)
    world.client.revert(snapshot)
    _pay(world, 1, amount=9)  # shorter than the cursor
    assert [e.args["value"] for e in _collect(listener)] == [9]


def test_a_node_outage_only_delays_the_next_poll(world: World) -> None:
    cursors = MemoryCursorStore()
    _pay(world, 0)
    client = ChainClient(world.client.url)
    listener = EventListener(
        client,
        [Subscription(world.protocol.token, "Transfer")],
        key="test",
        cursors=cursors,
        start_block=world.client.w3.eth.block_number,
    )
    live = client.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    client.w3.provider.endpoint_uri = "http://127.0.0.1:9"  # type: ignore[attr-defined]  # down
    with pytest.raises(ChainError):
        listener.poll(_ignore)
    client.w3.provider.endpoint_uri = live  # type: ignore[attr-defined]  # back
    assert len(_collect(listener)) == 1


def _ignore(event: ChainEvent) -> None:
    pass
