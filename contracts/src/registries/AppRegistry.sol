// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AssetRegistry} from "./AssetRegistry.sol";

/// @title AppRegistry
/// @notice Registry of applications: name, type, where to download it, its checksum and, for TEE apps,
/// the enclave measurement an attested enclave must report.
contract AppRegistry is AssetRegistry {
    struct App {
        string name;
        string appType;
        bytes multiaddr;
        bytes32 checksum;
        bytes mrenclave;
    }

    // ─── Storage ───
    mapping(address app => App) private _apps;

    // ─── Events ───
    event AppCreated(address indexed app, address indexed owner, string name);

    // ─── Constructor ───
    constructor() AssetRegistry("Pnyx App Registry", "PNYXAPP") {}

    // ─── External ───

    /// @notice Registers an app for `owner` and mints its NFT; the address is `predictApp(...)`.
    function createApp(
        address owner,
        string calldata name,
        string calldata appType,
        bytes calldata multiaddr,
        bytes32 checksum,
        bytes calldata mrenclave
    ) external returns (address app) {
        app = _register(owner, _definition(owner, name, appType, multiaddr, checksum, mrenclave));
        _apps[app] = App({name: name, appType: appType, multiaddr: multiaddr, checksum: checksum, mrenclave: mrenclave});
        emit AppCreated(app, owner, name);
    }

    /// @notice The address `createApp` gives for these fields.
    function predictApp(
        address owner,
        string calldata name,
        string calldata appType,
        bytes calldata multiaddr,
        bytes32 checksum,
        bytes calldata mrenclave
    ) external pure returns (address) {
        return _assetAddress(_definition(owner, name, appType, multiaddr, checksum, mrenclave));
    }

    /// @notice The registered fields of `app`.
    function getApp(address app) external view returns (App memory) {
        _requireRegistered(app);
        return _apps[app];
    }

    // ─── Private ───
    function _definition(
        address owner,
        string calldata name,
        string calldata appType,
        bytes calldata multiaddr,
        bytes32 checksum,
        bytes calldata mrenclave
    ) private pure returns (bytes32) {
        return keccak256(abi.encode("app", owner, name, appType, multiaddr, checksum, mrenclave));
    }
}
