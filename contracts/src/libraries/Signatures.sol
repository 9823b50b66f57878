// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @title Signatures
/// @notice Checks a signature by an EOA (65-byte or 64-byte EIP-2098 compact ECDSA, low-s only) or by a
/// contract (ERC-1271).
/// @dev ECDSA is tried first: it needs no external call and no EXTCODESIZE on the signer, which saves
/// 2.6k gas per cold signer. Only when it fails and the signer has code is ERC-1271 asked.
library Signatures {
    function isValid(address signer, bytes32 digest, bytes calldata signature) internal view returns (bool) {
        if (signer == address(0)) return false;
        if (recover(digest, signature) == signer) return true;
        if (signer.code.length == 0) return false;
        return SignatureChecker.isValidERC1271SignatureNow(signer, digest, signature);
    }

    /// @notice Recovers the ECDSA signer, or address(0) for any malformed or malleable signature.
    function recover(bytes32 digest, bytes calldata signature) internal pure returns (address recovered) {
        bytes32 r;
        bytes32 s;
        if (signature.length == 65) {
            uint8 v;
            assembly ("memory-safe") {
                r := calldataload(signature.offset)
                s := calldataload(add(signature.offset, 0x20))
                v := byte(0, calldataload(add(signature.offset, 0x40)))
            }
            (recovered,,) = ECDSA.tryRecover(digest, v, r, s);
        } else if (signature.length == 64) {
            assembly ("memory-safe") {
                r := calldataload(signature.offset)
                s := calldataload(add(signature.offset, 0x20))
            }
            (recovered,,) = ECDSA.tryRecover(digest, r, s);
        }
    }
}
