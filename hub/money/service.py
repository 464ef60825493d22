"""Exchange rates in the database: loading them, checking their direction, converting."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, localcontext
from statistics import median

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.money.amounts import USD, Money, UsdEquivalent
from hub.money.columns import UsdEquivalentColumns
from hub.money.conversion import Rate, convert
from hub.money.currencies import all_currencies
from hub.money.models import ExchangeRate
from hub.money.rates import RATE_PLACES, ParsedRates, Series

AGREEMENT = math.log(1.10)
"""Two sources agree on a currency when their rates differ by less than 10% (log ratio):
monthly averages and month-end rates rarely differ more, even in volatile months."""

OVERLAP_DAYS = 16
"""How close two quotes' dates must be to compare them."""


@dataclass
class RateLoad:
    """What loading a rate file did, series by series."""

    source: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    inverted: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    disagreements: list[str] = field(default_factory=list)


def _rate(record: ExchangeRate) -> Rate:
    return Rate(record.currency, record.rate_date, record.units_per_usd, record.source)


async def _other_sources(session: AsyncSession, currency: str, source: str) -> list[Rate]:
    rows = await session.scalars(
        select(ExchangeRate).where(ExchangeRate.currency == currency, ExchangeRate.source != source)
    )
    return [_rate(r) for r in rows]


def direction_check(series: Series, others: list[Rate]) -> str:
    """``same``, ``inverted``, ``conflict``, or ``unchecked`` when nothing overlaps.

    Compares the series with another source's quotes of the same currency on nearby dates:
    agreeing rates have a log ratio near 0, an inverted series a log product near 0; the
    nearer of the two decides, which still works for currencies close to parity.
    """
    ratios, products = [], []
    by_date = sorted(others, key=lambda rate: rate.on)
    dates = [rate.on for rate in by_date]
    for row in series.rows.values():
        start = bisect_left(dates, row.on - timedelta(days=OVERLAP_DAYS))
        end = bisect_right(dates, row.on + timedelta(days=OVERLAP_DAYS))
        for other in by_date[start:end]:
            ratios.append(math.log(row.units_per_usd / other.units_per_usd))
            products.append(math.log(row.units_per_usd * other.units_per_usd))
    if not ratios:
        return "unchecked"
    ratio, product = abs(median(ratios)), abs(median(products))
    if ratio <= product and ratio < AGREEMENT:
        return "same"
    if product < ratio and product < AGREEMENT:
        return "inverted"
    return "conflict"


def band_check(series: Series) -> str:
    """``same``, ``inverted`` or ``conflict`` from the series' plausible band of values."""
    assert series.band is not None
    low, high = series.band
    typical = median(row.units_per_usd for row in series.rows.values())
    if low <= typical <= high:
        return "same"
    if low <= 1 / typical <= high:
        return "inverted"
    return "conflict"


def verdict_for(series: Series, others: list[Rate]) -> str:
    """How to load a series: ``same``, ``inverted`` or ``conflict``.

    A series whose direction the source makes certain (no band) is loaded as it is. One that
    may be quoted either way is compared with other sources' rates on nearby dates when
    there are any, and otherwise with its plausible band.
    """
    if series.band is None:
        return "same"
    verdict = direction_check(series, others)
    return band_check(series) if verdict == "unchecked" else verdict


async def load_rates(session: AsyncSession, parsed: ParsedRates) -> RateLoad:
    """Add or update a source's rates; loading the same file twice changes nothing."""
    load = RateLoad(parsed.source, refused=dict(parsed.skipped))
    known = all_currencies()
    existing = {
        (r.currency, r.rate_date): r
        for r in await session.scalars(
            select(ExchangeRate).where(ExchangeRate.source == parsed.source)
        )
    }
    new_rows = []
    for series in parsed.series:
        if series.currency not in known:
            load.refused[series.name] = f"{series.currency} is not an ISO 4217 currency code"
            continue
        others = await _other_sources(session, series.currency, parsed.source)
        verdict = verdict_for(series, others)
        if verdict == "conflict":
            load.refused[series.name] = (
                f"its {series.currency} rates fit neither direction: they disagree with other "
                "sources, or lie outside the plausible range, by more than 10%"
            )
            continue
        if series.band is None and direction_check(series, others) not in ("same", "unchecked"):
            load.disagreements.append(
                f"{series.name}: {parsed.source} and another source differ by more than 10%"
            )
        invert = verdict == "inverted"
        if invert:
            load.inverted.append(series.name)
        for row in series.rows.values():
            value = row.units_per_usd
            if invert:
                with localcontext() as context:
                    context.prec = 60
                    value = (1 / value).quantize(RATE_PLACES, rounding=ROUND_HALF_EVEN)
            stored = existing.get((row.currency, row.on))
            if stored is None:
                new_rows.append(
                    {
                        "currency": row.currency,
                        "rate_date": row.on,
                        "source": parsed.source,
                        "units_per_usd": value,
                    }
                )
            elif stored.units_per_usd != value:
                stored.units_per_usd = value
                load.updated += 1
            else:
                load.unchanged += 1
    if new_rows:
        await session.execute(insert(ExchangeRate), new_rows)
    load.added = len(new_rows)
    await session.flush()
    return load


def rate_window(on: date, max_age: timedelta) -> tuple[date, date]:
    """The dates a rate for ``on`` may be from, within the calendar (a source may write
    0001-01-01 or 9999-12-31)."""
    start = on - max_age if on - date.min > max_age else date.min
    end = on + max_age if date.max - on > max_age else date.max
    return start, end


class RateCache:
    """Every loaded rate of each currency met, read once while one import writes many amounts
    (rates loaded meanwhile are seen by the next import); answers as ``_rates_near`` does."""

    def __init__(self) -> None:
        self.rates: dict[str, list[Rate]] = {}

    async def near(
        self, session: AsyncSession, currency: str, on: date, max_age: timedelta
    ) -> tuple[list[Rate], Rate | None]:
        if currency not in self.rates:
            query = (
                select(ExchangeRate)
                .where(ExchangeRate.currency == currency)
                .order_by(ExchangeRate.rate_date, ExchangeRate.source)
            )
            self.rates[currency] = [_rate(r) for r in await session.scalars(query)]
        rates = self.rates[currency]
        dates = [rate.on for rate in rates]
        start, end = rate_window(on, max_age)
        low, high = bisect_left(dates, start), bisect_right(dates, end)
        if low < high:
            return rates[low:high], None
        before = rates[bisect_left(dates, on) - 1] if bisect_left(dates, on) > 0 else None
        later = bisect_right(dates, on)
        after = rates[later] if later < len(rates) else None
        found = [rate for rate in (before, after) if rate is not None]
        nearest = min(found, key=lambda rate: abs(rate.on - on)) if found else None
        return [], nearest


async def usd_equivalent(
    session: AsyncSession,
    value: Money,
    on: date,
    max_age: timedelta,
    cache: RateCache | None = None,
) -> UsdEquivalent:
    """The USD equivalent of ``value`` on ``on`` with the nearest loaded rate, or why not."""
    if value.currency == USD:
        return convert(value, on, [], max_age)
    if cache is not None:
        candidates, nearest = await cache.near(session, value.currency, on, max_age)
    else:
        candidates, nearest = await _rates_near(session, value.currency, on, max_age)
    return convert(value, on, candidates, max_age, nearest)


async def _rates_near(
    session: AsyncSession, currency: str, on: date, max_age: timedelta
) -> tuple[list[Rate], Rate | None]:
    """The rates within ``max_age`` of ``on``; when there are none, the nearest one outside."""
    near = select(ExchangeRate).where(
        ExchangeRate.currency == currency,
        ExchangeRate.rate_date.between(*rate_window(on, max_age)),
    )
    candidates = [_rate(r) for r in await session.scalars(near)]
    nearest = None
    if not candidates:
        before = await session.scalar(
            select(ExchangeRate)
            .where(ExchangeRate.currency == currency, ExchangeRate.rate_date < on)
            .order_by(ExchangeRate.rate_date.desc())
            .limit(1)
        )
        after = await session.scalar(
            select(ExchangeRate)
            .where(ExchangeRate.currency == currency, ExchangeRate.rate_date > on)
            .order_by(ExchangeRate.rate_date)
            .limit(1)
        )
        found = [r for r in (before, after) if r is not None]
        if found:
            closest = min(found, key=lambda r: abs(r.rate_date - on))
            nearest = Rate(
                closest.currency, closest.rate_date, closest.units_per_usd, closest.source
            )
    return candidates, nearest


def stamp_usd(record: UsdEquivalentColumns, usd: UsdEquivalent) -> None:
    """Write a USD equivalent onto a record's USD columns."""
    record.usd_amount_minor = usd.amount_minor
    record.usd_rate = usd.rate
    record.usd_rate_date = usd.rate_date
    record.usd_rate_source = usd.source
    record.usd_missing_reason = usd.missing_reason
