"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has no exact decimal and no time zones: decimals are stored as text there (never
REAL, which would round), and timestamps always come back as aware UTC datetimes.
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Dialect, Enum, Numeric, String
from sqlalchemy.types import TypeDecorator, TypeEngine


def utcnow() -> datetime:
    """The current time, aware and in UTC: the only clock models use."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is stored and returned in UTC, refusing naive input."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class ExactDecimal(TypeDecorator[Decimal]):
    """NUMERIC on PostgreSQL, text on SQLite; a ``Decimal`` either way.

    Values that do not fit the precision and scale are refused rather than rounded, so
    both backends always store the same number.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 28, scale: int = 10) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(self.precision + 2))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"expected Decimal, got {type(value).__name__}")
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite number")
        if value != value.quantize(Decimal(1).scaleb(-self.scale)):
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        if value.adjusted() >= self.precision - self.scale:
            raise ValueError(f"{value} has more than {self.precision - self.scale} integer digits")
        stored = value.quantize(Decimal(1).scaleb(-self.scale))  # 0E-1000000 is 0.000000
        if dialect.name == "sqlite":
            return format(stored, "f")
        return stored

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value) if not isinstance(value, Decimal) else value


def db_enum(enum_class: type[enum.StrEnum]) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK listing the members, on every backend."""
    return Enum(
        enum_class,
        name=re.sub(r"(?<!^)(?=[A-Z])", "_", enum_class.__name__).lower(),
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
    )
