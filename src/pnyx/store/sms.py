"""The SMS's database: secrets and enclave challenge keys (ciphertexts only: the service encrypts
them under its master key before they get here), and the session nonces it issued.

Each write that must happen once is decided by the database, not by a read before it: a secret or
a challenge is created by an insert that loses on the primary key, and a nonce is spent by an
update that only touches an unspent row, so two concurrent requests cannot both win."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, Float, LargeBinary, String, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pnyx.store.db import Database


class SmsBase(DeclarativeBase):
    """The SMS's own database."""


def _now() -> datetime:
    return datetime.now(UTC)


class SecretRow(SmsBase):
    __tablename__ = "secrets"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ChallengeRow(SmsBase):
    __tablename__ = "challenges"

    task_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    address: Mapped[str] = mapped_column(String(42))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NonceRow(SmsBase):
    __tablename__ = "nonces"

    nonce: Mapped[str] = mapped_column(String(66), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(66))
    worker: Mapped[str] = mapped_column(String(42))
    # Unix times: compared with the clock, and SQLite keeps no time zone.
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    used_at: Mapped[float | None] = mapped_column(Float, nullable=True)


@dataclass(frozen=True)
class SecretId:
    kind: str
    address: str
    name: str = ""


class SmsStore:
    def __init__(self, database: Database) -> None:
        self.database = database.create(SmsBase)

    # ─── Secrets ───
    def secret(self, secret: SecretId) -> bytes | None:
        with self.database.session() as session:
            row = session.get(SecretRow, (secret.kind, secret.address, secret.name))
            return None if row is None else row.ciphertext

    def add_secret(self, secret: SecretId, ciphertext: bytes) -> bool:
        """Stores a new secret; False (and nothing written) if it already exists."""
        now = _now()
        row = SecretRow(
            kind=secret.kind,
            address=secret.address,
            name=secret.name,
            ciphertext=ciphertext,
            created_at=now,
            updated_at=now,
        )
        try:
            with self.database.session() as session:
                session.add(row)
        except IntegrityError:
            return False
        return True

    def put_secret(self, secret: SecretId, ciphertext: bytes) -> bool:
        """Stores or replaces a secret; True if it was created."""
        with self.database.session() as session:
            replaced = session.execute(
                update(SecretRow)
                .where(
                    SecretRow.kind == secret.kind,
                    SecretRow.address == secret.address,
                    SecretRow.name == secret.name,
                )
                .values(ciphertext=ciphertext, updated_at=_now())
            )
            if replaced.rowcount:  # type: ignore[attr-defined]
                return False
        if self.add_secret(secret, ciphertext):
            return True
        # Created by a concurrent push in between: this later push replaces it.
        return self.put_secret(secret, ciphertext)

    def secrets_of(self, kind: str, address: str) -> dict[str, bytes]:
        """Every secret of one kind and owner, by name."""
        with self.database.session() as session:
            rows = session.scalars(
                select(SecretRow).where(SecretRow.kind == kind, SecretRow.address == address)
            ).all()
            return {row.name: row.ciphertext for row in rows}

    # ─── Enclave challenges ───
    def challenge(self, task_id: str) -> ChallengeRow | None:
        with self.database.session() as session:
            return session.get(ChallengeRow, task_id)

    def add_challenge(
        self, task_id: str, address: str, ciphertext: bytes
    ) -> tuple[ChallengeRow, bool]:
        """Stores a task's challenge key unless it has one; returns (the stored row, created)."""
        row = ChallengeRow(
            task_id=task_id, address=address, ciphertext=ciphertext, created_at=_now()
        )
        try:
            with self.database.session() as session:
                session.add(row)
        except IntegrityError:
            existing = self.challenge(task_id)
            if existing is None:  # pragma: no cover - rows are never deleted
                raise
            return existing, False
        return row, True

    # ─── Session nonces ───
    def add_nonce(self, nonce: str, *, task_id: str, worker: str, expires_at: float) -> None:
        with self.database.session() as session:
            session.add(
                NonceRow(nonce=nonce, task_id=task_id, worker=worker, expires_at=expires_at)
            )

    def nonce(self, nonce: str) -> NonceRow | None:
        with self.database.session() as session:
            return session.get(NonceRow, nonce)

    def spend_nonce(self, nonce: str, *, now: float) -> bool:
        """Marks an unexpired nonce used; False if it was already used (or expired) meanwhile."""
        with self.database.session() as session:
            spent = session.execute(
                update(NonceRow)
                .where(
                    NonceRow.nonce == nonce,
                    NonceRow.used_at.is_(None),
                    NonceRow.expires_at > now,
                )
                .values(used_at=now)
            )
            return bool(spent.rowcount)  # type: ignore[attr-defined]

    def purge_nonces(self, *, expired_before: float) -> int:
        """Forgets nonces that expired before the given time (a used nonce is then unknown, and
        still refused: an unknown nonce is refused like an expired one)."""
        with self.database.session() as session:
            purged = session.execute(delete(NonceRow).where(NonceRow.expires_at < expired_before))
            return int(purged.rowcount)  # type: ignore[attr-defined]
