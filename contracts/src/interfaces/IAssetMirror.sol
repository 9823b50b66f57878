// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IAssetMirror
/// @notice What a registry tells the hub about an asset whenever its owner or policy changes.
interface IAssetMirror {
    /// @notice Records `asset`'s current owner (zero when burnt) and, for workerpools, its policy.
    /// Only the hub's three registries may call it; the caller decides the asset's kind.
    function syncAsset(address asset, address owner, uint8 workerStakeRatio, uint8 schedulerRewardRatio) external;
}
