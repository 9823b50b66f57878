// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Account, AssetRecord, Category, Contribution, DealSlot, Task} from "../libraries/Types.sol";
import {AppRegistry} from "../registries/AppRegistry.sol";
import {DatasetRegistry} from "../registries/DatasetRegistry.sol";
import {WorkerpoolRegistry} from "../registries/WorkerpoolRegistry.sol";
import {IHubErrors} from "../interfaces/IHubErrors.sol";

/// @title HubStorage
/// @notice The hub's constants, immutables and storage layout, shared by `PnyxHub` and the
/// `PnyxHubExtension` it delegates its cold functions to. Both inherit this contract first, so
/// their storage layouts are identical by construction.
abstract contract HubStorage is Ownable, EIP712, IHubErrors {
    // ─── Constants ───
    /// @notice EIP-712 domain name and version of every order signature.
    string internal constant DOMAIN_NAME = "Pnyx";
    string internal constant DOMAIN_VERSION = "1";
    /// @notice Deadlines are multiples of the category's time reference.
    uint256 internal constant CONTRIBUTION_DEADLINE_RATIO = 7;
    uint256 internal constant REVEAL_DEADLINE_RATIO = 2;
    uint256 internal constant FINAL_DEADLINE_RATIO = 10;
    /// @notice The scheduler locks this percentage of the workerpool price per task at match time.
    uint256 internal constant WORKERPOOL_STAKE_RATIO = 30;
    /// @notice A successful task pays the scheduler max(10 % of the kitty, KITTY_MIN), capped at the kitty.
    uint256 internal constant KITTY_RATIO = 10;
    uint256 internal constant KITTY_MIN = 1e9;
    /// @notice The account that collects the stakes of schedulers whose tasks failed.
    address internal constant KITTY = address(uint160(uint256(keccak256("PnyxKitty")) - 1));
    /// @notice ERC-734 purpose of a group member key (order restrictions).
    uint256 internal constant GROUP_MEMBER_PURPOSE = 4;
    /// @notice Bit 0 of a tag: the task must run in a TEE.
    bytes32 internal constant TEE_TAG = bytes32(uint256(1));
    /// @notice Tag bits 1-3 name TEE frameworks; a dataset order's framework bits are ignored.
    bytes32 internal constant TEE_FRAMEWORK_BITS = bytes32(uint256(0xe));
    /// @notice A task takes at most this many contributions (the counters are 8-bit).
    uint256 internal constant MAX_CONTRIBUTORS = 255;
    uint256 internal constant DEFAULT_CALLBACK_GAS = 200_000;
    uint256 internal constant MIN_CALLBACK_GAS = 50_000;
    uint256 internal constant MAX_CALLBACK_GAS = 5_000_000;

    // ─── Immutables ───
    IERC20 internal immutable _token;
    AppRegistry internal immutable _appRegistry;
    DatasetRegistry internal immutable _datasetRegistry;
    WorkerpoolRegistry internal immutable _workerpoolRegistry;

    // ─── Storage ───
    mapping(address account => Account) internal _accounts;
    mapping(bytes32 orderHash => uint256 consumed) internal _consumed;
    mapping(bytes32 orderHash => address owner) internal _presigned;
    mapping(bytes32 dealId => DealSlot) internal _deals;
    mapping(address asset => AssetRecord) internal _assets;
    mapping(bytes32 taskId => Task) internal _tasks;
    mapping(bytes32 taskId => mapping(uint256 position => Contribution)) internal _contributions;
    mapping(bytes32 taskId => mapping(uint256 group => bytes32 resultHash)) internal _groupHashes;
    mapping(bytes32 taskId => bytes resultsCallback) internal _resultsCallbacks;
    Category[] internal _categories;
    /// @dev The one field of a category that matching reads; zero means no such category.
    mapping(uint256 category => uint256 workClockTimeRef) internal _categoryTimeRefs;
    uint256 internal _callbackGas;
    /// @dev Reentrancy lock in transient storage: ~200 gas per call instead of ~2.3k for a storage flag.
    bool private transient _entered;

    // ─── Modifiers ───
    /// @notice Rejects a call made while another hub call of the same transaction is still running
    /// (a reentrant token, callback or ERC-1271 signer).
    modifier nonReentrant() {
        if (_entered) revert HubReentrantCall();
        _entered = true;
        _;
        _entered = false;
    }

    // ─── Events ───
    event CategoryCreated(uint256 indexed category, string name, string description, uint256 workClockTimeRef);
    event CallbackGasUpdated(uint256 oldCallbackGas, uint256 newCallbackGas);

    // ─── Constructor ───
    constructor(
        address initialOwner,
        IERC20 token,
        AppRegistry appRegistry,
        DatasetRegistry datasetRegistry,
        WorkerpoolRegistry workerpoolRegistry
    ) Ownable(initialOwner) EIP712(DOMAIN_NAME, DOMAIN_VERSION) {
        _token = token;
        _appRegistry = appRegistry;
        _datasetRegistry = datasetRegistry;
        _workerpoolRegistry = workerpoolRegistry;
    }

    // ─── Internal ───
    function _createCategory(string memory name, string memory description, uint256 workClockTimeRef)
        internal
        returns (uint256 category)
    {
        if (workClockTimeRef == 0) revert HubInvalidTimeRef(workClockTimeRef);
        category = _categories.length;
        _categoryTimeRefs[category] = workClockTimeRef;
        _categories.push(Category({name: name, description: description, workClockTimeRef: workClockTimeRef}));
        emit CategoryCreated(category, name, description, workClockTimeRef);
    }

    function _setCallbackGas(uint256 callbackGas) internal {
        if (callbackGas < MIN_CALLBACK_GAS || callbackGas > MAX_CALLBACK_GAS) {
            revert HubInvalidCallbackGas(callbackGas);
        }
        emit CallbackGasUpdated(_callbackGas, callbackGas);
        _callbackGas = callbackGas;
    }
}
