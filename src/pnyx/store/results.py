"""The result store's index: which archive (by content hash) holds which task's result."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pnyx.store.db import Database


class ResultsBase(DeclarativeBase):
    """The result store's own database."""


class ResultRow(ResultsBase):
    __tablename__ = "results"

    task_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    archive_sha256: Mapped[str] = mapped_column(String(64), index=True)
    result_digest: Mapped[str] = mapped_column(String(66))
    size: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ResultIndex:
    def __init__(self, database: Database) -> None:
        self.database = database.create(ResultsBase)

    def get(self, task_id: str) -> ResultRow | None:
        with self.database.session() as session:
            return session.get(ResultRow, task_id)

    def add(
        self, *, task_id: str, archive_sha256: str, result_digest: str, size: int, kind: str
    ) -> ResultRow:
        row = ResultRow(
            task_id=task_id,
            archive_sha256=archive_sha256,
            result_digest=result_digest,
            size=size,
            kind=kind,
            uploaded_at=datetime.now(UTC),
        )
        with self.database.session() as session:
            session.add(row)
        return row

    def count(self) -> int:
        with self.database.session() as session:
            return len(session.scalars(select(ResultRow.task_id)).all())
