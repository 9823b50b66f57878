// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IOracle} from "../interfaces/IOracleConsumer.sol";

/// @title AstreaVoting
/// @notice An Astrea-style voting oracle (Adler et al., 2018) for boolean propositions. Submitters post a
/// proposition (the hash of its text) with a bounty. Voters play low risk / low reward: each buys a ticket
/// with a small fixed stake and may vote only on the open proposition a verifiable random draw assigns to it.
/// Certifiers play high risk / high reward: they choose a proposition and certify it TRUE or FALSE with a large
/// fixed stake. Voting on a proposition closes after `votesRequired` votes or at its deadline; then anyone may
/// `settle` it, which decides the outcome and pays everyone in the same transaction.
/// @dev Decision rule (docs/oracles-astrea.md §"Outcome and payouts"):
/// - the voting outcome is the stake-weighted majority of the votes; since every vote carries the same stake it
///   is the head-count majority; a tie gives no voting outcome;
/// - the certifiers agree when no certifier opposes the voting outcome, or when more certifier stake backs it
///   than opposes it; again, equal stakes make this a head count;
/// - outcome = the voting outcome if there is one and the certifiers agree, otherwise UNKNOWN.
/// Payouts with a TRUE/FALSE outcome: each majority voter gets its stake back plus an equal share of the
/// voters' pot (the bounty minus the certifiers' part, plus every minority voter's stake); minority voters lose
/// their stake. Each agreeing certifier gets its stake back plus an equal share of the certifiers' pot
/// (`certifierBountyBps` of the bounty, only when at least one certifier agreed, plus every disagreeing
/// certifier's stake); disagreeing certifiers lose their stake. Rounding dust goes back to the submitter.
/// With UNKNOWN no money moves between players: every voter and certifier gets its stake back and the
/// submitter its bounty (nobody can be shown wrong when the two sides disagree).
///
/// The draw: a ticket bought in block `b` is seeded with `blockhash(b)`, unknown when the ticket is bought,
/// usable from block `b + 1` to `b + 256`. The assigned proposition is
/// `open[uint256(keccak256(abi.encode(seed, voter, nonce))) % open.length]` over the propositions open when the
/// vote is cast (`pnyx.domain.astrea.draw_index` computes the same). An unused ticket can be cancelled, stake
/// refunded, only once its seed has expired, so refusing a draw costs 256 blocks. A voter who keeps playing
/// calls `voteAndRegister`, which casts the vote and buys the next ticket in one transaction.
contract AstreaVoting is IOracle {
    using SafeERC20 for IERC20;

    /// @notice The decision on a proposition; `resultFor` returns `abi.encode(uint8(outcome))`.
    enum Outcome {
        FALSE,
        TRUE,
        UNKNOWN
    }

    /// @notice Where a proposition is in its life: unknown, open (voting or awaiting settlement), settled.
    enum Status {
        NONE,
        OPEN,
        SETTLED
    }

    /// @notice One proposition, two slots. Slot 0 is what `vote` and `certify` read and write.
    struct Proposition {
        address submitter;
        uint40 deadline;
        Status status;
        Outcome outcome;
        uint8 votesTrue;
        uint8 votesFalse;
        uint8 certificationsTrue;
        uint8 certificationsFalse;
        uint96 bounty;
        uint32 openIndex;
    }

    /// @notice A voter's ticket: the block whose hash seeds its draw (0 when it holds none), its nonce, which
    /// grows with every ticket so that each ticket draws anew, and the voter's id (given at its first ticket, so
    /// that a ballot takes 32 bits instead of an address).
    struct Ticket {
        uint64 blockNumber;
        uint32 nonce;
        uint32 voterId;
    }

    // ─── Constants ───

    /// @notice How many blocks a ticket's seed stays readable (`blockhash` covers the 256 latest blocks).
    uint256 public constant SEED_WINDOW = 256;
    /// @notice The most certifications a proposition accepts (bounds the settlement loop).
    uint256 public constant MAX_CERTIFIERS = 16;
    /// @notice The most votes a proposition can require (the vote counters are 8-bit).
    uint256 public constant MAX_VOTES = 255;
    uint256 private constant BPS = 10_000;
    uint256 private constant TRUE_BIT = 1 << 160;
    /// @dev A ballot is (voterId << 1 | value) in 32 bits, eight to a slot.
    uint256 private constant BALLOT_BITS = 32;
    uint256 private constant BALLOTS_PER_SLOT = 8;
    uint256 private constant BALLOT_MASK = (1 << BALLOT_BITS) - 1;
    uint256 private constant MAX_VOTER_ID = (1 << (BALLOT_BITS - 1)) - 1;

    // ─── Storage ───

    /// @notice The ERC-20 in which bounties and stakes are paid.
    IERC20 public immutable token;
    /// @notice The stake of every voter ticket (small).
    uint256 public immutable voterStake;
    /// @notice The stake of every certification (large).
    uint256 public immutable certifierStake;
    /// @notice The number of votes that closes the voting on a proposition.
    uint256 public immutable votesRequired;
    /// @notice Seconds from submission to the deadline after which a proposition can be settled with fewer votes.
    uint256 public immutable votingPeriod;
    /// @notice The smallest bounty a submitter may offer.
    uint256 public immutable minBounty;
    /// @notice The part of the bounty (basis points) paid to the agreeing certifiers when there are any.
    uint256 public immutable certifierBountyBps;

    mapping(bytes32 id => Proposition) private _propositions;
    /// @dev The votes on a proposition, eight 32-bit ballots (voterId << 1 | value) per slot in casting order:
    /// five votes write one fresh slot instead of five. Indexed by the vote count, so no array length is written.
    mapping(bytes32 id => mapping(uint256 slot => uint256 ballots)) private _ballots;
    /// @dev Certification `index` on a proposition: certifier address | (value << 160).
    mapping(bytes32 id => mapping(uint256 index => uint256 entry)) private _certifications;
    mapping(address voter => Ticket) private _tickets;
    /// @dev Voter id - 1 → voter address.
    address[] private _voters;
    /// @dev The propositions open for voting (not full, not settled); the draw picks among them.
    bytes32[] private _open;

    // ─── Errors ───

    /// @notice The constructor arguments are inconsistent (zero stake, certifier stake not above the voter
    /// stake, votes required outside 1..MAX_VOTES, zero voting period, certifier share above 100 %).
    error AstreaBadConfig();
    /// @notice The bounty is below the minimum or does not fit 96 bits.
    error AstreaBountyOutOfRange(uint256 given, uint256 minimum, uint256 maximum);
    /// @notice A proposition with this id was already submitted (results are immutable, ids are never reused).
    error AstreaPropositionExists(bytes32 id);
    /// @notice No proposition has this id.
    error AstreaUnknownProposition(bytes32 id);
    /// @notice The stake offered is not the fixed stake of the role.
    error AstreaWrongStake(uint256 given, uint256 required);
    /// @notice The voter already holds an unused ticket, bought in `blockNumber`.
    error AstreaTicketHeld(address voter, uint256 blockNumber);
    /// @notice Every voter id (2^31 - 1 of them) is taken.
    error AstreaTooManyVoters();
    /// @notice The voter holds no unused ticket (never bought one, already voted with it, or cancelled it).
    error AstreaNoTicket(address voter);
    /// @notice The ticket's seed block `blockNumber` is not sealed yet: wait one block.
    error AstreaSeedNotReady(address voter, uint256 blockNumber);
    /// @notice The ticket's seed block `blockNumber` is more than SEED_WINDOW blocks old: cancel the ticket.
    error AstreaTicketExpired(address voter, uint256 blockNumber);
    /// @notice The ticket can still vote; it can be cancelled only after block `expiresAfter`.
    error AstreaTicketLive(address voter, uint256 expiresAfter);
    /// @notice No proposition is open for voting, so there is nothing to draw.
    error AstreaNothingOpen();
    /// @notice The voter's draw assigned it `assigned`, not `given`.
    error AstreaNotAssigned(address voter, bytes32 given, bytes32 assigned);
    /// @notice The proposition no longer takes votes or certifications (full, past its deadline, or settled).
    error AstreaVotingClosed(bytes32 id);
    /// @notice The proposition cannot be settled yet: `votes` of `required` votes and the deadline not reached.
    error AstreaVotingOpen(bytes32 id, uint256 votes, uint256 required, uint256 deadline);
    /// @notice The proposition already has MAX_CERTIFIERS certifications.
    error AstreaTooManyCertifiers(bytes32 id, uint256 maximum);
    /// @notice The certifier already certified this proposition.
    error AstreaAlreadyCertified(bytes32 id, address certifier);
    /// @notice The proposition is already settled.
    error AstreaAlreadySettled(bytes32 id);
    /// @notice The proposition has no outcome yet (EIP-1154: `resultFor` reverts until the result exists).
    error AstreaUndecided(bytes32 id);

    // ─── Events ───

    /// @notice A proposition was submitted with `bounty`; it takes votes until `deadline`.
    event PropositionSubmitted(bytes32 indexed id, address indexed submitter, uint256 bounty, uint256 deadline);
    /// @notice A voter bought ticket `nonce`, seeded by the hash of block `blockNumber`.
    event TicketRegistered(address indexed voter, uint256 nonce, uint256 blockNumber);
    /// @notice An expired ticket was cancelled and its stake refunded.
    event TicketCancelled(address indexed voter, uint256 nonce);
    /// @notice A voter voted `value` on the proposition its ticket `nonce` was assigned.
    event VoteCast(bytes32 indexed id, address indexed voter, bool value, uint256 nonce);
    /// @notice A certifier certified the proposition `value`, staking `certifierStake`.
    event PropositionCertified(bytes32 indexed id, address indexed certifier, bool value);
    /// @notice The proposition was decided and everyone paid: each winning voter received its stake plus
    /// `voterReward`, each winning certifier its stake plus `certifierReward`, the submitter `submitterRefund`
    /// (the bounty if UNKNOWN, else the rounding dust). With UNKNOWN every stake was refunded.
    event PropositionSettled(
        bytes32 indexed id, Outcome outcome, uint256 voterReward, uint256 certifierReward, uint256 submitterRefund
    );

    // ─── Constructor ───

    /// @param token_ The ERC-20 of bounties and stakes.
    /// @param voterStake_ The fixed stake of a voter ticket.
    /// @param certifierStake_ The fixed stake of a certification; must exceed `voterStake_`.
    /// @param votesRequired_ Votes that close a proposition's voting (1..MAX_VOTES; odd avoids ties).
    /// @param votingPeriod_ Seconds a proposition takes votes and certifications.
    /// @param minBounty_ The smallest bounty accepted.
    /// @param certifierBountyBps_ The agreeing certifiers' part of the bounty, in basis points.
    constructor(
        IERC20 token_,
        uint256 voterStake_,
        uint256 certifierStake_,
        uint256 votesRequired_,
        uint256 votingPeriod_,
        uint256 minBounty_,
        uint256 certifierBountyBps_
    ) {
        if (
            voterStake_ == 0 || certifierStake_ <= voterStake_ || votesRequired_ == 0 || votesRequired_ > MAX_VOTES
                || votingPeriod_ == 0 || votingPeriod_ > type(uint32).max || certifierBountyBps_ > BPS
        ) revert AstreaBadConfig();
        token = token_;
        voterStake = voterStake_;
        certifierStake = certifierStake_;
        votesRequired = votesRequired_;
        votingPeriod = votingPeriod_;
        minBounty = minBounty_;
        certifierBountyBps = certifierBountyBps_;
    }

    // ─── Submitters ───

    /// @notice Submits the proposition `id` (e.g. keccak256 of its text) with `bounty` tokens (pulled with
    /// transferFrom); it is open for votes and certifications for `votingPeriod` seconds.
    /// @param id The proposition's id; never reusable, even after an UNKNOWN outcome.
    /// @param bounty What the submitter pays for the answer (refunded if the outcome is UNKNOWN).
    function submit(bytes32 id, uint256 bounty) external {
        if (bounty < minBounty || bounty > type(uint96).max) {
            revert AstreaBountyOutOfRange(bounty, minBounty, type(uint96).max);
        }
        Proposition storage p = _propositions[id];
        if (p.status != Status.NONE) revert AstreaPropositionExists(id);
        uint256 deadline = block.timestamp + votingPeriod;
        p.submitter = msg.sender;
        p.deadline = uint40(deadline);
        p.status = Status.OPEN;
        p.bounty = uint96(bounty);
        p.openIndex = uint32(_open.length);
        _open.push(id);
        emit PropositionSubmitted(id, msg.sender, bounty, deadline);
        token.safeTransferFrom(msg.sender, address(this), bounty);
    }

    // ─── Voters ───

    /// @notice Buys a voter ticket for `stake` (must equal `voterStake`; pulled with transferFrom). Its draw is
    /// seeded by this block's hash, so nobody knows the assignment before the ticket is bought.
    /// @param stake The stake the voter means to risk; a mismatch with `voterStake` reverts.
    function register(uint256 stake) external {
        if (stake != voterStake) revert AstreaWrongStake(stake, voterStake);
        Ticket memory ticket = _tickets[msg.sender];
        if (ticket.blockNumber != 0) revert AstreaTicketHeld(msg.sender, ticket.blockNumber);
        ticket.blockNumber = uint64(block.number);
        ticket.nonce += 1;
        if (ticket.voterId == 0) ticket.voterId = _enrol(msg.sender);
        _tickets[msg.sender] = ticket;
        emit TicketRegistered(msg.sender, ticket.nonce, block.number);
        token.safeTransferFrom(msg.sender, address(this), stake);
    }

    /// @notice Votes `value` on `id`, which must be the proposition the sender's ticket draws now; uses the ticket.
    /// @param id The proposition assigned to the sender (see `assignmentOf`).
    /// @param value The sender's answer.
    function vote(bytes32 id, bool value) external {
        _vote(id, value, false);
    }

    /// @notice `vote`, then buys the sender's next ticket in the same transaction (for voters who keep playing:
    /// one transaction and one ticket-slot write per round instead of two).
    /// @param id The proposition assigned to the sender's current ticket.
    /// @param value The sender's answer.
    /// @param stake The next ticket's stake; a mismatch with `voterStake` reverts.
    function voteAndRegister(bytes32 id, bool value, uint256 stake) external {
        if (stake != voterStake) revert AstreaWrongStake(stake, voterStake);
        uint256 nonce = _vote(id, value, true);
        emit TicketRegistered(msg.sender, nonce, block.number);
        token.safeTransferFrom(msg.sender, address(this), stake);
    }

    /// @notice Cancels the sender's ticket once its seed has expired, refunding the stake.
    function cancelTicket() external {
        Ticket memory ticket = _tickets[msg.sender];
        if (ticket.blockNumber == 0) revert AstreaNoTicket(msg.sender);
        uint256 expiresAfter = uint256(ticket.blockNumber) + SEED_WINDOW;
        if (block.number <= expiresAfter) revert AstreaTicketLive(msg.sender, expiresAfter);
        _tickets[msg.sender].blockNumber = 0;
        emit TicketCancelled(msg.sender, ticket.nonce);
        token.safeTransfer(msg.sender, voterStake);
    }

    // ─── Certifiers ───

    /// @notice Certifies the open proposition `id` as `value`, staking `stake` (must equal `certifierStake`;
    /// pulled with transferFrom). One certification per certifier and proposition.
    /// @param id A proposition still taking votes.
    /// @param value The certified answer.
    /// @param stake The stake the certifier means to risk; a mismatch with `certifierStake` reverts.
    function certify(bytes32 id, bool value, uint256 stake) external {
        if (stake != certifierStake) revert AstreaWrongStake(stake, certifierStake);
        Proposition storage p = _propositions[id];
        Status status = p.status;
        if (status == Status.NONE) revert AstreaUnknownProposition(id);
        if (
            status != Status.OPEN || block.timestamp >= p.deadline
                || uint256(p.votesTrue) + p.votesFalse >= votesRequired
        ) revert AstreaVotingClosed(id);
        uint256 count = uint256(p.certificationsTrue) + p.certificationsFalse;
        if (count >= MAX_CERTIFIERS) revert AstreaTooManyCertifiers(id, MAX_CERTIFIERS);
        mapping(uint256 => uint256) storage certifications = _certifications[id];
        for (uint256 i; i < count; ++i) {
            if (address(uint160(certifications[i])) == msg.sender) revert AstreaAlreadyCertified(id, msg.sender);
        }
        certifications[count] = uint256(uint160(msg.sender)) | (value ? TRUE_BIT : 0);
        unchecked {
            if (value) p.certificationsTrue += 1;
            else p.certificationsFalse += 1;
        }
        emit PropositionCertified(id, msg.sender, value);
        token.safeTransferFrom(msg.sender, address(this), stake);
    }

    // ─── Settlement ───

    /// @notice Decides `id` once it has `votesRequired` votes or its deadline has passed, then pays every voter,
    /// certifier and the submitter (see the contract's notice for the rule). Anyone may call it.
    /// @param id The proposition to settle.
    function settle(bytes32 id) external {
        Proposition memory p = _propositions[id];
        if (p.status == Status.NONE) revert AstreaUnknownProposition(id);
        if (p.status == Status.SETTLED) revert AstreaAlreadySettled(id);
        uint256 votes = uint256(p.votesTrue) + p.votesFalse;
        if (votes < votesRequired) {
            if (block.timestamp < p.deadline) revert AstreaVotingOpen(id, votes, votesRequired, p.deadline);
            _closeVoting(p.openIndex);
        }
        Outcome outcome = decide(p.votesTrue, p.votesFalse, p.certificationsTrue, p.certificationsFalse);
        Proposition storage stored = _propositions[id];
        stored.status = Status.SETTLED;
        stored.outcome = outcome;

        uint256 certifications = uint256(p.certificationsTrue) + p.certificationsFalse;
        if (outcome == Outcome.UNKNOWN) {
            emit PropositionSettled(id, outcome, 0, 0, p.bounty);
            _refundAll(id, votes, certifications);
            token.safeTransfer(p.submitter, p.bounty);
            return;
        }
        bool truth = outcome == Outcome.TRUE;
        (uint256 voterReward, uint256 certifierReward, uint256 dust) = rewardsOf(
            p.bounty,
            truth ? p.votesTrue : p.votesFalse,
            truth ? p.votesFalse : p.votesTrue,
            truth ? p.certificationsTrue : p.certificationsFalse,
            truth ? p.certificationsFalse : p.certificationsTrue
        );
        emit PropositionSettled(id, outcome, voterReward, certifierReward, dust);
        _payVoters(_ballots[id], votes, truth, voterStake + voterReward);
        _payCertifiers(_certifications[id], certifications, truth, certifierStake + certifierReward);
        if (dust != 0) token.safeTransfer(p.submitter, dust);
    }

    // ─── Reads ───

    /// @notice EIP-1154 pull read: `abi.encode(uint8(outcome))` (0 FALSE, 1 TRUE, 2 UNKNOWN) once settled.
    /// @dev Reverts `AstreaUnknownProposition` for an unknown id and `AstreaUndecided` until settled.
    function resultFor(bytes32 id) external view returns (bytes memory) {
        Proposition storage p = _propositions[id];
        if (p.status == Status.NONE) revert AstreaUnknownProposition(id);
        if (p.status != Status.SETTLED) revert AstreaUndecided(id);
        return abi.encode(uint8(p.outcome));
    }

    /// @notice The proposition `id` as stored (all zero if unknown).
    function getProposition(bytes32 id) external view returns (Proposition memory) {
        return _propositions[id];
    }

    /// @notice Vote `index` (0-based, in casting order) on `id`: the voter and its answer.
    function getBallot(bytes32 id, uint256 index) external view returns (address voter, bool value) {
        uint256 ballot = _ballotAt(_ballots[id], index);
        return (_voters[(ballot >> 1) - 1], ballot & 1 != 0);
    }

    /// @notice Certification `index` (0-based, in order) on `id`: the certifier and its answer.
    function getCertification(bytes32 id, uint256 index) external view returns (address certifier, bool value) {
        uint256 entry = _certifications[id][index];
        return (address(uint160(entry)), entry & TRUE_BIT != 0);
    }

    /// @notice The voter's ticket: seed block (0 when it holds no unused ticket) and nonce of its latest ticket.
    function getTicket(address voter) external view returns (Ticket memory) {
        return _tickets[voter];
    }

    /// @notice The propositions open for voting, in the order the draw indexes them.
    function getOpenPropositions() external view returns (bytes32[] memory) {
        return _open;
    }

    /// @notice The proposition the voter's ticket draws now (what `vote` would accept in this block).
    function assignmentOf(address voter) external view returns (bytes32) {
        return _assignment(voter, _tickets[voter]);
    }

    /// @notice The draw: index into the `openCount` open propositions for ticket `nonce` of `voter` with `seed`.
    function drawIndex(bytes32 seed, address voter, uint256 nonce, uint256 openCount) public pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, voter, nonce))) % openCount;
    }

    /// @notice The decision rule: the stake-weighted voting majority (all voter stakes are equal, so a head
    /// count), kept only if the certifiers do not oppose it (more certifier stake for it than against it, or no
    /// certification at all); a voting tie or opposing certifiers give UNKNOWN.
    function decide(uint256 votesTrue, uint256 votesFalse, uint256 certificationsTrue, uint256 certificationsFalse)
        public
        pure
        returns (Outcome)
    {
        if (votesTrue == votesFalse) return Outcome.UNKNOWN;
        bool truth = votesTrue > votesFalse;
        uint256 agree = truth ? certificationsTrue : certificationsFalse;
        uint256 disagree = truth ? certificationsFalse : certificationsTrue;
        if (disagree != 0 && disagree >= agree) return Outcome.UNKNOWN;
        return truth ? Outcome.TRUE : Outcome.FALSE;
    }

    /// @notice What each winner earns beyond its returned stake, for a TRUE/FALSE outcome.
    /// @param bounty The proposition's bounty.
    /// @param winners Voters on the outcome's side (at least 1).
    /// @param losers Voters on the other side; their stakes go to the winners.
    /// @param agreeing Certifiers on the outcome's side.
    /// @param disagreeing Certifiers on the other side; their stakes go to the agreeing certifiers.
    /// @return voterReward Paid to each winning voter on top of its stake.
    /// @return certifierReward Paid to each agreeing certifier on top of its stake.
    /// @return dust The rounding remainder, returned to the submitter.
    function rewardsOf(uint256 bounty, uint256 winners, uint256 losers, uint256 agreeing, uint256 disagreeing)
        public
        view
        returns (uint256 voterReward, uint256 certifierReward, uint256 dust)
    {
        uint256 certifierPot = agreeing == 0 ? 0 : bounty * certifierBountyBps / BPS;
        uint256 voterPot = bounty - certifierPot + losers * voterStake;
        voterReward = voterPot / winners;
        dust = voterPot - voterReward * winners;
        if (agreeing != 0) {
            certifierPot += disagreeing * certifierStake;
            certifierReward = certifierPot / agreeing;
            dust += certifierPot - certifierReward * agreeing;
        }
    }

    // ─── Private ───

    /// @dev Casts the vote of the sender's current ticket and either clears the ticket or replaces it with the
    /// next one (seeded by this block); returns the nonce of the ticket the slot now describes.
    function _vote(bytes32 id, bool value, bool renew) private returns (uint256) {
        Ticket memory ticket = _tickets[msg.sender];
        bytes32 assigned = _assignment(msg.sender, ticket);
        if (assigned != id) revert AstreaNotAssigned(msg.sender, id, assigned);
        Proposition storage p = _propositions[id];
        if (block.timestamp >= p.deadline) revert AstreaVotingClosed(id);
        uint32 used = ticket.nonce;
        if (renew) {
            ticket.blockNumber = uint64(block.number);
            ticket.nonce = used + 1;
        } else {
            ticket.blockNumber = 0;
        }
        _tickets[msg.sender] = ticket;
        uint256 index;
        unchecked {
            index = uint256(p.votesTrue) + p.votesFalse;
            if (value) p.votesTrue += 1;
            else p.votesFalse += 1;
        }
        uint256 ballot = (uint256(ticket.voterId) << 1) | (value ? 1 : 0);
        uint256 shift = (index % BALLOTS_PER_SLOT) * BALLOT_BITS;
        if (shift == 0) _ballots[id][index / BALLOTS_PER_SLOT] = ballot;
        else _ballots[id][index / BALLOTS_PER_SLOT] |= ballot << shift;
        emit VoteCast(id, msg.sender, value, used);
        if (index + 1 == votesRequired) _closeVoting(p.openIndex);
        return ticket.nonce;
    }

    /// @dev The proposition `ticket` draws in this block; reverts if the ticket cannot draw now.
    function _assignment(address voter, Ticket memory ticket) private view returns (bytes32) {
        if (ticket.blockNumber == 0) revert AstreaNoTicket(voter);
        if (block.number <= ticket.blockNumber) revert AstreaSeedNotReady(voter, ticket.blockNumber);
        if (block.number > uint256(ticket.blockNumber) + SEED_WINDOW) {
            revert AstreaTicketExpired(voter, ticket.blockNumber);
        }
        uint256 count = _open.length;
        if (count == 0) revert AstreaNothingOpen();
        return _open[drawIndex(blockhash(ticket.blockNumber), voter, ticket.nonce, count)];
    }

    /// @dev Removes the proposition at `index` from the open list (swap with the last, pop).
    function _closeVoting(uint256 index) private {
        uint256 last = _open.length - 1;
        if (index != last) {
            bytes32 moved = _open[last];
            _open[index] = moved;
            _propositions[moved].openIndex = uint32(index);
        }
        _open.pop();
    }

    /// @dev Gives the voter its id (1-based position in `_voters`).
    function _enrol(address voter) private returns (uint32) {
        _voters.push(voter);
        uint256 id = _voters.length;
        if (id > MAX_VOTER_ID) revert AstreaTooManyVoters();
        return uint32(id);
    }

    /// @dev The 32-bit ballot `index` of a proposition.
    function _ballotAt(mapping(uint256 => uint256) storage ballots, uint256 index) private view returns (uint256) {
        return (ballots[index / BALLOTS_PER_SLOT] >> ((index % BALLOTS_PER_SLOT) * BALLOT_BITS)) & BALLOT_MASK;
    }

    /// @dev Pays `amount` to every voter whose ballot says `truth`.
    function _payVoters(mapping(uint256 => uint256) storage ballots, uint256 count, bool truth, uint256 amount)
        private
    {
        uint256 word;
        for (uint256 i; i < count; ++i) {
            if (i % BALLOTS_PER_SLOT == 0) word = ballots[i / BALLOTS_PER_SLOT];
            uint256 ballot = (word >> ((i % BALLOTS_PER_SLOT) * BALLOT_BITS)) & BALLOT_MASK;
            if ((ballot & 1 != 0) == truth) token.safeTransfer(_voters[(ballot >> 1) - 1], amount);
        }
    }

    /// @dev Pays `amount` to every certifier who certified `truth`.
    function _payCertifiers(mapping(uint256 => uint256) storage entries, uint256 count, bool truth, uint256 amount)
        private
    {
        for (uint256 i; i < count; ++i) {
            uint256 entry = entries[i];
            if ((entry & TRUE_BIT != 0) == truth) token.safeTransfer(address(uint160(entry)), amount);
        }
    }

    /// @dev UNKNOWN: returns every voter's and certifier's stake.
    function _refundAll(bytes32 id, uint256 votes, uint256 certifications) private {
        mapping(uint256 => uint256) storage ballots = _ballots[id];
        uint256 word;
        for (uint256 i; i < votes; ++i) {
            if (i % BALLOTS_PER_SLOT == 0) word = ballots[i / BALLOTS_PER_SLOT];
            uint256 ballot = (word >> ((i % BALLOTS_PER_SLOT) * BALLOT_BITS)) & BALLOT_MASK;
            token.safeTransfer(_voters[(ballot >> 1) - 1], voterStake);
        }
        mapping(uint256 => uint256) storage certified = _certifications[id];
        for (uint256 i; i < certifications; ++i) {
            token.safeTransfer(address(uint160(certified[i])), certifierStake);
        }
    }
}
