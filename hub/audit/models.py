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


class AuditNode(Base):
    """A complete subtree of the log above the leaves: ``2 ** level`` leaves from leaf
    ``index * 2 ** level``, with its RFC 9162 node hash. Added with the leaves that complete
    it, so a root or a proof reads a few rows (hub.audit.tree)."""

    __tablename__ = "audit_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))


class TreeHead(Base):
    """A signed tree head: the log's size and root at a moment, as the signed note that
    leaves the hub (docs/audit.md)."""

    __tablename__ = "audit_tree_heads"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Key, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    key_id: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)


class HeadDelivery(Base):
    """A head delivered to an export target (``HUB_AUDIT_HEADS_FILE`` or ``_URL``), so each
    goes once, in order, and a failed delivery is tried again."""

    __tablename__ = "audit_head_deliveries"

    head_id: Mapped[int] = mapped_column(
        Key, ForeignKey("audit_tree_heads.id"), primary_key=True, autoincrement=False
    )
    target: Mapped[str] = mapped_column(String(500), primary_key=True)
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime())
