"""ISO 4217 currencies with their exponents, read from the data file beside this module.

The same file seeds the ``currencies`` table, so the database refuses exactly the codes
this registry does not know.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from hub.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Currency:
    """One ISO 4217 currency; ``exponent`` is the number of decimals of its minor unit."""

    code: str
    numeric: str
    exponent: int
    name: str


@cache
def all_currencies() -> dict[str, Currency]:
    """Every known currency by alphabetic code."""
    text = files("hub.money").joinpath("iso4217.csv").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return {
        row["code"]: Currency(row["code"], row["numeric"], int(row["exponent"]), row["name"])
        for row in csv.DictReader(lines)
    }


def get_currency(code: str, *, field: tuple[str, ...] = ("currency",)) -> Currency:
    """The currency for ``code``, or an ``InvalidInput`` naming the unknown code."""
    currency = all_currencies().get(code)
    if currency is None:
        raise InvalidInput(
            f"{code!r} is not an ISO 4217 currency code", code="UNKNOWN_CURRENCY", field=field
        )
    return currency
