"""Countries, and their dated membership of the UN country groups P2C focuses on."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base
from hub.types import db_enum


class CountryGroup(enum.StrEnum):
    """The UN country groups P2C focuses on."""

    LDC = "LDC"
    LLDC = "LLDC"
    SIDS = "SIDS"


class ChangeStatus(enum.StrEnum):
    """Whether a change to a group's list has happened or is only scheduled."""

    EFFECTIVE = "EFFECTIVE"
    SCHEDULED = "SCHEDULED"


class ChangeKind(enum.StrEnum):
    """A country joining or leaving a group."""

    JOINED = "JOINED"
    LEFT = "LEFT"


class Country(Base):
    """A country or territory keyed by its ISO 3166-1 alpha-3 code, named in six UN languages."""

    __tablename__ = "countries"
    __table_args__ = (
        CheckConstraint("length(alpha3) = 3 AND alpha3 = upper(alpha3)", name="alpha3_format"),
        CheckConstraint("length(alpha2) = 2 AND alpha2 = upper(alpha2)", name="alpha2_format"),
    )

    alpha3: Mapped[str] = mapped_column(String(3), primary_key=True)
    alpha2: Mapped[str] = mapped_column(String(2), unique=True)
    numeric: Mapped[str] = mapped_column(String(3))
    name: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str] = mapped_column(String(200))
    name_es: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_ar: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str | None] = mapped_column(String(3))
    region_name: Mapped[str | None] = mapped_column(String(100))
    sub_region_code: Mapped[str | None] = mapped_column(String(3))
    sub_region_name: Mapped[str | None] = mapped_column(String(100))


class CountryGroupMembership(Base):
    """A period in which a country belonged to a group, as fact.

    An empty ``valid_from`` means since before the records the hub holds; an empty
    ``valid_to`` means still a member. Scheduled changes are kept apart, never as fact.
    """

    __tablename__ = "country_group_memberships"
    __table_args__ = (
        CheckConstraint(
            "valid_from IS NULL OR valid_to IS NULL OR valid_to > valid_from", name="period_ordered"
        ),
        Index("ix_country_group_memberships_group_country", "country_group", "country"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(
        String(3), ForeignKey("countries.alpha3", ondelete="CASCADE"), index=True
    )
    country_group: Mapped[CountryGroup] = mapped_column(db_enum(CountryGroup))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class CountryGroupChange(Base):
    """A dated change to a group's list, effective or scheduled, as the source states it."""

    __tablename__ = "country_group_changes"

    country: Mapped[str] = mapped_column(
        String(3), ForeignKey("countries.alpha3", ondelete="CASCADE"), primary_key=True
    )
    country_group: Mapped[CountryGroup] = mapped_column(db_enum(CountryGroup), primary_key=True)
    change: Mapped[ChangeKind] = mapped_column(db_enum(ChangeKind), primary_key=True)
    changed_on: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[ChangeStatus] = mapped_column(db_enum(ChangeStatus))
    note: Mapped[str] = mapped_column(Text, default="")
