// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IOracle, IOracleConsumer} from "../interfaces/IOracleConsumer.sol";
import {Signatures} from "../libraries/Signatures.sol";

/// @title RandomGroupOracle
/// @notice DOS-Network-style random groups: staked nodes register; each request is served by a group of
/// `groupSize` distinct registered nodes drawn from a random beacon, and a result is accepted when `threshold`
/// members of that group signed it. The request fee is split among the members who actually signed; the others
/// get nothing. The consumer receives the result by an EIP-1154 push (`receiveResult`) and can read it by pull
/// (`resultFor`).
/// @dev Why one ECDSA signature per member plus a bitmap, not a threshold (BLS) signature as DOS Network uses:
/// a t-of-n threshold signature is the same whichever t members made it, so the chain cannot tell who signed and
/// could only pay the whole group (DOS's `claimServiceFee` does exactly that). Per-member signatures cost about
/// 10.7k gas each (ecrecover, crediting the signer, calldata) instead of a flat ~120k pairing, but they name
/// every signer, so only signers are paid.
///
/// Beacon: the seed of a request made in block B is keccak256(blockhash(B + 1) ‖ requestId). The requester cannot
/// know it when it commits (so it cannot grind its query id or revert unfavourable draws), but the proposer of
/// block B + 1 chooses that block's content and can therefore bias its hash; the EVM also forgets a block hash
/// after 256 blocks, so a group must be drawn (`draw`) or answered within 256 blocks of B + 1, else the request
/// can only be cancelled after its deadline. Use a VRF or a threshold beacon where a proposer's bias matters.
///
/// Eligibility is frozen at the request: the draw only sees the first `poolSize` registrations (those made up to
/// the request) and skips nodes that left before the request's block, so nobody who learns the seed can change
/// the group by (un)registering. A node that leaves is marked with `exitBlock = block.number + 1` and stays in
/// the registry (it is never compacted), so earlier requests keep drawing from the same positions.
///
/// Draw (reproduced bit for bit by `pnyx.domain.groups.draw_group`): a Fisher–Yates shuffle of the positions
/// 0..poolSize-1, run only as far as needed; step i (i = 0, 1, …) swaps position i with position
/// j = i + uint256(keccak256(seed ‖ uint256(i))) mod (poolSize − i), and the registration now at position i joins
/// the group unless it is ineligible; steps go on until the group has `groupSize` members. The modulo bias is
/// below 2^-200 for any pool that fits in a uint32.
contract RandomGroupOracle is IOracle {
    using SafeERC20 for IERC20;

    /// @notice Where a request stands: NONE (unknown), PENDING (open), ANSWERED, CANCELLED (fee refunded).
    enum RequestStatus {
        NONE,
        PENDING,
        ANSWERED,
        CANCELLED
    }

    /// @notice A node's record. `id` is its position in the registry for its latest registration; `unlockAt` is
    /// when a node that left may take its stake back; `earned` is what its signatures earned and it has not
    /// withdrawn.
    struct Node {
        uint32 id;
        bool staked;
        bool active;
        uint40 unlockAt;
        uint96 earned;
    }

    /// @notice One registration, in registry order: the node and the first block in which it is no longer
    /// eligible (0 while it is registered).
    struct Registration {
        address node;
        uint48 exitBlock;
    }

    /// @notice A request: who asked (and receives the push), until when it may be answered, its status, whether
    /// its group is stored (`draw`), the length of its result, its block (the seed comes from the next one) and
    /// how many registrations its draw sees.
    /// @dev The result's length shares the slot `respond` rewrites anyway (for the status), so a 32-byte result
    /// costs one fresh slot instead of the two of a `bytes` in storage.
    struct Request {
        address consumer;
        uint40 deadline;
        RequestStatus status;
        bool drawn;
        uint32 resultLength;
        uint48 requestBlock;
        uint32 poolSize;
    }

    // ─── Constants ───

    /// @notice Largest group: member indexes fit one byte and the signer bitmap 32 bits.
    uint256 public constant MAX_GROUP_SIZE = 32;
    /// @notice One signature in a packed list: member index in the group (1 byte) ‖ r (32) ‖ s (32) ‖ v (1).
    uint256 public constant SIGNATURE_BYTES = 66;
    /// @dev A stored group packs 32-bit registry positions, eight per slot.
    uint256 private constant IDS_PER_SLOT = 8;

    /// @notice The token of stakes and fees (the project token).
    IERC20 public immutable token;
    /// @notice The stake every node locks to register.
    uint96 public immutable stakeAmount;
    /// @notice The fee a request pays; the signers of its accepted result share it.
    uint96 public immutable fee;
    /// @notice Members drawn for each request (n).
    uint8 public immutable groupSize;
    /// @notice Distinct member signatures needed to accept a result (t).
    uint8 public immutable threshold;
    /// @notice Seconds a request stays open; also how long a leaving node's stake stays locked.
    uint32 public immutable responseTimeout;
    /// @notice Gas given to the consumer's `receiveResult`.
    uint32 public immutable callbackGas;

    // ─── Storage ───

    /// @dev Registrations by position; never compacted, so a request's pool (its first `poolSize` positions)
    /// never moves.
    mapping(uint256 id => Registration) private _registry;
    uint256 private _registrySize;
    mapping(address node => Node) private _nodes;
    mapping(bytes32 requestId => Request) private _requests;
    /// @dev The registry positions of a drawn group, packed (see IDS_PER_SLOT).
    mapping(bytes32 requestId => uint256[4]) private _groups;
    /// @dev The words of an accepted result (its length is in the request).
    mapping(bytes32 requestId => mapping(uint256 word => bytes32)) private _results;
    uint256 private _activeCount;

    // ─── Errors ───

    /// @notice The group size must be 1..MAX_GROUP_SIZE and the threshold a majority of it (2t > n, t ≤ n).
    error GroupBadSize(uint256 groupSize, uint256 threshold);
    /// @notice The response timeout must be positive.
    error GroupBadTimeout();
    /// @notice The node is already registered, or has left but not yet withdrawn its stake.
    error GroupAlreadyRegistered(address node);
    /// @notice The account is not a registered node (or, for `withdrawStake`, holds no stake).
    error GroupNotRegistered(address account);
    /// @notice A registered node must `unregister` before it withdraws its stake.
    error GroupStillRegistered(address node);
    /// @notice The stake of a node that left stays locked until `unlockAt`.
    error GroupStakeLocked(address node, uint256 unlockAt);
    /// @notice Fewer registered nodes than a group needs.
    error GroupPoolTooSmall(uint256 active, uint256 groupSize);
    /// @notice This consumer already made a request with this query id.
    error GroupDuplicateRequest(bytes32 requestId);
    /// @notice The request is not open (unknown, answered or cancelled): a replayed response ends here.
    error GroupRequestNotPending(bytes32 requestId, RequestStatus status);
    /// @notice The request's deadline has passed: it can only be cancelled.
    error GroupRequestExpired(bytes32 requestId, uint256 deadline);
    /// @notice The request may be cancelled only after its deadline.
    error GroupRequestNotExpired(bytes32 requestId, uint256 deadline);
    /// @notice Only the consumer that made the request may cancel it.
    error GroupNotConsumer(address account);
    /// @notice The seed block is not mined yet (the seed needs its hash).
    error GroupSeedNotReady(bytes32 requestId, uint256 seedBlock);
    /// @notice The seed block is more than 256 blocks old: the EVM no longer knows its hash.
    error GroupSeedUnavailable(bytes32 requestId, uint256 seedBlock);
    /// @notice The group of this request is already drawn and stored.
    error GroupAlreadyDrawn(bytes32 requestId);
    /// @notice The draw ran out of registrations (cannot happen while the pool invariant holds).
    error GroupPoolExhausted(bytes32 requestId);
    /// @notice The signature list is not a whole number of SIGNATURE_BYTES entries.
    error GroupMalformedSignatures(uint256 length);
    /// @notice Fewer signatures than the threshold.
    error GroupTooFewSignatures(uint256 given, uint256 required);
    /// @notice A signature names a member index outside the group.
    error GroupNotMember(uint256 index);
    /// @notice Two signatures name the same member.
    error GroupDuplicateSigner(address signer);
    /// @notice The signature at `position` does not recover to the member it names (e.g. a non-member signed).
    error GroupBadSignature(uint256 position);
    /// @notice No result for this request (yet).
    error GroupNoResult(bytes32 requestId);
    /// @notice The transaction left the consumer's callback less than its gas budget.
    error GroupCallbackGasStarved(bytes32 requestId);

    // ─── Events ───

    /// @notice A node staked and joined the registry at position `id`.
    event NodeRegistered(address indexed node, uint256 indexed id);
    /// @notice A node left: requests from block `exitBlock` on no longer draw it; its stake unlocks at `unlockAt`.
    event NodeUnregistered(address indexed node, uint256 indexed id, uint256 exitBlock, uint256 unlockAt);
    /// @notice A node that left took its stake back.
    event StakeWithdrawn(address indexed node, uint256 amount);
    /// @notice A node took what its signatures earned.
    event EarningsWithdrawn(address indexed node, uint256 amount);
    /// @notice A consumer asked `query`; the seed comes from the hash of `seedBlock`; answers until `deadline`.
    event QueryRequested(
        bytes32 indexed requestId,
        address indexed consumer,
        bytes32 indexed queryId,
        bytes query,
        uint256 seedBlock,
        uint256 deadline
    );
    /// @notice The group of a request was drawn from `seed` and stored.
    event GroupDrawn(bytes32 indexed requestId, bytes32 seed, address[] members);
    /// @notice A result was accepted: `signers` is the bitmap of the member indexes that signed it (the paid
    /// ones), each paid `share` (the first listed signer also gets the rounding remainder); `seed` lets anyone
    /// redraw the group later, when the EVM has forgotten the seed block's hash (zero when the group was stored by
    /// `draw`: `GroupDrawn` holds it then).
    event ResultAccepted(bytes32 indexed requestId, bytes32 resultHash, uint256 signers, uint256 share, bytes32 seed);
    /// @notice The consumer's `receiveResult` was called; `success` says whether it returned without reverting.
    event CallbackCalled(bytes32 indexed requestId, address indexed consumer, bool success);
    /// @notice An unanswered request was cancelled after its deadline and its fee refunded.
    event RequestCancelled(bytes32 indexed requestId);

    // ─── Constructor ───

    /// @param token_ the token of stakes and fees
    /// @param stakeAmount_ the stake of a node
    /// @param fee_ the fee of a request
    /// @param groupSize_ n, the members of a group
    /// @param threshold_ t, the signatures that accept a result (a majority of n)
    /// @param responseTimeout_ seconds a request stays open
    /// @param callbackGas_ gas given to the consumer's `receiveResult`
    constructor(
        IERC20 token_,
        uint96 stakeAmount_,
        uint96 fee_,
        uint8 groupSize_,
        uint8 threshold_,
        uint32 responseTimeout_,
        uint32 callbackGas_
    ) {
        bool majority = 2 * uint256(threshold_) > groupSize_ && threshold_ <= groupSize_;
        if (groupSize_ == 0 || groupSize_ > MAX_GROUP_SIZE || !majority) revert GroupBadSize(groupSize_, threshold_);
        if (responseTimeout_ == 0) revert GroupBadTimeout();
        token = token_;
        stakeAmount = stakeAmount_;
        fee = fee_;
        groupSize = groupSize_;
        threshold = threshold_;
        responseTimeout = responseTimeout_;
        callbackGas = callbackGas_;
    }

    // ─── Nodes ───

    /// @notice Stakes `stakeAmount` (pulled with transferFrom) and joins the registry: requests made from now on
    /// may draw this node.
    function register() external {
        Node memory node = _nodes[msg.sender];
        if (node.staked) revert GroupAlreadyRegistered(msg.sender);
        uint256 id = _registrySize;
        _registrySize = id + 1;
        _registry[id] = Registration({node: msg.sender, exitBlock: 0});
        _nodes[msg.sender] = Node({id: uint32(id), staked: true, active: true, unlockAt: 0, earned: node.earned});
        _activeCount += 1;
        emit NodeRegistered(msg.sender, id);
        token.safeTransferFrom(msg.sender, address(this), stakeAmount);
    }

    /// @notice Leaves: requests from the next block on no longer draw this node; groups it is already in keep it
    /// (it may still sign for them). The stake unlocks when every request that may draw it has expired.
    function unregister() external {
        Node storage node = _nodes[msg.sender];
        if (!node.active) revert GroupNotRegistered(msg.sender);
        uint256 exitBlock = block.number + 1;
        uint256 unlockAt = block.timestamp + responseTimeout;
        node.active = false;
        node.unlockAt = uint40(unlockAt);
        _registry[node.id].exitBlock = uint48(exitBlock);
        _activeCount -= 1;
        emit NodeUnregistered(msg.sender, node.id, exitBlock, unlockAt);
    }

    /// @notice Takes back the stake of a node that left, once it is unlocked.
    function withdrawStake() external {
        Node storage node = _nodes[msg.sender];
        if (!node.staked) revert GroupNotRegistered(msg.sender);
        if (node.active) revert GroupStillRegistered(msg.sender);
        if (block.timestamp < node.unlockAt) revert GroupStakeLocked(msg.sender, node.unlockAt);
        node.staked = false;
        emit StakeWithdrawn(msg.sender, stakeAmount);
        token.safeTransfer(msg.sender, stakeAmount);
    }

    /// @notice Pays the sender what its signatures earned.
    function withdrawEarnings() external {
        Node storage node = _nodes[msg.sender];
        uint256 amount = node.earned;
        node.earned = 0;
        emit EarningsWithdrawn(msg.sender, amount);
        if (amount > 0) token.safeTransfer(msg.sender, amount);
    }

    // ─── Requests ───

    /// @notice Asks the oracle `query`, paying `fee` (pulled with transferFrom). The sender is the consumer: it
    /// receives `receiveResult` if it is a contract, and it alone may cancel. The group is drawn from the hash of
    /// the next block, so it is known (by `groupOf`) from the block after that.
    /// @param queryId the consumer's own id of the query; one request per (consumer, queryId)
    /// @param query what to answer, for the nodes (published in `QueryRequested`, not stored)
    /// @return requestId keccak256(abi.encode(chainid, this, consumer, queryId)), see `requestIdOf`
    function request(bytes32 queryId, bytes calldata query) external returns (bytes32 requestId) {
        requestId = requestIdOf(msg.sender, queryId);
        if (_requests[requestId].status != RequestStatus.NONE) revert GroupDuplicateRequest(requestId);
        uint256 active = _activeCount;
        if (active < groupSize) revert GroupPoolTooSmall(active, groupSize);
        uint256 deadline = block.timestamp + responseTimeout;
        _requests[requestId] = Request({
            consumer: msg.sender,
            deadline: uint40(deadline),
            status: RequestStatus.PENDING,
            drawn: false,
            resultLength: 0,
            requestBlock: uint48(block.number),
            poolSize: uint32(_registrySize)
        });
        emit QueryRequested(requestId, msg.sender, queryId, query, block.number + 1, deadline);
        token.safeTransferFrom(msg.sender, address(this), fee);
    }

    /// @notice Draws the group of an open request and stores it, so the request can still be answered after the
    /// EVM forgets the seed block's hash (256 blocks). Anyone may call it; `respond` draws by itself when the
    /// group is not stored, so this is only needed for late answers.
    /// @param requestId the request, open and not drawn yet
    /// @return members the group, in member-index order
    function draw(bytes32 requestId) external returns (address[] memory members) {
        Request memory req = _requests[requestId];
        _checkOpen(requestId, req);
        if (req.drawn) revert GroupAlreadyDrawn(requestId);
        bytes32 seed = _seedOf(requestId, req.requestBlock);
        uint32[] memory ids = _drawIds(requestId, seed, req.poolSize, req.requestBlock);
        uint256[4] memory packed;
        for (uint256 i; i < ids.length; ++i) {
            packed[i / IDS_PER_SLOT] |= uint256(ids[i]) << (32 * (i % IDS_PER_SLOT));
        }
        uint256[4] storage slots = _groups[requestId];
        for (uint256 k; k * IDS_PER_SLOT < ids.length; ++k) {
            slots[k] = packed[k];
        }
        _requests[requestId].drawn = true;
        members = _addressesOf(ids);
        emit GroupDrawn(requestId, seed, members);
    }

    /// @notice Delivers a result signed by at least `threshold` distinct members of the request's group. The
    /// fee is split among the members whose signatures are in `signatures` (they are named by the bitmap in
    /// `ResultAccepted`); members who did not sign get nothing. Then the result is pushed to the consumer and kept
    /// for `resultFor`. Anyone may submit.
    /// @param requestId the request, open (pending, before its deadline)
    /// @param result the answer, as the consumer will receive it
    /// @param signatures packed entries (member index ‖ r ‖ s ‖ v), each an EIP-191 signature of
    /// `responseMessage(requestId, keccak256(result))`
    function respond(bytes32 requestId, bytes calldata result, bytes calldata signatures) external {
        Request memory req = _requests[requestId];
        _checkOpen(requestId, req);
        bytes32 seed;
        uint32[] memory ids;
        if (req.drawn) {
            ids = _storedIds(requestId);
        } else {
            seed = _seedOf(requestId, req.requestBlock);
            ids = _drawIds(requestId, seed, req.poolSize, req.requestBlock);
        }
        bytes32 resultHash = keccak256(result);
        (address[] memory signers, uint256 bitmap) =
            _verifySignatures(responseMessage(requestId, resultHash), signatures, ids);

        Request storage stored = _requests[requestId];
        stored.status = RequestStatus.ANSWERED;
        stored.resultLength = uint32(result.length);
        _storeResult(requestId, result);
        uint256 count = signers.length;
        uint256 share = fee / count;
        _nodes[signers[0]].earned += uint96(fee - share * (count - 1));
        for (uint256 i = 1; i < count; ++i) {
            _nodes[signers[i]].earned += uint96(share);
        }
        emit ResultAccepted(requestId, resultHash, bitmap, share, seed);
        _callConsumer(requestId, req.consumer, result);
    }

    /// @notice Refunds the fee of a request nobody answered before its deadline. Only its consumer may cancel.
    /// @param requestId the pending request, past its deadline
    function cancel(bytes32 requestId) external {
        Request storage req = _requests[requestId];
        if (req.status != RequestStatus.PENDING) revert GroupRequestNotPending(requestId, req.status);
        if (msg.sender != req.consumer) revert GroupNotConsumer(msg.sender);
        if (block.timestamp <= req.deadline) revert GroupRequestNotExpired(requestId, req.deadline);
        req.status = RequestStatus.CANCELLED;
        emit RequestCancelled(requestId);
        token.safeTransfer(msg.sender, fee);
    }

    // ─── Reads ───

    /// @notice EIP-1154 pull: the accepted result of a request; reverts `GroupNoResult` before there is one.
    /// @param id the request id
    function resultFor(bytes32 id) external view returns (bytes memory result) {
        Request memory req = _requests[id];
        if (req.status != RequestStatus.ANSWERED) revert GroupNoResult(id);
        uint256 length = req.resultLength;
        uint256 words = (length + 31) / 32;
        result = new bytes(words * 32);
        mapping(uint256 => bytes32) storage stored = _results[id];
        for (uint256 k; k < words; ++k) {
            bytes32 word = stored[k];
            assembly ("memory-safe") {
                mstore(add(add(result, 0x20), mul(k, 0x20)), word)
            }
        }
        assembly ("memory-safe") {
            mstore(result, length)
        }
    }

    /// @notice The group of a request, in member-index order (the index a signature names). Reverts while the
    /// seed block is not mined, and once its hash is forgotten unless the group was stored by `draw`.
    function groupOf(bytes32 requestId) external view returns (address[] memory) {
        Request memory req = _requests[requestId];
        if (req.status == RequestStatus.NONE) revert GroupRequestNotPending(requestId, req.status);
        if (req.drawn) return _addressesOf(_storedIds(requestId));
        bytes32 seed = _seedOf(requestId, req.requestBlock);
        return _addressesOf(_drawIds(requestId, seed, req.poolSize, req.requestBlock));
    }

    /// @notice The seed of a request: keccak256(abi.encode(blockhash(requestBlock + 1), requestId)). Reverts
    /// while the seed block is not mined and once its hash is forgotten.
    function seedOf(bytes32 requestId) external view returns (bytes32) {
        Request memory req = _requests[requestId];
        if (req.status == RequestStatus.NONE) revert GroupRequestNotPending(requestId, req.status);
        return _seedOf(requestId, req.requestBlock);
    }

    /// @notice A request's record.
    function getRequest(bytes32 requestId) external view returns (Request memory) {
        return _requests[requestId];
    }

    /// @notice A node's record.
    function getNode(address node) external view returns (Node memory) {
        return _nodes[node];
    }

    /// @notice The registration at registry position `id` (zero beyond `registrySize`).
    function getRegistration(uint256 id) external view returns (Registration memory) {
        return _registry[id];
    }

    /// @notice How many registrations were ever made (the registry is never compacted).
    function registrySize() external view returns (uint256) {
        return _registrySize;
    }

    /// @notice How many nodes are registered now.
    function activeCount() external view returns (uint256) {
        return _activeCount;
    }

    // ─── Public ───

    /// @notice The 32 bytes each member signs (EIP-191) to vouch for a result: bound to the chain, this
    /// contract and the request, so a signature counts once, here, for this request only.
    function responseMessage(bytes32 requestId, bytes32 resultHash) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), requestId, resultHash));
    }

    /// @notice The id of the request `consumer` makes with `queryId`.
    function requestIdOf(address consumer, bytes32 queryId) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), consumer, queryId));
    }

    // ─── Private ───

    function _checkOpen(bytes32 requestId, Request memory req) private view {
        if (req.status != RequestStatus.PENDING) revert GroupRequestNotPending(requestId, req.status);
        if (block.timestamp > req.deadline) revert GroupRequestExpired(requestId, req.deadline);
    }

    /// @dev The beacon: the hash of the block after the request's, mixed with the request id.
    function _seedOf(bytes32 requestId, uint256 requestBlock) private view returns (bytes32) {
        uint256 seedBlock = requestBlock + 1;
        if (block.number <= seedBlock) revert GroupSeedNotReady(requestId, seedBlock);
        bytes32 hash = blockhash(seedBlock);
        if (hash == bytes32(0)) revert GroupSeedUnavailable(requestId, seedBlock);
        return keccak256(abi.encode(hash, requestId));
    }

    /// @dev The draw specified in the contract's NatSpec. Only swapped positions are remembered, in a memory hash
    /// table (open addressing, linear probing, entries (position + 1) << 32 | value, 0 = empty, at most half full);
    /// a position that is not in it holds its own index.
    function _drawIds(bytes32 requestId, bytes32 seed, uint256 poolSize, uint256 requestBlock)
        private
        view
        returns (uint32[] memory ids)
    {
        uint256 n = groupSize;
        ids = new uint32[](n);
        uint256 size = 1;
        while (size < 4 * n) size <<= 1;
        uint256[] memory table = new uint256[](size);
        uint256 entries;
        uint256 found;
        for (uint256 i; found < n; ++i) {
            if (i == poolSize) revert GroupPoolExhausted(requestId);
            uint256 random;
            assembly ("memory-safe") {
                mstore(0x00, seed)
                mstore(0x20, i)
                random := keccak256(0x00, 0x40)
            }
            uint256 j = i + random % (poolSize - i);
            (uint256 picked, uint256 slot) = _find(table, j);
            if (j != i) {
                (uint256 atI,) = _find(table, i);
                if (table[slot] == 0) {
                    if (2 * (entries + 1) > table.length) {
                        table = _rehashed(table);
                        (, slot) = _find(table, j);
                    }
                    ++entries;
                }
                table[slot] = ((j + 1) << 32) | atI;
            }
            uint256 exitBlock = _registry[picked].exitBlock;
            if (exitBlock != 0 && exitBlock <= requestBlock) continue;
            ids[found] = uint32(picked);
            ++found;
        }
    }

    /// @dev The value at `position` and the table slot that holds it, or the empty slot where it would go.
    function _find(uint256[] memory table, uint256 position) private pure returns (uint256 value, uint256 slot) {
        unchecked {
            uint256 mask = table.length - 1;
            uint256 key = position + 1;
            for (slot = position & mask;; slot = (slot + 1) & mask) {
                uint256 entry = table[slot];
                if (entry == 0) return (position, slot);
                if (entry >> 32 == key) return (uint32(entry), slot);
            }
        }
    }

    /// @dev The same entries in a table twice as large.
    function _rehashed(uint256[] memory table) private pure returns (uint256[] memory larger) {
        larger = new uint256[](2 * table.length);
        for (uint256 k; k < table.length; ++k) {
            uint256 entry = table[k];
            if (entry == 0) continue;
            (, uint256 slot) = _find(larger, (entry >> 32) - 1);
            larger[slot] = entry;
        }
    }

    function _storedIds(bytes32 requestId) private view returns (uint32[] memory ids) {
        uint256 n = groupSize;
        ids = new uint32[](n);
        uint256[4] storage slots = _groups[requestId];
        uint256 word;
        for (uint256 i; i < n; ++i) {
            if (i % IDS_PER_SLOT == 0) word = slots[i / IDS_PER_SLOT];
            ids[i] = uint32(word >> (32 * (i % IDS_PER_SLOT)));
        }
    }

    function _addressesOf(uint32[] memory ids) private view returns (address[] memory members) {
        members = new address[](ids.length);
        for (uint256 i; i < ids.length; ++i) {
            members[i] = _registry[ids[i]].node;
        }
    }

    /// @dev Checks the packed signatures against the group and returns the signers, in the order given, and the
    /// bitmap of their member indexes. Only the registrations of the members that signed are read.
    function _verifySignatures(bytes32 message, bytes calldata signatures, uint32[] memory ids)
        private
        view
        returns (address[] memory signers, uint256 bitmap)
    {
        if (signatures.length % SIGNATURE_BYTES != 0) revert GroupMalformedSignatures(signatures.length);
        uint256 count = signatures.length / SIGNATURE_BYTES;
        if (count < threshold) revert GroupTooFewSignatures(count, threshold);
        bytes32 digest = MessageHashUtils.toEthSignedMessageHash(message);
        signers = new address[](count);
        for (uint256 i; i < count; ++i) {
            bytes calldata entry = signatures[i * SIGNATURE_BYTES:(i + 1) * SIGNATURE_BYTES];
            uint256 index = uint8(entry[0]);
            if (index >= ids.length) revert GroupNotMember(index);
            address member = _registry[ids[index]].node;
            if (bitmap & (1 << index) != 0) revert GroupDuplicateSigner(member);
            if (Signatures.recover(digest, entry[1:]) != member) revert GroupBadSignature(i);
            bitmap |= 1 << index;
            signers[i] = member;
        }
    }

    /// @dev Stores `result` word by word; the last word is zero-padded.
    function _storeResult(bytes32 requestId, bytes calldata result) private {
        mapping(uint256 => bytes32) storage stored = _results[requestId];
        for (uint256 offset; offset < result.length; offset += 32) {
            bytes32 word;
            assembly ("memory-safe") {
                word := calldataload(add(result.offset, offset))
            }
            uint256 rest = result.length - offset;
            if (rest < 32) word &= ~bytes32(type(uint256).max >> (8 * rest));
            stored[offset / 32] = word;
        }
    }

    /// @dev EIP-1154 push with a fixed gas budget, no value and no return data copied (no return bomb); a
    /// reverting consumer does not undo the answer. The post-call check makes the transaction revert if the
    /// submitter gave too little gas for the callee to receive its whole budget.
    function _callConsumer(bytes32 requestId, address consumer, bytes calldata result) private {
        if (consumer.code.length == 0) return;
        uint256 budget = callbackGas;
        bytes memory data = abi.encodeCall(IOracleConsumer.receiveResult, (requestId, result));
        bool success;
        assembly ("memory-safe") {
            success := call(budget, consumer, 0, add(data, 0x20), mload(data), 0, 0)
        }
        if (gasleft() <= budget / 63) revert GroupCallbackGasStarved(requestId);
        emit CallbackCalled(requestId, consumer, success);
    }
}
