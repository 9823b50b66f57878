// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IEscrowErrors} from "./IEscrowErrors.sol";

/// @title IEscrow
/// @notice Escrow events and entry points. Every balance change emits exactly one event, so balances
/// can be rebuilt from logs: free = Σ Deposited + Σ Unlocked + Σ Rewarded − Σ Withdrawn − Σ Locked,
/// locked = Σ Locked − Σ Unlocked − Σ Seized.
interface IEscrow is IEscrowErrors {
    /// @notice `amount` tokens entered the hub for `account`.
    event Deposited(address indexed account, uint256 amount);
    /// @notice `amount` tokens left the hub from `account` to `to`.
    event Withdrawn(address indexed account, address indexed to, uint256 amount);
    /// @notice `amount` moved from `account`'s free to its locked balance, for deal or task `ref`.
    event Locked(address indexed account, uint256 amount, bytes32 indexed ref);
    /// @notice `amount` moved from `account`'s locked back to its free balance.
    event Unlocked(address indexed account, uint256 amount, bytes32 indexed ref);
    /// @notice `amount` was paid from the hub's pool of seized funds to `account`'s free balance.
    event Rewarded(address indexed account, uint256 amount, bytes32 indexed ref);
    /// @notice `amount` was taken from `account`'s locked balance into the hub's pool.
    event Seized(address indexed account, uint256 amount, bytes32 indexed ref);

    /// @notice Pulls `amount` tokens from the sender (after `approve`) and credits the sender.
    function deposit(uint256 amount) external;
    /// @notice Pulls `amount` tokens from the sender and credits `account`.
    function depositFor(address account, uint256 amount) external;
    /// @notice Pays `amount` of the sender's free balance out in tokens to the sender.
    function withdraw(uint256 amount) external;
    /// @notice Pays `amount` of the sender's free balance out in tokens to `to`.
    function withdrawTo(address to, uint256 amount) external;
}
