// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Account} from "../libraries/Types.sol";
import {IEscrow} from "../interfaces/IEscrow.sol";
import {HubStorage} from "./HubStorage.sol";

/// @title Escrow
/// @notice The internal side of the escrow: deposits, withdrawals and the four primitives every payment
/// is made of:
/// lock (free → locked), unlock (locked → free), seize (locked → the hub's pool) and reward
/// (pool → free). Each emits one event right after its state change.
/// @dev Free and locked balances share one slot with the account's worker score, so a payment that
/// touches both (unlock a stake and pay a reward) is a single storage write. The pool is not stored:
/// every transaction that seizes also rewards the same total, so it is empty between transactions and
/// Σ free + Σ locked == tokens held by the hub.
abstract contract Escrow is HubStorage, IEscrow {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice A permit for `depositWithPermit` and `depositAndMatchOrders` (EIP-2612).
    struct Permit {
        uint256 deadline;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    // ─── Internal ───

    function _deposit(address from, address account, uint256 amount) internal {
        if (amount == 0) revert EscrowZeroAmount();
        Account storage acc = _accounts[account];
        uint256 free = uint256(acc.free) + amount;
        if (free > type(uint112).max) revert EscrowBalanceOverflow(account, amount);
        // Effects before the token call: a reentrant token finds the credit already made, and a
        // failed transfer reverts it.
        acc.free = uint112(free);
        emit Deposited(account, amount);
        _token.safeTransferFrom(from, address(this), amount);
    }

    function _withdraw(address account, address to, uint256 amount) internal {
        if (amount == 0) revert EscrowZeroAmount();
        Account storage acc = _accounts[account];
        uint256 free = acc.free;
        if (free < amount) revert EscrowInsufficientBalance(account, free, amount);
        acc.free = uint112(free - amount);
        emit Withdrawn(account, to, amount);
        _token.safeTransfer(to, amount);
    }

    /// @dev A permit may have been submitted already by someone who saw it in the mempool; the deposit
    /// then proceeds on the allowance it set.
    function _permit(uint256 amount, Permit calldata permit) internal {
        try IERC20Permit(address(_token)).permit(
            msg.sender, address(this), amount, permit.deadline, permit.v, permit.r, permit.s
        ) {} catch {}
    }

    function _lock(address account, uint256 amount, bytes32 ref) internal {
        Account storage acc = _accounts[account];
        uint256 free = acc.free;
        if (free < amount) revert EscrowInsufficientBalance(account, free, amount);
        acc.free = uint112(free - amount);
        acc.locked += amount.toUint112();
        emit Locked(account, amount, ref);
    }

    function _unlock(address account, uint256 amount, bytes32 ref) internal {
        Account storage acc = _accounts[account];
        acc.locked -= amount.toUint112();
        acc.free += uint112(amount);
        emit Unlocked(account, amount, ref);
    }

    function _seize(address account, uint256 amount, bytes32 ref) internal {
        _accounts[account].locked -= amount.toUint112();
        emit Seized(account, amount, ref);
    }

    function _reward(address account, uint256 amount, bytes32 ref) internal {
        _accounts[account].free += amount.toUint112();
        emit Rewarded(account, amount, ref);
    }

    /// @dev Unlock `unlocked` and reward `rewarded` in one storage write.
    function _unlockAndReward(address account, uint256 unlocked, uint256 rewarded, bytes32 ref) internal {
        Account storage acc = _accounts[account];
        acc.locked -= unlocked.toUint112();
        acc.free += (unlocked + rewarded).toUint112();
        emit Unlocked(account, unlocked, ref);
        emit Rewarded(account, rewarded, ref);
    }
}
