// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IRegistryErrors
/// @notice Errors of the app, dataset and workerpool registries.
interface IRegistryErrors {
    /// @notice An asset with the same defining fields and owner is already registered.
    error RegistryAssetExists(address asset);
    /// @notice No asset is registered at this address.
    error RegistryUnknownAsset(address asset);
    /// @notice Only the asset's owner may do this.
    error RegistryNotAssetOwner(address asset, address caller);
    /// @notice Only the registry's deployer may bind it to a hub.
    error RegistryNotBinder(address caller);
    /// @notice The registry is already bound to `hub`.
    error RegistryAlreadyBound(address hub);
    /// @notice Assets can only be created once the registry is bound to its hub.
    error RegistryNotBound();
    /// @notice A workerpool policy ratio is a percentage and cannot exceed 100.
    error RegistryInvalidRatio(uint256 ratio);
}
