// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Deal, DealSlot, Task, TaskStatus} from "../libraries/Types.sol";
import {IPoco} from "../interfaces/IPoco.sol";
import {Escrow} from "./Escrow.sol";

/// @title PocoBase
/// @notice Task-lifecycle internals shared by the hub's hot functions (`Poco`) and the cold ones in
/// `PnyxHubExtension` (reopen, batch claims).
abstract contract PocoBase is Escrow, IPoco {
    // ─── Internal ───

    /// @dev A one-task deal's task slot already holds its deal digest; a bigger deal's slot `slot` gives
    /// the digest and the bag of indexes.
    function _initialize(bytes32 dealId, uint256 idx, DealSlot memory slot) internal returns (bytes32 taskId) {
        taskId = keccak256(abi.encodePacked(dealId, idx));
        Task storage task = _tasks[taskId];
        if (task.status != TaskStatus.UNSET) revert PocoInvalidTaskStatus(taskId, task.status);
        if (task.dealDigest == 0) {
            if (slot.digest == 0 || idx < slot.botFirst || idx >= uint256(slot.botFirst) + slot.botSize) {
                revert PocoTaskNotFound(dealId, idx);
            }
            task.dealDigest = slot.digest;
        }
        task.status = TaskStatus.ACTIVE;
        emit TaskInitialized(taskId, dealId, idx);
    }

    function _claim(bytes32 taskId, Deal calldata deal) internal {
        Task memory task = _loadTask(taskId, deal);
        if (task.status != TaskStatus.ACTIVE && task.status != TaskStatus.REVEALING) {
            revert PocoInvalidTaskStatus(taskId, task.status);
        }
        uint256 finalDeadline = deal.startTime + FINAL_DEADLINE_RATIO * deal.timeRef;
        if (block.timestamp < finalDeadline) revert PocoFinalDeadlineNotReached(taskId, finalDeadline);
        _tasks[taskId].status = TaskStatus.FAILED;

        _unlock(deal.requester, deal.appPrice + deal.datasetPrice + deal.workerpoolPrice, taskId);
        uint256 stake = _schedulerStake(deal);
        if (stake > 0) {
            _seize(deal.workerpoolOwner, stake, taskId);
            _reward(KITTY, stake, taskId);
            _lock(KITTY, stake, taskId);
        }
        if (deal.workerStake > 0) {
            for (uint256 i = 0; i < task.contributorCount; ++i) {
                _unlock(_contributions[taskId][i].worker, deal.workerStake, taskId);
            }
        }
        emit TaskClaimed(taskId);
    }

    /// @dev Loads the task's slot and checks that `deal` is the record it was initialized from.
    function _loadTask(bytes32 taskId, Deal calldata deal) internal view returns (Task memory task) {
        task = _tasks[taskId];
        if (task.status == TaskStatus.UNSET) revert PocoInvalidTaskStatus(taskId, task.status);
        if (task.dealDigest != uint160(uint256(keccak256(abi.encode(deal))))) revert PocoDealMismatch(taskId);
    }

    function _checkFinalDeadlineAhead(bytes32 taskId, Deal calldata deal) internal view {
        uint256 deadline = deal.startTime + FINAL_DEADLINE_RATIO * deal.timeRef;
        if (block.timestamp >= deadline) revert PocoFinalDeadlineReached(taskId, deadline);
    }

    function _schedulerStake(Deal calldata deal) internal pure returns (uint256) {
        return deal.workerpoolPrice * WORKERPOOL_STAKE_RATIO / 100;
    }
}
