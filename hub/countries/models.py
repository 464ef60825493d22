"""The country table every country reference points to."""

from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base


class Country(Base):
    """A country or territory keyed by its ISO 3166-1 alpha-3 code."""

    __tablename__ = "countries"
    __table_args__ = (
        CheckConstraint("length(alpha3) = 3 AND alpha3 = upper(alpha3)", name="alpha3_format"),
    )

    alpha3: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class CountryGroup(enum.StrEnum):
    """The UN country groups P2C focuses on; membership is dated (reference data)."""

    LDC = "LDC"
    LLDC = "LLDC"
    SIDS = "SIDS"
