// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AppRegistry} from "../registries/AppRegistry.sol";
import {DatasetRegistry} from "../registries/DatasetRegistry.sol";
import {WorkerpoolRegistry} from "../registries/WorkerpoolRegistry.sol";
import {HubStorage} from "./HubStorage.sol";
import {Market} from "./Market.sol";
import {Poco} from "./Poco.sol";

/// @title PnyxHub
/// @notice The marketplace's single entry point: escrow, order matching and the task lifecycle run
/// here directly; order management, configuration and views live in `PnyxHubExtension`, reached by
/// delegatecall from the fallback.
/// @dev Not a proxy: the hot paths (match, initialize, contribute, reveal, finalize, claim, deposits)
/// pay no dispatch. The extension exists because everything together exceeds the 24 KiB code limit.
contract PnyxHub is Market, Poco {
    // ─── Immutables ───
    address private immutable _extension;

    // ─── Constructor ───
    /// @param extension A `PnyxHubExtension` deployed with the same token and registries.
    constructor(
        address initialOwner,
        IERC20 token,
        AppRegistry appRegistry,
        DatasetRegistry datasetRegistry,
        WorkerpoolRegistry workerpoolRegistry,
        address extension
    ) HubStorage(initialOwner, token, appRegistry, datasetRegistry, workerpoolRegistry) {
        _extension = extension;
        _createCategory("XS", "Extra small tasks", 300);
        _createCategory("S", "Small tasks", 1_200);
        _createCategory("M", "Medium tasks", 3_600);
        _createCategory("L", "Large tasks", 10_800);
        _createCategory("XL", "Extra large tasks", 36_000);
        _setCallbackGas(DEFAULT_CALLBACK_GAS);
    }

    // ─── External ───

    /// @notice Pulls `amount` tokens from the sender (after `approve`) into its free balance.
    function deposit(uint256 amount) external nonReentrant {
        _deposit(msg.sender, msg.sender, amount);
    }

    /// @notice Pays `amount` of the sender's free balance out in tokens.
    function withdraw(uint256 amount) external nonReentrant {
        _withdraw(msg.sender, msg.sender, amount);
    }

    // ─── Fallback ───
    /// @notice Runs any other function in the extension, on the hub's storage.
    fallback() external {
        address extension = _extension;
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let success := delegatecall(gas(), extension, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(success) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }
}
