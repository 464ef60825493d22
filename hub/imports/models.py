"""Connectors and what their runs leave behind.

A source record is keyed by ``(source, external_id)`` across connectors: the same IATI
activity seen by two connectors is one record, claimed by the one whose member reports it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    case,
    exists,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.columns import TimestampColumns
from hub.db import Base
from hub.pledges.models import Pledge
from hub.types import UTCDateTime, db_enum
from hub.visibility import Viewer, visible_pledge_ids


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


class LinkRole(enum.StrEnum):
    """What a source record is to the pledge it is linked to."""

    LEAD = "LEAD"
    """It writes the pledge: its member leads, its commitments are the ones counted."""
    RECEIVER = "RECEIVER"
    """The receiving end of the lead's money: its incoming funds are the same money."""
    PROVIDER = "PROVIDER"
    """The funding end, reported by an organisation that is not the lead's member."""
    THIRD_PARTY = "THIRD_PARTY"
    """A report by another organisation on the same activity (IATI related-activity 5)."""
    TWIN = "TWIN"
    """The same activity from another source (World Bank project ``P…``, IATI ``44000-P…``)."""


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
    activity_id: Mapped[str | None] = mapped_column(String(500), index=True)
    """The IATI activity it stands for (a World Bank project ``P…`` is ``44000-P…``): records
    of two sources with one activity id are one pledge."""
    link_role: Mapped[LinkRole | None] = mapped_column(db_enum(LinkRole))
    """What it is to its pledge (see ``hub.imports.linking``); None: linked to no pledge."""
    reported_minor: Mapped[int | None] = mapped_column(BigInteger)
    """What it commits, as it reports it, in ``reported_currency``'s minor units."""
    reported_currency: Mapped[str | None] = mapped_column(String(3))
    count_reason: Mapped[str | None] = mapped_column(String(300))
    """Why what it reports is counted in totals, or is not."""


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
    that is no country group), for a person to look at; one per record, subject and code.
    A person resolves it with ``hub.imports.review.resolve_review``."""

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
    candidates: Mapped[str] = mapped_column(Text, default="[]")
    """The organisations an uncertain match might mean: a JSON list of their ids."""
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    """Who resolved it, as the audit ledger names actors (``hub.audit.ledger.actor``)."""
    resolution: Mapped[str | None] = mapped_column(Text)
    """What the person decided, in words."""
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    """The organisation it was resolved to (chosen or created), if it is about one."""


class LinkRelation(enum.StrEnum):
    """How a source record names another activity (IATI's terms for the last five)."""

    PROVIDER = "PROVIDER"
    """Its incoming funds or commitment come from the named activity (provider-activity-id)."""
    RECEIVER = "RECEIVER"
    """Its outgoing commitment or disbursement goes to the named activity (receiver-activity-id)."""
    PARENT = "PARENT"
    """The named activity is its parent (related-activity type 1)."""
    CHILD = "CHILD"
    """The named activity is its child (type 2)."""
    SIBLING = "SIBLING"
    """The named activity shares its parent (type 3)."""
    CO_FUNDED = "CO_FUNDED"
    """The named activity co-funds the same work (type 4)."""
    THIRD_PARTY = "THIRD_PARTY"
    """The named activity is another organisation's report on this same activity (type 5)."""


class SourceLink(Base):
    """One activity a source record names, kept by id whether or not the hub holds it yet: a
    link made before its other end arrives, in any import order."""

    __tablename__ = "source_links"
    __table_args__ = (UniqueConstraint("record_id", "relation", "activity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("source_records.id", ondelete="CASCADE"))
    relation: Mapped[LinkRelation] = mapped_column(db_enum(LinkRelation))
    activity_id: Mapped[str] = mapped_column(String(500), index=True)


class CountedElsewhere(Base):
    """An ancestor whose commitment holds a pledge's amount (one row per carrying ancestor), so
    totals leave the amount out for whoever sees that ancestor. Kept apart from ``pledges`` so
    that linking never moves a pledge's version under its lead."""

    __tablename__ = "counted_elsewhere"

    pledge_id: Mapped[int] = mapped_column(
        ForeignKey("pledges.id", ondelete="CASCADE"), primary_key=True
    )
    counted_in_id: Mapped[int] = mapped_column(
        ForeignKey("pledges.id", ondelete="CASCADE"), primary_key=True
    )
    depth: Mapped[int] = mapped_column(Integer)
    """How many levels up the ancestor is: the topmost one a viewer sees holds the amount."""
    reason: Mapped[str] = mapped_column(String(300))


def _held_elsewhere(viewer: Viewer) -> ColumnElement[bool]:
    """The pledge's amount is held by an ancestor the viewer sees (one it cannot see counts
    nothing for it, so the amount counts where it is)."""
    return exists().where(
        CountedElsewhere.pledge_id == Pledge.id,
        CountedElsewhere.counted_in_id.in_(visible_pledge_ids(viewer).correlate(None)),
    )


def counted_usd(viewer: Viewer) -> ColumnElement[int | None]:
    """A pledge's US dollar amount as the viewer's totals count it: none when an ancestor
    pledge the viewer sees holds it."""
    return case((_held_elsewhere(viewer), None), else_=Pledge.usd_amount_minor)


def counted_amount(viewer: Viewer) -> ColumnElement[int | None]:
    """A pledge's amount in its currency as the viewer's totals count it (see ``counted_usd``)."""
    return case((_held_elsewhere(viewer), None), else_=Pledge.amount_minor)
