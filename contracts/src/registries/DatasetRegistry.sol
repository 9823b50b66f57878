// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AssetRegistry} from "./AssetRegistry.sol";

/// @title DatasetRegistry
/// @notice Registry of datasets: name, where to download it and the checksum of the (possibly
/// encrypted) file.
contract DatasetRegistry is AssetRegistry {
    struct Dataset {
        string name;
        bytes multiaddr;
        bytes32 checksum;
    }

    // ─── Storage ───
    mapping(address dataset => Dataset) private _datasets;

    // ─── Events ───
    event DatasetCreated(address indexed dataset, address indexed owner, string name);

    // ─── Constructor ───
    constructor() AssetRegistry("Pnyx Dataset Registry", "PNYXDATA") {}

    // ─── External ───

    /// @notice Registers a dataset for `owner` and mints its NFT.
    function createDataset(address owner, string calldata name, bytes calldata multiaddr, bytes32 checksum)
        external
        returns (address dataset)
    {
        dataset = _register(owner, _definition(owner, name, multiaddr, checksum));
        _datasets[dataset] = Dataset({name: name, multiaddr: multiaddr, checksum: checksum});
        emit DatasetCreated(dataset, owner, name);
    }

    /// @notice The address `createDataset` gives for these fields.
    function predictDataset(address owner, string calldata name, bytes calldata multiaddr, bytes32 checksum)
        external
        pure
        returns (address)
    {
        return _assetAddress(_definition(owner, name, multiaddr, checksum));
    }

    /// @notice The registered fields of `dataset`.
    function getDataset(address dataset) external view returns (Dataset memory) {
        _requireRegistered(dataset);
        return _datasets[dataset];
    }

    // ─── Private ───
    function _definition(address owner, string calldata name, bytes calldata multiaddr, bytes32 checksum)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode("dataset", owner, name, multiaddr, checksum));
    }
}
