// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice A selection of n workers needs 1 ≤ n ≤ participants.
/// @dev File-level (not in the library) so that the library, all internal, stays without ABI or artifact.
error SelectionBadSize(uint256 n, uint256 participants);
/// @notice More participants than `WorkerSelection.MAX_PARTICIPANTS`.
error SelectionTooManyParticipants(uint256 participants);

/// @title WorkerSelection
/// @notice The verifiable random worker selection of Bettinger, Barbero & Hasan (2022, proposal 1), on chain: draws
/// the n workers a seed selects among `participants` positions and checks a claimed selection against that draw.
/// @dev The draw (reproduced bit for bit by `pnyx.domain.selection.draw_workers` and
/// `pnyx.domain.groups.draw_group`, and the same rule `RandomGroupOracle` checks): a Fisher–Yates shuffle of the
/// positions 0..participants-1 run for n steps; step i (i = 0, 1, …) swaps position i with position
/// j = i + uint256(keccak256(seed ‖ uint256(i))) mod (participants − i), and the position then at i is the i-th
/// worker (it holds share slot i). Positions index the participants in ascending order of their ids (for
/// addresses, the numeric order). The modulo bias is below participants / 2^256.
///
/// The shuffle is never materialised: a memory hash table (open addressing, linear probing) holds only the
/// positions a swap moved, as `RandomGroupOracle` does. Each step writes at most one entry, so n steps write at
/// most n entries and a table of at least 4n slots never fills beyond a quarter: it needs no rehash.
///
/// The seed is keccak256 of AN(V, P), the number of *who* posted and *in which order* (Table 1 of the paper), as
/// a minimal big-endian byte string (`seedOf`). AN is a big integer (about 118,000 bits for 10^4 voters), so it
/// is computed off chain (`pnyx.domain.numbering.an`); anyone can recompute it from the ledger order of the
/// participants' messages, and then the seed and this draw. Only when AN fits in a uint256 (small polls) can the
/// chain hash it itself (`seedOf`); otherwise verifiers take the 32-byte seed.
library WorkerSelection {
    /// @notice Most participants a draw accepts: a table entry packs a key and a position in 128 bits each.
    uint256 internal constant MAX_PARTICIPANTS = type(uint128).max;

    /// @notice The positions (into the ascending participant list) of the n workers `seed` selects, in share-slot
    /// order. Reverts unless 1 ≤ n ≤ participants ≤ MAX_PARTICIPANTS.
    function draw(bytes32 seed, uint256 participants, uint256 n) internal pure returns (uint256[] memory positions) {
        _check(participants, n);
        positions = new uint256[](n);
        uint256[] memory table = _table(n);
        for (uint256 i; i < n; ++i) {
            positions[i] = _step(table, seed, participants, i);
        }
    }

    /// @notice Whether `claimed` is exactly the selection of n workers `seed` makes among `participants`: the same
    /// positions in the same (share-slot) order. A claim of another length is false, so a prefix of the true draw
    /// (the selection of fewer workers) is rejected. Stops at the first mismatch. Reverts unless
    /// 1 ≤ n ≤ participants ≤ MAX_PARTICIPANTS.
    function verify(bytes32 seed, uint256 participants, uint256 n, uint256[] calldata claimed)
        internal
        pure
        returns (bool)
    {
        _check(participants, n);
        if (claimed.length != n) return false;
        uint256[] memory table = _table(n);
        for (uint256 i; i < n; ++i) {
            if (_step(table, seed, participants, i) != claimed[i]) return false;
        }
        return true;
    }

    /// @notice keccak256 of `value` as a minimal big-endian byte string (no leading zero byte; the empty string
    /// for 0): the seed of an arrangement number that fits in a uint256 (`pnyx.domain.selection.arrangement_seed`).
    function seedOf(uint256 value) internal pure returns (bytes32 seed) {
        assembly ("memory-safe") {
            let length := 0
            for { let rest := value } rest { rest := shr(8, rest) } { length := add(length, 1) }
            mstore(0x00, shl(mul(8, sub(32, length)), value))
            seed := keccak256(0x00, length)
        }
    }

    function _check(uint256 participants, uint256 n) private pure {
        if (participants > MAX_PARTICIPANTS) revert SelectionTooManyParticipants(participants);
        if (n == 0 || n > participants) revert SelectionBadSize(n, participants);
    }

    /// @dev An empty table of at least 4n slots (a power of two). An entry is ((position + 1) << 128) | value: the
    /// value now at `position`; 0 is an empty slot.
    function _table(uint256 n) private pure returns (uint256[] memory) {
        uint256 size = 1;
        while (size < 4 * n) size <<= 1;
        return new uint256[](size);
    }

    /// @dev Step i of the shuffle: swaps positions i and j in `table` and returns the position now at i.
    function _step(uint256[] memory table, bytes32 seed, uint256 participants, uint256 i)
        private
        pure
        returns (uint256 picked)
    {
        uint256 random;
        assembly ("memory-safe") {
            mstore(0x00, seed)
            mstore(0x20, i)
            random := keccak256(0x00, 0x40)
        }
        uint256 j = i + random % (participants - i);
        uint256 slot;
        (picked, slot) = _find(table, j);
        if (j != i) {
            (uint256 atI,) = _find(table, i);
            table[slot] = ((j + 1) << 128) | atI;
        }
    }

    /// @dev The value at `position` and the table slot that holds it, or the empty slot where it would go.
    function _find(uint256[] memory table, uint256 position) private pure returns (uint256 value, uint256 slot) {
        unchecked {
            uint256 mask = table.length - 1;
            uint256 key = position + 1;
            for (slot = position & mask;; slot = (slot + 1) & mask) {
                uint256 entry = table[slot];
                if (entry == 0) return (position, slot);
                if (entry >> 128 == key) return (uint128(entry), slot);
            }
        }
    }
}

/// @title WorkerSelectionVerifier
/// @notice `WorkerSelection` as external views, so that anyone (and Python, `pnyx.chain.selection`) can draw or
/// check a selection on chain. Stateless.
contract WorkerSelectionVerifier {
    /// @notice The positions of the n workers `seed` selects among `participants`, in share-slot order.
    function draw(bytes32 seed, uint256 participants, uint256 n) external pure returns (uint256[] memory) {
        return WorkerSelection.draw(seed, participants, n);
    }

    /// @notice Whether `claimed` is exactly the selection of n workers `seed` makes among `participants`.
    function verify(bytes32 seed, uint256 participants, uint256 n, uint256[] calldata claimed)
        external
        pure
        returns (bool)
    {
        return WorkerSelection.verify(seed, participants, n, claimed);
    }

    /// @notice The seed of an arrangement number that fits in a uint256 (keccak256 of its minimal big-endian
    /// bytes).
    function seedOf(uint256 number) external pure returns (bytes32) {
        return WorkerSelection.seedOf(number);
    }

    /// @notice `verify` from the arrangement number AN itself, for polls small enough that AN fits in a uint256;
    /// for larger ones AN is computed off chain from the ledger and `verify` takes its seed.
    function verifyFromNumber(uint256 number, uint256 participants, uint256 n, uint256[] calldata claimed)
        external
        pure
        returns (bool)
    {
        return WorkerSelection.verify(WorkerSelection.seedOf(number), participants, n, claimed);
    }
}
