"""Progress reports, the actual value they give per target, and their evidence."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.columns import ProvenanceColumns, TimestampColumns, provenance_constraints
from hub.db import Base
from hub.money.columns import MoneyColumns, UsdEquivalentColumns, money_constraints
from hub.types import ExactDecimal, UTCDateTime, db_enum


class ReportStatus(enum.StrEnum):
    """A report counts once the secretariat VERIFIED it."""

    SUBMITTED = "SUBMITTED"
    VERIFIED = "VERIFIED"
    REJECTED = "REJECTED"


class ProgressReport(MoneyColumns, UsdEquivalentColumns, ProvenanceColumns, TimestampColumns, Base):
    """A member's report on a pledge for a period; the money columns hold the amount disbursed."""

    __tablename__ = "progress_reports"
    __table_args__ = (
        *money_constraints(required=False, non_negative=True),
        *provenance_constraints(),
        UniqueConstraint("id", "pledge_id"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"), index=True)
    reporting_member_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    narrative: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ReportStatus] = mapped_column(
        db_enum(ReportStatus), default=ReportStatus.SUBMITTED
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str | None] = mapped_column(Text)

    values: Mapped[list[ProgressValue]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )
    evidence: Mapped[list[EvidenceLink]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )


class ProgressValue(Base):
    """The actual value a report gives for one target of the same pledge."""

    __tablename__ = "progress_values"
    __table_args__ = (
        ForeignKeyConstraint(
            ["report_id", "pledge_id"],
            ["progress_reports.id", "progress_reports.pledge_id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["target_id", "pledge_id"], ["targets.id", "targets.pledge_id"], ondelete="CASCADE"
        ),
        CheckConstraint("value IS NOT NULL OR note IS NOT NULL", name="value_or_note"),
    )

    report_id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(primary_key=True, index=True)
    pledge_id: Mapped[int]
    value: Mapped[Decimal | None] = mapped_column(ExactDecimal(28, 6))
    note: Mapped[str | None] = mapped_column(Text)


class EvidenceLink(Base):
    """A public web page or document that backs a progress report."""

    __tablename__ = "evidence_links"
    __table_args__ = (
        CheckConstraint("url LIKE 'https://%' OR url LIKE 'http://%'", name="url_is_http"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("progress_reports.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    title: Mapped[str | None] = mapped_column(String(300))
