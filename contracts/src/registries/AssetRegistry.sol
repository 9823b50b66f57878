// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IRegistryErrors} from "../interfaces/IRegistryErrors.sol";
import {IAssetMirror} from "../interfaces/IAssetMirror.sol";

/// @title AssetRegistry
/// @notice Base of the app, dataset and workerpool registries: each asset is an ERC-721 token whose
/// owner is the asset's provider, so ownership moves with the NFT.
/// @dev An asset's address is its token id (a 160-bit hash of its defining fields and owner), not a
/// deployed contract: registering costs one mint instead of a proxy deployment. Every mint and transfer
/// is pushed to the hub (`IAssetMirror`) in the same transaction, so matching reads the current owner
/// from the hub's own storage instead of calling the registry.
abstract contract AssetRegistry is ERC721, IRegistryErrors {
    // ─── Immutables ───
    address private immutable _binder;

    // ─── Storage ───
    IAssetMirror private _hub;

    // ─── Events ───
    event HubBound(address indexed hub);

    // ─── Constructor ───
    constructor(string memory name, string memory symbol) ERC721(name, symbol) {
        _binder = msg.sender;
    }

    // ─── External ───

    /// @notice Names the hub that mirrors this registry; once, by the deployer, before any asset exists.
    function bindHub(IAssetMirror hub) external {
        if (msg.sender != _binder) revert RegistryNotBinder(msg.sender);
        if (address(_hub) != address(0)) revert RegistryAlreadyBound(address(_hub));
        _hub = hub;
        emit HubBound(address(hub));
    }

    function getHub() external view returns (address) {
        return address(_hub);
    }

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

    /// @dev Every ownership change (mint, transfer) reaches the hub in the same transaction.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = super._update(to, tokenId, auth);
        _syncHub(address(uint160(tokenId)), to);
    }

    function _syncHub(address asset, address owner) internal {
        IAssetMirror hub = _hub;
        if (address(hub) == address(0)) revert RegistryNotBound();
        (uint8 workerStakeRatio, uint8 schedulerRewardRatio) = _policy(asset);
        hub.syncAsset(asset, owner, workerStakeRatio, schedulerRewardRatio);
    }

    /// @dev Workerpools override this with their policy; apps and datasets have none.
    function _policy(address) internal view virtual returns (uint8 workerStakeRatio, uint8 schedulerRewardRatio) {
        return (0, 0);
    }

    function _assetAddress(bytes32 definition) internal pure returns (address) {
        return address(uint160(uint256(definition)));
    }

    function _requireRegistered(address asset) internal view {
        if (_ownerOf(uint256(uint160(asset))) == address(0)) revert RegistryUnknownAsset(asset);
    }
}
