"""The market's rules, as keyword-only functions the router, the watcher and tests call.

An order enters the book only if the hub would accept it right now: it parses, it is signed by
the asset's *current* owner (read from the hub's asset mirror, the same record `matchOrders`
reads) or by its requester, or presigned on chain; it has volume left on chain; and its owner's
free escrow balance covers what a match would lock (30 % of the price for a workerpool, the whole
price for a requester). The watcher then keeps every stored order in step with the chain by
re-reading the chain's state, never by counting events, so replaying an event changes nothing.

Every refusal is a `PnyxError` with a message that says what to change; the app turns it into a
precise 4xx (or 503 when the node cannot be read), never a 500."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from eth_keys.datatypes import Signature
from eth_keys.exceptions import BadSignature
from eth_utils.crypto import keccak
from eth_utils.exceptions import ValidationError

from pnyx.api.schemas.market import (
    ORDER_CLASSES,
    UINT256_MAX,
    CategoryRead,
    OrderbookQuery,
    OrderKind,
    OrderPage,
    OrderQuery,
    OrderRead,
    OrderStatus,
    StatusFilter,
    unpublish_message,
)
from pnyx.chain.events import ChainEvent
from pnyx.chain.protocol import Protocol
from pnyx.domain._hex import to_address, to_bytes
from pnyx.domain.orders import AppOrder, DatasetOrder, Order, RequestOrder, WorkerpoolOrder
from pnyx.errors import (
    AuthenticationError,
    ChainError,
    ConflictError,
    NotFoundError,
    PnyxError,
    PnyxInputError,
)
from pnyx.store.market import (
    CANCELED,
    DEAD,
    FILLED,
    FUNDED_KINDS,
    OPEN,
    MarketStore,
    OrderFilter,
    OrderRow,
    new_order_row,
)
from pnyx.types import ZERO_ADDRESS, ZERO_BYTES32, Address

BALANCE_TOO_LOW = "balance too low"
OWNER_CHANGED = "owner changed"
CLOSED_ON_CHAIN = "closed on chain"
UNPUBLISHED = "unpublished by its owner"
WORKERPOOL_STAKE_PERCENT = 30  # the hub's WORKERPOOL_STAKE_RATIO
ESCROW_EVENTS = ("Deposited", "Withdrawn", "Locked", "Unlocked", "Rewarded", "Seized")
MAX_PARAMS_LENGTH = 65_536

_ASSET_CODES = {OrderKind.APP: 1, OrderKind.DATASET: 2, OrderKind.WORKERPOOL: 3}
_ASSET_NAMES = {0: "not registered", 1: "an app", 2: "a dataset", 3: "a workerpool"}
# The field only an order of that kind has, to tell which kind a body is.
_KIND_MARKERS = {
    OrderKind.APP: "appPrice",
    OrderKind.DATASET: "datasetPrice",
    OrderKind.WORKERPOOL: "workerpoolPrice",
    OrderKind.REQUEST: "requester",
}
_MATCHED_HASHES = ("appOrderHash", "datasetOrderHash", "workerpoolOrderHash", "requestOrderHash")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_BYTES32 = re.compile(r"0x[0-9a-fA-F]{64}")
_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_T = TypeVar("_T")


class MarketChain:
    """The chain reads the market makes, through `Protocol`. A node that cannot be read becomes a
    `ChainError` (503), so a flaky node never turns into a 500."""

    def __init__(self, protocol: Protocol) -> None:
        self.protocol = protocol
        self.domain = protocol.domain
        deployment = protocol.deployment
        self.registry_kinds: dict[str, OrderKind] = {
            to_address(deployment.app_registry): OrderKind.APP,
            to_address(deployment.dataset_registry): OrderKind.DATASET,
            to_address(deployment.workerpool_registry): OrderKind.WORKERPOOL,
        }

    def asset(self, asset: str) -> tuple[Address, int]:
        """(current owner, kind code) from the hub's asset mirror: kind 1 app, 2 dataset,
        3 workerpool, 0 not registered."""
        hub = self.protocol.hub
        owner, kind, _, _ = self._read(
            f"asset {asset}", lambda: self.protocol.client.call(hub.functions.getAsset(asset))
        )
        return to_address(owner), int(kind)

    def consumed(self, order_hash: str) -> int:
        return self._read(
            f"consumption of {order_hash}", lambda: self.protocol.consumed(order_hash)
        )

    def presigner(self, order_hash: str) -> Address:
        return self._read(f"presigner of {order_hash}", lambda: self.protocol.presigner(order_hash))

    def free_balance(self, account: str) -> int:
        return self._read(f"balance of {account}", lambda: self.protocol.account(account).free)

    def category_count(self) -> int:
        hub = self.protocol.hub
        return int(
            self._read(
                "category count",
                lambda: self.protocol.client.call(hub.functions.getCategoryCount()),
            )
        )

    def categories(self) -> list[CategoryRead]:
        return [self._category(index) for index in range(self.category_count())]

    def _category(self, index: int) -> CategoryRead:
        hub = self.protocol.hub
        name, description, time_ref = self._read(
            f"category {index}", lambda: self.protocol.client.call(hub.functions.getCategory(index))
        )
        return CategoryRead(
            id=index,
            name=str(name),
            description=str(description),
            work_clock_time_ref_s=int(time_ref),
        )

    def head(self) -> int:
        """The latest block number (where a fresh watcher starts)."""
        return self._read("the head block", lambda: int(self.protocol.client.w3.eth.block_number))

    @staticmethod
    def _read(what: str, read: Callable[[], _T]) -> _T:
        try:
            return read()
        except PnyxError:
            raise
        except Exception as exc:  # the node's transport and RPC errors: web3 is not imported here
            raise ChainError(f"cannot read {what} from the chain: {exc}") from exc


@dataclass
class Market:
    """What the service functions work on."""

    chain: MarketChain
    store: MarketStore
    max_open_orders_per_owner: int = 100


# ─── Publish ───
def publish_order(*, market: Market, kind: OrderKind, data: dict[str, Any]) -> OrderRead:
    """Validates a signed order against the chain and opens it in its book."""
    order = parse_order(kind, data)
    order_hash = order.digest(market.chain.domain).lower()
    existing = market.store.get(order_hash)
    if existing is not None and existing.status == OPEN:
        raise ConflictError(f"{kind} order {order_hash} is already published")
    signer, role = _expected_signer(market, kind, order)
    _check_signature(market, order, order_hash, signer, role)
    remaining = _remaining_volume(market, order, order_hash)
    values = _row_values(order)
    if values["category"] is not None:
        _check_category(market, values["category"])
    _check_funds(market, kind, signer, values["price"], remaining)
    open_orders = market.store.count_open(signer)
    if open_orders >= market.max_open_orders_per_owner:
        raise ConflictError(
            f"{signer} already has {open_orders} open orders, the most one owner may have "
            f"({market.max_open_orders_per_owner}): unpublish some first"
        )
    row = new_order_row(
        order_hash=order_hash,
        kind=kind.value,
        owner=signer,
        volume=_volume(order),
        remaining=remaining,
        status=OPEN,
        dead_reason=None,
        order_json=order.as_json(),
        **values,
    )
    if not market.store.insert_or_reopen(row):
        raise ConflictError(f"{kind} order {order_hash} is already published")
    # The watcher may have handled a match, a transfer or a withdrawal between the checks above
    # and the insert, while the order was unknown to it: read the chain once more.
    reconcile_order(market=market, order_hash=order_hash, check_owner=True)
    return get_order(market=market, kind=kind, order_hash=order_hash)


def parse_order(kind: OrderKind, data: dict[str, Any]) -> Order:
    """The domain order of a JSON body, with a precise message for every malformed field."""
    cls = ORDER_CLASSES[kind]
    if _KIND_MARKERS[kind] not in data:
        others = [k for k, marker in _KIND_MARKERS.items() if marker in data]
        if len(others) == 1:
            raise PnyxInputError(
                f"the body is {_article(others[0])} order but the path says {kind}: "
                f"publish it at /v1/orders/{others[0]}"
            )
    names = [name for name, _, _ in cls.EIP712_FIELDS]
    missing = [name for name in names if name not in data]
    if missing:
        raise PnyxInputError(f"{kind} order is missing field(s): {', '.join(missing)}")
    unknown = sorted(set(data) - set(names) - {"sign"})
    if unknown:
        raise PnyxInputError(f"{kind} orders have no field(s): {', '.join(unknown)}")
    clean: dict[str, Any] = {
        name: _check_field(name, sol_type, data[name]) for name, sol_type, _ in cls.EIP712_FIELDS
    }
    clean["sign"] = _check_field("sign", "bytes", data.get("sign", "0x"))
    order = cls.from_json(clean)
    if _volume(order) == 0:
        raise PnyxInputError("volume must be at least 1")
    return order


def _check_field(name: str, sol_type: str, value: Any) -> Any:
    if sol_type == "address":
        if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
            raise PnyxInputError(
                f"{name} must be a 0x-hex address of 20 bytes, got {_shown(value)}"
            )
        return value
    if sol_type == "bytes32":
        if not isinstance(value, str) or not _BYTES32.fullmatch(value):
            raise PnyxInputError(f"{name} must be 0x-hex of 32 bytes, got {_shown(value)}")
        return value
    if sol_type == "uint256":
        number = _uint(value)
        if number is None:
            raise PnyxInputError(
                f"{name} must be an integer in 0..2**256-1 (JSON number or decimal string), "
                f"got {_shown(value)}"
            )
        return number
    if sol_type == "string":
        if not isinstance(value, str) or len(value) > MAX_PARAMS_LENGTH:
            raise PnyxInputError(f"{name} must be a string of at most {MAX_PARAMS_LENGTH} chars")
        return value
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise PnyxInputError(f"{name} must be 0x-hex bytes, got {_shown(value)}")
    return value


def _volume(order: Order) -> int:
    if isinstance(order, AppOrder | DatasetOrder | WorkerpoolOrder | RequestOrder):
        return order.volume
    raise PnyxInputError(f"not an order: {type(order).__name__}")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _uint(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdecimal() and len(value) <= 78:
        value = int(value)
    if isinstance(value, int) and 0 <= value <= UINT256_MAX:
        return value
    return None


def _expected_signer(market: Market, kind: OrderKind, order: Order) -> tuple[Address, str]:
    """Who must have signed: the asset's current owner, or the requester."""
    if isinstance(order, RequestOrder):
        if order.requester == ZERO_ADDRESS:
            raise PnyxInputError("requester must not be the zero address")
        return order.requester, "the requester"
    asset = str(_row_values(order)["asset"])
    owner, code = market.chain.asset(asset)
    if code != _ASSET_CODES[kind]:
        raise PnyxInputError(
            f"{kind} {asset} is {_ASSET_NAMES.get(code, f'of kind {code}')} on this hub, "
            f"not a registered {kind}"
        )
    if owner == ZERO_ADDRESS:
        raise PnyxInputError(f"{kind} {asset} has no owner (burnt)")
    return owner, f"the {kind}'s current owner"


def _check_signature(
    market: Market, order: Order, order_hash: str, signer: Address, role: str
) -> None:
    signature = to_bytes(order.sign)
    if not signature:
        presigner = market.chain.presigner(order_hash)
        if presigner != signer:
            raise AuthenticationError(
                f"order {order_hash} has no signature and is not presigned on chain by "
                f"{role} {signer}"
            )
        return
    if len(signature) not in (64, 65):
        raise PnyxInputError(
            f"sign must be a 65-byte signature (r ‖ s ‖ v) as 0x-hex, or 0x for a presigned "
            f"order; got {len(signature)} bytes"
        )
    recovered = recover_signer(to_bytes(order_hash), signature)
    if recovered is None:
        raise AuthenticationError(
            f"the signature of order {order_hash} is not a valid low-s secp256k1 signature"
        )
    if recovered != signer:
        raise AuthenticationError(
            f"order {order_hash} is signed by {recovered}, not by {role} {signer}"
        )


def _remaining_volume(market: Market, order: Order, order_hash: str) -> int:
    volume = _volume(order)
    consumed = market.chain.consumed(order_hash)
    if consumed >= volume:
        raise ConflictError(
            f"order {order_hash} has no volume left on chain (consumed {consumed} of {volume}): "
            f"it was filled or cancelled"
        )
    return volume - consumed


def _check_category(market: Market, category: int) -> None:
    count = market.chain.category_count()
    if category >= count:
        raise PnyxInputError(
            f"category {category} does not exist on this hub (categories are 0..{count - 1})"
        )


def _check_funds(
    market: Market, kind: OrderKind, owner: Address, price: int, remaining: int
) -> None:
    need = required_funds(kind.value, price, remaining)
    if need == 0:
        return
    free = market.chain.free_balance(owner)
    if free >= need:
        return
    if kind is OrderKind.WORKERPOOL:
        what = (
            f"a stake of {need} ({WORKERPOOL_STAKE_PERCENT}% of the price {price} × remaining "
            f"volume {remaining})"
        )
        who = "the workerpool owner"
    else:
        what = f"{need} (max total price {price} × remaining volume {remaining})"
        who = "the requester"
    raise ConflictError(
        f"{who} {owner} has {free} nano-tokens free in the escrow but the order needs {what}: "
        f"deposit {need - free} more"
    )


def required_funds(kind: str, price: int, remaining: int) -> int:
    """What a match of the remaining volume would lock from the order's owner, as the hub
    computes it: the workerpool's stake `price × 30 / 100` per task, the requester's full price."""
    if kind == OrderKind.WORKERPOOL:
        return price * WORKERPOOL_STAKE_PERCENT // 100 * remaining
    if kind == OrderKind.REQUEST:
        return price * remaining
    return 0


def _row_values(order: Order) -> dict[str, Any]:
    """The indexed columns of an order (see `OrderRow`): its asset, price, terms, and per kind
    the restrictions it sets (for requests: the app, dataset, workerpool and requester named)."""
    if isinstance(order, AppOrder):
        return _columns(
            asset=order.app,
            price=order.app_price,
            tag=order.tag,
            dataset=order.dataset_restrict,
            workerpool=order.workerpool_restrict,
            requester=order.requester_restrict,
        )
    if isinstance(order, DatasetOrder):
        return _columns(
            asset=order.dataset,
            price=order.dataset_price,
            tag=order.tag,
            app=order.app_restrict,
            workerpool=order.workerpool_restrict,
            requester=order.requester_restrict,
        )
    if isinstance(order, WorkerpoolOrder):
        return _columns(
            asset=order.workerpool,
            price=order.workerpool_price,
            tag=order.tag,
            category=order.category,
            trust=order.trust,
            app=order.app_restrict,
            dataset=order.dataset_restrict,
            requester=order.requester_restrict,
        )
    if isinstance(order, RequestOrder):
        return _columns(
            asset=order.app,
            price=order.app_max_price + order.dataset_max_price + order.workerpool_max_price,
            tag=order.tag,
            category=order.category,
            trust=order.trust,
            app=order.app,
            dataset=order.dataset,
            workerpool=order.workerpool,
            requester=order.requester,
        )
    raise PnyxInputError(f"not an order: {type(order).__name__}")


def _columns(
    *,
    asset: str,
    price: int,
    tag: str,
    category: int | None = None,
    trust: int | None = None,
    app: str | None = None,
    dataset: str | None = None,
    workerpool: str | None = None,
    requester: str | None = None,
) -> dict[str, Any]:
    return {
        "asset": asset,
        "price": price,
        "tag": tag.lower(),
        "category": category,
        "trust": trust,
        "app_restrict": app,
        "dataset_restrict": dataset,
        "workerpool_restrict": workerpool,
        "requester_restrict": requester,
    }


# ─── Read ───
def get_order(*, market: Market, kind: OrderKind, order_hash: str) -> OrderRead:
    return _read(_load(market, kind, order_hash))


def list_orders(
    *, market: Market, kind: OrderKind, query: OrderbookQuery, open_only: bool = False
) -> OrderPage:
    """A page of `kind` orders matching the filters, cheapest first, then oldest first."""
    status = StatusFilter.OPEN
    if not open_only and isinstance(query, OrderQuery):
        status = query.status
    statuses = (
        tuple(s.value for s in OrderStatus) if status is StatusFilter.ANY else (status.value,)
    )
    spec = _filter(kind, query, statuses)
    rows, total = market.store.query(
        spec, offset=(query.page - 1) * query.page_size, limit=query.page_size
    )
    return OrderPage(
        orders=[_read(row) for row in rows],
        total=total,
        page=query.page,
        page_size=query.page_size,
    )


def list_categories(*, market: Market) -> list[CategoryRead]:
    return market.chain.categories()


def _filter(kind: OrderKind, query: OrderbookQuery, statuses: tuple[str, ...]) -> OrderFilter:
    if kind in (OrderKind.APP, OrderKind.DATASET):
        given = [n for n in ("category", "min_trust", "max_trust") if getattr(query, n) is not None]
        if given:
            raise PnyxInputError(
                f"{kind} orders have no category or trust: drop {', '.join(given)}"
            )
    asset = _optional_address(query.asset)
    restrict_open: dict[str, str] = {}
    restrict_exact: dict[str, str] = {}
    for name in ("app", "dataset", "workerpool", "requester"):
        value = _optional_address(getattr(query, name))
        if value is None:
            continue
        if name == kind.value:
            if asset is not None and asset != value:
                raise PnyxInputError(f"asset={asset} and {name}={value} disagree")
            asset = value
        elif kind is OrderKind.REQUEST and name != "workerpool":
            restrict_exact[f"{name}_restrict"] = value
        else:
            restrict_open[f"{name}_restrict"] = value
    return OrderFilter(
        kind=kind.value,
        statuses=statuses,
        asset=asset,
        owner=_optional_address(query.owner),
        category=query.category,
        min_trust=query.min_trust,
        max_trust=query.max_trust,
        min_volume=query.min_volume,
        restrict_open=restrict_open,
        restrict_exact=restrict_exact,
        tag_all=None if query.min_tag is None else int(query.min_tag, 16),
        tag_within=None if query.max_tag is None else int(query.max_tag, 16),
    )


def _optional_address(value: str | None) -> str | None:
    return None if value is None else to_address(value)


def _load(market: Market, kind: OrderKind, order_hash: str) -> OrderRow:
    row = market.store.get(order_hash.lower())
    if row is None or row.kind != kind.value:
        raise NotFoundError(f"no {kind} order {order_hash.lower()} in this market")
    return row


def _read(row: OrderRow) -> OrderRead:
    return OrderRead(
        hash=row.order_hash,
        kind=OrderKind(row.kind),
        status=OrderStatus(row.status),
        remaining=row.remaining,
        owner=row.owner,
        published_at=row.published_at,
        dead_reason=row.dead_reason,
        order=row.order_json,
    )


# ─── Unpublish ───
def unpublish_order(
    *, market: Market, kind: OrderKind, order_hash: str, signature: str | None
) -> OrderRead:
    """Takes an open order off the book, on its owner's EIP-191 signature of
    `unpublish_message(order_hash)`. It stays valid on chain: only `manage*Order` closes it."""
    row = _load(market, kind, order_hash)
    if not signature:
        raise AuthenticationError(
            "missing X-Pnyx-Signature header: the owner's EIP-191 signature of "
            f"keccak256('pnyx-market:unpublish:{row.order_hash}')"
        )
    if not _HEX.fullmatch(signature):
        raise AuthenticationError("X-Pnyx-Signature must be 0x-hex of 65 bytes")
    raw = to_bytes(signature)
    recovered = recover_signer(eip191_digest(unpublish_message(row.order_hash)), raw)
    if recovered is None:
        raise AuthenticationError("X-Pnyx-Signature is not a valid 65-byte secp256k1 signature")
    if recovered != row.owner:
        raise AuthenticationError(
            f"X-Pnyx-Signature is by {recovered}, but only the order's owner {row.owner} may "
            "unpublish it"
        )
    if row.status != OPEN:
        raise ConflictError(f"order {row.order_hash} is {row.status}; only open orders unpublish")
    if not market.store.update(
        row.order_hash, only_if_status=OPEN, status=CANCELED, dead_reason=UNPUBLISHED
    ):
        current = _load(market, kind, row.order_hash).status
        raise ConflictError(f"order {row.order_hash} became {current} meanwhile; not unpublished")
    return get_order(market=market, kind=kind, order_hash=row.order_hash)


# ─── Signatures ───
def recover_signer(digest: bytes, signature: bytes) -> Address | None:
    """The address that signed a 32-byte digest, checked as the hub's `Signatures.recover` does:
    65-byte r ‖ s ‖ v with v 27 or 28, or 64-byte EIP-2098 r ‖ vs; low s only. None if the
    signature is malformed or malleable."""
    if len(signature) == 65:
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:64], "big")
        v = signature[64]
    elif len(signature) == 64:
        r = int.from_bytes(signature[:32], "big")
        vs = int.from_bytes(signature[32:], "big")
        s, v = vs & ((1 << 255) - 1), 27 + (vs >> 255)
    else:
        return None
    if v not in (27, 28) or not 0 < r < _SECP256K1_N or not 0 < s <= _SECP256K1_N // 2:
        return None
    try:
        public_key = Signature(vrs=(v - 27, r, s)).recover_public_key_from_msg_hash(digest)
    except (BadSignature, ValidationError):
        return None
    return to_address(public_key.to_canonical_address())


def eip191_digest(message32: bytes) -> bytes:
    """keccak256("\\x19Ethereum Signed Message:\\n32" ‖ message): what an EIP-191 signature of
    32 bytes signs."""
    return bytes(keccak(b"\x19Ethereum Signed Message:\n32" + message32))


# ─── Chain events (the watcher's handler) ───
def apply_event(*, market: Market, event: ChainEvent, checked_accounts: set[str]) -> None:
    """Brings the stored orders an event touches in step with the chain. Reads the chain's
    current state rather than trusting the event's numbers, so it is idempotent. Accounts in
    `checked_accounts` were already re-checked against the latest state in this poll."""
    if event.name == "OrdersMatched":
        for key in _MATCHED_HASHES:
            order_hash = str(event.args[key]).lower()
            if order_hash != ZERO_BYTES32:
                reconcile_order(market=market, order_hash=order_hash)
    elif event.name == "OrderClosed":
        order_hash = str(event.args["orderHash"]).lower()
        market.store.update(order_hash, status=CANCELED, dead_reason=CLOSED_ON_CHAIN, remaining=0)
    elif event.name == "Transfer":
        _apply_transfer(market, event)
    elif event.name in ESCROW_EVENTS:
        account = to_address(str(event.args["account"]))
        if account not in checked_accounts:
            checked_accounts.add(account)
            reconcile_funds(market=market, account=account)


def _apply_transfer(market: Market, event: ChainEvent) -> None:
    kind = market.chain.registry_kinds.get(to_address(event.address))
    previous = to_address(str(event.args["from"]))
    if kind is None or previous == ZERO_ADDRESS:  # not ours, or a mint
        return
    asset = to_address(int(event.args["tokenId"]).to_bytes(20, "big"))
    if market.chain.asset(asset)[0] == previous:
        return  # it came back: the hub accepts the previous owner's signatures again
    market.store.kill_asset_orders(
        kind=kind.value,
        asset=asset,
        signer=previous,
        reason=OWNER_CHANGED,
        balance_reason=BALANCE_TOO_LOW,
    )


def reconcile_funds(*, market: Market, account: str) -> None:
    """Re-checks every order of `account` that needs escrow funds: too little → dead, enough
    again → open."""
    rows = market.store.funded_orders(account, balance_reason=BALANCE_TOO_LOW)
    if not rows:
        return
    free = market.chain.free_balance(account)
    for row in rows:
        reconcile_order(market=market, order_hash=row.order_hash, free=free)


def reconcile_order(
    *, market: Market, order_hash: str, free: int | None = None, check_owner: bool = False
) -> None:
    """Re-derives a stored order's remaining volume and status from the chain."""
    row = market.store.get(order_hash)
    if row is None or row.status in (CANCELED, FILLED):
        return
    remaining = max(row.volume - market.chain.consumed(order_hash), 0)
    status, reason = row.status, row.dead_reason
    if remaining == 0:
        status, reason = FILLED, None
    elif (
        check_owner
        and row.kind != OrderKind.REQUEST
        and market.chain.asset(row.asset)[0] != row.owner
    ):
        status, reason = DEAD, OWNER_CHANGED
    elif row.kind in FUNDED_KINDS and (status == OPEN or reason == BALANCE_TOO_LOW):
        balance = market.chain.free_balance(row.owner) if free is None else free
        if balance >= required_funds(row.kind, row.price, remaining):
            status, reason = OPEN, None
        else:
            status, reason = DEAD, BALANCE_TOO_LOW
    # Compare-and-set on the status read above: an unpublish meanwhile wins.
    market.store.update(
        order_hash,
        only_if_status=row.status,
        remaining=remaining,
        status=status,
        dead_reason=reason,
    )


def _article(kind: OrderKind) -> str:
    return f"an {kind}" if kind is OrderKind.APP else f"a {kind}"
