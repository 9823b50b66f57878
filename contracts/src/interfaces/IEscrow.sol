// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IEscrowErrors} from "./IEscrowErrors.sol";

/// @title IEscrow
/// @notice Escrow events. Every balance change emits exactly one event, so balances
/// can be rebuilt from logs: free = Σ Deposited + Σ Unlocked + Σ Rewarded − Σ Withdrawn − Σ Locked,
/// locked = Σ Locked − Σ Unlocked − Σ Seized.
interface IEscrow is IEscrowErrors {
    /// @notice `amount` tokens entered the hub for `account`.
    event Deposited(address indexed account, uint256 amount);
    /// @notice `amount` tokens left the hub from `account` to `to`.
    event Withdrawn(address indexed account, address indexed to, uint256 amount);
    /// @notice `amount` moved from `account`'s free to its locked balance, for deal or task `ref`.
    event Locked(address indexed account, uint256 amount, bytes32 ref);
    /// @notice `amount` moved from `account`'s locked back to its free balance.
    event Unlocked(address indexed account, uint256 amount, bytes32 ref);
    /// @notice `amount` was paid from the hub's pool of seized funds to `account`'s free balance.
    event Rewarded(address indexed account, uint256 amount, bytes32 ref);
    /// @notice `amount` was taken from `account`'s locked balance into the hub's pool.
    event Seized(address indexed account, uint256 amount, bytes32 ref);

}
