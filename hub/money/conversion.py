"""Converting money to US dollars with the nearest fit rate, rounding half-even in cents."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from hub.money.amounts import USD, Money, UsdEquivalent
from hub.money.currencies import get_currency

DEFAULT_MAX_RATE_AGE = timedelta(days=45)
"""How far a rate's date may be from the value date unless ``HUB_FX_MAX_RATE_AGE_DAYS`` says
otherwise; monthly rates are at most about 15 days off."""


@dataclass(frozen=True, slots=True)
class Rate:
    """Units of ``currency`` per US dollar on ``on`` from ``source``."""

    currency: str
    on: date
    units_per_usd: Decimal
    source: str


def choose_rate(candidates: Sequence[Rate], on: date, max_age: timedelta) -> Rate | None:
    """The rate nearest to ``on`` within ``max_age``; ties go to the earlier date, then source."""
    fit = [rate for rate in candidates if abs(rate.on - on) <= max_age]
    if not fit:
        return None
    return min(fit, key=lambda rate: (abs(rate.on - on), rate.on, rate.source))


def usd_minor_units(value: Money, units_per_usd: Decimal) -> int:
    """US cents for ``value`` at ``units_per_usd``, rounded half-even once, at the end."""
    exponent = get_currency(value.currency).exponent
    with localcontext() as context:
        context.prec = 60
        cents = Decimal(value.amount_minor).scaleb(2 - exponent) / units_per_usd
        return int(cents.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def convert(
    value: Money,
    on: date,
    candidates: Sequence[Rate],
    max_age: timedelta,
    nearest: Rate | None = None,
) -> UsdEquivalent:
    """The USD equivalent of ``value`` on ``on``, or an empty one with the reason.

    ``nearest`` is the closest rate outside the window, if any, to explain the refusal.
    """
    if value.currency == USD:
        return UsdEquivalent(value.amount_minor, Decimal(1), on, "IDENTITY")
    rate = choose_rate(candidates, on, max_age)
    if rate is not None:
        cents = usd_minor_units(value, rate.units_per_usd)
        return UsdEquivalent(cents, rate.units_per_usd, rate.on, rate.source)
    if nearest is None:
        return UsdEquivalent(None, missing_reason=f"no {value.currency} to USD rate is loaded")
    days = abs((nearest.on - on).days)
    return UsdEquivalent(
        None,
        missing_reason=(
            f"the nearest {value.currency} rate ({nearest.source}, {nearest.on}) is {days} days "
            f"from {on}, more than the {max_age.days} allowed"
        ),
    )
