// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TaskStatus, ContributionStatus} from "../libraries/Types.sol";

/// @title IPocoErrors
/// @notice Errors of the Proof-of-Contribution task lifecycle.
interface IPocoErrors {
    /// @notice The deal record passed in calldata is not the one committed for `id` (a deal or a task).
    error PocoDealMismatch(bytes32 id);
    /// @notice Deal `dealId` has no task `idx`: no such deal, or `idx` outside its bag of tasks.
    error PocoTaskNotFound(bytes32 dealId, uint256 idx);
    /// @notice The task is in `status`, which does not allow this operation.
    error PocoInvalidTaskStatus(bytes32 taskId, TaskStatus status);
    /// @notice The contribution deadline (deal start + 7 time references) has passed.
    error PocoContributionDeadlineReached(bytes32 taskId, uint256 deadline);
    /// @notice The reveal deadline (consensus + 2 time references) has passed.
    error PocoRevealDeadlineReached(bytes32 taskId, uint256 deadline);
    /// @notice Reopening needs the reveal deadline to have passed.
    error PocoRevealDeadlineNotReached(bytes32 taskId, uint256 deadline);
    /// @notice The final deadline (deal start + 10 time references) has passed.
    error PocoFinalDeadlineReached(bytes32 taskId, uint256 deadline);
    /// @notice A claim needs the final deadline to have passed.
    error PocoFinalDeadlineNotReached(bytes32 taskId, uint256 deadline);
    /// @notice `worker` already contributed to the task.
    error PocoAlreadyContributed(bytes32 taskId, address worker);
    /// @notice A task takes at most 255 contributions.
    error PocoTooManyContributors(bytes32 taskId);
    /// @notice A TEE task needs a non-zero enclave challenge.
    error PocoEnclaveChallengeRequired(bytes32 taskId);
    /// @notice The authorization is not the workerpool owner's signature for (worker, task, enclave).
    error PocoUnauthorizedWorker(bytes32 taskId, address worker);
    /// @notice The enclave signature is not by `enclaveChallenge` over (resultHash, resultSeal).
    error PocoInvalidEnclaveSignature(bytes32 taskId, address enclaveChallenge);
    /// @notice `worker` has no contribution to the task.
    error PocoNotContributor(bytes32 taskId, address worker);
    /// @notice `worker`'s contribution is in `status`, which does not allow this operation.
    error PocoInvalidContributionStatus(bytes32 taskId, address worker, ContributionStatus status);
    /// @notice `worker` contributed another result than the consensus.
    error PocoContributionNotInConsensus(bytes32 taskId, address worker);
    /// @notice keccak256(taskId ‖ digest) is not the committed result hash.
    error PocoResultHashMismatch(bytes32 taskId, bytes32 resultDigest);
    /// @notice keccak256(worker ‖ taskId ‖ digest) is not the committed result seal.
    error PocoResultSealMismatch(bytes32 taskId, address worker);
    /// @notice `revealAll` found no unrevealed winner left to prove or reject.
    error PocoNothingToReveal(bytes32 taskId);
    /// @notice Only the workerpool owner recorded in the deal (its scheduler) may do this.
    error PocoUnauthorizedScheduler(bytes32 taskId, address caller);
    /// @notice Finalizing needs one reveal, and every winner revealed or the reveal deadline passed.
    error PocoRevealsPending(bytes32 taskId, uint256 revealed, uint256 winners);
    /// @notice Reopening is only for a consensus nobody revealed.
    error PocoRevealsExist(bytes32 taskId, uint256 revealed);
    /// @notice The results callback data does not hash to the consensus digest (or is unexpected).
    error PocoInvalidResultsCallback(bytes32 taskId);
    /// @notice `contributeAndFinalize` is only for deals of trust 1.
    error PocoTrustNotOne(bytes32 taskId, uint256 trust);
    /// @notice `contributeAndFinalize` is only for a task nobody contributed to.
    error PocoTaskHasContributions(bytes32 taskId);
    /// @notice The transaction left too little gas for the result callback's full budget.
    error PocoCallbackGasStarved(bytes32 taskId);
}
