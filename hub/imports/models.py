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
    IATI_DATASTORE = "IATI_DATASTORE"
    """The IATI Datastore's Solr API, with an API key, paged by ``cursorMark``."""
    WORLD_BANK = "WORLD_BANK"
    """The World Bank Projects API, paged by ``rows`` and ``os``."""
    JSON_API = "JSON_API"
    """An operator's JSON API behind OAuth 2.0, read through a declarative field mapping."""


HTTP_KINDS = frozenset(
    {ConnectorKind.IATI_DATASTORE, ConnectorKind.WORLD_BANK, ConnectorKind.JSON_API}
)
"""Kinds that pull from an HTTP API with ``p2c-hub sync`` and on a schedule."""


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
    secret: Mapped[str | None] = mapped_column(Text)
    """The client secret or API key, sealed with the hub's key-encryption keys."""
    every_seconds: Mapped[int | None] = mapped_column(Integer)
    """How often ``p2c-hub worker`` runs it; None: only when asked."""
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failures: Mapped[int] = mapped_column(Integer, default=0)
    """Runs failed in a row: the worker waits longer after each, and reports it."""
    cursor: Mapped[str | None] = mapped_column(Text)
    """Where an unfinished pass over an HTTP source goes on (JSON, the source's own terms);
    written only in the transaction that commits the page before it."""
    watermark: Mapped[str | None] = mapped_column(String(64))
    """Records changed since this instant are what the next pass asks for."""


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
    requests: Mapped[int] = mapped_column(Integer, default=0)
    """HTTP requests the run made (pages and tokens), retries included."""
    retries: Mapped[int] = mapped_column(Integer, default=0)
    """Requests made again after a fault (an error status, a timeout, a cut body)."""
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
