// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Deal, TaskStatus} from "../libraries/Types.sol";
import {IOracle, IOracleConsumer} from "../interfaces/IOracleConsumer.sol";
import {IERC2362} from "../interfaces/IOracleFeeds.sol";
import {PnyxHubExtension} from "../hub/PnyxHubExtension.sol";

/// @title PocoOracle
/// @notice A keyed numeric oracle fed by PoCo tasks: the hub's EIP-1154 callback delivers a completed task's
/// result, and the value is kept only if the task comes from a deal this oracle's provenance policy allows —
/// the allowed app, dataset and workerpool, at least `minTrust`, and every bit of `requiredTag` (e.g. TEE).
/// The model is iExec's `VerifiedResultOracle`: trust comes from PoCo replication and/or TEE attestation,
/// done once per task; this contract only checks where the result came from.
///
/// Callback data (the task's `callback-data`, whose keccak256 is the task's consensus digest) is exactly
/// `abi.encode(bytes32 key, int256 value, uint256 observedAt)`: 96 bytes, `observedAt` in Unix seconds
/// (the app's observation time, e.g. of the price it fetched). `value` must fit in an int192.
///
/// How the receiver learns the deal: the hub keeps a deal only as a 160-bit commitment (see `Deal` in
/// Types.sol), exposes nothing else of it, and calls `receiveResult(taskId, callbackData)` with no room for
/// the record. So the record is shown once per deal, any time between the match and the task's completion,
/// to `acceptDeal`, which runs the policy checks (each with its own error) and remembers the commitment.
/// The callback then re-reads the task from the hub (`getTask`: status and deal commitment) and needs only
/// one storage read to know the deal passed. One acceptance covers every task of the deal. Accepting a
/// record that no hub deal has is harmless: no task carries its commitment (a forgery needs a 160-bit
/// second preimage, since records embed a block hash).
///
/// A result whose observation time is not newer than the key's stored one is refused (the callback
/// reverts; the hub swallows the revert and emits `ResultCallbackCalled(taskId, this, false)`). The same
/// holds for every refusal, so a refused result never changes state, and an integrator can replay the
/// decision with an `eth_call` from the hub's address to learn its error.
/// @dev Gas: the callback reads the hub's task view (one cold account, warm slots), one acceptance slot,
/// and writes one packed slot per key (fresh on a key's first value); see the tests for measured figures
/// against the hub's callback budget.
contract PocoOracle is IOracleConsumer, IOracle, IERC2362 {
    /// @notice Which deals may feed this oracle.
    /// @param app the only app allowed (never zero)
    /// @param dataset the only dataset allowed; zero means the deal must use no dataset
    /// @param workerpool the only workerpool allowed; zero means any workerpool
    /// @param minTrust the lowest deal trust accepted (a deal's trust is at least 1)
    /// @param requiredTag tag bits the deal must all carry (bit 0 = TEE)
    struct Policy {
        address app;
        address dataset;
        address workerpool;
        uint256 minTrust;
        bytes32 requiredTag;
    }

    /// @dev A key's latest value, packed in one slot: what every read and every update touches.
    struct Entry {
        int192 value;
        uint32 roundId;
        uint32 observedAt;
    }

    // ─── Constants ───
    /// @notice The callback data is three ABI words: key, value, observation time.
    uint256 internal constant RESULT_LENGTH = 96;

    // ─── Immutables ───
    address private immutable _hub;
    address private immutable _app;
    address private immutable _dataset;
    address private immutable _workerpool;
    uint256 private immutable _minTrust;
    bytes32 private immutable _requiredTag;

    // ─── Storage ───
    mapping(uint160 dealDigest => bool accepted) private _acceptedDeals;
    mapping(bytes32 key => Entry) private _entries;

    // ─── Errors ───
    /// @notice The hub or the policy's app is the zero address.
    error PocoOracleInvalidPolicy();
    /// @notice Only the hub may deliver results.
    error PocoOracleNotHub(address caller);
    /// @notice The deal runs another app than the allowed one.
    error PocoOracleAppNotAllowed(address app);
    /// @notice The deal uses another dataset than the allowed one (or one when none is allowed).
    error PocoOracleDatasetNotAllowed(address dataset);
    /// @notice The deal runs on another workerpool than the allowed one.
    error PocoOracleWorkerpoolNotAllowed(address workerpool);
    /// @notice The deal's trust is below the policy's minimum.
    error PocoOracleTrustTooLow(uint256 trust, uint256 minTrust);
    /// @notice The deal's tag lacks some of the required bits (e.g. TEE).
    error PocoOracleTagMissing(bytes32 tag, bytes32 requiredTag);
    /// @notice The deal does not call this oracle back, so none of its results could arrive here.
    error PocoOracleWrongCallback(address callback);
    /// @notice The delivered task is not COMPLETED on the hub.
    error PocoOracleTaskNotCompleted(bytes32 taskId, TaskStatus status);
    /// @notice The delivered task's deal was never accepted by `acceptDeal`.
    error PocoOracleDealNotAccepted(bytes32 taskId, uint160 dealDigest);
    /// @notice The callback data is not abi.encode(bytes32, int256, uint256).
    error PocoOracleMalformedResult(bytes32 taskId, uint256 length);
    /// @notice The zero key names nothing (EIP-2362 answers 400 for it).
    error PocoOracleInvalidKey(bytes32 key);
    /// @notice The value does not fit in an int192.
    error PocoOracleValueOutOfRange(bytes32 key, int256 value);
    /// @notice The observation time is after the block's time.
    error PocoOracleObservedInFuture(bytes32 key, uint256 observedAt, uint256 blockTime);
    /// @notice The result is not newer than the key's stored value.
    error PocoOracleStaleResult(bytes32 key, uint256 observedAt, uint256 latestObservedAt);
    /// @notice The key has no value yet.
    error PocoOracleNoValue(bytes32 key);

    // ─── Events ───
    /// @notice A deal passed the provenance policy: its tasks' results will be kept.
    event DealAccepted(uint160 indexed dealDigest, address indexed sender);
    /// @notice Task `taskId` set `key` to `value`, observed at `observedAt`, as the key's round `roundId`.
    event ValueUpdated(bytes32 indexed key, bytes32 indexed taskId, int256 value, uint256 observedAt, uint256 roundId);

    // ─── Constructor ───
    /// @param hub the PnyxHub whose callbacks feed this oracle
    /// @param policy the deals allowed to feed it (immutable: a new policy is a new oracle)
    constructor(address hub, Policy memory policy) {
        if (hub == address(0) || policy.app == address(0)) revert PocoOracleInvalidPolicy();
        _hub = hub;
        _app = policy.app;
        _dataset = policy.dataset;
        _workerpool = policy.workerpool;
        _minTrust = policy.minTrust;
        _requiredTag = policy.requiredTag;
    }

    // ─── External ───

    /// @notice Checks a deal record against the policy and, if it passes, lets its tasks' results in.
    /// Anyone may call it (the requester, right after the match); calling it again changes nothing.
    /// @param deal the record as `DealCreated` emitted it
    /// @return dealDigest the low 160 bits of the deal's commitment, as the hub's task view shows them
    function acceptDeal(Deal calldata deal) external returns (uint160 dealDigest) {
        if (deal.app != _app) revert PocoOracleAppNotAllowed(deal.app);
        if (deal.dataset != _dataset) revert PocoOracleDatasetNotAllowed(deal.dataset);
        if (_workerpool != address(0) && deal.workerpool != _workerpool) {
            revert PocoOracleWorkerpoolNotAllowed(deal.workerpool);
        }
        if (deal.trust < _minTrust) revert PocoOracleTrustTooLow(deal.trust, _minTrust);
        if (deal.tag & _requiredTag != _requiredTag) revert PocoOracleTagMissing(deal.tag, _requiredTag);
        if (deal.callback != address(this)) revert PocoOracleWrongCallback(deal.callback);
        dealDigest = uint160(uint256(keccak256(abi.encode(deal))));
        _acceptedDeals[dealDigest] = true;
        emit DealAccepted(dealDigest, msg.sender);
    }

    /// @notice EIP-1154 push: the hub delivers task `taskId`'s callback data. Keeps the value if the task is
    /// COMPLETED, its deal was accepted, and the result is well formed and newer than the key's stored value;
    /// reverts with the failed check's error otherwise.
    /// @param taskId the completed task
    /// @param result abi.encode(bytes32 key, int256 value, uint256 observedAt)
    function receiveResult(bytes32 taskId, bytes calldata result) external {
        if (msg.sender != _hub) revert PocoOracleNotHub(msg.sender);
        PnyxHubExtension.TaskView memory task = PnyxHubExtension(_hub).getTask(taskId);
        if (task.status != TaskStatus.COMPLETED) revert PocoOracleTaskNotCompleted(taskId, task.status);
        if (!_acceptedDeals[task.dealDigest]) revert PocoOracleDealNotAccepted(taskId, task.dealDigest);
        if (result.length != RESULT_LENGTH) revert PocoOracleMalformedResult(taskId, result.length);
        (bytes32 key, int256 value, uint256 observedAt) = abi.decode(result, (bytes32, int256, uint256));
        _store(taskId, key, value, observedAt);
    }

    /// @notice EIP-1154 pull, by key: the latest accepted result of `key`, in the callback data format.
    /// @dev Like iExec's generic oracle, and unlike EIP-1154's "same result forever", the answer follows the
    /// key's updates; a caller wanting one fixed result reads the task's own with the hub's `resultFor`.
    /// Reverts with `PocoOracleNoValue` while the key has none.
    function resultFor(bytes32 key) external view returns (bytes memory) {
        Entry memory entry = _entries[key];
        if (entry.roundId == 0) revert PocoOracleNoValue(key);
        return abi.encode(key, int256(entry.value), uint256(entry.observedAt));
    }

    /// @notice EIP-2362: the newest value of `key` and its observation time, with 200; 404 while the key has
    /// no value; 400 for the zero key.
    function valueFor(bytes32 key) external view returns (int256 value, uint256 timestamp, uint256 statusCode) {
        if (key == bytes32(0)) return (0, 0, 400);
        Entry memory entry = _entries[key];
        if (entry.roundId == 0) return (0, 0, 404);
        return (entry.value, entry.observedAt, 200);
    }

    /// @notice Chainlink-style read of one key: its round (1 for the first value, +1 per update), value, and
    /// observation time as both `startedAt` and `updatedAt` (the conservative freshness: a result is never
    /// written before it is observed). All zeros while the key has no value.
    function latestRoundData(bytes32 key)
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        Entry memory entry = _entries[key];
        return (entry.roundId, entry.value, entry.observedAt, entry.observedAt, entry.roundId);
    }

    /// @notice Whether `acceptDeal` accepted the deal with this commitment (low 160 bits).
    function isDealAccepted(uint160 dealDigest) external view returns (bool) {
        return _acceptedDeals[dealDigest];
    }

    /// @notice The hub whose callbacks this oracle takes.
    function getHub() external view returns (address) {
        return _hub;
    }

    /// @notice The provenance policy fixed at deployment.
    function getPolicy() external view returns (Policy memory) {
        return Policy({
            app: _app,
            dataset: _dataset,
            workerpool: _workerpool,
            minTrust: _minTrust,
            requiredTag: _requiredTag
        });
    }

    // ─── Private ───

    function _store(bytes32 taskId, bytes32 key, int256 value, uint256 observedAt) private {
        if (key == bytes32(0)) revert PocoOracleInvalidKey(key);
        if (value < type(int192).min || value > type(int192).max) revert PocoOracleValueOutOfRange(key, value);
        if (observedAt > block.timestamp) revert PocoOracleObservedInFuture(key, observedAt, block.timestamp);
        Entry memory latest = _entries[key];
        if (observedAt <= latest.observedAt) revert PocoOracleStaleResult(key, observedAt, latest.observedAt);
        uint32 roundId = latest.roundId + 1;
        _entries[key] = Entry({value: int192(value), roundId: roundId, observedAt: SafeCast.toUint32(observedAt)});
        emit ValueUpdated(key, taskId, value, observedAt, roundId);
    }
}
