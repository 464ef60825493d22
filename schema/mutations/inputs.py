"""Inputs shared by the mutations."""

from __future__ import annotations

from decimal import Decimal

import strawberry


@strawberry.input(description="An exact amount in an ISO 4217 currency.")
class MoneyInput:
    amount: Decimal = strawberry.field(
        description="The amount in major units as a decimal string, at most the currency's "
        'decimals ("1250000.00" USD, "5000000" JPY).'
    )
    currency: str = strawberry.field(description="ISO 4217 alphabetic code, such as USD.")
