"""The betting dApp's contract from Python (deploy, the operator's and bettors' calls, the reads),
and its notifier: an event listener turning `MatchSettled` / `WinnerPaid` into notifications."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_account.signers.local import LocalAccount

from pnyx.chain.artifacts import load_artifact
from pnyx.chain.client import ChainClient
from pnyx.chain.events import ChainEvent, EventListener, MemoryCursorStore, Subscription
from pnyx.domain._hex import keccak


class Outcome(IntEnum):
    NONE = 0
    HOME = 1
    DRAW = 2
    AWAY = 3


def match_key(match: str) -> bytes:
    """The oracle key of a match's result: keccak256("Match-<id>-0") (EIP-2362 style)."""
    return keccak(f"Match-{match}-0".encode())


def match_id(match: str) -> bytes:
    return keccak(match.encode())


@dataclass
class BettingPlatform:
    client: ChainClient
    address: str

    @classmethod
    def deploy(cls, client: ChainClient, operator: LocalAccount) -> BettingPlatform:
        return cls(
            client, client.deploy(operator, load_artifact("BettingPlatform"), operator.address)
        )

    @property
    def contract(self) -> Any:
        return self.client.contract(self.address, load_artifact("BettingPlatform").abi)

    # push-inbound
    def add_match(
        self, operator: LocalAccount, match: str, home: str, away: str, kickoff: int, oracle: str
    ) -> None:
        fn = self.contract.functions.addMatch(
            match_id(match), home, away, kickoff, oracle, match_key(match)
        )
        self.client.transact(operator, fn)

    def bet(self, bettor: LocalAccount, match: str, outcome: Outcome, wei: int) -> None:
        self.client.transact(
            bettor, self.contract.functions.bet(match_id(match), outcome), value=wei
        )

    # pull-inbound (from the oracle) then push-outbound (events)
    def settle(self, anyone: LocalAccount, match: str) -> None:
        self.client.transact(anyone, self.contract.functions.settle(match_id(match)))

    # pull-outbound
    def standings(self) -> dict[str, dict[str, int]]:
        names = ("played", "won", "drawn", "lost", "goals_for", "goals_against", "points")
        out = {}
        for team in self.client.call(self.contract.functions.teams()):
            row = self.client.call(self.contract.functions.standingOf(team))
            out[str(team)] = dict(zip(names, (int(v) for v in row), strict=True))
        return out

    def winnings(self, bettor: str) -> int:
        return int(self.client.call(self.contract.functions.winnings(bettor)))


@dataclass
class Notifier:
    """Push-outbound, off chain: follows the platform's events (resumable, with the project's one
    listener) and hands each as a human notification to `notify`."""

    platform: BettingPlatform
    notify: Callable[[str], None]

    def __post_init__(self) -> None:
        contract = self.platform.contract
        self._listener = EventListener(
            self.platform.client,
            [Subscription(contract, "MatchSettled"), Subscription(contract, "WinnerPaid")],
            key=f"betting-notifier:{self.platform.address}",
            cursors=MemoryCursorStore(),
        )
        self._names: dict[str, str] = {}

    def label(self, match: str) -> None:
        self._names["0x" + match_id(match).hex()] = match

    def poll(self) -> int:
        return self._listener.poll(self._handle)

    def _handle(self, event: ChainEvent) -> None:
        args = event.args
        match = self._names.get(str(args["matchId"]).lower(), str(args["matchId"])[:10])
        if event.name == "MatchSettled":
            result = Outcome(int(args["result"])).name
            self.notify(
                f"📣 {match} settled {args['homeGoals']}-{args['awayGoals']} ({result}) "
                f"in block {event.block_number}"
            )
        else:
            ether = int(args["amount"]) / 10**18
            self.notify(f"💰 {args['bettor']} won {ether:.4f} ETH on {match}")
