// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {WorkerSelection} from "./WorkerSelection.sol";

/// @title Referendum
/// @notice The on-chain record of the transparent referendum of Schiedermeier et al. (2019) with the verifiable
/// worker selection of Bettinger, Barbero & Hasan (2022): creation, participants' intents (whose ledger order
/// seeds the selection), initiation with the selected workers, secret-shared votes, the workers' intermediate
/// results and the outcome, interpolated and checked on chain. Python: `pnyx.chain.referendum`; the arithmetic:
/// `pnyx.domain.referendum`.
/// @dev Phases of a referendum `id`:
/// 1. `create` (anyone, the initiator): the participants in ascending order, n workers, threshold t, deadlines.
/// 2. Posting: each participant may `postIntent` once, with the public key that its shares are encrypted to if it
///    is selected. The order of the `IntentPosted` events (their `order`
///    field) is the ledger order V of the paper; `seed = keccak256(AN(V, P))` as minimal big-endian bytes is
///    computed off chain (`pnyx.domain.selection.select_workers`), since AN is a big integer. Anyone can recompute
///    it from the events and check the `Initiated` seed. When AN fits in a uint256 (small polls) the initiator may
///    give AN itself to `initiateFromNumber`, and the chain hashes it (`WorkerSelection.seedOf`); that AN equals
///    the arrangement number of the recorded order is still checked off chain.
/// 3. `initiate` (the initiator, closes posting): the contract checks `WorkerSelection.verify(seed, |P|, n,
///    positions)` and records the workers; the worker at `positions[i]` holds share slot i (evaluation point i+1).
/// 4. Voting, until `voteEnd`: each participant `castVote`s once, n encrypted shares (one per slot), kept only in
///    the `VoteCast` event's data, never in storage.
/// 5. Working, from `voteEnd` until `workEnd`: each worker posts its intermediate result once.
/// 6. `finalize` (anyone), once at least t results are posted: the claimed tally must equal the Lagrange
///    interpolation at 0, modulo 2^255 - 19, of the first t results in posting order. Results posted after the
///    outcome are still recorded (until `workEnd`) so that the off-chain verifier can detect a tampered result;
///    the chain itself checks only that the outcome is the interpolation of the first t.
contract Referendum {
    /// @notice The field of the Shamir shares (`pnyx.domain.shamir.PRIME`).
    uint256 public constant PRIME = 2 ** 255 - 19;

    struct Poll {
        address initiator;
        uint64 voteEnd;
        uint64 workEnd;
        uint8 n;
        uint8 t;
        bool initiated;
        bool finalized;
        uint32 intents;
        uint32 votes;
        uint8 posted;
        bytes32 seed;
        uint256 tally;
        address[] participants;
        address[] workers;
        uint8[] postedSlots;
        mapping(uint256 slot => uint256) results;
        mapping(address => uint256) participantIndex; // position + 1; 0 = not a participant
        mapping(address => uint256) workerSlot; // slot + 1; 0 = not a worker
        mapping(address => uint256) flags; // bit 0: intent posted, bit 1: voted, bit 2: result posted
    }

    uint256 private constant INTENT = 1;
    uint256 private constant VOTED = 2;
    uint256 private constant RESULT = 4;

    mapping(bytes32 id => Poll) private _polls;

    event Created(
        bytes32 indexed id, address indexed initiator, address[] participants, uint8 n, uint8 t, uint64 voteEnd, uint64 workEnd
    );
    event IntentPosted(bytes32 indexed id, address indexed participant, uint32 order, bytes32 boxKey);
    event Initiated(bytes32 indexed id, bytes32 seed, uint256[] positions, address[] workers);
    event VoteCast(bytes32 indexed id, address indexed voter, bytes[] encryptedShares);
    event IntermediatePosted(bytes32 indexed id, address indexed worker, uint8 slot, uint256 value);
    event Finalized(bytes32 indexed id, uint256 tally, uint8[] slots);

    error ReferendumExists(bytes32 id);
    error ReferendumUnknown(bytes32 id);
    error ReferendumBadParameters(uint256 participants, uint256 n, uint256 t);
    error ReferendumBadDeadlines(uint64 voteEnd, uint64 workEnd);
    error ReferendumParticipantsNotSorted(uint256 index);
    error ReferendumNotParticipant(address account);
    error ReferendumNotInitiator(address account);
    error ReferendumAlreadyPosted(address participant);
    error ReferendumAlreadyInitiated(bytes32 id);
    error ReferendumNotInitiated(bytes32 id);
    error ReferendumWrongSelection(bytes32 seed);
    error ReferendumVotingClosed(uint64 voteEnd);
    error ReferendumAlreadyVoted(address voter);
    error ReferendumWrongShareCount(uint256 given, uint256 n);
    error ReferendumNotWorker(address account);
    error ReferendumWorkNotOpen(uint64 voteEnd, uint64 workEnd);
    error ReferendumAlreadyWorked(address worker);
    error ReferendumNotEnoughResults(uint256 posted, uint256 t);
    error ReferendumAlreadyFinalized(bytes32 id);
    error ReferendumWrongTally(uint256 claimed, uint256 interpolated);
    error ReferendumValueOutOfField(uint256 value);

    /// @notice Open referendum `id` (by its initiator, the caller) among `participants` (strictly ascending), to
    /// be counted by n selected workers with threshold t (1 ≤ t ≤ n ≤ |participants|).
    function create(
        bytes32 id,
        address[] calldata participants,
        uint8 n,
        uint8 t,
        uint64 voteEnd,
        uint64 workEnd
    ) external {
        Poll storage poll = _polls[id];
        if (poll.initiator != address(0)) revert ReferendumExists(id);
        if (t == 0 || t > n || n > participants.length || participants.length > type(uint32).max) {
            revert ReferendumBadParameters(participants.length, n, t);
        }
        if (voteEnd <= block.timestamp || workEnd <= voteEnd) revert ReferendumBadDeadlines(voteEnd, workEnd);
        for (uint256 i; i < participants.length; ++i) {
            if (i > 0 && participants[i] <= participants[i - 1]) revert ReferendumParticipantsNotSorted(i);
            poll.participantIndex[participants[i]] = i + 1;
        }
        poll.initiator = msg.sender;
        poll.n = n;
        poll.t = t;
        poll.voteEnd = voteEnd;
        poll.workEnd = workEnd;
        poll.participants = participants;
        emit Created(id, msg.sender, participants, n, t, voteEnd, workEnd);
    }

    /// @notice Post the caller's message of the posting phase: its place in the ledger order feeds the seed, and
    /// `boxKey` (an X25519 public key, kept in the event only) is where voters encrypt the caller's share should
    /// it be selected as a worker. A selected worker without an intent has no key: its slot gets no shares.
    function postIntent(bytes32 id, bytes32 boxKey) external {
        Poll storage poll = _existing(id);
        if (poll.initiated) revert ReferendumAlreadyInitiated(id);
        _mark(poll, msg.sender, INTENT);
        uint32 order = poll.intents;
        poll.intents = order + 1;
        emit IntentPosted(id, msg.sender, order, boxKey);
    }

    /// @notice Close posting and record the workers: `positions` (into the ascending participants, in share-slot
    /// order) must be the selection `seed` makes. The seed is keccak256(AN of the recorded intent order), computed
    /// off chain and checkable by anyone from the `IntentPosted` events.
    function initiate(bytes32 id, bytes32 seed, uint256[] calldata positions) external {
        _initiate(id, seed, positions);
    }

    /// @notice `initiate` from the arrangement number AN itself, for polls where it fits in a uint256: the chain
    /// derives the seed.
    function initiateFromNumber(bytes32 id, uint256 number, uint256[] calldata positions) external {
        _initiate(id, WorkerSelection.seedOf(number), positions);
    }

    /// @notice The caller's vote: one (encrypted) share per worker, in share-slot order. Kept in the event only.
    function castVote(bytes32 id, bytes[] calldata encryptedShares) external {
        Poll storage poll = _initiated(id);
        if (block.timestamp >= poll.voteEnd) revert ReferendumVotingClosed(poll.voteEnd);
        if (encryptedShares.length != poll.n) revert ReferendumWrongShareCount(encryptedShares.length, poll.n);
        _mark(poll, msg.sender, VOTED);
        poll.votes += 1;
        emit VoteCast(id, msg.sender, encryptedShares);
    }

    /// @notice The caller's (a worker's) intermediate result: the sum of its shares of every vote, mod PRIME.
    function postIntermediate(bytes32 id, uint256 value) external {
        Poll storage poll = _initiated(id);
        if (block.timestamp < poll.voteEnd || block.timestamp >= poll.workEnd) {
            revert ReferendumWorkNotOpen(poll.voteEnd, poll.workEnd);
        }
        uint256 slotPlusOne = poll.workerSlot[msg.sender];
        if (slotPlusOne == 0) revert ReferendumNotWorker(msg.sender);
        if (value >= PRIME) revert ReferendumValueOutOfField(value);
        uint256 flags = poll.flags[msg.sender];
        if (flags & RESULT != 0) revert ReferendumAlreadyWorked(msg.sender);
        poll.flags[msg.sender] = flags | RESULT;
        uint8 slot = uint8(slotPlusOne - 1);
        poll.results[slot] = value;
        poll.postedSlots.push(slot);
        poll.posted += 1;
        emit IntermediatePosted(id, msg.sender, slot, value);
    }

    /// @notice Record the outcome: `tally` must be the interpolation at 0 of the first t posted results.
    function finalize(bytes32 id, uint256 tally) external {
        Poll storage poll = _initiated(id);
        if (poll.finalized) revert ReferendumAlreadyFinalized(id);
        uint256 computed = _interpolate(poll);
        if (tally != computed) revert ReferendumWrongTally(tally, computed);
        poll.finalized = true;
        poll.tally = tally;
        uint8[] memory slots = new uint8[](poll.t);
        for (uint256 i; i < slots.length; ++i) {
            slots[i] = poll.postedSlots[i];
        }
        emit Finalized(id, tally, slots);
    }

    // ─── Views ───

    /// @notice The interpolation at 0 of the first t posted results (reverts with fewer than t).
    function interpolatedTally(bytes32 id) external view returns (uint256) {
        return _interpolate(_initiated(id));
    }

    /// @notice A referendum's parameters and progress.
    function info(bytes32 id)
        external
        view
        returns (
            address initiator,
            uint8 n,
            uint8 t,
            uint64 voteEnd,
            uint64 workEnd,
            bool initiated,
            bool finalized,
            uint32 intents,
            uint32 votes,
            uint8 posted,
            bytes32 seed,
            uint256 tally
        )
    {
        Poll storage poll = _existing(id);
        return (
            poll.initiator,
            poll.n,
            poll.t,
            poll.voteEnd,
            poll.workEnd,
            poll.initiated,
            poll.finalized,
            poll.intents,
            poll.votes,
            poll.posted,
            poll.seed,
            poll.tally
        );
    }

    /// @notice The participants in ascending order.
    function participantsOf(bytes32 id) external view returns (address[] memory) {
        return _existing(id).participants;
    }

    /// @notice The selected workers in share-slot order (empty before initiation).
    function workersOf(bytes32 id) external view returns (address[] memory) {
        return _existing(id).workers;
    }

    /// @notice The posted intermediate results: their slots in posting order, and the values.
    function resultsOf(bytes32 id) external view returns (uint8[] memory slots, uint256[] memory values) {
        Poll storage poll = _existing(id);
        slots = poll.postedSlots;
        values = new uint256[](slots.length);
        for (uint256 i; i < slots.length; ++i) {
            values[i] = poll.results[slots[i]];
        }
    }

    // ─── Internals ───

    function _initiate(bytes32 id, bytes32 seed, uint256[] calldata positions) private {
        Poll storage poll = _existing(id);
        if (msg.sender != poll.initiator) revert ReferendumNotInitiator(msg.sender);
        if (poll.initiated) revert ReferendumAlreadyInitiated(id);
        if (block.timestamp >= poll.voteEnd) revert ReferendumVotingClosed(poll.voteEnd);
        if (!WorkerSelection.verify(seed, poll.participants.length, poll.n, positions)) {
            revert ReferendumWrongSelection(seed);
        }
        address[] memory workers = new address[](positions.length);
        for (uint256 i; i < positions.length; ++i) {
            address worker = poll.participants[positions[i]];
            workers[i] = worker;
            poll.workerSlot[worker] = i + 1;
        }
        poll.workers = workers;
        poll.seed = seed;
        poll.initiated = true;
        emit Initiated(id, seed, positions, workers);
    }

    function _mark(Poll storage poll, address account, uint256 flag) private {
        if (poll.participantIndex[account] == 0) revert ReferendumNotParticipant(account);
        uint256 flags = poll.flags[account];
        if (flags & flag != 0) {
            if (flag == VOTED) revert ReferendumAlreadyVoted(account);
            revert ReferendumAlreadyPosted(account);
        }
        poll.flags[account] = flags | flag;
    }

    /// @dev F(0) = Σ_i y_i · Π_{j≠i} x_j / (x_j − x_i) over the first t posted points, x = slot + 1, mod PRIME.
    /// One modular inverse (Fermat, through the modexp precompile) per point; t is at most 255.
    function _interpolate(Poll storage poll) private view returns (uint256 total) {
        uint256 t = poll.t;
        if (poll.posted < t) revert ReferendumNotEnoughResults(poll.posted, t);
        uint256[] memory xs = new uint256[](t);
        for (uint256 i; i < t; ++i) {
            xs[i] = uint256(poll.postedSlots[i]) + 1;
        }
        for (uint256 i; i < t; ++i) {
            uint256 numerator = 1;
            uint256 denominator = 1;
            for (uint256 j; j < t; ++j) {
                if (j == i) continue;
                numerator = mulmod(numerator, xs[j], PRIME);
                denominator = mulmod(denominator, addmod(xs[j], PRIME - xs[i], PRIME), PRIME);
            }
            uint256 y = poll.results[xs[i] - 1];
            uint256 term = mulmod(mulmod(y, numerator, PRIME), _inverse(denominator), PRIME);
            total = addmod(total, term, PRIME);
        }
    }

    /// @dev value^(PRIME − 2) mod PRIME through the modexp precompile (0x05).
    function _inverse(uint256 value) private view returns (uint256 result) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, 0x20)
            mstore(add(p, 0x20), 0x20)
            mstore(add(p, 0x40), 0x20)
            mstore(add(p, 0x60), value)
            mstore(add(p, 0x80), 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeb)
            mstore(add(p, 0xa0), 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed)
            if iszero(staticcall(gas(), 0x05, p, 0xc0, p, 0x20)) { revert(0, 0) }
            result := mload(p)
        }
    }

    function _existing(bytes32 id) private view returns (Poll storage poll) {
        poll = _polls[id];
        if (poll.initiator == address(0)) revert ReferendumUnknown(id);
    }

    function _initiated(bytes32 id) private view returns (Poll storage poll) {
        poll = _existing(id);
        if (!poll.initiated) revert ReferendumNotInitiated(id);
    }
}
