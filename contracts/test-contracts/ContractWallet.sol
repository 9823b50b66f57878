// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice Test-only smart-contract account: ERC-1271 signatures by its `signer` key, and arbitrary
/// calls by that key (to act on the hub as a contract owner or requester).
contract ContractWallet is IERC1271 {
    address public immutable signer;
    bool public acceptAll;

    error ContractWalletCallFailed(bytes reason);
    error ContractWalletNotSigner(address caller);

    constructor(address signer_) {
        signer = signer_;
    }

    function setAcceptAll(bool value) external {
        if (msg.sender != signer) revert ContractWalletNotSigner(msg.sender);
        acceptAll = value;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered,,) = ECDSA.tryRecover(hash, signature);
        return acceptAll || recovered == signer ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }

    function execute(address target, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != signer) revert ContractWalletNotSigner(msg.sender);
        (bool ok, bytes memory result) = target.call(data);
        if (!ok) revert ContractWalletCallFailed(result);
        return result;
    }
}
