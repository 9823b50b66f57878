// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Test-only ERC-20 that calls back into a target (the hub) from inside every transfer, with
/// calldata chosen by the test: a reentrancy attack through the escrow's token.
contract ReentrantToken is ERC20 {
    address public target;
    bytes public payload;
    bool private _attacking;

    constructor(address holder, uint256 supply) ERC20("Reentrant", "REENT") {
        _mint(holder, supply);
    }

    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (target != address(0) && !_attacking && from != address(0)) {
            _attacking = true;
            (bool ok, bytes memory reason) = target.call(payload);
            _attacking = false;
            if (!ok) {
                // Bubble the hub's refusal up so the test sees which error stopped the attack.
                assembly ("memory-safe") {
                    revert(add(reason, 0x20), mload(reason))
                }
            }
        }
    }
}
