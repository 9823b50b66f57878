// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title PnyxToken
/// @notice The marketplace's ERC-20 (9 decimals, like RLC) with EIP-2612 `permit`, so a requester can
/// approve, deposit and match in one transaction (`PnyxHub.depositAndMatchOrders`).
/// @dev The whole fixed supply is minted to `holder` at deployment.
contract PnyxToken is ERC20, ERC20Permit {
    constructor(address holder, uint256 supply) ERC20("Pnyx Token", "PNYX") ERC20Permit("Pnyx Token") {
        _mint(holder, supply);
    }

    function decimals() public pure override returns (uint8) {
        return 9;
    }
}
