"""Money: exact conversion to minor units per currency exponent, never via float."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hub.errors import InvalidInput
from hub.money.amounts import (
    Money,
    from_minor_units,
    money,
    to_minor_units,
)
from hub.money.currencies import all_currencies, get_currency


@pytest.mark.parametrize(
    ("code", "value", "minor"),
    [
        ("JPY", "1500", 1500),
        ("JPY", "1500.0", 1500),
        ("USD", "12.34", 1234),
        ("USD", "12.3", 1230),
        ("USD", "1000000000", 100000000000),
        ("KWD", "1.234", 1234),
        ("KWD", "-0.5", -500),
        ("USD", 7, 700),
        ("USD", Decimal("0.01"), 1),
    ],
)
def test_to_minor_units_respects_the_currency_exponent(code: str, value: str, minor: int) -> None:
    assert to_minor_units(value, get_currency(code)) == minor


@pytest.mark.parametrize(("code", "value"), [("JPY", "1.5"), ("USD", "0.001"), ("KWD", "1.2345")])
def test_too_many_decimals_are_refused(code: str, value: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        to_minor_units(value, get_currency(code))
    assert refused.value.code == "TOO_MANY_DECIMALS"
    assert code in refused.value.message


@pytest.mark.parametrize(
    "value", [1.5, "abc", "NaN", "Infinity", "", True, "1_000", "١٢", "1e3", "1,000", " 1. "]
)
def test_non_decimal_amounts_are_refused(value: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        to_minor_units(value, get_currency("USD"))  # type: ignore[arg-type]
    assert refused.value.code == "INVALID_AMOUNT"


def test_round_trip_keeps_the_currency_decimals() -> None:
    assert str(from_minor_units(1234, get_currency("KWD"))) == "1.234"
    assert str(from_minor_units(1500, get_currency("JPY"))) == "1500"
    assert str(Money(1230, "USD").amount) == "12.30"


def test_unknown_currency_names_the_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        money("10", "XYZ", field="pledgedAmount")
    assert refused.value.code == "UNKNOWN_CURRENCY"
    assert refused.value.field == ("pledgedAmount", "currency")


def test_registry_holds_iso_4217_exponents() -> None:
    currencies = all_currencies()
    assert (currencies["JPY"].exponent, currencies["USD"].exponent) == (0, 2)
    assert currencies["KWD"].exponent == 3
    assert currencies["EUR"].numeric == "978"


def test_amounts_beyond_what_the_hub_stores_are_refused() -> None:
    assert to_minor_units("10000000000000", get_currency("USD")) == 10**15
    with pytest.raises(InvalidInput) as refused:
        to_minor_units("10000000000000.01", get_currency("USD"))
    assert refused.value.code == "AMOUNT_TOO_LARGE"
