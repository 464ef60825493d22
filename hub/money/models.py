"""Currencies and the money flows that sources report against pledges."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.columns import ProvenanceColumns, TimestampColumns, provenance_constraints
from hub.db import Base
from hub.money.columns import MoneyColumns, UsdEquivalentColumns, money_constraints
from hub.types import ExactDecimal, db_enum


class CurrencyRecord(Base):
    """An ISO 4217 currency: the table every currency column refers to."""

    __tablename__ = "currencies"
    __table_args__ = (
        CheckConstraint("length(code) = 3 AND code = upper(code)", name="code_format"),
        CheckConstraint("exponent BETWEEN 0 AND 4", name="exponent_range"),
    )

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    numeric: Mapped[str] = mapped_column(String(3))
    exponent: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))


class ExchangeRate(Base):
    """Units of a currency per US dollar on a date, as one source states it."""

    __tablename__ = "exchange_rates"
    __table_args__ = (
        # the cast makes SQLite, which stores the decimal as text, compare it as a number
        CheckConstraint("CAST(units_per_usd AS REAL) > 0", name="rate_positive"),
    )

    currency: Mapped[str] = mapped_column(
        String(3), ForeignKey("currencies.code"), primary_key=True
    )
    rate_date: Mapped[date] = mapped_column(Date, primary_key=True)
    source: Mapped[str] = mapped_column(String(50), primary_key=True)
    units_per_usd: Mapped[Decimal] = mapped_column(ExactDecimal(38, 20))


class TransactionKind(enum.StrEnum):
    """What a money flow is, after IATI transaction types."""

    COMMITMENT = "COMMITMENT"
    PLEDGE = "PLEDGE"
    DISBURSEMENT = "DISBURSEMENT"
    EXPENDITURE = "EXPENDITURE"
    INCOMING = "INCOMING"


class MoneyFlow(MoneyColumns, UsdEquivalentColumns, ProvenanceColumns, TimestampColumns, Base):
    """Money a source reports against a pledge; negative amounts are corrections.

    ``counts_toward_total`` with its ``count_reason`` records why a flow is (or is not)
    added up, so the same money reported twice is counted once and the reason is visible.
    """

    __tablename__ = "money_flows"
    __table_args__ = (
        *money_constraints(required=True, non_negative=False),
        *provenance_constraints(),
        CheckConstraint("length(count_reason) > 0", name="count_reason_present"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TransactionKind] = mapped_column(db_enum(TransactionKind))
    value_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)
    counts_toward_total: Mapped[bool]
    count_reason: Mapped[str] = mapped_column(String(200))
