// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC2362} from "../interfaces/IOracleFeeds.sol";

/// @title BettingPlatform
/// @notice The lecture's betting dApp, showing the four kinds of oracle:
/// - **push-inbound**: the operator pushes sports events into the contract (`addMatch`);
/// - **pull-outbound**: anyone reads the matches and the standings (`matchOf`, `standingOf`, `teams`);
/// - **pull-inbound**: `settle` pulls a match's result from the oracle named for it — any EIP-2362 source: a
///   PoCo-fed oracle (a task that read the result service and called back) or an aggregator of staked nodes;
/// - **push-outbound**: `settle` credits the winners and broadcasts `MatchSettled` and `WinnerPaid`, which off-chain
///   listeners turn into notifications.
/// Bets are in ether; a result is `homeGoals * 1000 + awayGoals`.
contract BettingPlatform {
    enum Outcome {
        NONE,
        HOME,
        DRAW,
        AWAY
    }

    struct Match {
        string home;
        string away;
        uint64 kickoff;
        IERC2362 oracle;
        bytes32 resultKey;
        Outcome result;
        uint16 homeGoals;
        uint16 awayGoals;
        uint256 pool;
    }

    struct Standing {
        uint32 played;
        uint32 won;
        uint32 drawn;
        uint32 lost;
        uint32 goalsFor;
        uint32 goalsAgainst;
        uint32 points;
    }

    uint256 private constant GOALS_BASE = 1000;

    address public immutable operator;
    mapping(bytes32 => Match) private _matches;
    mapping(bytes32 => mapping(Outcome => uint256)) private _stakedOn;
    mapping(bytes32 => address[]) private _bettors;
    mapping(bytes32 => mapping(address => mapping(Outcome => uint256))) private _bets;
    mapping(string => Standing) private _standings;
    mapping(string => bool) private _known;
    string[] private _teams;
    bytes32[] private _matchIds;
    /// @notice What each bettor won (or got back) and has not withdrawn yet.
    mapping(address => uint256) public winnings;

    error BettingNotOperator(address caller);
    error BettingMatchExists(bytes32 matchId);
    error BettingUnknownMatch(bytes32 matchId);
    error BettingClosed(bytes32 matchId, uint256 kickoff);
    error BettingNotStarted(bytes32 matchId, uint256 kickoff);
    error BettingBadOutcome();
    error BettingNoStake();
    error BettingAlreadySettled(bytes32 matchId);
    error BettingResultUnavailable(bytes32 matchId, uint256 status);
    error BettingBadResult(bytes32 matchId, int256 value);
    error BettingPaymentFailed(address bettor);

    event MatchAdded(bytes32 indexed matchId, string home, string away, uint64 kickoff, address oracle);
    event BetPlaced(bytes32 indexed matchId, address indexed bettor, Outcome outcome, uint256 amount);
    event MatchSettled(bytes32 indexed matchId, uint16 homeGoals, uint16 awayGoals, Outcome result);
    event WinnerPaid(bytes32 indexed matchId, address indexed bettor, uint256 amount);

    constructor(address operator_) {
        operator = operator_;
    }

    // ─── Push-inbound: the operator populates the events ───

    function addMatch(
        bytes32 matchId,
        string calldata home,
        string calldata away,
        uint64 kickoff,
        IERC2362 oracle,
        bytes32 resultKey
    ) external {
        if (msg.sender != operator) revert BettingNotOperator(msg.sender);
        if (_matches[matchId].kickoff != 0) revert BettingMatchExists(matchId);
        _matches[matchId] = Match(home, away, kickoff, oracle, resultKey, Outcome.NONE, 0, 0, 0);
        _matchIds.push(matchId);
        _addTeam(home);
        _addTeam(away);
        emit MatchAdded(matchId, home, away, kickoff, address(oracle));
    }

    function bet(bytes32 matchId, Outcome outcome) external payable {
        Match storage m = _match(matchId);
        if (block.timestamp >= m.kickoff) revert BettingClosed(matchId, m.kickoff);
        if (outcome == Outcome.NONE) revert BettingBadOutcome();
        if (msg.value == 0) revert BettingNoStake();
        if (_bets[matchId][msg.sender][Outcome.HOME] + _bets[matchId][msg.sender][Outcome.DRAW]
            + _bets[matchId][msg.sender][Outcome.AWAY] == 0) _bettors[matchId].push(msg.sender);
        _bets[matchId][msg.sender][outcome] += msg.value;
        _stakedOn[matchId][outcome] += msg.value;
        m.pool += msg.value;
        emit BetPlaced(matchId, msg.sender, outcome, msg.value);
    }

    // ─── Pull-inbound then push-outbound: read the oracle, pay, broadcast ───

    /// @notice Reads the match's result from its oracle and pays the winners pro rata (everyone is refunded if
    /// nobody bet on the result).
    function settle(bytes32 matchId) external {
        Match storage m = _match(matchId);
        if (m.result != Outcome.NONE) revert BettingAlreadySettled(matchId);
        if (block.timestamp < m.kickoff) revert BettingNotStarted(matchId, m.kickoff);
        (int256 value,, uint256 status) = m.oracle.valueFor(m.resultKey);
        if (status != 200) revert BettingResultUnavailable(matchId, status);
        if (value < 0 || value >= int256(GOALS_BASE * GOALS_BASE)) revert BettingBadResult(matchId, value);
        uint16 homeGoals = uint16(uint256(value) / GOALS_BASE);
        uint16 awayGoals = uint16(uint256(value) % GOALS_BASE);
        Outcome result = homeGoals > awayGoals ? Outcome.HOME : homeGoals == awayGoals ? Outcome.DRAW : Outcome.AWAY;
        m.result = result;
        m.homeGoals = homeGoals;
        m.awayGoals = awayGoals;
        _record(m.home, homeGoals, awayGoals);
        _record(m.away, awayGoals, homeGoals);
        emit MatchSettled(matchId, homeGoals, awayGoals, result);
        _pay(matchId, m.pool, result);
    }

    /// @notice Sends the sender its winnings.
    function withdraw() external {
        uint256 amount = winnings[msg.sender];
        winnings[msg.sender] = 0;
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert BettingPaymentFailed(msg.sender);
    }

    // ─── Pull-outbound: anyone reads ───

    function matchOf(bytes32 matchId) external view returns (Match memory) {
        return _matches[matchId];
    }

    function matchIds() external view returns (bytes32[] memory) {
        return _matchIds;
    }

    function teams() external view returns (string[] memory) {
        return _teams;
    }

    function standingOf(string calldata team) external view returns (Standing memory) {
        return _standings[team];
    }

    function betOf(bytes32 matchId, address bettor, Outcome outcome) external view returns (uint256) {
        return _bets[matchId][bettor][outcome];
    }

    // ─── Private ───

    function _match(bytes32 matchId) private view returns (Match storage m) {
        m = _matches[matchId];
        if (m.kickoff == 0) revert BettingUnknownMatch(matchId);
    }

    function _pay(bytes32 matchId, uint256 pool, Outcome result) private {
        uint256 winning = _stakedOn[matchId][result];
        address[] storage bettors = _bettors[matchId];
        for (uint256 i; i < bettors.length; ++i) {
            address bettor = bettors[i];
            mapping(Outcome => uint256) storage placed = _bets[matchId][bettor];
            uint256 amount = winning == 0
                ? placed[Outcome.HOME] + placed[Outcome.DRAW] + placed[Outcome.AWAY]
                : placed[result] * pool / winning;
            if (amount == 0) continue;
            // Credited, not sent: one bettor refusing ether must not block everyone's settlement.
            winnings[bettor] += amount;
            emit WinnerPaid(matchId, bettor, amount);
        }
    }

    function _record(string storage team, uint16 scored, uint16 conceded) private {
        Standing storage s = _standings[team];
        s.played += 1;
        s.goalsFor += scored;
        s.goalsAgainst += conceded;
        if (scored > conceded) {
            s.won += 1;
            s.points += 3;
        } else if (scored == conceded) {
            s.drawn += 1;
            s.points += 1;
        } else {
            s.lost += 1;
        }
    }

    function _addTeam(string calldata team) private {
        if (!_known[team]) {
            _known[team] = true;
            _teams.push(team);
        }
    }
}
