// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Test-only ERC-734 group: its members (keys with purpose 4) pass an order restriction.
contract GroupRestriction {
    mapping(bytes32 key => mapping(uint256 purpose => bool)) private _purposes;

    function addMember(address member) external {
        _purposes[bytes32(uint256(uint160(member)))][4] = true;
    }

    function keyHasPurpose(bytes32 key, uint256 purpose) external view returns (bool) {
        return _purposes[key][purpose];
    }
}
