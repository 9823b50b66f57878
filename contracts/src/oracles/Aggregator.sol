// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {OracleBase} from "./OracleBase.sol";

/// @title Aggregator
/// @notice Chainlink-V1-style on-chain aggregation, with stakes: in each round every configured node submits
/// once, in its own transaction; when `required` submissions are in, the median becomes the answer (the mean is
/// published beside it). Beyond Flux, nodes stake: a node whose value is farther from the median than
/// `toleranceBps` loses `slashAmount` of its stake and its payment for the round; every accepted submission
/// earns `payment`. Rounds are started by any node (periodically or when the value moved, by the node daemons),
/// and a round that does not fill within `timeout` may be superseded.
/// @dev Gas: steady-state submissions rewrite slots that are already non-zero — the node's record, the round
/// record and a reused buffer of (value, node) pairs, two per slot — so no submission pays for a fresh slot.
contract Aggregator is OracleBase {
    using SafeERC20 for IERC20;

    struct Node {
        uint8 index;
        bool enabled;
        uint32 lastRound;
        uint96 stake;
        uint96 owed;
    }

    /// @dev One slot, read and written by every submission.
    struct Round {
        uint32 id;
        uint8 submissions;
        uint8 required;
        uint32 startedAt;
        uint32 timeout;
        uint64 minStake;
        uint64 payment;
        uint16 toleranceBps;
    }

    uint256 private constant BUFFER_SLOTS = 16;

    IERC20 public immutable token;
    Round private _round;
    uint96 public slashAmount;
    uint256 public slashedTotal;
    /// @notice Tokens available for payments: funding plus slashed stakes (never the stakes themselves).
    uint256 public paymentPool;
    mapping(address => Node) private _nodes;
    address[] private _nodeList;
    /// @dev (int120 value, uint8 node index) pairs, two per slot, reused round after round.
    uint256[BUFFER_SLOTS] private _buffer;

    error AggregatorNotNode(address account);
    error AggregatorWrongRound(uint32 given, uint32 current);
    error AggregatorRoundOpen(uint32 round);
    error AggregatorDuplicateSubmission(address node, uint32 round);
    error AggregatorInsufficientStake(address node, uint256 stake, uint256 required);
    error AggregatorStakeLocked(address node);
    error AggregatorInsufficientFunds(uint256 owed, uint256 available);

    event SubmissionReceived(int256 indexed submission, uint32 indexed round, address indexed node);
    event RoundFinalized(uint32 indexed round, int256 median, int256 mean, uint256 outliers);
    event NodeSlashed(address indexed node, uint32 indexed round, int256 submission, uint256 amount);
    event Staked(address indexed node, uint256 amount);
    event StakeWithdrawn(address indexed node, uint256 amount);
    event PaymentWithdrawn(address indexed node, uint256 amount);

    constructor(address owner_, bytes32 feedId_, string memory description_, FeedConfig memory feed, IERC20 token_)
        OracleBase(owner_, feedId_, description_, feed)
    {
        token = token_;
    }

    // ─── Submitting ───

    /// @notice Submits this node's value for `roundId`: the current round, or the next one to start it.
    function submit(uint32 roundId, int192 value) external {
        Node memory node = _nodes[msg.sender];
        if (!node.enabled) revert AggregatorNotNode(msg.sender);
        Round memory round = _round;
        if (roundId == round.id + 1) {
            bool open = round.id != 0 && round.submissions < round.required;
            if (open && block.timestamp < uint256(round.startedAt) + round.timeout) {
                revert AggregatorRoundOpen(round.id);
            }
            round.id = roundId;
            round.submissions = 0;
            round.startedAt = uint32(block.timestamp);
        } else if (roundId != round.id || round.submissions >= round.required) {
            revert AggregatorWrongRound(roundId, round.id);
        }
        if (node.lastRound >= roundId) revert AggregatorDuplicateSubmission(msg.sender, roundId);
        if (node.stake < round.minStake) revert AggregatorInsufficientStake(msg.sender, node.stake, round.minStake);
        _checkBounds(value);

        _store(round.submissions, value, node.index);
        node.lastRound = roundId;
        node.owed += round.payment;
        _nodes[msg.sender] = node;
        round.submissions += 1;
        emit SubmissionReceived(value, roundId, msg.sender);
        _round = round;
        if (round.submissions == round.required) _finalize(round);
    }

    // ─── Stakes and payments ───

    /// @notice Adds to the sender's stake (tokens pulled with transferFrom).
    function stake(uint96 amount) external {
        _nodes[msg.sender].stake += amount;
        emit Staked(msg.sender, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Takes back a stake; only once the node is out of the configuration (no round can slash it).
    function withdrawStake() external {
        Node storage node = _nodes[msg.sender];
        if (node.enabled) revert AggregatorStakeLocked(msg.sender);
        uint256 amount = node.stake;
        node.stake = 0;
        emit StakeWithdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @notice Adds tokens to the pool that pays the submissions.
    function fund(uint256 amount) external {
        paymentPool += amount;
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Pays the sender what its accepted submissions earned.
    function withdrawPayment() external {
        Node storage node = _nodes[msg.sender];
        uint256 amount = node.owed;
        uint256 pool = paymentPool;
        if (amount > pool) revert AggregatorInsufficientFunds(amount, pool);
        node.owed = 0;
        paymentPool = pool - amount;
        emit PaymentWithdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    function nodeOf(address account) external view returns (Node memory) {
        return _nodes[account];
    }

    function currentRound() external view returns (Round memory) {
        return _round;
    }

    // ─── Hooks ───

    /// @dev `threshold` submissions make a round; their median tolerates `f` wrong ones if threshold > 2f.
    function _validateQuorum(uint256 nodes, uint256 f, uint256 threshold) internal pure override {
        if (threshold == 0 || threshold > nodes || threshold <= 2 * f) revert OracleBadQuorum(nodes, f, threshold);
    }

    /// @dev mechanismConfig = abi.encode(uint32 timeout, uint64 minStake, uint64 payment, uint16 toleranceBps,
    /// uint96 slashAmount).
    function _applyConfig(address[] calldata nodes, uint8, uint8 threshold, bytes calldata mechanismConfig)
        internal
        override
    {
        (uint32 timeout, uint64 minStake, uint64 payment, uint16 toleranceBps, uint96 slash) =
            abi.decode(mechanismConfig, (uint32, uint64, uint64, uint16, uint96));
        for (uint256 i; i < _nodeList.length; ++i) {
            _nodes[_nodeList[i]].enabled = false;
        }
        delete _nodeList;
        for (uint256 i; i < nodes.length; ++i) {
            Node storage node = _nodes[nodes[i]];
            node.index = uint8(i);
            node.enabled = true;
            _nodeList.push(nodes[i]);
        }
        Round memory round = _round;
        // A round in progress is closed: the next submission starts round id + 1 with the new nodes.
        round.required = threshold;
        round.submissions = threshold;
        round.timeout = timeout;
        round.minStake = minStake;
        round.payment = payment;
        round.toleranceBps = toleranceBps;
        _round = round;
        slashAmount = slash;
    }

    // ─── Private ───

    function _store(uint256 position, int192 value, uint8 index) private {
        uint256 entry = uint256(uint120(int120(value))) | (uint256(index) << 120);
        uint256 slot = position / 2;
        if (position % 2 == 0) {
            _buffer[slot] = entry; // the other half is rewritten by the next submission of this round
        } else {
            _buffer[slot] = (_buffer[slot] & type(uint128).max) | (entry << 128);
        }
    }

    function _finalize(Round memory round) private {
        uint256 n = round.submissions;
        int256[] memory values = new int256[](n);
        uint256[] memory nodes = new uint256[](n);
        int256 sum;
        for (uint256 i; i < n; ++i) {
            uint256 entry = _buffer[i / 2] >> (128 * (i % 2));
            values[i] = int256(int120(uint120(entry)));
            nodes[i] = uint8(entry >> 120);
            sum += values[i];
        }
        int256[] memory sorted = _sorted(values);
        int256 median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        uint256 outliers = _punishOutliers(round, values, nodes, median);
        _acceptAnswer(median, round.id);
        emit RoundFinalized(round.id, median, sum / int256(n), outliers);
    }

    function _punishOutliers(Round memory round, int256[] memory values, uint256[] memory nodes, int256 median)
        private
        returns (uint256 outliers)
    {
        uint256 scale = median >= 0 ? uint256(median) : uint256(-median);
        for (uint256 i; i < values.length; ++i) {
            int256 gap = values[i] - median;
            uint256 distance = gap >= 0 ? uint256(gap) : uint256(-gap);
            if (distance * 10_000 <= scale * round.toleranceBps) continue;
            outliers |= 1 << nodes[i];
            address account = _nodeList[nodes[i]];
            Node storage node = _nodes[account];
            uint96 cut = node.stake < slashAmount ? node.stake : slashAmount;
            node.stake -= cut;
            node.owed -= round.payment; // an outlier's submission is not an accepted one: no payment
            slashedTotal += cut;
            paymentPool += cut; // slashed stakes pay the honest nodes
            emit NodeSlashed(account, round.id, values[i], cut);
        }
    }

    function _sorted(int256[] memory values) private pure returns (int256[] memory out) {
        out = new int256[](values.length);
        for (uint256 i; i < values.length; ++i) {
            int256 v = values[i];
            uint256 j = i;
            while (j > 0 && out[j - 1] > v) {
                out[j] = out[j - 1];
                --j;
            }
            out[j] = v;
        }
    }
}
