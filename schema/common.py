"""Value types shared across the graph: money, provenance, and the Relay connection base."""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry

from hub.columns import ProvenanceColumns
from hub.money.amounts import Money as MoneyValue
from hub.money.columns import MoneyColumns, UsdEquivalentColumns


class Entity:
    """Federation entities: a gateway's reference resolves like ``node``, through the type's
    ``load_nodes`` (the loaders and the visibility rule); another type's id gives null."""

    @classmethod
    async def resolve_reference(cls, info: Any, id: strawberry.ID) -> Any:
        node_id = reference_key(str(id), cls.__name__)
        if node_id is None:
            return None
        node_type: Any = cls
        [found] = await node_type.load_nodes(info, [node_id])
        return found


def reference_key(global_id: str, type_name: str) -> str | None:
    """The node id in a global id of ``type_name``, or None for any other or malformed id."""
    try:
        decoded = base64.b64decode(global_id.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    prefix, _, node_id = decoded.partition(":")
    return node_id if prefix == type_name and node_id else None


@strawberry.type(description="A US dollar value and the exchange rate that produced it.")
class UsdEquivalent:
    amount: Decimal = strawberry.field(description="The value in US dollars, to the cent.")
    rate: Decimal = strawberry.field(description="Units of the original currency per dollar.")
    rate_date: date = strawberry.field(description="The date of the rate used.")
    source: str = strawberry.field(
        description="Where the rate comes from (IMF, FRED, or IDENTITY for US dollars)."
    )


@strawberry.type(description="An exact amount of money in an ISO 4217 currency.")
class Money:
    amount: Decimal = strawberry.field(
        description="The amount in major units, with exactly the currency's decimals."
    )
    currency: str = strawberry.field(description="ISO 4217 alphabetic currency code.")
    usd: UsdEquivalent | None = strawberry.field(
        description="The amount in US dollars, where a fit exchange rate is known."
    )
    usd_missing_reason: str | None = strawberry.field(
        description="Why there is no US dollar value, when there is none."
    )

    @classmethod
    def of(cls, record: MoneyColumns) -> Money | None:
        """The money stored on a record with money columns, or None when it has none."""
        if record.amount_minor is None or record.currency is None:
            return None
        usd = None
        if isinstance(record, UsdEquivalentColumns) and record.usd_amount_minor is not None:
            assert record.usd_rate is not None
            assert record.usd_rate_date is not None
            assert record.usd_rate_source is not None
            usd = UsdEquivalent(
                amount=MoneyValue(record.usd_amount_minor, "USD").amount,
                rate=plain(record.usd_rate) or record.usd_rate,
                rate_date=record.usd_rate_date,
                source=record.usd_rate_source,
            )
        reason = record.usd_missing_reason if isinstance(record, UsdEquivalentColumns) else None
        return cls(
            amount=MoneyValue(record.amount_minor, record.currency).amount,
            currency=record.currency,
            usd=usd,
            usd_missing_reason=reason,
        )

    @classmethod
    def reported(cls, amount_minor: int, currency: str) -> Money:
        """An amount as a source reports it, which the hub keeps without converting it."""
        return cls(
            amount=MoneyValue(amount_minor, currency).amount,
            currency=currency,
            usd=None,
            usd_missing_reason="an amount as its source reports it: not converted",
        )


def plain(value: Decimal | None) -> Decimal | None:
    """A decimal without trailing zeros or exponent (1000.000000 is 1000, not 1E+3)."""
    if value is None:
        return None
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


def dollars(cents: int) -> Decimal:
    """Dollars with two decimals for an amount in cents."""
    return MoneyValue(cents, "USD").amount


@strawberry.type(description="The source record data came from, when a source system supplied it.")
class Provenance:
    source_system: str = strawberry.field(description="The system the record came from.")
    external_id: str = strawberry.field(description="The record's id in that system.")
    fetched_at: datetime = strawberry.field(description="When the hub fetched it.")
    payload_hash: str | None = strawberry.field(
        description="Hash of the source payload, to tell whether it changed."
    )

    @classmethod
    def of(cls, record: ProvenanceColumns) -> Provenance | None:
        """The provenance of a record, or None for data entered in the hub itself."""
        if record.source_system is None or record.external_id is None:
            return None
        assert record.fetched_at is not None
        return cls(
            source_system=record.source_system,
            external_id=record.external_id,
            fetched_at=record.fetched_at,
            payload_hash=record.payload_hash,
        )
