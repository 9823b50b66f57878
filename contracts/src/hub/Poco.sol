// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {Signatures} from "../libraries/Signatures.sol";
import {Account, Contribution, ContributionStatus, Deal, DealSlot, Task, TaskStatus} from "../libraries/Types.sol";
import {IOracleConsumer} from "../interfaces/IOracleConsumer.sol";
import {PocoBase} from "./PocoBase.sol";

/// @title Poco
/// @notice The hot part of the Proof-of-Contribution task lifecycle: initialize, contribute (commit),
/// reveal, finalize with rewards and scores, the one-transaction `contributeAndFinalize` for trust-1
/// tasks, and claim (refund) after the final deadline. `reopen` and the batch claims are in the
/// extension.
/// @dev Consensus follows iExec's integer form of Sarmenta's credibility: a worker's weight is
/// w = max(score/3, 3) - 1, a result's group weight is the product of its workers' weights, the total
/// is 1 + Σ group weights, and a result wins when group·trust > total·(trust - 1). Group weights are
/// not stored: each contribution rescans the task's contributions (one slot each), which costs less
/// than keeping a weight slot per group and a total slot per task for the few replicas a task has.
abstract contract Poco is PocoBase {
    // ─── External ───

    /// @notice Starts task `idx` of the deal; anyone may call it (the scheduler does in practice).
    function initialize(bytes32 dealId, uint256 idx) external nonReentrant returns (bytes32 taskId) {
        DealSlot memory slot;
        // A one-task deal's task slot already holds the digest: skip the (cold) deal slot read.
        if (_tasks[keccak256(abi.encodePacked(dealId, idx))].dealDigest == 0) slot = _deals[dealId];
        return _initialize(dealId, idx, slot);
    }

    /// @notice Starts tasks `firstIdx` .. `firstIdx + count - 1` of the deal in one transaction.
    function initializeBatch(bytes32 dealId, uint256 firstIdx, uint256 count) external nonReentrant {
        DealSlot memory slot = _deals[dealId];
        for (uint256 i = 0; i < count; ++i) {
            _initialize(dealId, firstIdx + i, slot);
        }
    }

    /// @notice Commits a worker's result: `resultHash` = keccak256(taskId ‖ digest) and
    /// `resultSeal` = keccak256(worker ‖ taskId ‖ digest). Locks the worker's stake and, if the
    /// result now has enough credibility, moves the task to REVEALING.
    /// @param authorizationSign The scheduler's EIP-191 signature of keccak256(worker ‖ taskId ‖ enclaveChallenge).
    /// @param enclaveSign For TEE tasks, the enclave key's EIP-191 signature of keccak256(resultHash ‖ resultSeal).
    function contribute(
        bytes32 taskId,
        Deal calldata deal,
        bytes32 resultHash,
        bytes32 resultSeal,
        address enclaveChallenge,
        bytes calldata enclaveSign,
        bytes calldata authorizationSign
    ) external nonReentrant {
        Task memory task = _loadTask(taskId, deal);
        if (task.status != TaskStatus.ACTIVE) revert PocoInvalidTaskStatus(taskId, task.status);
        _checkContributionDeadline(taskId, deal);
        uint256 count = task.contributorCount;
        if (count >= MAX_CONTRIBUTORS) revert PocoTooManyContributors(taskId);
        _checkAuthorization(taskId, deal, resultHash, resultSeal, enclaveChallenge, enclaveSign, authorizationSign);

        // The result's group: an existing one with the same hash, or a new one.
        uint256 group = _findGroup(taskId, task.groupCount, resultHash);
        if (group == task.groupCount) {
            _groupHashes[taskId][group] = resultHash;
            task.groupCount += 1;
        }

        // One pass over earlier contributions: reject a second contribution by the same worker,
        // rebuild every group's weight product, count the agreeing workers still in the running.
        uint256[] memory groupWeights = new uint256[](task.groupCount);
        uint256 agreeing = 1;
        for (uint256 i = 0; i < count; ++i) {
            Contribution memory c = _contributions[taskId][i];
            if (c.worker == msg.sender) revert PocoAlreadyContributed(taskId, msg.sender);
            if (c.status == ContributionStatus.REJECTED) continue;
            uint256 current = groupWeights[c.group];
            groupWeights[c.group] = (current == 0 ? 1 : current) * c.weight;
            if (c.group == group) ++agreeing;
        }

        uint256 weight = _workerWeight(_accounts[msg.sender].score);
        _lock(msg.sender, deal.workerStake, taskId);
        _contributions[taskId][count] = Contribution({
            worker: msg.sender,
            status: ContributionStatus.CONTRIBUTED,
            group: uint8(group),
            weight: uint16(weight),
            sealPrefix: uint64(bytes8(resultSeal))
        });
        task.contributorCount = uint8(count + 1);
        emit TaskContributed(taskId, msg.sender, resultHash, enclaveChallenge);

        uint256 groupWeight = groupWeights[group];
        groupWeights[group] = (groupWeight == 0 ? 1 : groupWeight) * weight;
        if (_hasConsensus(groupWeights, group, deal.trust)) {
            task.status = TaskStatus.REVEALING;
            task.consensusGroup = uint8(group);
            task.winnerCount = uint8(agreeing);
            task.revealDeadline = uint40(block.timestamp + REVEAL_DEADLINE_RATIO * deal.timeRef);
            emit TaskConsensus(taskId, resultHash);
        }
        _tasks[taskId] = task;
    }

    /// @notice Reveals the digest behind a contribution that agrees with the consensus.
    function reveal(bytes32 taskId, bytes32 resultDigest) external nonReentrant {
        Task memory task = _tasks[taskId];
        if (task.status != TaskStatus.REVEALING) revert PocoInvalidTaskStatus(taskId, task.status);
        if (block.timestamp >= task.revealDeadline) revert PocoRevealDeadlineReached(taskId, task.revealDeadline);
        (uint256 position, Contribution memory c) = _findContribution(taskId, task.contributorCount, msg.sender);
        if (c.status != ContributionStatus.CONTRIBUTED) {
            revert PocoInvalidContributionStatus(taskId, msg.sender, c.status);
        }
        if (c.group != task.consensusGroup) revert PocoContributionNotInConsensus(taskId, msg.sender);
        if (keccak256(abi.encodePacked(taskId, resultDigest)) != _groupHashes[taskId][c.group]) {
            revert PocoResultHashMismatch(taskId, resultDigest);
        }
        if (uint64(bytes8(keccak256(abi.encodePacked(msg.sender, taskId, resultDigest)))) != c.sealPrefix) {
            revert PocoResultSealMismatch(taskId, msg.sender);
        }
        _contributions[taskId][position].status = ContributionStatus.PROVED;
        task.revealCount += 1;
        _tasks[taskId] = task;
        emit TaskRevealed(taskId, msg.sender, resultDigest);
    }

    /// @notice Reveals every winning contribution whose seal commits to `resultDigest`, in one
    /// transaction. Anyone who knows the digest may call it: a seal binds its worker, so revealing on
    /// someone's behalf can only prove what they committed. A winner whose seal does not match can never
    /// reveal (one digest only matches the consensus hash) and is rejected at once, so `finalize` need
    /// not wait for the reveal deadline. Reverts only if no unrevealed winner is left to settle.
    function revealAll(bytes32 taskId, bytes32 resultDigest) external nonReentrant {
        Task memory task = _tasks[taskId];
        if (task.status != TaskStatus.REVEALING) revert PocoInvalidTaskStatus(taskId, task.status);
        if (block.timestamp >= task.revealDeadline) revert PocoRevealDeadlineReached(taskId, task.revealDeadline);
        if (keccak256(abi.encodePacked(taskId, resultDigest)) != _groupHashes[taskId][task.consensusGroup]) {
            revert PocoResultHashMismatch(taskId, resultDigest);
        }
        uint256 proved = 0;
        uint256 rejected = 0;
        for (uint256 i = 0; i < task.contributorCount; ++i) {
            Contribution memory c = _contributions[taskId][i];
            if (c.group != task.consensusGroup || c.status != ContributionStatus.CONTRIBUTED) continue;
            if (uint64(bytes8(keccak256(abi.encodePacked(c.worker, taskId, resultDigest)))) == c.sealPrefix) {
                _contributions[taskId][i].status = ContributionStatus.PROVED;
                ++proved;
                emit TaskRevealed(taskId, c.worker, resultDigest);
            } else {
                _contributions[taskId][i].status = ContributionStatus.REJECTED;
                ++rejected;
            }
        }
        if (proved + rejected == 0) revert PocoNothingToReveal(taskId);
        task.revealCount += uint8(proved);
        task.winnerCount -= uint8(rejected);
        _tasks[taskId] = task;
    }

    /// @notice Completes a task once its winners revealed (or the reveal deadline passed after at least
    /// one reveal): pays app and dataset owners, workers by weight and the scheduler, updates scores,
    /// records the results and calls the deal's callback. Only the deal's scheduler may call it.
    function finalize(bytes32 taskId, Deal calldata deal, bytes calldata results, bytes calldata resultsCallback)
        external
        nonReentrant
    {
        Task memory task = _loadTask(taskId, deal);
        if (task.status != TaskStatus.REVEALING) revert PocoInvalidTaskStatus(taskId, task.status);
        if (msg.sender != deal.workerpoolOwner) revert PocoUnauthorizedScheduler(taskId, msg.sender);
        _checkFinalDeadlineAhead(taskId, deal);
        // Winners rejected by revealAll leave winnerCount, so "all revealed" also needs one reveal.
        bool revealsDone = task.revealCount > 0
            && (task.revealCount == task.winnerCount || task.revealDeadline <= block.timestamp);
        if (!revealsDone) revert PocoRevealsPending(taskId, task.revealCount, task.winnerCount);
        _checkResultsCallback(taskId, deal, _groupHashes[taskId][task.consensusGroup], resultsCallback);

        task.status = TaskStatus.COMPLETED;
        _tasks[taskId] = task;
        if (resultsCallback.length > 0) _resultsCallbacks[taskId] = resultsCallback;
        emit TaskFinalized(taskId, results);

        uint256 schedulerReward = _payProviders(taskId, deal);
        schedulerReward += _payWorkers(taskId, deal, task.contributorCount);
        _unlockAndReward(deal.workerpoolOwner, _schedulerStake(deal), schedulerReward, taskId);
        _callResultCallback(taskId, deal.callback, resultsCallback);
    }

    /// @notice The trust-1 fast path: one worker contributes, reveals and finalizes in one transaction.
    /// No worker stake is locked and scores do not change (as in iExec); no contribution is stored.
    function contributeAndFinalize(
        bytes32 taskId,
        Deal calldata deal,
        bytes32 resultDigest,
        bytes calldata results,
        bytes calldata resultsCallback,
        address enclaveChallenge,
        bytes calldata enclaveSign,
        bytes calldata authorizationSign
    ) external nonReentrant {
        Task memory task = _loadTask(taskId, deal);
        if (task.status != TaskStatus.ACTIVE) revert PocoInvalidTaskStatus(taskId, task.status);
        _checkContributionDeadline(taskId, deal);
        if (task.contributorCount != 0) revert PocoTaskHasContributions(taskId);
        if (deal.trust != 1) revert PocoTrustNotOne(taskId, deal.trust);
        bytes32 resultHash = keccak256(abi.encodePacked(taskId, resultDigest));
        _checkResultsCallback(taskId, deal, resultHash, resultsCallback);
        bytes32 resultSeal = keccak256(abi.encodePacked(msg.sender, taskId, resultDigest));
        _checkAuthorization(taskId, deal, resultHash, resultSeal, enclaveChallenge, enclaveSign, authorizationSign);

        // No contribution record is kept (its worker and result are in the events below): counters
        // stay zero so views never show a contribution that storage does not hold.
        task.status = TaskStatus.COMPLETED;
        _tasks[taskId] = task;
        if (resultsCallback.length > 0) _resultsCallbacks[taskId] = resultsCallback;
        // Two events, not iExec's four: the single contribution *is* the consensus, and its digest
        // is the finalized result's, so TaskConsensus and TaskRevealed would repeat TaskContributed
        // (3.1k gas per task; readers take the consensus from TaskContributed on this path).
        emit TaskContributed(taskId, msg.sender, resultHash, enclaveChallenge);
        emit TaskFinalized(taskId, results);

        uint256 schedulerReward = _payProviders(taskId, deal);
        uint256 workerReward = deal.workerpoolPrice * (100 - deal.schedulerRewardRatio) / 100;
        if (workerReward > 0) _reward(msg.sender, workerReward, taskId);
        schedulerReward += deal.workerpoolPrice - workerReward;
        _unlockAndReward(deal.workerpoolOwner, _schedulerStake(deal), schedulerReward, taskId);
        _callResultCallback(taskId, deal.callback, resultsCallback);
    }

    /// @notice After the final deadline, fails an unfinished task: refunds the requester, unlocks the
    /// workers' stakes and moves the scheduler's stake to the kitty. Anyone may call it.
    function claim(bytes32 taskId, Deal calldata deal) external nonReentrant {
        _claim(taskId, deal);
    }

    // ─── Private ───


    function _checkContributionDeadline(bytes32 taskId, Deal calldata deal) private view {
        uint256 deadline = deal.startTime + CONTRIBUTION_DEADLINE_RATIO * deal.timeRef;
        if (block.timestamp >= deadline) revert PocoContributionDeadlineReached(taskId, deadline);
    }


    function _checkAuthorization(
        bytes32 taskId,
        Deal calldata deal,
        bytes32 resultHash,
        bytes32 resultSeal,
        address enclaveChallenge,
        bytes calldata enclaveSign,
        bytes calldata authorizationSign
    ) private view {
        if (deal.tag & TEE_TAG != 0 && enclaveChallenge == address(0)) revert PocoEnclaveChallengeRequired(taskId);
        bytes32 authorization =
            MessageHashUtils.toEthSignedMessageHash(keccak256(abi.encodePacked(msg.sender, taskId, enclaveChallenge)));
        if (!Signatures.isValid(deal.workerpoolOwner, authorization, authorizationSign)) {
            revert PocoUnauthorizedWorker(taskId, msg.sender);
        }
        if (enclaveChallenge != address(0)) {
            bytes32 enclaveMessage =
                MessageHashUtils.toEthSignedMessageHash(keccak256(abi.encodePacked(resultHash, resultSeal)));
            if (!Signatures.isValid(enclaveChallenge, enclaveMessage, enclaveSign)) {
                revert PocoInvalidEnclaveSignature(taskId, enclaveChallenge);
            }
        }
    }

    /// @dev Results callback data must hash to the consensus digest, unless the deal has no callback
    /// and none is given.
    function _checkResultsCallback(
        bytes32 taskId,
        Deal calldata deal,
        bytes32 consensusHash,
        bytes calldata resultsCallback
    ) private pure {
        if (deal.callback == address(0) && resultsCallback.length == 0) return;
        if (keccak256(abi.encodePacked(taskId, keccak256(resultsCallback))) != consensusHash) {
            revert PocoInvalidResultsCallback(taskId);
        }
    }

    function _findGroup(bytes32 taskId, uint256 groupCount, bytes32 resultHash) private view returns (uint256) {
        for (uint256 g = 0; g < groupCount; ++g) {
            if (_groupHashes[taskId][g] == resultHash) return g;
        }
        return groupCount;
    }

    function _findContribution(bytes32 taskId, uint256 count, address worker)
        private
        view
        returns (uint256 position, Contribution memory c)
    {
        for (position = 0; position < count; ++position) {
            c = _contributions[taskId][position];
            if (c.worker == worker) return (position, c);
        }
        revert PocoNotContributor(taskId, worker);
    }

    /// @dev Credibility test on the result just contributed to; a contribution can only raise the
    /// credibility of its own result, so only that group is tested.
    function _hasConsensus(uint256[] memory groupWeights, uint256 group, uint256 trust) private pure returns (bool) {
        uint256 total = 1;
        for (uint256 g = 0; g < groupWeights.length; ++g) {
            total += groupWeights[g];
        }
        return groupWeights[group] * trust > total * (trust - 1);
    }

    /// @dev max(score / 3, 3) - 1, saturated to fit the contribution's 16-bit field.
    function _workerWeight(uint256 score) private pure returns (uint256) {
        uint256 weight = Math.max(score / 3, 3) - 1;
        return Math.min(weight, type(uint16).max);
    }


    /// @dev Takes the task price from the requester, pays the app and dataset owners and takes the
    /// kitty's share for the scheduler; returns that share.
    function _payProviders(bytes32 taskId, Deal calldata deal) private returns (uint256 kittyShare) {
        _seize(deal.requester, deal.appPrice + deal.datasetPrice + deal.workerpoolPrice, taskId);
        if (deal.appPrice > 0) _reward(deal.appOwner, deal.appPrice, taskId);
        if (deal.datasetPrice > 0) _reward(deal.datasetOwner, deal.datasetPrice, taskId);
        uint256 kitty = _accounts[KITTY].locked;
        if (kitty > 0) {
            kittyShare = Math.min(Math.max(kitty * KITTY_RATIO / 100, KITTY_MIN), kitty);
            _seize(KITTY, kittyShare, taskId);
        }
    }

    /// @dev Seizes the stakes of wrong, unrevealed and rejected contributions and cuts their scores by a
    /// third; pays revealed workers their stake back plus a share of the workers' reward proportional to
    /// floor(log2(weight)); returns what is left for the scheduler (its ratio plus rounding).
    function _payWorkers(bytes32 taskId, Deal calldata deal, uint256 count) private returns (uint256) {
        uint256 stake = deal.workerStake;
        uint256 totalReward = deal.workerpoolPrice;
        uint256 totalWeight = 0;
        for (uint256 i = 0; i < count; ++i) {
            Contribution memory c = _contributions[taskId][i];
            if (c.status == ContributionStatus.PROVED) {
                totalWeight += Math.log2(c.weight);
            } else {
                Account storage account = _accounts[c.worker];
                account.locked -= SafeCast.toUint112(stake);
                account.score = uint32(uint256(account.score) * 2 / 3);
                emit Seized(c.worker, stake, taskId);
                emit FaultyContribution(c.worker, taskId);
                totalReward += stake;
            }
        }
        uint256 workersReward = totalReward * (100 - deal.schedulerRewardRatio) / 100;
        uint256 paid = 0;
        for (uint256 i = 0; i < count; ++i) {
            Contribution memory c = _contributions[taskId][i];
            if (c.status != ContributionStatus.PROVED) continue;
            uint256 share = workersReward * Math.log2(c.weight) / totalWeight;
            paid += share;
            Account storage account = _accounts[c.worker];
            account.locked -= SafeCast.toUint112(stake);
            account.free += SafeCast.toUint112(stake + share);
            if (count > 1) account.score += 1;
            emit Unlocked(c.worker, stake, taskId);
            emit Rewarded(c.worker, share, taskId);
            if (count > 1) emit AccurateContribution(c.worker, taskId);
        }
        return totalReward - paid;
    }

    /// @dev Calls the EIP-1154 consumer with exactly `_callbackGas`, ignoring its failure and not copying
    /// its return data (no return bomb). The post-call check makes the transaction revert if the caller
    /// gave too little gas for the callee to receive its full budget, so a scheduler cannot starve it.
    function _callResultCallback(bytes32 taskId, address callback, bytes calldata resultsCallback) private {
        if (callback == address(0)) return;
        uint256 budget = _callbackGas;
        bytes memory data = abi.encodeCall(IOracleConsumer.receiveResult, (taskId, resultsCallback));
        bool success;
        assembly ("memory-safe") {
            success := call(budget, callback, 0, add(data, 0x20), mload(data), 0, 0)
        }
        if (gasleft() <= budget / 63) revert PocoCallbackGasStarved(taskId);
        emit ResultCallbackCalled(taskId, callback, success);
    }
}
