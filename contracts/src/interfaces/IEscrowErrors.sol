// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IEscrowErrors
/// @notice Errors of the escrow: deposits, withdrawals and the lock/unlock/reward/seize primitives.
interface IEscrowErrors {
    /// @notice `account` has `balance` free tokens where `needed` are required.
    error EscrowInsufficientBalance(address account, uint256 balance, uint256 needed);
    /// @notice A deposit or withdrawal of zero tokens.
    error EscrowZeroAmount();
    /// @notice A deposit that would overflow the 112-bit balance of `account`.
    error EscrowBalanceOverflow(address account, uint256 amount);
    /// @notice `depositAndMatchOrders` is only for the requester of the request order.
    error EscrowDepositorNotRequester(address depositor, address requester);
}
