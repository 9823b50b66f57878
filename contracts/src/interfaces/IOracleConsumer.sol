// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IOracleConsumer
/// @notice EIP-1154 push side: the hub calls `receiveResult` of a deal's callback contract when a task
/// completes, with the task id and the results callback data.
interface IOracleConsumer {
    function receiveResult(bytes32 id, bytes calldata result) external;
}

/// @title IOracle
/// @notice EIP-1154 pull side: `resultFor` returns a completed task's results callback data.
interface IOracle {
    function resultFor(bytes32 id) external view returns (bytes memory);
}
