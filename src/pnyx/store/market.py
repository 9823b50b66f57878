"""The market's database: published orders and the chain watcher's cursor.

The market has a declarative base of its own (`MarketBase`) so it lives in its own database and
never shares tables with another service. uint256 quantities (prices, volumes, trust, category)
are stored as zero-padded 78-digit decimal strings: exact for every uint256 on SQLite and
PostgreSQL alike, and their text order is their numeric order, so sorting and range filters stay
in SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Index,
    Select,
    String,
    TypeDecorator,
    and_,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pnyx.store.db import Database

UINT256_DIGITS = 78
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
OPEN = "open"
FILLED = "filled"
CANCELED = "canceled"
DEAD = "dead"
FUNDED_KINDS = ("workerpool", "request")


class MarketBase(DeclarativeBase):
    """Base of the market's models (its own metadata, so its own database)."""


class Uint256(TypeDecorator[int]):
    """A uint256 as a zero-padded decimal string whose text order is its numeric order."""

    impl = String(UINT256_DIGITS)
    cache_ok = True

    def process_bind_param(self, value: int | None, _dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not 0 <= value < 2**256:
            raise ValueError(f"not a uint256: {value}")
        return f"{value:0{UINT256_DIGITS}d}"

    def process_result_value(self, value: str | None, _dialect: Dialect) -> int | None:
        return None if value is None else int(value)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime, stored naive (SQLite keeps no zone)."""

    impl = DateTime()
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class OrderRow(MarketBase):
    """A published order. Restriction columns hold, per kind, the order's restriction fields; for
    request orders they hold the app, dataset and workerpool the request names and the
    requester."""

    __tablename__ = "market_orders"

    order_hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    asset: Mapped[str] = mapped_column(String(42))
    owner: Mapped[str] = mapped_column(String(42), index=True)
    price: Mapped[int] = mapped_column(Uint256)
    volume: Mapped[int] = mapped_column(Uint256)
    remaining: Mapped[int] = mapped_column(Uint256)
    tag: Mapped[str] = mapped_column(String(66))
    category: Mapped[int | None] = mapped_column(Uint256, nullable=True)
    trust: Mapped[int | None] = mapped_column(Uint256, nullable=True)
    app_restrict: Mapped[str | None] = mapped_column(String(42), nullable=True)
    dataset_restrict: Mapped[str | None] = mapped_column(String(42), nullable=True)
    workerpool_restrict: Mapped[str | None] = mapped_column(String(42), nullable=True)
    requester_restrict: Mapped[str | None] = mapped_column(String(42), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    dead_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    order_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_market_orders_book", "kind", "status", "price", "published_at"),
        Index("ix_market_orders_asset", "kind", "asset", "owner"),
    )


class CursorRow(MarketBase):
    """Where the chain watcher stopped: the last block handled and its hash (reorg check)."""

    __tablename__ = "market_cursors"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    block_number: Mapped[int]
    block_hash: Mapped[str] = mapped_column(String(66))


@dataclass(frozen=True)
class OrderFilter:
    """A normalized order query: every value is already checked and checksummed.

    `restrict_open` columns match their address or the zero address (an open restriction);
    `restrict_exact` columns match their address only. `tag_all` keeps orders whose tag has all
    of its bits, `tag_within` orders whose tag has no bit outside it."""

    kind: str
    statuses: tuple[str, ...] = (OPEN,)
    asset: str | None = None
    owner: str | None = None
    category: int | None = None
    min_trust: int | None = None
    max_trust: int | None = None
    min_volume: int | None = None
    restrict_open: dict[str, str] = field(default_factory=dict)
    restrict_exact: dict[str, str] = field(default_factory=dict)
    tag_all: int | None = None
    tag_within: int | None = None


_RESTRICT_COLUMNS = {
    "app_restrict": OrderRow.app_restrict,
    "dataset_restrict": OrderRow.dataset_restrict,
    "workerpool_restrict": OrderRow.workerpool_restrict,
    "requester_restrict": OrderRow.requester_restrict,
}


class MarketStore:
    """The queries the market service and its watcher need; also the watcher's `CursorStore`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self) -> MarketStore:
        self.db.create(MarketBase)
        return self

    # ─── Orders ───
    def get(self, order_hash: str) -> OrderRow | None:
        with self.db.session() as session:
            return session.get(OrderRow, order_hash)

    def insert_or_reopen(self, row: OrderRow) -> bool:
        """Stores a validated order as open: inserts it, or reopens a stored one that is not open
        (republished after an unpublish). False if it is already open. Race-free: the update only
        touches a row that is not open, and a concurrent insert loses on the primary key."""
        values = {
            column.key: getattr(row, column.key)
            for column in OrderRow.__table__.columns
            if column.key != "order_hash"
        }
        try:
            with self.db.session() as session:
                reopened = session.execute(
                    update(OrderRow)
                    .where(OrderRow.order_hash == row.order_hash, OrderRow.status != OPEN)
                    .values(**values)
                )
                if reopened.rowcount:  # type: ignore[attr-defined]
                    return True
                session.add(row)
        except IntegrityError:
            return False
        return True

    def update(self, order_hash: str, *, only_if_status: str | None = None, **changes: Any) -> bool:
        """Applies the changes that differ from the stored values; True if any did. Unchanged
        rows keep their `updated_at`, so replaying an event leaves no trace. With
        `only_if_status`, the write is a compare-and-set on the status: it does nothing if
        another writer (the watcher, an unpublish) changed the status in the meantime."""
        with self.db.session() as session:
            row = session.get(OrderRow, order_hash)
            if row is None or (only_if_status is not None and row.status != only_if_status):
                return False
            differing = {k: v for k, v in changes.items() if getattr(row, k) != v}
            if not differing:
                return False
            conditions = [OrderRow.order_hash == order_hash]
            if only_if_status is not None:
                conditions.append(OrderRow.status == only_if_status)
            result = session.execute(
                update(OrderRow).where(*conditions).values(**differing, updated_at=_now())
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def count_open(self, owner: str) -> int:
        with self.db.session() as session:
            query = select(func.count()).where(OrderRow.owner == owner, OrderRow.status == OPEN)
            return int(session.scalar(query) or 0)

    def query(self, spec: OrderFilter, *, offset: int, limit: int) -> tuple[list[OrderRow], int]:
        """A page of matching orders, cheapest first then oldest first, and the total count.
        Tag filters are bitwise, which SQL cannot do on hex text: they are applied here, on the
        rows the other filters keep."""
        base = self._select(spec)
        ordered = base.order_by(OrderRow.price, OrderRow.published_at, OrderRow.order_hash)
        with self.db.session() as session:
            if spec.tag_all is None and spec.tag_within is None:
                total = int(session.scalar(select(func.count()).select_from(base.subquery())) or 0)
                rows = list(session.scalars(ordered.offset(offset).limit(limit)))
                return rows, total
            kept = [row for row in session.scalars(ordered) if _tag_matches(row.tag, spec)]
            return kept[offset : offset + limit], len(kept)

    def funded_orders(self, account: str, *, balance_reason: str) -> list[OrderRow]:
        """The account's orders whose validity depends on its escrow balance: open workerpool and
        request orders, and those that died for lack of balance (they may come back)."""
        with self.db.session() as session:
            query = select(OrderRow).where(
                OrderRow.owner == account,
                OrderRow.kind.in_(FUNDED_KINDS),
                _open_or_dead_for(balance_reason),
            )
            return list(session.scalars(query))

    def has_funded_orders(self, account: str, *, balance_reason: str) -> bool:
        with self.db.session() as session:
            query = (
                select(OrderRow.order_hash)
                .where(
                    OrderRow.owner == account,
                    OrderRow.kind.in_(FUNDED_KINDS),
                    _open_or_dead_for(balance_reason),
                )
                .limit(1)
            )
            return session.scalar(query) is not None

    def kill_asset_orders(
        self, *, kind: str, asset: str, signer: str, reason: str, balance_reason: str
    ) -> int:
        """Marks dead the open (or balance-dead) orders of `asset` signed by `signer`; returns how
        many changed. Idempotent: a second call finds them dead already."""
        with self.db.session() as session:
            result = session.execute(
                update(OrderRow)
                .where(
                    OrderRow.kind == kind,
                    OrderRow.asset == asset,
                    OrderRow.owner == signer,
                    _open_or_dead_for(balance_reason),
                )
                .values(status=DEAD, dead_reason=reason, updated_at=_now())
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    # ─── Cursor (pnyx.chain.events.CursorStore) ───
    def load_cursor(self, key: str) -> tuple[int, str] | None:
        with self.db.session() as session:
            row = session.get(CursorRow, key)
            return None if row is None else (row.block_number, row.block_hash)

    def save_cursor(self, key: str, block_number: int, block_hash: str) -> None:
        with self.db.session() as session:
            row = session.get(CursorRow, key)
            if row is None:
                session.add(CursorRow(key=key, block_number=block_number, block_hash=block_hash))
            else:
                row.block_number, row.block_hash = block_number, block_hash

    # ─── Private ───
    @staticmethod
    def _select(spec: OrderFilter) -> Select[OrderRow]:
        conditions: list[Any] = [OrderRow.kind == spec.kind, OrderRow.status.in_(spec.statuses)]
        if spec.asset is not None:
            conditions.append(OrderRow.asset == spec.asset)
        if spec.owner is not None:
            conditions.append(OrderRow.owner == spec.owner)
        if spec.category is not None:
            conditions.append(OrderRow.category == spec.category)
        if spec.min_trust is not None:
            conditions.append(OrderRow.trust >= spec.min_trust)
        if spec.max_trust is not None:
            conditions.append(OrderRow.trust <= spec.max_trust)
        if spec.min_volume is not None:
            conditions.append(OrderRow.remaining >= spec.min_volume)
        for name, address in spec.restrict_open.items():
            column = _RESTRICT_COLUMNS[name]
            conditions.append(or_(column == address, column == ZERO_ADDRESS))
        for name, address in spec.restrict_exact.items():
            conditions.append(_RESTRICT_COLUMNS[name] == address)
        return select(OrderRow).where(*conditions)


def new_order_row(**values: Any) -> OrderRow:
    """An order row stamped with the current time."""
    now = _now()
    return OrderRow(published_at=now, updated_at=now, **values)


def _open_or_dead_for(reason: str) -> Any:
    return or_(
        OrderRow.status == OPEN, and_(OrderRow.status == DEAD, OrderRow.dead_reason == reason)
    )


def _tag_matches(tag: str, spec: OrderFilter) -> bool:
    value = int(tag, 16)
    if spec.tag_all is not None and value & spec.tag_all != spec.tag_all:
        return False
    return not (spec.tag_within is not None and value & ~spec.tag_within)


def _now() -> datetime:
    return datetime.now(UTC)
