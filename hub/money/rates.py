"""Reading exchange-rate files into rows of currency units per US dollar.

Pure: text in, rows out, each with its line number, grouped into series (one currency as
one source quotes it). A malformed row stops the read with its line number; rows repeated
with the same value (within rounding noise) are merged; a date quoted with two different
values is reported and not loaded at all, since guessing which is right is not ours to do.
"""

from __future__ import annotations

import csv
import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from hub.errors import InvalidInput

RATE_PLACES = Decimal("1e-20")
"""Rates are kept to twenty decimal places, the scale of the rates column: old Argentine
rates, in today's pesos, are a few trillionths of a peso per dollar."""

SAME_RATE_TOLERANCE = Decimal("1e-6")
"""Relative difference under which two quotes of one rate are the same quote."""


class RateFormat(enum.StrEnum):
    """The rate files the hub reads."""

    IMF = "imf"
    FRED = "fred"


FRED_SERIES = {
    "Australia": "AUD", "Brazil": "BRL", "Canada": "CAD", "China": "CNY", "Denmark": "DKK",
    "Euro": "EUR", "Hong Kong": "HKD", "India": "INR", "Japan": "JPY", "Malaysia": "MYR",
    "Mexico": "MXN", "New Zealand": "NZD", "Norway": "NOK", "Singapore": "SGD",
    "South Africa": "ZAR", "South Korea": "KRW", "Sri Lanka": "LKR", "Sweden": "SEK",
    "Switzerland": "CHF", "Taiwan": "TWD", "Thailand": "THB", "United Kingdom": "GBP",
}  # fmt: skip
"""FRED series by name and the ISO 4217 currency each quotes."""

_REPLACED_BY_EURO = "a currency the euro replaced, no longer in ISO 4217"
FRED_SKIPPED = {
    **dict.fromkeys(
        ["Austria", "Belgium", "Finland", "France", "Germany", "Greece", "Ireland", "Italy",
         "Netherlands", "Portugal", "Spain"],
        _REPLACED_BY_EURO,
    ),
    "Venezuela": "the series runs across several redenominations of the bolivar",
}  # fmt: skip
"""FRED series the hub does not load, and why."""


class RateFileError(InvalidInput):
    """A rate file that cannot be read as its format says."""

    default_code = "INVALID_RATE_FILE"


@dataclass(frozen=True, slots=True)
class RateRow:
    """One quote: units of ``currency`` per US dollar on ``on``."""

    currency: str
    on: date
    units_per_usd: Decimal
    line: int


@dataclass
class Series:
    """The rows one source gives for one currency; dates quoted twice differently are dropped."""

    name: str
    currency: str
    rows: dict[date, RateRow] = field(default_factory=dict)
    disputed: dict[date, RateRow] = field(default_factory=dict)


@dataclass
class ParsedRates:
    """A rate file read: its series, the series it skipped and why, and conflicts found."""

    source: str
    series: list[Series]
    skipped: dict[str, str]
    duplicates: int = 0
    conflicts: list[str] = field(default_factory=list)


def _decimal(value: str, where: str) -> Decimal:
    try:
        rate = Decimal(value)
    except InvalidOperation:
        raise RateFileError(f"{where}: rate {value!r} is not a number") from None
    if not rate.is_finite() or rate <= 0:
        raise RateFileError(f"{where}: rate {value!r} is not a positive number")
    return rate.quantize(RATE_PLACES, rounding=ROUND_HALF_EVEN)


def _date(value: str, where: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RateFileError(f"{where}: date {value!r} is not YYYY-MM-DD") from None


def _records(
    text: str, required: Sequence[str], name: str
) -> Iterator[tuple[int, str, dict[str, str]]]:
    """Rows with their line number and a ``file, line N`` label for messages."""
    reader = csv.DictReader(text.splitlines())
    missing = [column for column in required if column not in (reader.fieldnames or [])]
    if missing:
        raise RateFileError(f"{name}: missing column(s) {', '.join(missing)}")
    for row in reader:
        values = {key: (value or "").strip() for key, value in row.items() if key}
        yield reader.line_num, f"{name}, line {reader.line_num}", values


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _add(parsed: ParsedRates, series: Series, row: RateRow) -> None:
    """Keep a row; a repeat of the same quote is merged, a different one drops the date."""
    earlier = series.rows.get(row.on) or series.disputed.get(row.on)
    if earlier is None:
        series.rows[row.on] = row
        return
    parsed.duplicates += 1
    if abs(earlier.units_per_usd - row.units_per_usd) > SAME_RATE_TOLERANCE * earlier.units_per_usd:
        series.rows.pop(row.on, None)
        series.disputed[row.on] = earlier
        parsed.conflicts.append(
            f"{row.currency} on {row.on}: line {earlier.line} says {_plain(earlier.units_per_usd)}"
            f", line {row.line} says {_plain(row.units_per_usd)}; neither is loaded"
        )


def parse_imf(text: str, name: str = "IMF file") -> ParsedRates:
    """IMF monthly rates (Date, Rate, Currency, ...), already in units per US dollar."""
    parsed = ParsedRates(source="IMF", series=[], skipped={})
    by_currency: dict[str, Series] = {}
    for line, where, row in _records(text, ["Date", "Rate", "Currency"], name):
        currency = row["Currency"].upper()
        if len(currency) != 3 or not currency.isalpha():
            raise RateFileError(f"{where}: currency {row['Currency']!r} is not an ISO 4217 code")
        series = by_currency.setdefault(currency, Series(currency, currency))
        rate = RateRow(currency, _date(row["Date"], where), _decimal(row["Rate"], where), line)
        _add(parsed, series, rate)
    parsed.series = list(by_currency.values())
    return parsed


def parse_fred(text: str, name: str = "FRED file") -> ParsedRates:
    """FRED H.10 monthly rates (Date, Country, Exchange rate), by named series."""
    parsed = ParsedRates(source="FRED", series=[], skipped={})
    by_name: dict[str, Series] = {}
    for line, where, row in _records(text, ["Date", "Country", "Exchange rate"], name):
        series_name = row["Country"]
        if series_name in FRED_SKIPPED:
            parsed.skipped[series_name] = FRED_SKIPPED[series_name]
            continue
        if series_name not in FRED_SERIES:
            raise RateFileError(f"{where}: unknown FRED series {series_name!r}")
        currency = FRED_SERIES[series_name]
        series = by_name.setdefault(series_name, Series(series_name, currency))
        on, rate = _date(row["Date"], where), _decimal(row["Exchange rate"], where)
        _add(parsed, series, RateRow(currency, on, rate, line))
    parsed.series = list(by_name.values())
    return parsed


def parse_rates(text: str, rate_format: RateFormat, name: str) -> ParsedRates:
    """Read a rate file of the given format."""
    if rate_format is RateFormat.IMF:
        return parse_imf(text, name)
    return parse_fred(text, name)
