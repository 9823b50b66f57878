// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Orders} from "../libraries/Orders.sol";
import {Signatures} from "../libraries/Signatures.sol";
import {AssetKind, AssetRecord, Deal, DealSlot} from "../libraries/Types.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC734} from "../interfaces/IERC734.sol";
import {IMarket} from "../interfaces/IMarket.sol";
import {Escrow} from "./Escrow.sol";

/// @title Market
/// @notice `matchOrders`: checks four signed orders against each other, consumes their volume, locks
/// the requester's payment and the scheduler's stake, and creates a deal (a bag of `volume` tasks).
/// @dev Anyone may submit matching orders; the request order's requester pays. Checks run in iExec's
/// order, each with its own error (see IMarketErrors for the iExec code of each).
abstract contract Market is Escrow, IMarket {
    /// @dev What the checks learn about the orders, kept in memory to spare the stack.
    struct Match {
        bytes32 appHash;
        bytes32 datasetHash;
        bytes32 workerpoolHash;
        bytes32 requestHash;
        address appOwner;
        address datasetOwner;
        address workerpoolOwner;
        uint256 workerStakeRatio;
        uint256 schedulerRewardRatio;
        bytes32 tag;
        uint256 timeRef;
        uint256 volume;
    }

    // ─── External ───

    /// @notice Matches four compatible orders into a deal; returns its id.
    function matchOrders(
        Orders.AppOrder calldata appOrder,
        Orders.DatasetOrder calldata datasetOrder,
        Orders.WorkerpoolOrder calldata workerpoolOrder,
        Orders.RequestOrder calldata requestOrder
    ) external nonReentrant returns (bytes32) {
        return _matchOrders(appOrder, datasetOrder, workerpoolOrder, requestOrder);
    }

    /// @notice Deposits `amount` for the requester under an EIP-2612 permit, then matches: the
    /// requester's whole purchase in one transaction. Only the requester may call it.
    function depositAndMatchOrders(
        uint256 amount,
        Permit calldata permit,
        Orders.AppOrder calldata appOrder,
        Orders.DatasetOrder calldata datasetOrder,
        Orders.WorkerpoolOrder calldata workerpoolOrder,
        Orders.RequestOrder calldata requestOrder
    ) external nonReentrant returns (bytes32) {
        if (msg.sender != requestOrder.requester) {
            revert EscrowDepositorNotRequester(msg.sender, requestOrder.requester);
        }
        if (amount > 0) {
            _permit(amount, permit);
            _deposit(msg.sender, msg.sender, amount);
        }
        return _matchOrders(appOrder, datasetOrder, workerpoolOrder, requestOrder);
    }

    // ─── Internal ───

    function _matchOrders(
        Orders.AppOrder calldata appOrder,
        Orders.DatasetOrder calldata datasetOrder,
        Orders.WorkerpoolOrder calldata workerpoolOrder,
        Orders.RequestOrder calldata requestOrder
    ) internal returns (bytes32 dealId) {
        Match memory m;
        _checkTerms(m, appOrder, datasetOrder, workerpoolOrder, requestOrder);
        _checkRestrictions(appOrder, datasetOrder, workerpoolOrder, requestOrder);
        _checkSignatures(m, appOrder, datasetOrder, workerpoolOrder, requestOrder);
        bool hasDataset = datasetOrder.dataset != address(0);

        // 0x60: volume is what every order still has; each order's consumption grows by it.
        uint256 requestConsumed = _consumed[m.requestHash];
        m.volume = _remaining(m.appHash, appOrder.volume, type(uint256).max);
        if (hasDataset) m.volume = _remaining(m.datasetHash, datasetOrder.volume, m.volume);
        m.volume = _remaining(m.workerpoolHash, workerpoolOrder.volume, m.volume);
        m.volume = _remaining(m.requestHash, requestOrder.volume, m.volume);
        _consumed[m.appHash] += m.volume;
        if (hasDataset) _consumed[m.datasetHash] += m.volume;
        _consumed[m.workerpoolHash] += m.volume;
        _consumed[m.requestHash] = requestConsumed + m.volume;

        dealId = keccak256(abi.encodePacked(m.requestHash, requestConsumed));
        Deal memory deal = _buildDeal(m, appOrder, datasetOrder, workerpoolOrder, requestOrder, requestConsumed);
        uint160 digest = uint160(uint256(keccak256(abi.encode(deal))));
        if (m.volume == 1) {
            // A one-task deal lives in its task's slot (see DealSlot).
            _tasks[keccak256(abi.encodePacked(dealId, requestConsumed))].dealDigest = digest;
        } else {
            _deals[dealId] = DealSlot({
                digest: digest,
                botFirst: SafeCast.toUint48(requestConsumed),
                botSize: SafeCast.toUint48(m.volume)
            });
        }

        uint256 taskPrice = deal.appPrice + deal.datasetPrice + deal.workerpoolPrice;
        _lock(deal.requester, taskPrice * m.volume, dealId);
        _lock(deal.workerpoolOwner, (deal.workerpoolPrice * WORKERPOOL_STAKE_RATIO / 100) * m.volume, dealId);

        emit OrdersMatched(dealId, m.appHash, m.datasetHash, m.workerpoolHash, m.requestHash, m.volume);
        emit DealCreated(dealId, deal.workerpool, deal, requestOrder.params);
    }

    // ─── Private ───

    /// @dev 0x00-0x11: categories, trust, prices, tags and the assets the request names.
    function _checkTerms(
        Match memory m,
        Orders.AppOrder calldata appOrder,
        Orders.DatasetOrder calldata datasetOrder,
        Orders.WorkerpoolOrder calldata workerpoolOrder,
        Orders.RequestOrder calldata requestOrder
    ) private view {
        if (requestOrder.category != workerpoolOrder.category) {
            revert MarketCategoryMismatch(requestOrder.category, workerpoolOrder.category);
        }
        uint256 timeRef = _categoryTimeRefs[requestOrder.category];
        if (timeRef == 0) revert MarketUnknownCategory(requestOrder.category);
        if (requestOrder.trust > workerpoolOrder.trust) {
            revert MarketTrustTooHigh(requestOrder.trust, workerpoolOrder.trust);
        }
        if (requestOrder.appMaxPrice < appOrder.appPrice) {
            revert MarketAppPriceTooHigh(appOrder.appPrice, requestOrder.appMaxPrice);
        }
        if (requestOrder.datasetMaxPrice < datasetOrder.datasetPrice) {
            revert MarketDatasetPriceTooHigh(datasetOrder.datasetPrice, requestOrder.datasetMaxPrice);
        }
        if (requestOrder.workerpoolMaxPrice < workerpoolOrder.workerpoolPrice) {
            revert MarketWorkerpoolPriceTooHigh(workerpoolOrder.workerpoolPrice, requestOrder.workerpoolMaxPrice);
        }
        bytes32 tag = appOrder.tag | (datasetOrder.tag & ~TEE_FRAMEWORK_BITS) | requestOrder.tag;
        if (tag & ~workerpoolOrder.tag != 0) revert MarketTagNotOffered(tag, workerpoolOrder.tag);
        if ((tag ^ appOrder.tag) & TEE_TAG != 0) revert MarketTeeNotAllowedByApp(tag, appOrder.tag);
        if (requestOrder.app != appOrder.app) revert MarketAppMismatch(requestOrder.app, appOrder.app);
        if (requestOrder.dataset != datasetOrder.dataset) {
            revert MarketDatasetMismatch(requestOrder.dataset, datasetOrder.dataset);
        }
        m.tag = tag;
        m.timeRef = timeRef;
    }

    /// @dev 0x12-0x1b: each order's restrictions against the others' assets and the requester.
    function _checkRestrictions(
        Orders.AppOrder calldata appOrder,
        Orders.DatasetOrder calldata datasetOrder,
        Orders.WorkerpoolOrder calldata workerpoolOrder,
        Orders.RequestOrder calldata requestOrder
    ) private view {
        address app = appOrder.app;
        address dataset = datasetOrder.dataset;
        address workerpool = workerpoolOrder.workerpool;
        address requester = requestOrder.requester;
        if (!_isAuthorized(requestOrder.workerpool, workerpool)) {
            revert MarketRequestWorkerpoolRestricted(requestOrder.workerpool, workerpool);
        }
        if (!_isAuthorized(appOrder.datasetRestrict, dataset)) {
            revert MarketAppDatasetRestricted(appOrder.datasetRestrict, dataset);
        }
        if (!_isAuthorized(appOrder.workerpoolRestrict, workerpool)) {
            revert MarketAppWorkerpoolRestricted(appOrder.workerpoolRestrict, workerpool);
        }
        if (!_isAuthorized(appOrder.requesterRestrict, requester)) {
            revert MarketAppRequesterRestricted(appOrder.requesterRestrict, requester);
        }
        if (!_isAuthorized(datasetOrder.appRestrict, app)) {
            revert MarketDatasetAppRestricted(datasetOrder.appRestrict, app);
        }
        if (!_isAuthorized(datasetOrder.workerpoolRestrict, workerpool)) {
            revert MarketDatasetWorkerpoolRestricted(datasetOrder.workerpoolRestrict, workerpool);
        }
        if (!_isAuthorized(datasetOrder.requesterRestrict, requester)) {
            revert MarketDatasetRequesterRestricted(datasetOrder.requesterRestrict, requester);
        }
        if (!_isAuthorized(workerpoolOrder.appRestrict, app)) {
            revert MarketWorkerpoolAppRestricted(workerpoolOrder.appRestrict, app);
        }
        if (!_isAuthorized(workerpoolOrder.datasetRestrict, dataset)) {
            revert MarketWorkerpoolDatasetRestricted(workerpoolOrder.datasetRestrict, dataset);
        }
        if (!_isAuthorized(workerpoolOrder.requesterRestrict, requester)) {
            revert MarketWorkerpoolRequesterRestricted(workerpoolOrder.requesterRestrict, requester);
        }
    }

    /// @dev 0x20-0x50: registration, current owners (read once) and signatures or presignatures.
    function _checkSignatures(
        Match memory m,
        Orders.AppOrder calldata appOrder,
        Orders.DatasetOrder calldata datasetOrder,
        Orders.WorkerpoolOrder calldata workerpoolOrder,
        Orders.RequestOrder calldata requestOrder
    ) private view {
        AssetRecord memory app = _assets[appOrder.app];
        if (app.kind != AssetKind.APP) revert MarketAppNotRegistered(appOrder.app);
        m.appOwner = app.owner;
        m.appHash = _hashTypedDataV4(Orders.hash(appOrder));
        if (!_isSigned(m.appOwner, m.appHash, appOrder.sign)) revert MarketInvalidAppOrderSignature(m.appHash);

        if (datasetOrder.dataset != address(0)) {
            AssetRecord memory dataset = _assets[datasetOrder.dataset];
            if (dataset.kind != AssetKind.DATASET) revert MarketDatasetNotRegistered(datasetOrder.dataset);
            m.datasetOwner = dataset.owner;
            m.datasetHash = _hashTypedDataV4(Orders.hash(datasetOrder));
            if (!_isSigned(m.datasetOwner, m.datasetHash, datasetOrder.sign)) {
                revert MarketInvalidDatasetOrderSignature(m.datasetHash);
            }
        }

        AssetRecord memory pool = _assets[workerpoolOrder.workerpool];
        if (pool.kind != AssetKind.WORKERPOOL) revert MarketWorkerpoolNotRegistered(workerpoolOrder.workerpool);
        m.workerpoolOwner = pool.owner;
        m.workerStakeRatio = pool.workerStakeRatio;
        m.schedulerRewardRatio = pool.schedulerRewardRatio;
        m.workerpoolHash = _hashTypedDataV4(Orders.hash(workerpoolOrder));
        if (!_isSigned(m.workerpoolOwner, m.workerpoolHash, workerpoolOrder.sign)) {
            revert MarketInvalidWorkerpoolOrderSignature(m.workerpoolHash);
        }

        m.requestHash = _hashTypedDataV4(Orders.hash(requestOrder));
        if (!_isSigned(requestOrder.requester, m.requestHash, requestOrder.sign)) {
            revert MarketInvalidRequestOrderSignature(m.requestHash);
        }
    }

    function _buildDeal(
        Match memory m,
        Orders.AppOrder calldata appOrder,
        Orders.DatasetOrder calldata datasetOrder,
        Orders.WorkerpoolOrder calldata workerpoolOrder,
        Orders.RequestOrder calldata requestOrder,
        uint256 botFirst
    ) private view returns (Deal memory deal) {
        deal.app = appOrder.app;
        deal.appOwner = m.appOwner;
        deal.appPrice = appOrder.appPrice;
        if (datasetOrder.dataset != address(0)) {
            deal.dataset = datasetOrder.dataset;
            deal.datasetOwner = m.datasetOwner;
            deal.datasetPrice = datasetOrder.datasetPrice;
        }
        deal.workerpool = workerpoolOrder.workerpool;
        deal.workerpoolOwner = m.workerpoolOwner;
        deal.workerpoolPrice = workerpoolOrder.workerpoolPrice;
        deal.requester = requestOrder.requester;
        deal.beneficiary = requestOrder.beneficiary;
        deal.callback = requestOrder.callback;
        deal.category = requestOrder.category;
        deal.trust = requestOrder.trust == 0 ? 1 : requestOrder.trust;
        deal.tag = m.tag;
        deal.paramsHash = keccak256(bytes(requestOrder.params));
        deal.seed = blockhash(block.number - 1);
        deal.startTime = block.timestamp;
        deal.timeRef = m.timeRef;
        deal.botFirst = botFirst;
        deal.botSize = m.volume;
        deal.workerStake = workerpoolOrder.workerpoolPrice * m.workerStakeRatio / 100;
        deal.schedulerRewardRatio = m.schedulerRewardRatio;
    }

    /// @dev min(`cap`, the order's remaining volume); reverts if the order has none left.
    function _remaining(bytes32 orderHash, uint256 volume, uint256 cap) private view returns (uint256) {
        uint256 consumed = _consumed[orderHash];
        if (consumed >= volume) revert MarketOrderConsumed(orderHash);
        uint256 left = volume - consumed;
        return left < cap ? left : cap;
    }

    /// @dev An order is valid if presigned on chain by `owner` or signed by `owner` (ECDSA or ERC-1271).
    function _isSigned(address owner, bytes32 orderHash, bytes calldata signature) private view returns (bool) {
        if (signature.length == 0) return owner != address(0) && _presigned[orderHash] == owner;
        return Signatures.isValid(owner, orderHash, signature);
    }

    /// @dev A restriction admits everyone (0), one account, or the members of an ERC-734 group contract.
    function _isAuthorized(address restriction, address account) private view returns (bool) {
        if (restriction == address(0) || restriction == account) return true;
        if (restriction.code.length == 0) return false;
        try IERC734(restriction).keyHasPurpose(bytes32(uint256(uint160(account))), GROUP_MEMBER_PURPOSE) returns (
            bool isMember
        ) {
            return isMember;
        } catch {
            return false;
        }
    }
}
