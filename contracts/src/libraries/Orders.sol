// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {OrderOperation} from "./Types.sol";

/// @title Orders
/// @notice The four signed orders of the market and their EIP-712 struct hashes.
/// @dev Each type string sits beside its typehash; `pnyx.domain.orders` defines the same types and a
/// property test checks both sides agree. `sign` is not part of any hash.
library Orders {
    struct AppOrder {
        address app;
        uint256 appPrice;
        uint256 volume;
        bytes32 tag;
        address datasetRestrict;
        address workerpoolRestrict;
        address requesterRestrict;
        bytes32 salt;
        bytes sign;
    }

    struct DatasetOrder {
        address dataset;
        uint256 datasetPrice;
        uint256 volume;
        bytes32 tag;
        address appRestrict;
        address workerpoolRestrict;
        address requesterRestrict;
        bytes32 salt;
        bytes sign;
    }

    struct WorkerpoolOrder {
        address workerpool;
        uint256 workerpoolPrice;
        uint256 volume;
        bytes32 tag;
        uint256 category;
        uint256 trust;
        address appRestrict;
        address datasetRestrict;
        address requesterRestrict;
        bytes32 salt;
        bytes sign;
    }

    struct RequestOrder {
        address app;
        uint256 appMaxPrice;
        address dataset;
        uint256 datasetMaxPrice;
        address workerpool;
        uint256 workerpoolMaxPrice;
        address requester;
        uint256 volume;
        bytes32 tag;
        uint256 category;
        uint256 trust;
        address beneficiary;
        address callback;
        string params;
        bytes32 salt;
        bytes sign;
    }

    /// @notice A presign (SIGN) or cancel (CLOSE) of an order, sent by its owner or signed by it.
    struct AppOrderOperation {
        AppOrder order;
        OrderOperation operation;
        bytes sign;
    }

    struct DatasetOrderOperation {
        DatasetOrder order;
        OrderOperation operation;
        bytes sign;
    }

    struct WorkerpoolOrderOperation {
        WorkerpoolOrder order;
        OrderOperation operation;
        bytes sign;
    }

    struct RequestOrderOperation {
        RequestOrder order;
        OrderOperation operation;
        bytes sign;
    }

    // ─── Type strings ───
    string internal constant APP_ORDER_TYPE =
        "AppOrder(address app,uint256 appPrice,uint256 volume,bytes32 tag,address datasetRestrict,"
        "address workerpoolRestrict,address requesterRestrict,bytes32 salt)";
    string internal constant DATASET_ORDER_TYPE =
        "DatasetOrder(address dataset,uint256 datasetPrice,uint256 volume,bytes32 tag,address appRestrict,"
        "address workerpoolRestrict,address requesterRestrict,bytes32 salt)";
    string internal constant WORKERPOOL_ORDER_TYPE =
        "WorkerpoolOrder(address workerpool,uint256 workerpoolPrice,uint256 volume,bytes32 tag,"
        "uint256 category,uint256 trust,address appRestrict,address datasetRestrict,"
        "address requesterRestrict,bytes32 salt)";
    string internal constant REQUEST_ORDER_TYPE =
        "RequestOrder(address app,uint256 appMaxPrice,address dataset,uint256 datasetMaxPrice,"
        "address workerpool,uint256 workerpoolMaxPrice,address requester,uint256 volume,bytes32 tag,"
        "uint256 category,uint256 trust,address beneficiary,address callback,string params,bytes32 salt)";

    bytes32 internal constant APP_ORDER_TYPEHASH = keccak256(bytes(APP_ORDER_TYPE));
    bytes32 internal constant DATASET_ORDER_TYPEHASH = keccak256(bytes(DATASET_ORDER_TYPE));
    bytes32 internal constant WORKERPOOL_ORDER_TYPEHASH = keccak256(bytes(WORKERPOOL_ORDER_TYPE));
    bytes32 internal constant REQUEST_ORDER_TYPEHASH = keccak256(bytes(REQUEST_ORDER_TYPE));

    // An operation embeds its order: EIP-712 appends the referenced type after the primary one.
    bytes32 internal constant APP_ORDER_OPERATION_TYPEHASH =
        keccak256(abi.encodePacked("AppOrderOperation(AppOrder order,uint256 operation)", APP_ORDER_TYPE));
    bytes32 internal constant DATASET_ORDER_OPERATION_TYPEHASH =
        keccak256(abi.encodePacked("DatasetOrderOperation(DatasetOrder order,uint256 operation)", DATASET_ORDER_TYPE));
    bytes32 internal constant WORKERPOOL_ORDER_OPERATION_TYPEHASH = keccak256(
        abi.encodePacked("WorkerpoolOrderOperation(WorkerpoolOrder order,uint256 operation)", WORKERPOOL_ORDER_TYPE)
    );
    bytes32 internal constant REQUEST_ORDER_OPERATION_TYPEHASH =
        keccak256(abi.encodePacked("RequestOrderOperation(RequestOrder order,uint256 operation)", REQUEST_ORDER_TYPE));

    // ─── Struct hashes ───
    function hash(AppOrder calldata o) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                APP_ORDER_TYPEHASH,
                o.app,
                o.appPrice,
                o.volume,
                o.tag,
                o.datasetRestrict,
                o.workerpoolRestrict,
                o.requesterRestrict,
                o.salt
            )
        );
    }

    function hash(DatasetOrder calldata o) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                DATASET_ORDER_TYPEHASH,
                o.dataset,
                o.datasetPrice,
                o.volume,
                o.tag,
                o.appRestrict,
                o.workerpoolRestrict,
                o.requesterRestrict,
                o.salt
            )
        );
    }

    function hash(WorkerpoolOrder calldata o) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                WORKERPOOL_ORDER_TYPEHASH,
                o.workerpool,
                o.workerpoolPrice,
                o.volume,
                o.tag,
                o.category,
                o.trust,
                o.appRestrict,
                o.datasetRestrict,
                o.requesterRestrict,
                o.salt
            )
        );
    }

    function hash(RequestOrder calldata o) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                REQUEST_ORDER_TYPEHASH,
                o.app,
                o.appMaxPrice,
                o.dataset,
                o.datasetMaxPrice,
                o.workerpool,
                o.workerpoolMaxPrice,
                o.requester,
                o.volume,
                o.tag,
                o.category,
                o.trust,
                o.beneficiary,
                o.callback,
                keccak256(bytes(o.params)),
                o.salt
            )
        );
    }

    function hashOperation(AppOrder calldata o, OrderOperation op) internal pure returns (bytes32) {
        return keccak256(abi.encode(APP_ORDER_OPERATION_TYPEHASH, hash(o), uint256(op)));
    }

    function hashOperation(DatasetOrder calldata o, OrderOperation op) internal pure returns (bytes32) {
        return keccak256(abi.encode(DATASET_ORDER_OPERATION_TYPEHASH, hash(o), uint256(op)));
    }

    function hashOperation(WorkerpoolOrder calldata o, OrderOperation op) internal pure returns (bytes32) {
        return keccak256(abi.encode(WORKERPOOL_ORDER_OPERATION_TYPEHASH, hash(o), uint256(op)));
    }

    function hashOperation(RequestOrder calldata o, OrderOperation op) internal pure returns (bytes32) {
        return keccak256(abi.encode(REQUEST_ORDER_OPERATION_TYPEHASH, hash(o), uint256(op)));
    }
}
