"""Pledges, their classifications, and their targets."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.columns import ProvenanceColumns, TimestampColumns, provenance_constraints
from hub.countries.models import CountryGroup
from hub.db import Base
from hub.money.columns import MoneyColumns, UsdEquivalentColumns, money_constraints
from hub.types import ExactDecimal, UTCDateTime, db_enum


class PledgeType(enum.StrEnum):
    """The four kinds of P2C pledge."""

    FINANCIAL = "FINANCIAL"
    POLICY = "POLICY"
    ADVOCACY = "ADVOCACY"
    PROGRAMMATIC = "PROGRAMMATIC"


class FocusArea(enum.StrEnum):
    """The four P2C focus areas a pledge may serve."""

    ACCESS = "ACCESS"
    ADOPTION = "ADOPTION"
    VALUE_CREATION = "VALUE_CREATION"
    ACCELERATE = "ACCELERATE"


class PublicationStatus(enum.StrEnum):
    """Where a pledge is in its public life, apart from how its work is going."""

    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    PUBLISHED = "PUBLISHED"
    FULFILLED = "FULFILLED"
    WITHDRAWN = "WITHDRAWN"


class ImplementationStatus(enum.StrEnum):
    """How the pledged work is going, after the IATI activity status."""

    PIPELINE = "PIPELINE"
    IMPLEMENTATION = "IMPLEMENTATION"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    SUSPENDED = "SUSPENDED"


class BeneficiaryGroup(enum.StrEnum):
    """People a pledge means to reach first."""

    WOMEN_AND_GIRLS = "WOMEN_AND_GIRLS"
    YOUTH = "YOUTH"
    CHILDREN = "CHILDREN"
    PERSONS_WITH_DISABILITIES = "PERSONS_WITH_DISABILITIES"
    OLDER_PERSONS = "OLDER_PERSONS"
    RURAL_COMMUNITIES = "RURAL_COMMUNITIES"
    INDIGENOUS_PEOPLES = "INDIGENOUS_PEOPLES"
    REFUGEES_AND_DISPLACED_PERSONS = "REFUGEES_AND_DISPLACED_PERSONS"
    SMALL_BUSINESSES = "SMALL_BUSINESSES"


class Pledge(MoneyColumns, UsdEquivalentColumns, ProvenanceColumns, TimestampColumns, Base):
    """A member's commitment; the money columns hold the pledged amount, if any.

    ``version`` rises on every update and makes a stale write fail instead of
    overwriting someone else's change. ``returned_at`` and ``return_note`` say when and why
    the secretariat last sent a submitted pledge back to its lead for changes.
    """

    __tablename__ = "pledges"
    __table_args__ = (
        *money_constraints(required=False, non_negative=True),
        *provenance_constraints(),
        UniqueConstraint("id", "lead_member_id"),
        CheckConstraint("length(trim(title)) > 0", name="title_present"),
        CheckConstraint(
            "start_date IS NULL OR end_date IS NULL OR end_date >= start_date",
            name="dates_ordered",
        ),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint(
            "publication_status NOT IN ('PUBLISHED', 'FULFILLED') OR published_at IS NOT NULL",
            name="publication_dated",
        ),
        CheckConstraint(
            "publication_status != 'WITHDRAWN' OR withdrawn_at IS NOT NULL",
            name="withdrawal_dated",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_member_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    pledge_type: Mapped[PledgeType] = mapped_column(db_enum(PledgeType))
    publication_status: Mapped[PublicationStatus] = mapped_column(
        db_enum(PublicationStatus), default=PublicationStatus.DRAFT, index=True
    )
    implementation_status: Mapped[ImplementationStatus] = mapped_column(
        db_enum(ImplementationStatus), default=ImplementationStatus.PIPELINE
    )
    announced_on: Mapped[date] = mapped_column(Date, index=True)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    return_note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (read once by the mapper)

    focus_areas: Mapped[list[PledgeFocusArea]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )
    target_countries: Mapped[list[PledgeTargetCountry]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )
    target_groups: Mapped[list[PledgeTargetGroup]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )
    beneficiary_groups: Mapped[list[PledgeBeneficiaryGroup]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )
    sdgs: Mapped[list[PledgeSdg]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )
    targets: Mapped[list[Target]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )


class PledgeFocusArea(Base):
    """A focus area a pledge serves; each at most once per pledge."""

    __tablename__ = "pledge_focus_areas"

    pledge_id: Mapped[int] = mapped_column(
        ForeignKey("pledges.id", ondelete="CASCADE"), primary_key=True
    )
    focus_area: Mapped[FocusArea] = mapped_column(db_enum(FocusArea), primary_key=True)


class PledgeTargetCountry(Base):
    """A country a pledge targets."""

    __tablename__ = "pledge_target_countries"

    pledge_id: Mapped[int] = mapped_column(
        ForeignKey("pledges.id", ondelete="CASCADE"), primary_key=True
    )
    country: Mapped[str] = mapped_column(
        String(3), ForeignKey("countries.alpha3"), primary_key=True, index=True
    )


class PledgeTargetGroup(Base):
    """A whole country group (LDC, LLDC, SIDS) a pledge targets."""

    __tablename__ = "pledge_target_groups"

    pledge_id: Mapped[int] = mapped_column(
        ForeignKey("pledges.id", ondelete="CASCADE"), primary_key=True
    )
    country_group: Mapped[CountryGroup] = mapped_column(db_enum(CountryGroup), primary_key=True)


class PledgeBeneficiaryGroup(Base):
    """A group of people a pledge means to reach."""

    __tablename__ = "pledge_beneficiary_groups"

    pledge_id: Mapped[int] = mapped_column(
        ForeignKey("pledges.id", ondelete="CASCADE"), primary_key=True
    )
    beneficiary_group: Mapped[BeneficiaryGroup] = mapped_column(
        db_enum(BeneficiaryGroup), primary_key=True
    )


class PledgeSdg(Base):
    """A Sustainable Development Goal (1 to 17) a pledge contributes to."""

    __tablename__ = "pledge_sdgs"
    __table_args__ = (CheckConstraint("sdg BETWEEN 1 AND 17", name="sdg_range"),)

    pledge_id: Mapped[int] = mapped_column(
        ForeignKey("pledges.id", ondelete="CASCADE"), primary_key=True
    )
    sdg: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class TextField(enum.StrEnum):
    """Which of a pledge's texts a translation is of."""

    TITLE = "TITLE"
    DESCRIPTION = "DESCRIPTION"


class PledgeText(Base):
    """A pledge's title or description in one language (a BCP 47 tag, lower case), as its
    source wrote it; the pledge's own ``title`` and ``description`` are what a reader gets
    when no translation in the language asked for exists."""

    __tablename__ = "pledge_texts"

    pledge_id: Mapped[int] = mapped_column(
        ForeignKey("pledges.id", ondelete="CASCADE"), primary_key=True
    )
    field: Mapped[TextField] = mapped_column(db_enum(TextField), primary_key=True)
    language: Mapped[str] = mapped_column(String(35), primary_key=True)
    text: Mapped[str] = mapped_column(Text)


class Indicator(enum.StrEnum):
    """What a target measures; OTHER needs a label."""

    PEOPLE_CONNECTED = "PEOPLE_CONNECTED"
    SCHOOLS_CONNECTED = "SCHOOLS_CONNECTED"
    HEALTH_FACILITIES_CONNECTED = "HEALTH_FACILITIES_CONNECTED"
    PEOPLE_TRAINED = "PEOPLE_TRAINED"
    USD_MOBILISED = "USD_MOBILISED"
    FIBRE_KM = "FIBRE_KM"
    OTHER = "OTHER"


class Measure(enum.StrEnum):
    """Whether a target is a number or a described outcome."""

    QUANTITATIVE = "QUANTITATIVE"
    QUALITATIVE = "QUALITATIVE"


class Direction(enum.StrEnum):
    """Whether success means the value going up or down."""

    ASCENDING = "ASCENDING"
    DESCENDING = "DESCENDING"


class Target(TimestampColumns, Base):
    """A measurable aim of a pledge, against which progress reports give actual values."""

    __tablename__ = "targets"
    __table_args__ = (
        UniqueConstraint("id", "pledge_id"),
        CheckConstraint("indicator != 'OTHER' OR label IS NOT NULL", name="other_labelled"),
        CheckConstraint(
            "measure != 'QUANTITATIVE' OR target_value IS NOT NULL",
            name="quantitative_has_value",
        ),
        CheckConstraint(
            "measure != 'QUALITATIVE' OR (target_value IS NULL AND baseline_value IS NULL"
            " AND description IS NOT NULL)",
            name="qualitative_described",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"), index=True)
    indicator: Mapped[Indicator] = mapped_column(db_enum(Indicator))
    label: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(50))
    measure: Mapped[Measure] = mapped_column(db_enum(Measure))
    direction: Mapped[Direction] = mapped_column(db_enum(Direction), default=Direction.ASCENDING)
    cumulative: Mapped[bool] = mapped_column(default=True)
    baseline_value: Mapped[Decimal | None] = mapped_column(ExactDecimal(28, 6))
    baseline_date: Mapped[date | None] = mapped_column(Date)
    target_value: Mapped[Decimal | None] = mapped_column(ExactDecimal(28, 6))
    deadline: Mapped[date | None] = mapped_column(Date)
