"""Exact money: decimal amounts become integer minor units and back, never via float."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from hub.errors import InvalidInput
from hub.money.currencies import Currency, get_currency


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units of an ISO 4217 currency (cents for USD, yen for JPY)."""

    amount_minor: int
    currency: str

    @property
    def amount(self) -> Decimal:
        """The amount in major units, with exactly the currency's number of decimals."""
        return from_minor_units(self.amount_minor, get_currency(self.currency))


MAX_AMOUNT_MINOR = 10**15
"""The largest amount the hub stores, in minor units: its USD value still fits in 64 bits."""

_DECIMAL = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


MAX_DIGITS = 30
"""No amount has more integer digits or decimal places than this; beyond it, scaling an
amount to minor units would overflow or round it to zero."""


def parse_amount(value: Decimal | str | int, *, field: tuple[str, ...] = ("amount",)) -> Decimal:
    """A finite ``Decimal`` from a plain decimal string, integer or ``Decimal``; never a float."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, str, int)):
        raise InvalidInput(
            f"amount must be a decimal string or integer, not {type(value).__name__}",
            code="INVALID_AMOUNT",
            field=field,
        )
    if isinstance(value, str) and not _DECIMAL.fullmatch(value.strip()):
        raise InvalidInput(
            f"{value!r} is not a plain decimal number such as 1234.56",
            code="INVALID_AMOUNT",
            field=field,
        )
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise InvalidInput(
            f"{value!r} is not a decimal number", code="INVALID_AMOUNT", field=field
        ) from None
    if not amount.is_finite():
        raise InvalidInput(f"{value!r} is not a finite number", code="INVALID_AMOUNT", field=field)
    if amount.adjusted() > MAX_DIGITS:
        raise InvalidInput(f"{value} is too large an amount", code="AMOUNT_TOO_LARGE", field=field)
    if amount.is_zero():
        return Decimal(0)  # 0E-1000000 is zero, with no exponent left to overflow on
    if amount.adjusted() < -MAX_DIGITS:
        raise InvalidInput(
            f"{value} has more decimal places than any currency", code="TOO_MANY_DECIMALS",
            field=field,
        )  # fmt: skip
    return amount


def to_minor_units(
    value: Decimal | str | int, currency: Currency, *, field: tuple[str, ...] = ("amount",)
) -> int:
    """Integer minor units of ``value``; refuses more decimals than the currency has."""
    amount = parse_amount(value, field=field)
    scaled = amount.scaleb(currency.exponent)
    if scaled != scaled.to_integral_value():
        raise InvalidInput(
            f"{currency.code} amounts have at most {currency.exponent} decimal places; "
            f"{value} has more",
            code="TOO_MANY_DECIMALS",
            field=field,
        )
    if abs(scaled) > MAX_AMOUNT_MINOR:
        largest = from_minor_units(MAX_AMOUNT_MINOR, currency)
        raise InvalidInput(
            f"{currency.code} amounts are at most {largest:,} in size",
            code="AMOUNT_TOO_LARGE",
            field=field,
        )
    return int(scaled)


def from_minor_units(amount_minor: int, currency: Currency) -> Decimal:
    """The major-unit ``Decimal`` of an amount in minor units."""
    return Decimal(amount_minor).scaleb(-currency.exponent)


def money(value: Decimal | str | int, currency_code: str, *, field: str = "amount") -> Money:
    """Validated ``Money`` from caller input: a known currency and representable amount."""
    currency = get_currency(currency_code, field=(field, "currency"))
    return Money(to_minor_units(value, currency, field=(field, "amount")), currency.code)


USD = "USD"


@dataclass(frozen=True, slots=True)
class UsdEquivalent:
    """The USD value of an amount with the rate behind it, or no value and the reason."""

    amount_minor: int | None
    rate: Decimal | None = None
    rate_date: date | None = None
    source: str | None = None
    missing_reason: str | None = None
