// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IERC734
/// @notice The part of ERC-734 (key manager) that order restrictions use: a restriction may be a group
/// contract whose keys with purpose 4 (GROUPMEMBER) are its members.
interface IERC734 {
    function keyHasPurpose(bytes32 key, uint256 purpose) external view returns (bool);
}
