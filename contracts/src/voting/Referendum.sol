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
///    is selected. The order of the `IntentPosted` events (their `order` field) is the ledger order V of the
///    paper; the seed is keccak256(AN(V, P)) as minimal big-endian bytes (`pnyx.domain.selection`).
/// 3. `initiate` (the initiator, closes posting): in a poll of at most `LEDGER_AN_MAX_PARTICIPANTS` the contract
///    computes AN of the recorded order itself (it fits a word; PN accumulates as intents arrive) and accepts only
///    its seed, so the initiator cannot choose the workers. In a larger poll AN is a big integer computed off
///    chain and the given seed is trusted, to be audited from the `IntentPosted` events (`pnyx vote verify`).
///    Either way the contract checks `WorkerSelection.verify(seed, |P|, n, positions)` and records the workers;
///    the worker at `positions[i]` holds share slot i (evaluation point i+1).
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
    /// @notice Up to this many participants, AN(V, P) < Σ_u p!/(p−u)! < 2^256: the chain computes the seed.
    uint256 public constant LEDGER_AN_MAX_PARTICIPANTS = 57;

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
        uint256 postedBits; // small polls: bit j set once participant j posted its intent
        uint256 orderRank; // small polls: PN of the intents so far
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
    error ReferendumWrongSeed(bytes32 given, bytes32 expected);
    error ReferendumTooLargeForLedgerNumber(uint256 participants);
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
        if (poll.participants.length <= LEDGER_AN_MAX_PARTICIPANTS) _recordOrder(poll, msg.sender, order);
        emit IntentPosted(id, msg.sender, order, boxKey);
    }

    /// @notice Close posting and record the workers: `positions` (into the ascending participants, in share-slot
    /// order) must be the selection `seed` makes, and the seed keccak256(AN of the recorded intent order) — checked
    /// here for small polls, off chain from the `IntentPosted` events for larger ones.
    function initiate(bytes32 id, bytes32 seed, uint256[] calldata positions) external {
        _initiate(id, seed, positions);
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

    /// @notice AN(V, P) of the intents recorded so far, for polls of at most `LEDGER_AN_MAX_PARTICIPANTS`.
    function ledgerNumber(bytes32 id) external view returns (uint256) {
        Poll storage poll = _existing(id);
        uint256 p = poll.participants.length;
        if (p > LEDGER_AN_MAX_PARTICIPANTS) revert ReferendumTooLargeForLedgerNumber(p);
        return _ledgerNumber(poll);
    }

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
        if (poll.participants.length <= LEDGER_AN_MAX_PARTICIPANTS) {
            bytes32 expected = WorkerSelection.seedOf(_ledgerNumber(poll));
            if (seed != expected) revert ReferendumWrongSeed(seed, expected);
        }
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

    /// @dev PN(V) = Σ_i i! · #{k < i : y_k < y_i}, accumulated as the intents arrive: the earlier voters below
    /// the new one are the posted bits below its index.
    function _recordOrder(Poll storage poll, address participant, uint256 order) private {
        uint256 index = poll.participantIndex[participant] - 1;
        uint256 bits = poll.postedBits;
        poll.orderRank += _popcount(bits & ((1 << index) - 1)) * _factorial(order);
        poll.postedBits = bits | (1 << index);
    }

    /// @dev AN(V, P) = Σ_{i<v} p!/(p−i)! + CN · v! + PN, where CN = C(p, v) − 1 − Σ_i C(p−1−s_i, v−i) over the
    /// posted indexes s_0 < s_1 < … (`pnyx.domain.numbering`, the same closed form).
    function _ledgerNumber(Poll storage poll) private view returns (uint256) {
        uint256 p = poll.participants.length;
        uint256 v = poll.intents;
        uint256 shorter;
        uint256 falling = 1; // p!/(p−i)!
        for (uint256 i; i < v; ++i) {
            shorter += falling;
            falling *= p - i;
        }
        uint256 bits = poll.postedBits;
        uint256 below;
        uint256 rank;
        for (uint256 s; s < p; ++s) {
            if ((bits >> s) & 1 == 0) continue;
            below += _binomial(p - 1 - s, v - rank);
            ++rank;
        }
        return shorter + (_binomial(p, v) - 1 - below) * _factorial(v) + poll.orderRank;
    }

    function _binomial(uint256 n, uint256 k) private pure returns (uint256 result) {
        if (k > n) return 0;
        if (k > n - k) k = n - k;
        result = 1;
        for (uint256 i = 1; i <= k; ++i) {
            result = result * (n - k + i) / i; // C(n−k+i, i): exact at every step
        }
    }

    function _factorial(uint256 n) private pure returns (uint256 result) {
        result = 1;
        for (uint256 i = 2; i <= n; ++i) {
            result *= i;
        }
    }

    function _popcount(uint256 x) private pure returns (uint256 count) {
        for (; x != 0; ++count) {
            x &= x - 1;
        }
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
