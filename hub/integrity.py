"""Explain a constraint the database refused, in terms a caller can act on.

The database is the last word on every rule that can be a constraint. When it refuses a
write, the name of the constraint (PostgreSQL, SQLite checks) or the columns it lists
(SQLite unique keys) are matched against the models' metadata, so the caller hears which
fields were wrong instead of a driver message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from sqlalchemy import (
    CheckConstraint,
    ForeignKeyConstraint,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
    inspect,
)
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

import hub.models  # noqa: F401  (every table must be known to explain its constraints)
from hub.db import Base
from hub.errors import Conflict, HubError, InvalidInput, NotFound


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    kind: str
    table: str
    columns: tuple[str, ...]
    referred_table: str | None = None


@cache
def _rules() -> tuple[dict[str, _Rule], dict[str, _Rule]]:
    """Rules by constraint name, and unique rules by SQLite's ``table.col, table.col`` text."""
    by_name: dict[str, _Rule] = {}
    by_columns: dict[str, _Rule] = {}
    for table in Base.metadata.tables.values():
        items: list[tuple[str, object, tuple[str, ...], str | None]] = []
        for constraint in table.constraints:
            columns = tuple(column.name for column in getattr(constraint, "columns", ()))
            if isinstance(constraint, ForeignKeyConstraint):
                items.append(("foreign_key", constraint, columns, constraint.referred_table.name))
            elif isinstance(constraint, (UniqueConstraint, PrimaryKeyConstraint)):
                items.append(("unique", constraint, columns, None))
            elif isinstance(constraint, CheckConstraint):
                text = str(constraint.sqltext)
                named = tuple(c.name for c in table.columns if re.search(rf"\b{c.name}\b", text))
                items.append(("check", constraint, columns or named, None))
        for index in table.indexes:
            if index.unique:
                items.append(("unique", index, tuple(c.name for c in index.columns), None))
        for kind, item, columns, referred in items:
            rule = _Rule(str(getattr(item, "name", "") or ""), kind, table.name, columns, referred)
            if rule.name:
                by_name[rule.name] = rule
            if kind == "unique":
                by_columns.setdefault(", ".join(f"{table.name}.{c}" for c in columns), rule)
    return by_name, by_columns


def _find_rule(message: str) -> _Rule | None:
    by_name, by_columns = _rules()
    for name in sorted(re.findall(r"[a-z][a-z0-9_]+", message), key=len, reverse=True):
        if name in by_name:
            return by_name[name]
    match = re.search(r"UNIQUE constraint failed: ([\w., ]+)", message)
    if match:
        return by_columns.get(match.group(1).strip())
    return None


def explain(error: IntegrityError) -> HubError:
    """The ``HubError`` for a refused write, naming the rule and the fields it concerns."""
    message = str(error.orig)
    required = re.search(
        r'NOT NULL constraint failed: \w+\.(\w+)|null value in column "(\w+)"', message
    )
    if required:
        column = required.group(1) or required.group(2)
        return InvalidInput(f"{column} is required", code="REQUIRED", field=(column,))
    rule = _find_rule(message)
    if rule is None:
        if "FOREIGN KEY" in message.upper():
            return NotFound(
                "a record this write refers to does not exist", code="REFERENCE_NOT_FOUND"
            )
        return Conflict("the database refused this write", code="CONSTRAINT_VIOLATED")
    field = tuple(rule.columns)
    if rule.kind == "unique":
        return Conflict(
            f"a {rule.table} record with the same {', '.join(field)} already exists",
            code="DUPLICATE",
            field=field,
        )
    if rule.kind == "foreign_key":
        return NotFound(
            f"{', '.join(field)} refers to a {rule.referred_table} record that does not exist",
            code="REFERENCE_NOT_FOUND",
            field=field,
        )
    rule_name = rule.name.removeprefix(f"ck_{rule.table}_").replace("_", " ")
    return InvalidInput(
        f"{rule.table} rule {rule_name!r} ({rule.name}) refused this write",
        code="CONSTRAINT_VIOLATED",
        field=field,
    )


CONTENTION_STATES = frozenset({"40001", "40P01", "55P03"})
"""PostgreSQL's serialization failure, deadlock, and lock not available."""


def is_contention(error: DBAPIError) -> bool:
    """Whether a write failed only because others held what it needed: worth sending again."""
    original = error.orig
    cause = original.__cause__ if original is not None else None
    state = getattr(original, "sqlstate", None) or getattr(cause, "sqlstate", None)
    return state in CONTENTION_STATES or "database is locked" in str(original)


def check_lengths(session: AsyncSession) -> None:
    """Refuse text longer than its column, the same on SQLite (which would keep it) as elsewhere."""
    for record in (*session.new, *session.dirty):
        for attribute in inspect(record).mapper.column_attrs:
            column = attribute.columns[0]
            if not isinstance(column.type, String) or column.type.length is None:
                continue
            value = getattr(record, attribute.key, None)
            if isinstance(value, str) and len(value) > column.type.length:
                raise InvalidInput(
                    f"{attribute.key} has at most {column.type.length} characters,"
                    f" not {len(value)}",
                    code="TOO_LONG",
                    field=(attribute.key,),
                )


async def flush(session: AsyncSession) -> None:
    """Flush pending writes; a refused constraint or stale version becomes a ``HubError``."""
    check_lengths(session)
    try:
        await session.flush()
    except IntegrityError as error:
        raise explain(error) from error
    except DataError as error:
        raise InvalidInput(
            f"the database cannot store a value of this write: {error.orig}",
            code="VALUE_OUT_OF_RANGE",
        ) from error
    except StaleDataError as error:
        raise Conflict(
            "the record changed since it was read; read it again and retry",
            code="STALE_VERSION",
            field=("version",),
        ) from error
