// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IERC2362
/// @notice EIP-2362 numeric pull oracle: the newest value of `id`, its timestamp and an HTTP-like status
/// (200 OK, 400 unknown id, 404 no value yet).
interface IERC2362 {
    function valueFor(bytes32 id) external view returns (int256 value, uint256 timestamp, uint256 statusCode);
}

/// @title IFeedRead
/// @notice The Chainlink-compatible read: every answer comes with its round and its time, so a consumer can
/// check freshness itself.
interface IFeedRead {
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
    function decimals() external view returns (uint8);
    function description() external view returns (string memory);
}

/// @title IOracleErrors
/// @notice Errors shared by every oracle mechanism (configuration, quorum, signatures, bounds).
interface IOracleErrors {
    /// @notice The report was made for another configuration than the current one (stale or forged digest).
    error OracleWrongConfigDigest(bytes32 expected, bytes32 given);
    /// @notice A configuration needs 1..31 distinct non-zero nodes.
    error OracleBadNodeCount(uint256 nodes);
    /// @notice A node address is zero or appears twice in a configuration.
    error OracleBadNode(address node);
    /// @notice The quorum is impossible or unsafe for this many nodes (`f` faulty, `threshold` signatures).
    error OracleBadQuorum(uint256 nodes, uint256 f, uint256 threshold);
    /// @notice Fewer valid signatures than the quorum requires.
    error OracleTooFewSignatures(uint256 given, uint256 required);
    /// @notice Two signatures by the same node.
    error OracleDuplicateSigner(address signer);
    /// @notice A signature does not recover to the node it names.
    error OracleBadSignature(uint256 index);
    /// @notice A signature names a node index outside the configuration.
    error OracleUnknownNode(uint256 index);
    /// @notice The value is outside the feed's configured bounds.
    error OracleValueOutOfBounds(int256 value, int256 minAnswer, int256 maxAnswer);
    /// @notice The feed's bounds are empty (min > max) or its decimals implausible.
    error OracleBadFeedConfig();

    event ConfigSet(bytes32 indexed configDigest, uint64 configCount, address[] nodes, uint8 f, uint8 threshold);
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
}
