// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Types
/// @notice Value types shared by the hub, its extension and the Python side.
/// @dev Enum members keep their order forever: Python mirrors them by position.

/// @notice Lifecycle of a task (see docs/protocol.md for the state machine).
enum TaskStatus {
    UNSET,
    ACTIVE,
    REVEALING,
    COMPLETED,
    FAILED
}

/// @notice Lifecycle of one worker's contribution to a task.
enum ContributionStatus {
    UNSET,
    CONTRIBUTED,
    PROVED,
    REJECTED
}

/// @notice The registry an asset belongs to.
enum AssetKind {
    NONE,
    APP,
    DATASET,
    WORKERPOOL
}

/// @notice What a signed order operation does: presign the order, or close (cancel) it.
enum OrderOperation {
    SIGN,
    CLOSE
}

/// @notice The full record of a deal, fixed at match time.
/// @dev Only the low 160 bits of `keccak256(abi.encode(deal))` are stored (see DealSlot and Task); the
/// record itself is emitted in `DealCreated` and passed back in calldata by the functions that need it.
/// This is the main gas saving over iExec, whose deal record occupies 21 fresh storage slots. `seed` is
/// the hash of the block before the match: nobody can choose a record to collide with a forged one in
/// advance, so passing a forged record needs a 160-bit second preimage, not a 2^80 birthday search.
struct Deal {
    address app;
    address appOwner;
    uint256 appPrice;
    address dataset;
    address datasetOwner;
    uint256 datasetPrice;
    address workerpool;
    address workerpoolOwner;
    uint256 workerpoolPrice;
    address requester;
    address beneficiary;
    address callback;
    uint256 category;
    uint256 trust;
    bytes32 tag;
    bytes32 paramsHash;
    bytes32 seed;
    uint256 startTime;
    uint256 timeRef;
    uint256 botFirst;
    uint256 botSize;
    uint256 workerStake;
    uint256 schedulerRewardRatio;
}

/// @notice The hub's copy of a registry entry, kept in sync by the registry on every mint, transfer and
/// policy change, so matching reads one slot instead of calling three registries (saves ~12k gas).
struct AssetRecord {
    address owner;
    AssetKind kind;
    uint8 workerStakeRatio;
    uint8 schedulerRewardRatio;
}

/// @notice A deal of several tasks, packed in one slot: its commitment and its bag of task indexes.
/// @dev A deal of one task (the common case) has no deal slot: its commitment is written straight into
/// its task's slot, so `initialize` only flips that slot's status.
struct DealSlot {
    uint160 digest;
    uint48 botFirst;
    uint48 botSize;
}

/// @notice Per-task state, packed in one storage slot.
/// @dev A slot with status UNSET and a non-zero `dealDigest` is the task of a one-task deal, created by
/// `matchOrders` and waiting for `initialize`. `dealDigest` is the low 160 bits of the deal commitment
/// (see Deal for why a forged record needs a 160-bit second preimage).
struct Task {
    TaskStatus status;
    uint8 contributorCount;
    uint8 revealCount;
    uint8 winnerCount;
    uint8 groupCount;
    uint8 consensusGroup;
    uint40 revealDeadline;
    uint160 dealDigest;
}

/// @notice One contribution, packed in one storage slot, stored by position in the task.
/// @dev `weight` is the worker's raw credibility weight `max(score/3, 3) - 1` at contribution time,
/// saturated at 2^16-1. `sealPrefix` is the top 64 bits of the result seal: a copier who does not know
/// the digest has one chance in 2^64 to commit a seal that later verifies.
struct Contribution {
    address worker;
    ContributionStatus status;
    uint8 group;
    uint16 weight;
    uint64 sealPrefix;
}

/// @notice A worker category: a name and the reference duration its deadlines are multiples of.
struct Category {
    string name;
    string description;
    uint256 workClockTimeRef;
}

/// @notice An escrow account, packed in one slot with the worker score it belongs to.
struct Account {
    uint112 free;
    uint112 locked;
    uint32 score;
}
