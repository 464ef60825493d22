"""The audit tables. Both are insert-only: triggers refuse UPDATE and DELETE (and TRUNCATE
on PostgreSQL), and the serving role is granted neither (see the README)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base
from hub.types import UTCDateTime

Key = BigInteger().with_variant(Integer(), "sqlite")


class AuditEvent(Base):
    """One state change: who, what, when, through which request, and the fields it changed.

    ``transaction_id`` is the writing transaction's id on PostgreSQL, which the sequencer
    compares with the oldest transaction still running; ``event_hash`` is the SHA-256 of
    the event's canonical form (hub.audit.canonical).
    """

    __tablename__ = "audit_events"
    # ids are never reused, so that an emptied log shows
    __table_args__ = (
        Index("ix_audit_events_entity", "entity_type", "entity_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Key, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_client_id: Mapped[str | None] = mapped_column(String(200))
    actor_member_id: Mapped[int | None] = mapped_column(Integer)
    actor_operator: Mapped[str | None] = mapped_column(String(200))
    connector: Mapped[str | None] = mapped_column(String(100))
    sync_run_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(500))
    changes: Mapped[str] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(128))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    transaction_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    event_hash: Mapped[str] = mapped_column(String(64))


class AuditLeaf(Base):
    """An event's place in the log: numbered without gaps from 0, in a commit-safe order,
    with its RFC 9162 leaf hash and the chain hash that covers every leaf before it."""

    __tablename__ = "audit_leaves"

    leaf_number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[int] = mapped_column(Key, ForeignKey("audit_events.id"), unique=True)
    leaf_hash: Mapped[str] = mapped_column(String(64))
    chain_hash: Mapped[str] = mapped_column(String(64))
    sequenced_at: Mapped[datetime] = mapped_column(UTCDateTime())
