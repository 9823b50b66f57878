// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AssetRegistry} from "./AssetRegistry.sol";

/// @title WorkerpoolRegistry
/// @notice Registry of workerpools: a description and the pool's policy — the stake each worker locks
/// per contribution and the scheduler's share of the workers' reward, both in percent.
contract WorkerpoolRegistry is AssetRegistry {
    struct Workerpool {
        string description;
        uint8 workerStakeRatio;
        uint8 schedulerRewardRatio;
    }

    // ─── Constants ───
    uint8 public constant DEFAULT_WORKER_STAKE_RATIO = 30;
    uint8 public constant DEFAULT_SCHEDULER_REWARD_RATIO = 1;

    // ─── Storage ───
    mapping(address workerpool => Workerpool) private _workerpools;

    // ─── Events ───
    event WorkerpoolCreated(address indexed workerpool, address indexed owner, string description);
    event PolicyUpdated(
        address indexed workerpool,
        uint256 oldWorkerStakeRatio,
        uint256 newWorkerStakeRatio,
        uint256 oldSchedulerRewardRatio,
        uint256 newSchedulerRewardRatio
    );

    // ─── Constructor ───
    constructor() AssetRegistry("Pnyx Workerpool Registry", "PNYXPOOL") {}

    // ─── External ───

    /// @notice Registers a workerpool for `owner` with the default policy (stake 30 %, scheduler 1 %).
    function createWorkerpool(address owner, string calldata description) external returns (address workerpool) {
        workerpool = predictWorkerpool(owner, description);
        // The policy is written before the mint, which pushes it to the hub.
        _workerpools[workerpool] = Workerpool({
            description: description,
            workerStakeRatio: DEFAULT_WORKER_STAKE_RATIO,
            schedulerRewardRatio: DEFAULT_SCHEDULER_REWARD_RATIO
        });
        _register(owner, _definition(owner, description));
        emit WorkerpoolCreated(workerpool, owner, description);
    }

    /// @notice Changes the pool's policy; deals already matched keep the values copied at match time.
    function changePolicy(address workerpool, uint256 workerStakeRatio, uint256 schedulerRewardRatio) external {
        address owner = _ownerOf(uint256(uint160(workerpool)));
        if (owner == address(0)) revert RegistryUnknownAsset(workerpool);
        if (owner != msg.sender) revert RegistryNotAssetOwner(workerpool, msg.sender);
        if (workerStakeRatio > 100) revert RegistryInvalidRatio(workerStakeRatio);
        if (schedulerRewardRatio > 100) revert RegistryInvalidRatio(schedulerRewardRatio);
        Workerpool storage pool = _workerpools[workerpool];
        emit PolicyUpdated(
            workerpool, pool.workerStakeRatio, workerStakeRatio, pool.schedulerRewardRatio, schedulerRewardRatio
        );
        pool.workerStakeRatio = uint8(workerStakeRatio);
        pool.schedulerRewardRatio = uint8(schedulerRewardRatio);
        _syncHub(workerpool, owner);
    }

    /// @notice The address `createWorkerpool` gives for these fields.
    function predictWorkerpool(address owner, string calldata description) public pure returns (address) {
        return _assetAddress(_definition(owner, description));
    }

    /// @notice The registered fields of `workerpool`.
    function getWorkerpool(address workerpool) external view returns (Workerpool memory) {
        _requireRegistered(workerpool);
        return _workerpools[workerpool];
    }

    // ─── Internal ───
    function _policy(address workerpool)
        internal
        view
        override
        returns (uint8 workerStakeRatio, uint8 schedulerRewardRatio)
    {
        Workerpool storage pool = _workerpools[workerpool];
        return (pool.workerStakeRatio, pool.schedulerRewardRatio);
    }

    // ─── Private ───
    function _definition(address owner, string calldata description) private pure returns (bytes32) {
        return keccak256(abi.encode("workerpool", owner, description));
    }
}
