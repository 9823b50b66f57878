// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {OracleBase} from "./OracleBase.sol";

/// @title OffchainReporting
/// @notice Chainlink-V2-style off-chain reporting: nodes exchange signed observations off chain, a rotating
/// leader builds the report (the observations sorted, and the bitmap of who observed), `threshold` nodes sign it,
/// and any node transmits it in one transaction. The chain checks the configuration digest, that (epoch, round)
/// only grows (no replay), the quorum of distinct node signatures, the sortedness and number of observations and
/// the bounds of the median; then only the observers and the signers of that report earn a reward unit.
/// @dev Gas: the node list is not stored; the report carries it in calldata and the stored configuration digest
/// vouches for it (one cold read instead of one per signer). Reward units are 16-bit counters packed in two
/// slots, so paying every participant of a report is one storage write.
contract OffchainReporting is OracleBase {
    using SafeERC20 for IERC20;

    /// @notice The configuration a report is checked against (its digest must be the stored one).
    struct ReportConfig {
        uint64 count;
        uint8 f;
        uint8 threshold;
        address[] nodes;
    }

    IERC20 public immutable rewardToken;
    /// @notice Tokens per reward unit (one observation or one signature in a transmitted report).
    uint256 public immutable rewardPerUnit;
    /// @dev 16-bit reward-unit counters: nodes 0..15 in slot 0, 16..30 in slot 1.
    uint256[2] private _units;
    mapping(address => uint256) private _payeeIndex; // node → index + 1, current configuration

    error ReportStale(uint32 epochAndRound, uint32 latest);
    error ReportNotTransmitter(address sender);
    error ReportBadObservations(uint256 observations, uint256 observers, uint256 f);
    error ReportNotSorted(uint256 index);
    error ReportNotPayee(address account);

    event NewTransmission(uint32 indexed epochAndRound, int192 answer, uint256 observers, uint256 signers);
    event RewardsWithdrawn(address indexed node, uint256 units, uint256 amount);

    constructor(
        address owner_,
        bytes32 feedId_,
        string memory description_,
        FeedConfig memory feed,
        IERC20 rewardToken_,
        uint256 rewardPerUnit_
    ) OracleBase(owner_, feedId_, description_, feed) {
        rewardToken = rewardToken_;
        rewardPerUnit = rewardPerUnit_;
    }

    /// @notice Publishes a signed report: the median of `observations` becomes the answer of `epochAndRound`.
    /// @param config the current configuration (checked against the stored digest)
    /// @param epochAndRound epoch (high 24 bits) and round (low 8 bits); must exceed the last transmitted one
    /// @param observers bitmap of the nodes whose observations the report holds
    /// @param observations the observations, sorted ascending
    /// @param signatures `threshold` or more packed (node index ‖ r ‖ s ‖ v) EIP-191 signatures of the report
    function transmit(
        ReportConfig calldata config,
        uint32 epochAndRound,
        uint256 observers,
        int192[] calldata observations,
        bytes calldata signatures
    ) external {
        bytes32 digest = _checkConfig(config.count, config.f, config.threshold, config.nodes);
        _checkTransmitter(config.nodes);
        uint32 latest = _latest.roundId;
        if (epochAndRound <= latest) revert ReportStale(epochAndRound, latest);
        uint256 n = observations.length;
        if (n <= 2 * uint256(config.f) || _popcount(observers) != n || observers >> config.nodes.length != 0) {
            revert ReportBadObservations(n, _popcount(observers), config.f);
        }
        for (uint256 i = 1; i < n; ++i) {
            if (observations[i] < observations[i - 1]) revert ReportNotSorted(i);
        }
        bytes32 report = keccak256(abi.encode(digest, epochAndRound, observers, observations));
        uint256 signers = _verifySignatures(report, signatures, config.nodes, config.threshold);
        int192 median = observations[n / 2];
        _acceptAnswer(median, epochAndRound);
        _credit(observers, signers);
        emit NewTransmission(epochAndRound, median, observers, signers);
    }

    /// @notice A node's unpaid reward units.
    function unitsOf(uint256 index) public view returns (uint256) {
        return (_units[index / 16] >> (16 * (index % 16))) & 0xFFFF;
    }

    /// @notice Pays a node of the current configuration its reward units.
    function withdrawRewards() external {
        uint256 slot = _payeeIndex[msg.sender];
        if (slot == 0) revert ReportNotPayee(msg.sender);
        uint256 index = slot - 1;
        uint256 units = unitsOf(index);
        _units[index / 16] &= ~(uint256(0xFFFF) << (16 * (index % 16)));
        uint256 amount = units * rewardPerUnit;
        emit RewardsWithdrawn(msg.sender, units, amount);
        if (amount > 0) rewardToken.safeTransfer(msg.sender, amount);
    }

    // ─── Hooks ───

    function _validateQuorum(uint256 nodes, uint256 f, uint256 threshold) internal pure override {
        // Byzantine fault tolerance needs n > 3f; more than f signatures prove an honest node vouched.
        if (f == 0 || nodes <= 3 * f || threshold <= f || threshold > nodes) {
            revert OracleBadQuorum(nodes, f, threshold);
        }
    }

    function _applyConfig(address[] calldata nodes, uint8, uint8, bytes calldata) internal override {
        // Units earned under the previous configuration stay claimable only by withdrawing before the change.
        _units[0] = 0;
        _units[1] = 0;
        for (uint256 i; i < nodes.length; ++i) {
            _payeeIndex[nodes[i]] = i + 1;
        }
    }

    // ─── Private ───

    function _checkTransmitter(address[] calldata nodes) private view {
        for (uint256 i; i < nodes.length; ++i) {
            if (nodes[i] == msg.sender) return;
        }
        revert ReportNotTransmitter(msg.sender);
    }

    /// @dev One unit per observation and one per signature; a counter saturates rather than wrap.
    function _credit(uint256 observers, uint256 signers) private {
        uint256 both = observers | signers;
        uint256 low = _units[0];
        uint256 high = both >> 16 != 0 ? _units[1] : 0; // no cold read for pools of 16 or fewer
        for (uint256 i; both >> i != 0; ++i) {
            uint256 add = ((observers >> i) & 1) + ((signers >> i) & 1);
            if (add == 0) continue;
            if (i < 16) low = _bump(low, i, add);
            else high = _bump(high, i - 16, add);
        }
        _units[0] = low;
        if (both >> 16 != 0) _units[1] = high;
    }

    function _bump(uint256 packed, uint256 index, uint256 add) private pure returns (uint256) {
        uint256 shift = 16 * index;
        uint256 current = (packed >> shift) & 0xFFFF;
        uint256 next = current + add > 0xFFFF ? 0xFFFF : current + add;
        return (packed & ~(uint256(0xFFFF) << shift)) | (next << shift);
    }

    function _popcount(uint256 x) private pure returns (uint256 count) {
        for (; x != 0; x &= x - 1) {
            ++count;
        }
    }
}
