"""The Astrea-style voting oracle on chain (`AstreaVoting`): boolean propositions with a bounty,
voters on randomly assigned propositions with a small stake, certifiers of their choice with a
large one, and an outcome TRUE, FALSE or UNKNOWN read through EIP-1154 `resultFor`.

A voter first buys a ticket (`register`), waits one block for its seed (the hash of the ticket's
block) to exist, then votes on the proposition the draw assigns it (`assignment_of` asks the
contract, `draw_of` recomputes it locally with `pnyx.domain.astrea`; both agree)."""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi.abi import decode
from eth_account.signers.local import LocalAccount
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from pnyx.chain.artifacts import load_artifact
from pnyx.chain.client import ChainClient
from pnyx.domain._hex import to_address, to_bytes, to_hex32
from pnyx.domain.astrea import AstreaConfig, Outcome, Status, assigned_proposition
from pnyx.errors import ChainError
from pnyx.types import Address, Bytes32


@dataclass(frozen=True)
class PropositionView:
    """A proposition as stored on chain."""

    submitter: Address
    deadline: int
    status: Status
    outcome: Outcome
    votes_true: int
    votes_false: int
    certifications_true: int
    certifications_false: int
    bounty: int
    open_index: int

    @property
    def votes(self) -> int:
        return self.votes_true + self.votes_false

    @property
    def certifications(self) -> int:
        return self.certifications_true + self.certifications_false


@dataclass(frozen=True)
class TicketView:
    """A voter's ticket: the seed block (0 when it holds no unused ticket), its nonce, and the
    voter's id (0 before its first ticket; ballots store it instead of the address)."""

    block_number: int
    nonce: int
    voter_id: int

    @property
    def is_held(self) -> bool:
        return self.block_number != 0


@dataclass(frozen=True)
class Settlement:
    """What `PropositionSettled` announced."""

    outcome: Outcome
    voter_reward: int
    certifier_reward: int
    submitter_refund: int


@dataclass
class AstreaVoting:
    """One deployed `AstreaVoting` and the token its bounties and stakes are paid in."""

    client: ChainClient
    contract: Contract
    token: Contract

    @classmethod
    def deploy(
        cls, client: ChainClient, deployer: LocalAccount, *, token: str, config: AstreaConfig
    ) -> AstreaVoting:
        address = client.deploy(
            deployer,
            load_artifact("AstreaVoting"),
            to_address(token),
            config.voter_stake,
            config.certifier_stake,
            config.votes_required,
            config.voting_period_s,
            config.min_bounty,
            config.certifier_bounty_bps,
        )
        return cls.at(client, address)

    @classmethod
    def at(cls, client: ChainClient, address: str) -> AstreaVoting:
        contract = client.contract(address, load_artifact("AstreaVoting").abi)
        token = client.contract(
            client.call(contract.functions.token()), load_artifact("PnyxToken").abi
        )
        return cls(client, contract, token)

    @property
    def address(self) -> Address:
        return to_address(str(self.contract.address))

    def config(self) -> AstreaConfig:
        functions = self.contract.functions
        return AstreaConfig(
            voter_stake=int(self.client.call(functions.voterStake())),
            certifier_stake=int(self.client.call(functions.certifierStake())),
            votes_required=int(self.client.call(functions.votesRequired())),
            voting_period_s=int(self.client.call(functions.votingPeriod())),
            min_bounty=int(self.client.call(functions.minBounty())),
            certifier_bounty_bps=int(self.client.call(functions.certifierBountyBps())),
        )

    # ─── Transactions ───
    def approve(self, sender: LocalAccount, amount: int) -> TxReceipt:
        """Lets the contract pull `amount` of the sender's tokens (bounties and stakes)."""
        return self.client.transact(
            sender, self.token.functions.approve(self.contract.address, amount)
        )

    def submit(self, submitter: LocalAccount, proposition: str, bounty: int) -> TxReceipt:
        """Submits the proposition id (0x-hex bytes32, see `proposition_id`) with `bounty`."""
        fn = self.contract.functions.submit(to_bytes(proposition, length=32), bounty)
        return self.client.transact(submitter, fn)

    def register(self, voter: LocalAccount, stake: int) -> TxReceipt:
        """Buys a voter ticket; `stake` must be the contract's voter stake."""
        return self.client.transact(voter, self.contract.functions.register(stake))

    def vote(self, voter: LocalAccount, proposition: str, value: bool) -> TxReceipt:
        fn = self.contract.functions.vote(to_bytes(proposition, length=32), value)
        return self.client.transact(voter, fn)

    def vote_and_register(
        self, voter: LocalAccount, proposition: str, value: bool, stake: int
    ) -> TxReceipt:
        """Votes with the current ticket and buys the next one in the same transaction."""
        fn = self.contract.functions.voteAndRegister(to_bytes(proposition, length=32), value, stake)
        return self.client.transact(voter, fn)

    def cancel_ticket(self, voter: LocalAccount) -> TxReceipt:
        return self.client.transact(voter, self.contract.functions.cancelTicket())

    def certify(
        self, certifier: LocalAccount, proposition: str, value: bool, stake: int
    ) -> TxReceipt:
        """Certifies `value`; `stake` must be the contract's certifier stake."""
        fn = self.contract.functions.certify(to_bytes(proposition, length=32), value, stake)
        return self.client.transact(certifier, fn)

    def settle(self, sender: LocalAccount, proposition: str) -> TxReceipt:
        fn = self.contract.functions.settle(to_bytes(proposition, length=32))
        return self.client.transact(sender, fn)

    def settlement_of(self, receipt: TxReceipt) -> Settlement:
        """The `PropositionSettled` event of a `settle` receipt."""
        events = self.client.events(self.contract, "PropositionSettled", receipt)
        if not events:
            raise ChainError("the receipt holds no PropositionSettled event")
        args = events[0]["args"]
        return Settlement(
            outcome=Outcome(int(args["outcome"])),
            voter_reward=int(args["voterReward"]),
            certifier_reward=int(args["certifierReward"]),
            submitter_refund=int(args["submitterRefund"]),
        )

    # ─── Reads ───
    def proposition(self, proposition: str) -> PropositionView:
        raw = self.client.call(
            self.contract.functions.getProposition(to_bytes(proposition, length=32))
        )
        return PropositionView(
            submitter=to_address(raw[0]),
            deadline=int(raw[1]),
            status=Status(int(raw[2])),
            outcome=Outcome(int(raw[3])),
            votes_true=int(raw[4]),
            votes_false=int(raw[5]),
            certifications_true=int(raw[6]),
            certifications_false=int(raw[7]),
            bounty=int(raw[8]),
            open_index=int(raw[9]),
        )

    def ballots(self, proposition: str) -> list[tuple[Address, bool]]:
        """The votes on a proposition in casting order."""
        key = to_bytes(proposition, length=32)
        count = self.proposition(proposition).votes
        return [self._entry(self.contract.functions.getBallot(key, i)) for i in range(count)]

    def certifications(self, proposition: str) -> list[tuple[Address, bool]]:
        key = to_bytes(proposition, length=32)
        count = self.proposition(proposition).certifications
        return [self._entry(self.contract.functions.getCertification(key, i)) for i in range(count)]

    def ticket(self, voter: str) -> TicketView:
        block_number, nonce, voter_id = self.client.call(
            self.contract.functions.getTicket(to_address(voter))
        )
        return TicketView(block_number=int(block_number), nonce=int(nonce), voter_id=int(voter_id))

    def open_propositions(self) -> list[Bytes32]:
        return [
            to_hex32(bytes(p))
            for p in self.client.call(self.contract.functions.getOpenPropositions())
        ]

    def assignment_of(self, voter: str) -> Bytes32:
        """The proposition the contract assigns the voter's ticket now."""
        return to_hex32(bytes(self.client.call(self.contract.functions.assignmentOf(voter))))

    def seed_of(self, voter: str) -> Bytes32:
        """The voter's ticket seed: the hash of the block the ticket was bought in."""
        ticket = self.ticket(voter)
        if not ticket.is_held:
            raise ChainError(f"{voter} holds no unused ticket")
        block = self.client.w3.eth.get_block(ticket.block_number)
        return to_hex32(bytes(block["hash"]))

    def draw_of(self, voter: str) -> Bytes32:
        """The voter's assignment computed locally from the seed and the open list."""
        ticket = self.ticket(voter)
        return assigned_proposition(
            self.seed_of(voter), voter, ticket.nonce, self.open_propositions()
        )

    def result_for(self, proposition: str) -> Outcome:
        """The EIP-1154 result, decoded; raises AstreaUndecided until the proposition is settled."""
        raw = self.client.call(self.contract.functions.resultFor(to_bytes(proposition, length=32)))
        (value,) = decode(["uint8"], bytes(raw))
        return Outcome(int(value))

    def token_balance(self, account: str) -> int:
        return int(self.client.call(self.token.functions.balanceOf(to_address(account))))

    # ─── Private ───
    def _entry(self, fn: ContractFunction) -> tuple[Address, bool]:
        account, value = self.client.call(fn)
        return to_address(account), bool(value)
