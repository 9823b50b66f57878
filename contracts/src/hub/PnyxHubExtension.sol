// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Orders} from "../libraries/Orders.sol";
import {Signatures} from "../libraries/Signatures.sol";
import {
    Account,
    AssetKind,
    AssetRecord,
    Category,
    Contribution,
    ContributionStatus,
    Deal,
    DealSlot,
    OrderOperation,
    Task,
    TaskStatus
} from "../libraries/Types.sol";
import {IAssetMirror} from "../interfaces/IAssetMirror.sol";
import {IMarket} from "../interfaces/IMarket.sol";
import {IOracle} from "../interfaces/IOracleConsumer.sol";
import {AppRegistry} from "../registries/AppRegistry.sol";
import {DatasetRegistry} from "../registries/DatasetRegistry.sol";
import {WorkerpoolRegistry} from "../registries/WorkerpoolRegistry.sol";
import {HubStorage} from "./HubStorage.sol";
import {PocoBase} from "./PocoBase.sol";

/// @title PnyxHubExtension
/// @notice The hub's cold functions: the other deposit and withdrawal forms, `reopen`, batch claims,
/// on-chain order management (presign, cancel), categories, callback gas, the registry mirror and every
/// view. It runs only by delegatecall from `PnyxHub`, on the hub's storage.
contract PnyxHubExtension is PocoBase, IMarket, IOracle, IAssetMirror {
    /// @notice A task as `getTask` shows it.
    struct TaskView {
        TaskStatus status;
        uint256 contributorCount;
        uint256 revealCount;
        uint256 winnerCount;
        uint256 revealDeadline;
        bytes32 consensusValue;
        uint160 dealDigest;
    }

    /// @notice A contribution as `getContributions` shows it.
    struct ContributionView {
        address worker;
        ContributionStatus status;
        bytes32 resultHash;
        uint256 weight;
    }

    // ─── Events ───
    event AssetSynced(address indexed asset, address indexed owner, AssetKind kind);

    // ─── Immutables ───
    address private immutable _self;

    // ─── Modifiers ───
    modifier onlyDelegated() {
        if (address(this) == _self) revert HubExtensionDirectCall();
        _;
    }

    // ─── Constructor ───
    constructor(
        address initialOwner,
        IERC20 token,
        AppRegistry appRegistry,
        DatasetRegistry datasetRegistry,
        WorkerpoolRegistry workerpoolRegistry
    ) HubStorage(initialOwner, token, appRegistry, datasetRegistry, workerpoolRegistry) {
        _self = address(this);
    }

    // ─── Fallback ───
    fallback() external {
        revert HubUnknownFunction(msg.sig);
    }

    // ─── External: escrow ───

    /// @notice Pulls `amount` tokens from the sender and credits `account`.
    function depositFor(address account, uint256 amount) external onlyDelegated nonReentrant {
        _deposit(msg.sender, account, amount);
    }

    /// @notice Deposits with an EIP-2612 permit instead of a prior `approve`, in one transaction.
    function depositWithPermit(uint256 amount, Permit calldata permit) external onlyDelegated nonReentrant {
        _permit(amount, permit);
        _deposit(msg.sender, msg.sender, amount);
    }

    /// @notice Pays `amount` of the sender's free balance out in tokens to `to`.
    function withdrawTo(address to, uint256 amount) external onlyDelegated nonReentrant {
        _withdraw(msg.sender, to, amount);
    }

    // ─── External: task lifecycle (cold) ───

    /// @notice Rejects a consensus nobody revealed in time and lets the task collect contributions
    /// again (the contribution deadline is not extended). Only the deal's scheduler may call it.
    function reopen(bytes32 taskId, Deal calldata deal) external onlyDelegated nonReentrant {
        Task memory task = _loadTask(taskId, deal);
        if (task.status != TaskStatus.REVEALING) revert PocoInvalidTaskStatus(taskId, task.status);
        if (msg.sender != deal.workerpoolOwner) revert PocoUnauthorizedScheduler(taskId, msg.sender);
        _checkFinalDeadlineAhead(taskId, deal);
        if (task.revealDeadline > block.timestamp) {
            revert PocoRevealDeadlineNotReached(taskId, task.revealDeadline);
        }
        if (task.revealCount != 0) revert PocoRevealsExist(taskId, task.revealCount);
        for (uint256 i = 0; i < task.contributorCount; ++i) {
            Contribution storage c = _contributions[taskId][i];
            if (c.group == task.consensusGroup && c.status == ContributionStatus.CONTRIBUTED) {
                c.status = ContributionStatus.REJECTED;
            }
        }
        task.status = TaskStatus.ACTIVE;
        task.consensusGroup = 0;
        task.winnerCount = 0;
        task.revealDeadline = 0;
        _tasks[taskId] = task;
        emit TaskReopened(taskId);
    }

    /// @notice `claim` for several tasks of one deal.
    function claimBatch(bytes32[] calldata taskIds, Deal calldata deal) external onlyDelegated nonReentrant {
        for (uint256 i = 0; i < taskIds.length; ++i) {
            _claim(taskIds[i], deal);
        }
    }

    /// @notice Claims tasks `firstIdx` .. `firstIdx + count - 1` of a deal, starting those nobody
    /// started: the requester's refund for a bag the scheduler never worked on.
    function initializeAndClaimBatch(bytes32 dealId, Deal calldata deal, uint256 firstIdx, uint256 count)
        external
        onlyDelegated
        nonReentrant
    {
        DealSlot memory slot = _deals[dealId];
        for (uint256 i = 0; i < count; ++i) {
            uint256 idx = firstIdx + i;
            bytes32 taskId = keccak256(abi.encodePacked(dealId, idx));
            if (_tasks[taskId].status == TaskStatus.UNSET) _initialize(dealId, idx, slot);
            _claim(taskId, deal);
        }
    }

    // ─── External: order management ───

    /// @notice Presigns (SIGN) or cancels (CLOSE) an app order, sent or signed by the app's owner.
    function manageAppOrder(Orders.AppOrderOperation calldata op) external onlyDelegated {
        address owner = _assetOwner(op.order.app, AssetKind.APP);
        if (owner == address(0)) revert MarketAppNotRegistered(op.order.app);
        bytes32 orderHash = _hashTypedDataV4(Orders.hash(op.order));
        _authorize(owner, orderHash, _hashTypedDataV4(Orders.hashOperation(op.order, op.operation)), op.sign);
        _apply(owner, orderHash, op.order.volume, op.operation);
    }

    /// @notice Presigns or cancels a dataset order, sent or signed by the dataset's owner.
    function manageDatasetOrder(Orders.DatasetOrderOperation calldata op) external onlyDelegated {
        address owner = _assetOwner(op.order.dataset, AssetKind.DATASET);
        if (owner == address(0)) revert MarketDatasetNotRegistered(op.order.dataset);
        bytes32 orderHash = _hashTypedDataV4(Orders.hash(op.order));
        _authorize(owner, orderHash, _hashTypedDataV4(Orders.hashOperation(op.order, op.operation)), op.sign);
        _apply(owner, orderHash, op.order.volume, op.operation);
    }

    /// @notice Presigns or cancels a workerpool order, sent or signed by the workerpool's owner.
    function manageWorkerpoolOrder(Orders.WorkerpoolOrderOperation calldata op) external onlyDelegated {
        address owner = _assetOwner(op.order.workerpool, AssetKind.WORKERPOOL);
        if (owner == address(0)) revert MarketWorkerpoolNotRegistered(op.order.workerpool);
        bytes32 orderHash = _hashTypedDataV4(Orders.hash(op.order));
        _authorize(owner, orderHash, _hashTypedDataV4(Orders.hashOperation(op.order, op.operation)), op.sign);
        _apply(owner, orderHash, op.order.volume, op.operation);
    }

    /// @notice Presigns or cancels a request order, sent or signed by its requester.
    function manageRequestOrder(Orders.RequestOrderOperation calldata op) external onlyDelegated {
        address owner = op.order.requester;
        bytes32 orderHash = _hashTypedDataV4(Orders.hash(op.order));
        _authorize(owner, orderHash, _hashTypedDataV4(Orders.hashOperation(op.order, op.operation)), op.sign);
        _apply(owner, orderHash, op.order.volume, op.operation);
    }

    // ─── External: registry mirror ───

    /// @inheritdoc IAssetMirror
    function syncAsset(address asset, address owner, uint8 workerStakeRatio, uint8 schedulerRewardRatio)
        external
        onlyDelegated
    {
        AssetKind kind;
        if (msg.sender == address(_appRegistry)) kind = AssetKind.APP;
        else if (msg.sender == address(_datasetRegistry)) kind = AssetKind.DATASET;
        else if (msg.sender == address(_workerpoolRegistry)) kind = AssetKind.WORKERPOOL;
        else revert HubNotRegistry(msg.sender);
        _assets[asset] = AssetRecord({
            owner: owner,
            kind: owner == address(0) ? AssetKind.NONE : kind,
            workerStakeRatio: workerStakeRatio,
            schedulerRewardRatio: schedulerRewardRatio
        });
        emit AssetSynced(asset, owner, kind);
    }

    // ─── External: configuration (owner) ───

    /// @notice Adds a category; its id is its position.
    function createCategory(string calldata name, string calldata description, uint256 workClockTimeRef)
        external
        onlyDelegated
        onlyOwner
        returns (uint256)
    {
        return _createCategory(name, description, workClockTimeRef);
    }

    /// @notice Sets the gas every result callback receives.
    function setCallbackGas(uint256 callbackGas) external onlyDelegated onlyOwner {
        _setCallbackGas(callbackGas);
    }

    // ─── External: views ───

    /// @notice EIP-1154: the results callback data of a completed task.
    function resultFor(bytes32 taskId) external view returns (bytes memory) {
        TaskStatus status = _tasks[taskId].status;
        if (status != TaskStatus.COMPLETED) revert PocoInvalidTaskStatus(taskId, status);
        return _resultsCallbacks[taskId];
    }

    function getAccount(address account) external view returns (Account memory) {
        return _accounts[account];
    }

    /// @notice The account that holds the stakes of schedulers whose tasks failed.
    function getKitty() external pure returns (address) {
        return KITTY;
    }

    /// @notice A deal of several tasks: its digest and bag. A one-task deal has none (see DealSlot);
    /// `getTask` shows its digest.
    function getDeal(bytes32 dealId) external view returns (DealSlot memory) {
        return _deals[dealId];
    }

    /// @notice The hub's copy of a registry entry.
    function getAsset(address asset) external view returns (AssetRecord memory) {
        return _assets[asset];
    }

    /// @notice The commitment of a deal record; deal and task slots keep its low 160 bits.
    function hashDeal(Deal calldata deal) external pure returns (bytes32) {
        return keccak256(abi.encode(deal));
    }

    function getTask(bytes32 taskId) external view returns (TaskView memory view_) {
        Task memory task = _tasks[taskId];
        view_.status = task.status;
        view_.contributorCount = task.contributorCount;
        view_.revealCount = task.revealCount;
        view_.winnerCount = task.winnerCount;
        view_.revealDeadline = task.revealDeadline;
        view_.dealDigest = task.dealDigest;
        if (task.status == TaskStatus.REVEALING || (task.status == TaskStatus.COMPLETED && task.groupCount > 0)) {
            view_.consensusValue = _groupHashes[taskId][task.consensusGroup];
        }
    }

    function getContributions(bytes32 taskId) external view returns (ContributionView[] memory views) {
        uint256 count = _tasks[taskId].contributorCount;
        views = new ContributionView[](count);
        for (uint256 i = 0; i < count; ++i) {
            Contribution memory c = _contributions[taskId][i];
            views[i] = ContributionView({
                worker: c.worker,
                status: c.status,
                resultHash: _groupHashes[taskId][c.group],
                weight: c.weight
            });
        }
    }

    function getConsumed(bytes32 orderHash) external view returns (uint256) {
        return _consumed[orderHash];
    }

    function getPresigner(bytes32 orderHash) external view returns (address) {
        return _presigned[orderHash];
    }

    function getCategory(uint256 category) external view returns (Category memory) {
        return _categories[category];
    }

    function getCategoryCount() external view returns (uint256) {
        return _categories.length;
    }

    function getCallbackGas() external view returns (uint256) {
        return _callbackGas;
    }

    function getToken() external view returns (address) {
        return address(_token);
    }

    function getRegistries() external view returns (address apps, address datasets, address workerpools) {
        return (address(_appRegistry), address(_datasetRegistry), address(_workerpoolRegistry));
    }

    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice The EIP-712 digest signed for an order (also its key for consumption and presigning).
    function hashAppOrder(Orders.AppOrder calldata order) external view returns (bytes32) {
        return _hashTypedDataV4(Orders.hash(order));
    }

    function hashDatasetOrder(Orders.DatasetOrder calldata order) external view returns (bytes32) {
        return _hashTypedDataV4(Orders.hash(order));
    }

    function hashWorkerpoolOrder(Orders.WorkerpoolOrder calldata order) external view returns (bytes32) {
        return _hashTypedDataV4(Orders.hash(order));
    }

    function hashRequestOrder(Orders.RequestOrder calldata order) external view returns (bytes32) {
        return _hashTypedDataV4(Orders.hash(order));
    }

    // ─── Private ───

    function _assetOwner(address asset, AssetKind kind) private view returns (address) {
        AssetRecord memory record = _assets[asset];
        return record.kind == kind ? record.owner : address(0);
    }

    function _authorize(address owner, bytes32 orderHash, bytes32 operationHash, bytes calldata sign) private view {
        if (msg.sender == owner) return;
        if (!Signatures.isValid(owner, operationHash, sign)) revert MarketUnauthorizedOrderOperation(orderHash, msg.sender);
    }

    function _apply(address owner, bytes32 orderHash, uint256 volume, OrderOperation operation) private {
        if (operation == OrderOperation.SIGN) {
            _presigned[orderHash] = owner;
            emit OrderPresigned(orderHash, owner);
        } else {
            _consumed[orderHash] = volume;
            emit OrderClosed(orderHash, owner);
        }
    }
}
