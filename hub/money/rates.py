"""Reading exchange-rate files into rows of currency units per US dollar.

Pure: text in, rows out, each with its line number, grouped into series (one currency as
one source quotes it). A malformed row stops the read with its line number; rows repeated
with the same value (within rounding noise) are merged; a date quoted with two different
values is reported and not loaded at all, since guessing which is right is not ours to do.
"""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

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


FRED_SERIES: dict[str, tuple[str, Decimal, Decimal]] = {
    "Australia": ("AUD", Decimal("0.45"), Decimal("3")),
    "Brazil": ("BRL", Decimal("0.5"), Decimal("10")),
    "Canada": ("CAD", Decimal("0.63"), Decimal("2.4")),
    "China": ("CNY", Decimal("1"), Decimal("13")),
    "Denmark": ("DKK", Decimal("3"), Decimal("18")),
    "Euro": ("EUR", Decimal("0.42"), Decimal("1.76")),
    "Hong Kong": ("HKD", Decimal("3.4"), Decimal("12")),
    "India": ("INR", Decimal("4.8"), Decimal("145")),
    "Japan": ("JPY", Decimal("50"), Decimal("540")),
    "Malaysia": ("MYR", Decimal("1.4"), Decimal("7.2")),
    "Mexico": ("MXN", Decimal("2"), Decimal("36")),
    "New Zealand": ("NZD", Decimal("0.45"), Decimal("3.8")),
    "Norway": ("NOK", Decimal("3.2"), Decimal("17")),
    "Singapore": ("SGD", Decimal("0.8"), Decimal("3.4")),
    "South Africa": ("ZAR", Decimal("0.44"), Decimal("29")),
    "South Korea": ("KRW", Decimal("440"), Decimal("2600")),
    "Sri Lanka": ("LKR", Decimal("4"), Decimal("550")),
    "Sweden": ("SEK", Decimal("2.6"), Decimal("17")),
    "Switzerland": ("CHF", Decimal("0.51"), Decimal("6.5")),
    "Taiwan": ("TWD", Decimal("16"), Decimal("61")),
    "Thailand": ("THB", Decimal("13"), Decimal("80")),
    "United Kingdom": ("GBP", Decimal("0.25"), Decimal("1.0")),
}  # fmt: skip
"""FRED series by name: the ISO 4217 currency each quotes, and a plausible band of units per
US dollar (the series' 1971-2026 range widened by half), to tell a series quoted the other
way round when no other source overlaps it."""

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
    """The rows one source gives for one currency; dates quoted twice differently are dropped.

    ``band`` is the plausible range of units per dollar, for sources that may quote a series
    the other way round; ``None`` for sources whose direction is certain.
    """

    name: str
    currency: str
    band: tuple[Decimal, Decimal] | None = None
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


_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_RATE = Decimal(10) ** 18
"""The rates column holds 18 integer digits."""


def _decimal(value: str, where: str) -> Decimal:
    if not _NUMBER.fullmatch(value):
        raise RateFileError(f"{where}: rate {value!r} is not a number")
    with localcontext() as context:
        context.prec = 60
        rate = Decimal(value).quantize(RATE_PLACES, rounding=ROUND_HALF_EVEN)
    if rate <= 0:
        raise RateFileError(f"{where}: rate {value!r} is not a positive number of 20 decimals")
    if rate >= MAX_RATE:
        raise RateFileError(f"{where}: rate {value!r} is larger than the hub stores")
    return rate


def _date(value: str, where: str) -> date:
    try:
        if _DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise RateFileError(f"{where}: date {value!r} is not a YYYY-MM-DD date")


def _records(
    text: str, required: Sequence[str], name: str
) -> Iterator[tuple[int, str, dict[str, str]]]:
    """Rows with their line number and a ``file, line N`` label for messages."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = reader.fieldnames or []
    repeated = sorted({column for column in header if header.count(column) > 1})
    if repeated:
        raise RateFileError(f"{name}: column(s) {', '.join(repeated)} appear more than once")
    missing = [column for column in required if column not in header]
    if missing:
        raise RateFileError(f"{name}: missing column(s) {', '.join(missing)}")
    for row in reader:
        where = f"{name}, line {reader.line_num}"
        if None in row:
            raise RateFileError(f"{where}: more fields than the header has")
        values = {key: (value or "").strip() for key, value in row.items() if key}
        yield reader.line_num, where, values


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
        currency, low, high = FRED_SERIES[series_name]
        series = by_name.setdefault(series_name, Series(series_name, currency, (low, high)))
        on, rate = _date(row["Date"], where), _decimal(row["Exchange rate"], where)
        _add(parsed, series, RateRow(currency, on, rate, line))
    parsed.series = list(by_name.values())
    return parsed


def parse_rates(text: str, rate_format: RateFormat, name: str) -> ParsedRates:
    """Read a rate file of the given format."""
    if rate_format is RateFormat.IMF:
        return parse_imf(text, name)
    return parse_fred(text, name)
