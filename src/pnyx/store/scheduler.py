"""The scheduler's database: its pool's deals, their tasks, the replicates handed to workers, the
workers, and the chain cursor. Everything the scheduler needs to resume after a crash."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from pnyx.store.db import Database


class SchedulerBase(DeclarativeBase):
    """The scheduler's own database."""


def now() -> datetime:
    return datetime.now(UTC)


class DealRow(SchedulerBase):
    __tablename__ = "deals"

    deal_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    params: Mapped[str] = mapped_column(Text)
    block_number: Mapped[int] = mapped_column(Integer)


class TaskRow(SchedulerBase):
    __tablename__ = "tasks"

    task_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    deal_id: Mapped[str] = mapped_column(String(66), index=True)
    idx: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(32), index=True)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    consensus: Mapped[str | None] = mapped_column(String(66), nullable=True)
    reveal_deadline: Mapped[int] = mapped_column(Integer, default=0)
    revealer: Mapped[str | None] = mapped_column(String(42), nullable=True)
    uploader: Mapped[str | None] = mapped_column(String(42), nullable=True)
    result_link: Mapped[str | None] = mapped_column(Text, nullable=True)
    callback_data: Mapped[str | None] = mapped_column(Text, nullable=True)
    # TEE tasks: the SMS's per-task key address that authorizations name and results are signed by
    enclave_challenge: Mapped[str | None] = mapped_column(String(42), nullable=True)
    pending_tx: Mapped[str | None] = mapped_column(String(66), nullable=True)
    pending_action: Mapped[str | None] = mapped_column(String(32), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class ReplicateRow(SchedulerBase):
    __tablename__ = "replicates"
    __table_args__ = (UniqueConstraint("task_id", "worker"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(String(66), index=True)
    worker: Mapped[str] = mapped_column(String(42), index=True)
    state: Mapped[str] = mapped_column(String(32), index=True)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    authorization: Mapped[str] = mapped_column(String(132))
    weight: Mapped[int] = mapped_column(Integer)
    fast_path: Mapped[bool] = mapped_column(Boolean, default=False)
    result_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    exit_cause: Mapped[str | None] = mapped_column(String(64), nullable=True)
    stdout: Mapped[str] = mapped_column(Text, default="")
    stderr: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class WorkerRow(SchedulerBase):
    __tablename__ = "workers"

    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    max_tasks: Mapped[int] = mapped_column(Integer, default=1)
    tee: Mapped[bool] = mapped_column(Boolean, default=False)
    token: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    challenge: Mapped[str | None] = mapped_column(String(66), nullable=True)
    last_ping: Mapped[float] = mapped_column(Float, default=0.0)
    lost: Mapped[bool] = mapped_column(Boolean, default=False)


class CursorRow(SchedulerBase):
    __tablename__ = "cursors"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    block_number: Mapped[int] = mapped_column(Integer)
    block_hash: Mapped[str] = mapped_column(String(66))


# SQLite caps the variables of one statement; IN lists are sent in chunks below it.
_IN_CHUNK = 500


class SchedulerStore:
    """Repository over the scheduler's database; every method is one transaction."""

    def __init__(self, database: Database) -> None:
        self.database = database.create(SchedulerBase)

    def session(self) -> Any:
        return self.database.session()

    # ─── Cursor (CursorStore protocol of pnyx.chain.events) ───
    def load_cursor(self, key: str) -> tuple[int, str] | None:
        with self.session() as session:
            row = session.get(CursorRow, key)
            return (row.block_number, row.block_hash) if row else None

    def save_cursor(self, key: str, block_number: int, block_hash: str) -> None:
        with self.session() as session:
            row = session.get(CursorRow, key)
            if row is None:
                session.add(CursorRow(key=key, block_number=block_number, block_hash=block_hash))
            else:
                row.block_number, row.block_hash = block_number, block_hash

    # ─── Queries ───
    @staticmethod
    def tasks_in(session: Session, states: Iterable[str]) -> list[TaskRow]:
        return list(session.scalars(select(TaskRow).where(TaskRow.state.in_(list(states)))).all())

    @staticmethod
    def replicates_of(session: Session, task_id: str) -> list[ReplicateRow]:
        return list(
            session.scalars(select(ReplicateRow).where(ReplicateRow.task_id == task_id)).all()
        )

    @staticmethod
    def replicates_of_tasks(session: Session, task_ids: list[str]) -> dict[str, list[ReplicateRow]]:
        """The replicates of several tasks in one query, by task."""
        found: dict[str, list[ReplicateRow]] = {task_id: [] for task_id in task_ids}
        for start in range(0, len(task_ids), _IN_CHUNK):
            chunk = task_ids[start : start + _IN_CHUNK]
            query = select(ReplicateRow).where(ReplicateRow.task_id.in_(chunk))
            for replicate in session.scalars(query):
                found[replicate.task_id].append(replicate)
        return found

    @staticmethod
    def replicates_not_in(session: Session, states: Iterable[str]) -> list[ReplicateRow]:
        query = select(ReplicateRow).where(ReplicateRow.state.not_in(list(states)))
        return list(session.scalars(query).all())

    @staticmethod
    def replicates_of_worker(session: Session, worker: str) -> list[ReplicateRow]:
        return list(
            session.scalars(select(ReplicateRow).where(ReplicateRow.worker == worker)).all()
        )

    @staticmethod
    def workers(session: Session) -> list[WorkerRow]:
        return list(session.scalars(select(WorkerRow)).all())

    @staticmethod
    def worker_by_token(session: Session, token: str) -> WorkerRow | None:
        return session.scalars(select(WorkerRow).where(WorkerRow.token == token)).first()


def append_history(
    history: list[dict[str, Any]] | None, state: str, **details: Any
) -> list[dict[str, Any]]:
    """A new history list (JSON columns are replaced, not mutated, so SQLAlchemy sees changes)."""
    entry = {
        "state": state,
        "at": now().isoformat(),
        **{k: v for k, v in details.items() if v is not None},
    }
    return [*(history or []), json.loads(json.dumps(entry, default=str))]
