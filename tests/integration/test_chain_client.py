"""`ChainClient.transact` against a real anvil: a node error during gas estimation (anvil answers
"block out of range" while producing a block under load) is retried, while a revert is not, and a
node that keeps failing gives one ChainError."""

from __future__ import annotations

from typing import Any

import pytest
from web3.exceptions import Web3RPCError

from pnyx.errors import ChainError, ContractRevert
from tests.helpers.world import World

pytestmark = pytest.mark.integration


class FlakyEstimate:
    """A real contract call whose first `failures` gas estimations fail like a busy node's."""

    def __init__(self, fn: Any, failures: int) -> None:
        self.fn, self.failures, self.calls = fn, failures, 0

    def estimate_gas(self, transaction: Any) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise Web3RPCError("BlockOutOfRangeError: block height is 63 but requested was 62")
        return int(self.fn.estimate_gas(transaction))

    def build_transaction(self, transaction: Any) -> Any:
        return self.fn.build_transaction(transaction)


def _transfer(world: World, amount: int) -> Any:
    return world.protocol.token.functions.transfer(world.stranger.address, amount)


def test_a_transient_estimation_error_is_retried(world: World) -> None:
    before = world.protocol.token.functions.balanceOf(world.stranger.address).call()
    flaky = FlakyEstimate(_transfer(world, 5), failures=2)
    receipt = world.client.transact(world.owner, flaky)
    assert receipt["status"] == 1 and flaky.calls == 3
    after = world.protocol.token.functions.balanceOf(world.stranger.address).call()
    assert after == before + 5


def test_a_node_that_keeps_failing_gives_one_chain_error(world: World) -> None:
    flaky = FlakyEstimate(_transfer(world, 5), failures=10)
    with pytest.raises(ChainError, match="gas estimation failed"):
        world.client.transact(world.owner, flaky)
    assert flaky.calls == 3


def test_a_revert_is_not_retried(world: World) -> None:
    too_much = FlakyEstimate(_transfer(world, 10**30), failures=0)
    with pytest.raises(ContractRevert):
        world.client.transact(world.stranger, too_much)
    assert too_much.calls == 1
