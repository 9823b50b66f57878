// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Test-only EIP-1154 consumer with a selectable behaviour, to check that a result callback is
/// delivered, and that a misbehaving one can neither block nor starve nor re-enter the hub.
contract ResultConsumer {
    enum Mode {
        RECORD,
        REVERT,
        BURN_GAS,
        REENTER,
        RETURN_BOMB
    }

    Mode public mode;
    address public hub;
    bytes public reentryPayload;
    bytes32 public lastId;
    bytes public lastResult;
    uint256 public calls;
    bool public reentrySucceeded;
    bytes public reentryError;

    error ResultConsumerRefused();

    function configure(Mode mode_, address hub_, bytes calldata reentryPayload_) external {
        mode = mode_;
        hub = hub_;
        reentryPayload = reentryPayload_;
    }

    function receiveResult(bytes32 id, bytes calldata result) external {
        if (mode == Mode.REVERT) revert ResultConsumerRefused();
        if (mode == Mode.BURN_GAS) {
            uint256 x;
            while (true) {
                ++x;
            }
        }
        if (mode == Mode.REENTER) {
            (bool ok, bytes memory reason) = hub.call(reentryPayload);
            reentrySucceeded = ok;
            reentryError = reason;
        }
        lastId = id;
        lastResult = result;
        calls += 1;
        if (mode == Mode.RETURN_BOMB) {
            assembly ("memory-safe") {
                return(0, 1000000)
            }
        }
    }
}
