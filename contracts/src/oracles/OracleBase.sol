// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IERC2362, IFeedRead, IOracleErrors} from "../interfaces/IOracleFeeds.sol";
import {Signatures} from "../libraries/Signatures.sol";

/// @title OracleBase
/// @notice What every numeric oracle mechanism shares, written once: the node configuration and its digest
/// (bound to the chain, this contract and a counter, so a report made for one configuration is refused by every
/// other), the quorum and signature checks, the feed's bounds, and the three read APIs (EIP-2362 `valueFor`,
/// Chainlink-style `latestRoundData`, and the latest answer with its time). A mechanism implements the hooks
/// `_validateQuorum` and `_applyConfig` and calls `_acceptAnswer` when its own acceptance rule is met.
/// @dev Freshness is explicit: every read returns the answer's time; `heartbeat` and `deviationBps` are
/// configuration the off-chain nodes follow (a round is due after `heartbeat` seconds or a move of
/// `deviationBps`), published here so consumers can check staleness against them.
abstract contract OracleBase is Ownable, IERC2362, IFeedRead, IOracleErrors {
    uint256 internal constant MAX_NODES = 31;
    /// One signature in a packed list: node index (1 byte) ‖ r (32) ‖ s (32) ‖ v (1).
    uint256 internal constant SIGNATURE_BYTES = 66;

    struct FeedConfig {
        int96 minAnswer;
        int96 maxAnswer;
        uint32 heartbeat;
        uint16 deviationBps;
        uint8 decimals;
    }

    /// @dev One slot: what every read and every update touches.
    struct Latest {
        int192 answer;
        uint32 roundId;
        uint32 updatedAt;
    }

    /// @notice The EIP-2362 id of this feed, e.g. keccak256("Price-ETH/USD-3").
    bytes32 public immutable feedId;
    string private _description;
    FeedConfig internal _feed;
    Latest internal _latest;
    bytes32 public latestConfigDigest;
    uint64 public configCount;

    constructor(address owner_, bytes32 feedId_, string memory description_, FeedConfig memory feed)
        Ownable(owner_)
    {
        feedId = feedId_;
        _description = description_;
        _setFeed(feed);
    }

    // ─── Configuration ───

    /// @notice Sets the nodes, the fault tolerance `f` and the signature `threshold`, plus mechanism-specific
    /// bytes; bumps the configuration counter, so reports signed for an earlier configuration stop verifying.
    function setConfig(address[] calldata nodes, uint8 f, uint8 threshold, bytes calldata mechanismConfig)
        external
        onlyOwner
    {
        if (nodes.length == 0 || nodes.length > MAX_NODES) revert OracleBadNodeCount(nodes.length);
        for (uint256 i; i < nodes.length; ++i) {
            if (nodes[i] == address(0)) revert OracleBadNode(nodes[i]);
            for (uint256 j; j < i; ++j) {
                if (nodes[j] == nodes[i]) revert OracleBadNode(nodes[i]);
            }
        }
        _validateQuorum(nodes.length, f, threshold);
        uint64 count = configCount + 1;
        configCount = count;
        bytes32 digest = configDigestOf(count, f, threshold, nodes);
        latestConfigDigest = digest;
        _applyConfig(nodes, f, threshold, mechanismConfig);
        emit ConfigSet(digest, count, nodes, f, threshold);
    }

    /// @notice Changes the bounds, heartbeat, deviation threshold and decimals of the feed.
    function setFeed(FeedConfig calldata feed) external onlyOwner {
        _setFeed(feed);
    }

    /// @notice The digest a configuration is known by: chain, contract, counter and content.
    function configDigestOf(uint64 count, uint8 f, uint8 threshold, address[] calldata nodes)
        public
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(block.chainid, address(this), count, f, threshold, nodes));
    }

    function feedConfig() external view returns (FeedConfig memory) {
        return _feed;
    }

    // ─── Reads ───

    /// @inheritdoc IERC2362
    function valueFor(bytes32 id) external view returns (int256, uint256, uint256) {
        if (id != feedId) return (0, 0, 400);
        Latest memory latest = _latest;
        if (latest.updatedAt == 0) return (0, 0, 404);
        return (latest.answer, latest.updatedAt, 200);
    }

    /// @inheritdoc IFeedRead
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        Latest memory latest = _latest;
        return (latest.roundId, latest.answer, latest.updatedAt, latest.updatedAt, latest.roundId);
    }

    function decimals() external view returns (uint8) {
        return _feed.decimals;
    }

    function description() external view returns (string memory) {
        return _description;
    }

    // ─── Hooks ───

    /// @dev Reverts with `OracleBadQuorum` if `f` and `threshold` do not suit `nodes` nodes.
    function _validateQuorum(uint256 nodes, uint256 f, uint256 threshold) internal pure virtual;

    /// @dev Stores what the mechanism needs of a new configuration.
    function _applyConfig(address[] calldata nodes, uint8 f, uint8 threshold, bytes calldata mechanismConfig)
        internal
        virtual;

    // ─── Shared checks ───

    /// @dev Checks a configuration given in calldata against the stored digest.
    function _checkConfig(uint64 count, uint8 f, uint8 threshold, address[] calldata nodes)
        internal
        view
        returns (bytes32 digest)
    {
        digest = configDigestOf(count, f, threshold, nodes);
        bytes32 expected = latestConfigDigest;
        if (digest != expected) revert OracleWrongConfigDigest(expected, digest);
    }

    /// @dev Verifies packed signatures (see SIGNATURE_BYTES) of the EIP-191 hash of `message` by distinct
    /// configured nodes; returns the bitmap of the signers. At least `required` signatures.
    function _verifySignatures(
        bytes32 message,
        bytes calldata signatures,
        address[] calldata nodes,
        uint256 required
    ) internal pure returns (uint256 signers) {
        uint256 count = signatures.length / SIGNATURE_BYTES;
        if (count < required || signatures.length % SIGNATURE_BYTES != 0) {
            revert OracleTooFewSignatures(count, required);
        }
        bytes32 digest = MessageHashUtils.toEthSignedMessageHash(message);
        for (uint256 i; i < count; ++i) {
            bytes calldata entry = signatures[i * SIGNATURE_BYTES:(i + 1) * SIGNATURE_BYTES];
            uint256 index = uint8(entry[0]);
            if (index >= nodes.length) revert OracleUnknownNode(index);
            if (signers & (1 << index) != 0) revert OracleDuplicateSigner(nodes[index]);
            if (Signatures.recover(digest, entry[1:]) != nodes[index]) revert OracleBadSignature(i);
            signers |= 1 << index;
        }
    }

    /// @dev Stores a new answer after the bounds check and emits `AnswerUpdated`.
    function _acceptAnswer(int256 answer, uint32 roundId) internal {
        FeedConfig memory feed = _feed;
        if (answer < feed.minAnswer || answer > feed.maxAnswer) {
            revert OracleValueOutOfBounds(answer, feed.minAnswer, feed.maxAnswer);
        }
        _latest = Latest({answer: int192(answer), roundId: roundId, updatedAt: uint32(block.timestamp)});
        emit AnswerUpdated(answer, roundId, block.timestamp);
    }

    function _checkBounds(int256 value) internal view {
        FeedConfig memory feed = _feed;
        if (value < feed.minAnswer || value > feed.maxAnswer) {
            revert OracleValueOutOfBounds(value, feed.minAnswer, feed.maxAnswer);
        }
    }

    function _setFeed(FeedConfig memory feed) private {
        if (feed.minAnswer > feed.maxAnswer || feed.decimals > 36) revert OracleBadFeedConfig();
        _feed = feed;
    }
}
