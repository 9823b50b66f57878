// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IPocoErrors} from "./IPocoErrors.sol";

/// @title IPoco
/// @notice Events of the Proof-of-Contribution task lifecycle.
interface IPoco is IPocoErrors {
    event TaskInitialized(bytes32 indexed taskId, bytes32 indexed dealId, uint256 idx);
    event TaskContributed(bytes32 indexed taskId, address indexed worker, bytes32 resultHash, address enclaveChallenge);
    event TaskConsensus(bytes32 indexed taskId, bytes32 consensus);
    event TaskRevealed(bytes32 indexed taskId, address indexed worker, bytes32 resultDigest);
    event TaskReopened(bytes32 indexed taskId);
    /// @notice The task completed with `results` (the result link); its callback data is in `resultFor`.
    event TaskFinalized(bytes32 indexed taskId, bytes results);
    event TaskClaimed(bytes32 indexed taskId);
    /// @notice A worker's result agreed with a replicated consensus: its score grew by one.
    event AccurateContribution(address indexed worker, bytes32 indexed taskId);
    /// @notice A worker's result was wrong, unrevealed or rejected: its stake was seized, its score cut.
    event FaultyContribution(address indexed worker, bytes32 indexed taskId);
    /// @notice The result callback was called; `success` is false if it reverted or ran out of gas.
    event ResultCallbackCalled(bytes32 indexed taskId, address indexed callback, bool success);
}
