// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IMarketErrors
/// @notice Errors of order matching and order management, one per check of `matchOrders`
/// (the iExec revert code of each check is given for reference).
interface IMarketErrors {
    /// @notice 0x00: the request and the workerpool order name different categories.
    error MarketCategoryMismatch(uint256 requestCategory, uint256 workerpoolCategory);
    /// @notice 0x01: the category does not exist.
    error MarketUnknownCategory(uint256 category);
    /// @notice 0x02: the request asks more trust than the workerpool order offers.
    error MarketTrustTooHigh(uint256 requested, uint256 offered);
    /// @notice 0x03: the app costs more than the request accepts.
    error MarketAppPriceTooHigh(uint256 price, uint256 maxPrice);
    /// @notice 0x04: the dataset costs more than the request accepts.
    error MarketDatasetPriceTooHigh(uint256 price, uint256 maxPrice);
    /// @notice 0x05: the workerpool costs more than the request accepts.
    error MarketWorkerpoolPriceTooHigh(uint256 price, uint256 maxPrice);
    /// @notice 0x06: the workerpool does not offer every tag bit the deal needs.
    error MarketTagNotOffered(bytes32 tag, bytes32 offered);
    /// @notice 0x07: the TEE bit is required by the dataset or request but not by the app order.
    error MarketTeeNotAllowedByApp(bytes32 tag, bytes32 appTag);
    /// @notice 0x10: the request names another app than the app order.
    error MarketAppMismatch(address requested, address offered);
    /// @notice 0x11: the request names another dataset than the dataset order.
    error MarketDatasetMismatch(address requested, address offered);
    /// @notice 0x12: the request's workerpool restriction excludes the workerpool.
    error MarketRequestWorkerpoolRestricted(address restriction, address workerpool);
    /// @notice 0x13: the app order's dataset restriction excludes the dataset.
    error MarketAppDatasetRestricted(address restriction, address dataset);
    /// @notice 0x14: the app order's workerpool restriction excludes the workerpool.
    error MarketAppWorkerpoolRestricted(address restriction, address workerpool);
    /// @notice 0x15: the app order's requester restriction excludes the requester.
    error MarketAppRequesterRestricted(address restriction, address requester);
    /// @notice 0x16: the dataset order's app restriction excludes the app.
    error MarketDatasetAppRestricted(address restriction, address app);
    /// @notice 0x17: the dataset order's workerpool restriction excludes the workerpool.
    error MarketDatasetWorkerpoolRestricted(address restriction, address workerpool);
    /// @notice 0x18: the dataset order's requester restriction excludes the requester.
    error MarketDatasetRequesterRestricted(address restriction, address requester);
    /// @notice 0x19: the workerpool order's app restriction excludes the app.
    error MarketWorkerpoolAppRestricted(address restriction, address app);
    /// @notice 0x1a: the workerpool order's dataset restriction excludes the dataset.
    error MarketWorkerpoolDatasetRestricted(address restriction, address dataset);
    /// @notice 0x1b: the workerpool order's requester restriction excludes the requester.
    error MarketWorkerpoolRequesterRestricted(address restriction, address requester);
    /// @notice 0x20: the app is not in the app registry.
    error MarketAppNotRegistered(address app);
    /// @notice 0x21: the app order is neither presigned nor signed by the app owner.
    error MarketInvalidAppOrderSignature(bytes32 orderHash);
    /// @notice 0x30: the dataset is not in the dataset registry.
    error MarketDatasetNotRegistered(address dataset);
    /// @notice 0x31: the dataset order is neither presigned nor signed by the dataset owner.
    error MarketInvalidDatasetOrderSignature(bytes32 orderHash);
    /// @notice 0x40: the workerpool is not in the workerpool registry.
    error MarketWorkerpoolNotRegistered(address workerpool);
    /// @notice 0x41: the workerpool order is neither presigned nor signed by the workerpool owner.
    error MarketInvalidWorkerpoolOrderSignature(bytes32 orderHash);
    /// @notice 0x50: the request order is neither presigned nor signed by its requester.
    error MarketInvalidRequestOrderSignature(bytes32 orderHash);
    /// @notice 0x60: an order has no volume left (consumed or cancelled).
    error MarketOrderConsumed(bytes32 orderHash);
    /// @notice An order operation neither sent nor signed by the order's owner.
    error MarketUnauthorizedOrderOperation(bytes32 orderHash, address sender);
}
