"""Exchange rates: reading the IMF and FRED files, checking direction, choosing and converting."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.money.amounts import Money
from hub.money.conversion import Rate, choose_rate, convert, usd_minor_units
from hub.money.models import ExchangeRate
from hub.money.rates import RateFileError, parse_fred, parse_imf
from hub.money.service import RateCache, load_rates, usd_equivalent

FX = Path(__file__).parents[2] / "data" / "fx"
IMF = (FX / "imf_exchangerates.csv").read_text()
FRED = (FX / "fred-monthly.csv").read_text()
DAY = date(2022, 5, 31)
MAX_AGE = timedelta(days=45)


def test_the_imf_file_merges_repeated_quotes_of_one_currency() -> None:
    parsed = parse_imf(IMF, "imf_exchangerates.csv")
    assert {s.currency for s in parsed.series} == {
        "AFN",
        "ALL",
        "AOA",
        "ARS",
        "DZD",
        "EUR",
        "GBP",
        "XCD",
    }
    assert parsed.duplicates == 788, "XCD is quoted once per country that uses it"
    assert parsed.conflicts == [
        "XCD on 1970-03-31: line 2901 says 1.94442, line 3689 says 1.994419999; neither is loaded",
        "XCD on 1971-10-31: line 2920 says 1.932678, line 3708 says 1.926779999; neither is loaded",
        "XCD on 1973-05-31: line 2939 says 1.8689, line 3727 says 1.869889999; neither is loaded",
        "XCD on 1975-01-31: line 2959 says 20.1865, line 3747 says 2.018649999; neither is loaded",
    ], "the two XCD quotes mostly differ in rounding noise, four times in a digit"
    assert sum(len(s.rows) for s in parsed.series) == 5243
    gbp = next(s for s in parsed.series if s.currency == "GBP")
    assert gbp.rows[date(2022, 8, 31)].units_per_usd == Decimal("0.860881542699725")


def test_the_fred_file_loads_iso_series_and_skips_the_rest_with_a_reason() -> None:
    parsed = parse_fred(FRED, "fred-monthly.csv")
    currencies = {s.currency for s in parsed.series}
    assert {"EUR", "GBP", "JPY", "AUD", "CHF", "INR", "ZAR"} <= currencies
    assert "Venezuela" in parsed.skipped
    assert "Germany" in parsed.skipped
    euro = next(s for s in parsed.series if s.name == "Euro")
    assert euro.rows[date(2026, 5, 1)].units_per_usd == Decimal("0.8561")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Date,Rate,Currency\n2022-01-31,abc,GBP\n", "line 2: rate 'abc' is not a number"),
        ("Date,Rate,Currency\n2022-01-31,-1,GBP\n", "line 2: rate '-1' is not a number"),
        ("Date,Rate,Currency\n2022-01-31,0,GBP\n", "line 2: rate '0' is not a positive"),
        ("Date,Rate,Currency\n2022-01-31,1e-25,GBP\n", "line 2: rate '1e-25' is not a positive"),
        ("Date,Rate,Currency\n2022-01-31,1e30,GBP\n", "line 2: rate '1e30' is larger"),
        ("Date,Rate,Currency\n2022-01-31,1_000,GBP\n", "line 2: rate '1_000' is not a number"),
        ("Date,Rate,Currency\n20220131,1,GBP\n", "line 2: date '20220131' is not a YYYY"),
        ("Date,Rate,Currency\n2022-01-31,1,GBP,extra\n", "line 2: more fields than"),
        ("Date,Rate,Currency,Rate\n2022-01-31,1,GBP,5\n", "column(s) Rate appear more than once"),
        ("Date,Rate,Currency\n2022-01-31,1,GBP\n31/01/2022,1,GBP\n", "line 3: date"),
        ("Date,Rate,Currency\n2022-01-31,1,POUND\n", "line 2: currency 'POUND'"),
        ("Day,Rate,Currency\n", "missing column(s) Date"),
    ],
)
def test_malformed_imf_rows_are_reported_with_their_line(text: str, message: str) -> None:
    with pytest.raises(RateFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_imf(text, "rates.csv")


def test_a_byte_order_mark_is_not_part_of_the_first_column() -> None:
    parsed = parse_imf("\ufeffDate,Rate,Currency\n2022-01-31,0.8,GBP\n", "bom.csv")
    assert parsed.series[0].rows[date(2022, 1, 31)].units_per_usd == Decimal("0.8")


def test_an_unknown_fred_series_is_refused() -> None:
    with pytest.raises(RateFileError, match="line 2: unknown FRED series 'Atlantis'"):
        parse_fred("Date,Country,Exchange rate\n2022-01-01,Atlantis,2\n")


def test_conflicting_repeats_are_reported_and_not_loaded() -> None:
    parsed = parse_imf("Date,Rate,Currency\n2022-01-31,0.8,GBP\n2022-01-31,0.9,GBP\n", "x.csv")
    assert parsed.conflicts == [
        "GBP on 2022-01-31: line 2 says 0.8, line 3 says 0.9; neither is loaded"
    ]
    assert parsed.series[0].rows == {}


async def count_rates(session: AsyncSession, source: str) -> int:
    query = select(func.count()).select_from(ExchangeRate).where(ExchangeRate.source == source)
    return int(await session.scalar(query) or 0)


async def test_loading_both_files_twice_changes_nothing(session: AsyncSession) -> None:
    imf = await load_rates(session, parse_imf(IMF))
    fred = await load_rates(session, parse_fred(FRED))
    assert imf.added == 5243
    assert fred.added > 10000
    assert fred.inverted == []
    assert "Euro" not in fred.refused
    again = await load_rates(session, parse_fred(FRED))
    assert (again.added, again.updated, again.unchanged) == (0, 0, fred.added)
    assert await count_rates(session, "FRED") == fred.added


async def test_an_inverted_series_is_detected_against_another_source(
    session: AsyncSession,
) -> None:
    await load_rates(session, parse_imf(IMF))
    inverted = "Date,Country,Exchange rate\n2022-06-01,Euro,1.0568\n2022-07-01,Euro,1.0179\n"
    load = await load_rates(session, parse_fred(inverted))
    assert load.inverted == ["Euro"]
    stored = await session.get_one(ExchangeRate, ("EUR", date(2022, 6, 1), "FRED"))
    assert stored.units_per_usd == Decimal("0.94625283875851627555")


async def test_an_inverted_series_without_another_source_is_caught_by_its_band(
    session: AsyncSession,
) -> None:
    inverted = (
        "Date,Country,Exchange rate\n2024-01-01,United Kingdom,1.27\n"
        "2024-02-01,United Kingdom,1.26\n"
    )
    load = await load_rates(session, parse_fred(inverted))
    assert load.inverted == ["United Kingdom"]
    implausible = "Date,Country,Exchange rate\n2024-01-01,Japan,0.5\n"
    refused = await load_rates(session, parse_fred(implausible))
    assert "Japan" in refused.refused


async def test_an_authoritative_source_is_loaded_as_it_is_and_disagreement_reported(
    session: AsyncSession,
) -> None:
    wrong_way = "Date,Country,Exchange rate\n2022-06-01,Euro,1.0568\n"
    await load_rates(session, parse_fred(wrong_way))
    imf = await load_rates(session, parse_imf(IMF))
    assert imf.inverted == []
    assert imf.disagreements == ["EUR: IMF and another source differ by more than 10%"]
    stored = await session.get_one(ExchangeRate, ("EUR", date(2022, 6, 30), "IMF"))
    assert stored.units_per_usd == Decimal("0.962741888899586")


async def test_a_series_that_agrees_with_nothing_is_refused(session: AsyncSession) -> None:
    await load_rates(session, parse_imf(IMF))
    wrong = "Date,Country,Exchange rate\n2022-06-01,United Kingdom,3.5\n"
    load = await load_rates(session, parse_fred(wrong))
    assert "United Kingdom" in load.refused
    assert await count_rates(session, "FRED") == 0


RATES = [
    Rate("EUR", date(2022, 5, 1), Decimal("0.9463"), "FRED"),
    Rate("EUR", date(2022, 5, 31), Decimal("0.9334"), "IMF"),
    Rate("EUR", date(2022, 6, 30), Decimal("0.9627"), "IMF"),
]


def test_the_rate_on_the_exact_date_wins() -> None:
    assert choose_rate(RATES, DAY, MAX_AGE) == RATES[1]


def test_the_nearest_rate_within_the_age_is_chosen() -> None:
    assert choose_rate(RATES, date(2022, 5, 10), MAX_AGE) == RATES[0]
    assert choose_rate(RATES, date(2022, 6, 20), MAX_AGE) == RATES[2]


def test_equally_near_rates_go_to_the_earlier_one() -> None:
    assert choose_rate(RATES, date(2022, 5, 16), MAX_AGE) == RATES[0]


def test_a_rate_that_is_too_old_is_not_used() -> None:
    usd = convert(Money(1000, "EUR"), date(2023, 1, 31), RATES, MAX_AGE, nearest=RATES[2])
    assert usd.amount_minor is None
    assert usd.missing_reason == (
        "the nearest EUR rate (IMF, 2022-06-30) is 215 days from 2023-01-31, "
        "more than the 45 allowed"
    )


def test_a_currency_without_rates_says_so() -> None:
    usd = convert(Money(1000, "KWD"), DAY, [], MAX_AGE)
    assert usd.missing_reason == "no KWD to USD rate is loaded"


@pytest.mark.parametrize(
    ("value", "rate", "cents"),
    [
        (Money(100, "EUR"), Decimal("0.8"), 125),
        (Money(1, "EUR"), Decimal("0.4"), 2),  # 2.5 cents rounds to even
        (Money(3, "EUR"), Decimal("0.4"), 8),  # 7.5 cents rounds to even
        (Money(1000, "JPY"), Decimal("158.153"), 632),  # 632.298...
        (Money(1000, "KWD"), Decimal("0.3"), 333),  # 1.000 KWD = 3.333... USD
        (Money(-250, "GBP"), Decimal("0.5"), -500),
    ],
)
def test_conversion_rounds_half_even_in_cents(value: Money, rate: Decimal, cents: int) -> None:
    assert usd_minor_units(value, rate) == cents


def test_dollars_convert_to_themselves() -> None:
    usd = convert(Money(1234, "USD"), DAY, [], MAX_AGE)
    assert (usd.amount_minor, usd.rate, usd.source) == (1234, Decimal(1), "IDENTITY")


async def test_money_converts_with_loaded_rates(session: AsyncSession) -> None:
    await load_rates(session, parse_imf(IMF))
    usd = await usd_equivalent(session, Money(100000, "GBP"), date(2022, 8, 31), MAX_AGE)
    assert (usd.amount_minor, usd.rate_date, usd.source) == (116160, date(2022, 8, 31), "IMF")
    late = await usd_equivalent(session, Money(100000, "GBP"), date(2024, 1, 1), MAX_AGE)
    assert late.amount_minor is None
    assert late.missing_reason is not None
    assert "2022-08-31" in late.missing_reason


async def test_an_imports_rate_cache_converts_exactly_as_the_database_does(
    session: AsyncSession,
) -> None:
    await load_rates(session, parse_imf(IMF))
    await load_rates(session, parse_fred(FRED))
    cache = RateCache()
    days = [date(1950, 1, 1), date(1998, 12, 31), date(2022, 1, 31), date(2030, 6, 1)]
    days += [date(2000, 1, 1) + timedelta(days=97 * step) for step in range(90)]
    for currency in ("EUR", "GBP", "XCD", "AOA", "JPY", "CHF"):
        for day in days:
            for max_age in (timedelta(days=3), MAX_AGE, timedelta(days=400)):
                value = Money(123_456, currency)
                cached = await usd_equivalent(session, value, day, max_age, cache)
                assert cached == await usd_equivalent(session, value, day, max_age), (
                    currency,
                    day,
                    max_age,
                )
