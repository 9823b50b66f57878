// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IHubErrors
/// @notice Errors of the hub's configuration and of its extension dispatch.
interface IHubErrors {
    /// @notice A category needs a positive reference duration.
    error HubInvalidTimeRef(uint256 workClockTimeRef);
    /// @notice The callback gas budget must lie between 50 000 and 5 000 000.
    error HubInvalidCallbackGas(uint256 callbackGas);
    /// @notice Neither the hub nor its extension has a function with this selector.
    error HubUnknownFunction(bytes4 selector);
    /// @notice Only the hub's registries may sync assets.
    error HubNotRegistry(address caller);
    /// @notice A hub function was called again before the first call returned.
    error HubReentrantCall();
    /// @notice The extension is only reachable through the hub.
    error HubExtensionDirectCall();
}
