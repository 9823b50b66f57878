// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Deal} from "../libraries/Types.sol";
import {IMarketErrors} from "./IMarketErrors.sol";

/// @title IMarket
/// @notice Events of matching and of on-chain order management.
interface IMarket is IMarketErrors {
    /// @notice Four orders were matched into deal `dealId` of `volume` tasks.
    event OrdersMatched(
        bytes32 indexed dealId,
        bytes32 appOrderHash,
        bytes32 datasetOrderHash,
        bytes32 workerpoolOrderHash,
        bytes32 requestOrderHash,
        uint256 volume
    );
    /// @notice The scheduler's notice: the full record of a new deal for `workerpool`. Only its
    /// commitment is stored; this event is where schedulers, workers and explorers read the record.
    event DealCreated(bytes32 indexed dealId, address indexed workerpool, Deal deal, string params);
    /// @notice An order was presigned on chain by its owner.
    event OrderPresigned(bytes32 indexed orderHash, address indexed owner);
    /// @notice An order was closed (cancelled) by its owner: its whole volume counts as consumed.
    event OrderClosed(bytes32 indexed orderHash, address indexed owner);
}
