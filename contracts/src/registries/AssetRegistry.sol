// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IRegistryErrors} from "../interfaces/IRegistryErrors.sol";

/// @title AssetRegistry
/// @notice Base of the app, dataset and workerpool registries: each asset is an ERC-721 token whose
/// owner is the asset's provider, so ownership moves with the NFT.
/// @dev An asset's address is its token id (a 160-bit hash of its defining fields and owner), not a
/// deployed contract: registering costs one mint instead of a proxy deployment, and the hub needs one
/// storage read to learn an asset's current owner.
abstract contract AssetRegistry is ERC721, IRegistryErrors {
    // ─── Constructor ───
    constructor(string memory name, string memory symbol) ERC721(name, symbol) {}

    // ─── External ───

    /// @notice The asset's current owner, or address(0) if `asset` is not registered.
    function getOwner(address asset) external view returns (address) {
        return _ownerOf(uint256(uint160(asset)));
    }

    /// @notice Whether `asset` is registered here.
    function isRegistered(address asset) external view returns (bool) {
        return _ownerOf(uint256(uint160(asset))) != address(0);
    }

    // ─── Internal ───

    /// @dev Mints the asset whose address is derived from `definition` to `owner`.
    function _register(address owner, bytes32 definition) internal returns (address asset) {
        asset = _assetAddress(definition);
        uint256 tokenId = uint256(uint160(asset));
        if (_ownerOf(tokenId) != address(0)) revert RegistryAssetExists(asset);
        _mint(owner, tokenId);
    }

    function _assetAddress(bytes32 definition) internal pure returns (address) {
        return address(uint160(uint256(definition)));
    }

    function _requireRegistered(address asset) internal view {
        if (_ownerOf(uint256(uint160(asset))) == address(0)) revert RegistryUnknownAsset(asset);
    }
}
