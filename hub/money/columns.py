"""Money columns: an amount in minor units, its currency, and its US dollar equivalent.

Every table that holds money uses these groups, so money means the same thing everywhere:
an integer number of minor units of a currency from the ``currencies`` table, and beside
it the USD value with the rate that produced it, or an empty USD value and the reason.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.types import ExactDecimal


class MoneyColumns:
    """An amount in minor units of an ISO 4217 currency; both set or both empty."""

    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3), ForeignKey("currencies.code"))


class UsdEquivalentColumns:
    """The USD value of the amount, with the rate (currency units per USD), date and source."""

    usd_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    usd_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal(38, 20))
    usd_rate_date: Mapped[date | None] = mapped_column(Date)
    usd_rate_source: Mapped[str | None] = mapped_column(String(100))
    usd_missing_reason: Mapped[str | None] = mapped_column(Text)


def money_constraints(*, required: bool, non_negative: bool) -> tuple[CheckConstraint, ...]:
    """Checks for a table with ``MoneyColumns`` and ``UsdEquivalentColumns``."""
    checks = [
        CheckConstraint("(amount_minor IS NULL) = (currency IS NULL)", name="amount_has_currency"),
        CheckConstraint(
            "(usd_amount_minor IS NULL AND usd_rate IS NULL AND usd_rate_date IS NULL"
            " AND usd_rate_source IS NULL)"
            " OR (usd_amount_minor IS NOT NULL AND usd_rate IS NOT NULL"
            " AND usd_rate_date IS NOT NULL AND usd_rate_source IS NOT NULL"
            " AND usd_missing_reason IS NULL AND amount_minor IS NOT NULL)",
            name="usd_has_rate",
        ),
        CheckConstraint(
            "amount_minor IS NULL OR usd_amount_minor IS NOT NULL"
            " OR usd_missing_reason IS NOT NULL",
            name="usd_or_reason",
        ),
        CheckConstraint(
            "usd_missing_reason IS NULL OR length(trim(usd_missing_reason)) > 0",
            name="usd_reason_present",
        ),
    ]
    if required:
        checks.append(CheckConstraint("amount_minor IS NOT NULL", name="amount_required"))
    if non_negative:
        checks.append(
            CheckConstraint(
                "amount_minor >= 0 AND (usd_amount_minor IS NULL OR usd_amount_minor >= 0)",
                name="amount_non_negative",
            )
        )
    return tuple(checks)
