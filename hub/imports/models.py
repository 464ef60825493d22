"""Connectors and what their runs leave behind.

A source record is keyed by ``(source, external_id)`` across connectors: the same IATI
activity seen by two connectors is one record, claimed by the one whose member reports it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.columns import TimestampColumns
from hub.db import Base
from hub.types import UTCDateTime, db_enum


class ConnectorKind(enum.StrEnum):
    """Where a connector's records come from."""

    IATI_FILE = "IATI_FILE"
    """IATI activity files, from disk or a URL, imported with ``p2c-hub import iati``."""


class Connector(TimestampColumns, Base):
    """A configured connector: the member it acts for and how it selects and maps records.

    ``config`` is JSON (see ``hub.imports.connectors.ConnectorConfig``).
    """

    __tablename__ = "connectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[ConnectorKind] = mapped_column(db_enum(ConnectorKind))
    member_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    config: Mapped[str] = mapped_column(Text)


class RunStatus(enum.StrEnum):
    """Where a sync run stands."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    """It stopped on an error it names; what its committed batches wrote stays."""
    INTERRUPTED = "INTERRUPTED"
    """Its process died mid-run; the next run of the same source resumes after its marker."""


class SyncRun(Base):
    """One run of a connector over its sources, with counts that grow batch by batch.

    ``source`` and ``source_digest`` name what is being read (a file's path or URL and the
    SHA-256 of its bytes) and ``position`` is the marker: the last record whose batch was
    committed, written in the same transaction as that batch.
    """

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_id: Mapped[int] = mapped_column(ForeignKey("connectors.id"), index=True)
    status: Mapped[RunStatus] = mapped_column(db_enum(RunStatus))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    process_id: Mapped[str] = mapped_column(String(100))
    source: Mapped[str | None] = mapped_column(String(2000))
    source_digest: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    resumed_from: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id"))
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    unclaimed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class SourceState(enum.StrEnum):
    """What the hub made of a source record."""

    PLEDGE = "PLEDGE"
    """It is a pledge of the member whose connector brought it."""
    UNCLAIMED = "UNCLAIMED"
    """Someone else reported it: kept for linking, never a pledge."""


class SourceRecord(TimestampColumns, Base):
    """A record a source gave the hub, and what became of it.

    ``content_hash`` is of the mapped content, so an unchanged record writes nothing;
    ``parts`` (JSON) maps the record's own keys for its parts (targets) to the hub's ids;
    ``pending`` says a part waits for a person (an organisation to create), so the record is
    applied again on the next run even if unchanged.
    """

    __tablename__ = "source_records"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(500))
    state: Mapped[SourceState] = mapped_column(db_enum(SourceState))
    connector_id: Mapped[int] = mapped_column(ForeignKey("connectors.id"), index=True)
    sync_run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"), index=True)
    pledge_id: Mapped[int | None] = mapped_column(
        ForeignKey("pledges.id", ondelete="SET NULL"), index=True
    )
    reporting_org: Mapped[str | None] = mapped_column(String(200), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    place: Mapped[str | None] = mapped_column(String(2100))
    parts: Mapped[str] = mapped_column(Text, default="{}")
    notes: Mapped[str] = mapped_column(Text, default="[]")
    gaps: Mapped[str] = mapped_column(Text, default="[]")
    payload: Mapped[str | None] = mapped_column(Text)
    pending: Mapped[bool] = mapped_column(default=False)
    pledge_only: Mapped[bool] = mapped_column(default=False)
    """Its money is pledged, not committed: only outgoing pledges (IATI type 12) count."""


class LetterStatus(enum.StrEnum):
    """Whether a dead letter still waits."""

    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class DeadLetter(TimestampColumns, Base):
    """A record that could not be mapped or written: its raw payload, why, and where it was."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index("ix_dead_letters_open", "status", "connector_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_id: Mapped[int] = mapped_column(ForeignKey("connectors.id"))
    sync_run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"), index=True)
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str | None] = mapped_column(String(500))
    place: Mapped[str] = mapped_column(String(2100))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str | None] = mapped_column(Text)
    status: Mapped[LetterStatus] = mapped_column(db_enum(LetterStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id"))


class ReviewStatus(enum.StrEnum):
    """Whether a review item still waits for a person."""

    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class ReviewEntry(TimestampColumns, Base):
    """Something an import would not guess (an organisation without an identifier, a region
    that is no country group), for a person to look at; one per record, subject and code."""

    __tablename__ = "review_queue"
    __table_args__ = (UniqueConstraint("source", "external_id", "subject", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(500))
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(300))
    names: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ReviewStatus] = mapped_column(db_enum(ReviewStatus))
    sync_run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"))
