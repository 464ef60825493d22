"""Migrations produce exactly the models' schema, on both backends, and run both ways."""

from __future__ import annotations

import re

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.schema import CreateTable

from hub.db import Base
from hub.migrate import alembic_config, current_revision, head_revision, upgrade_connection
from hub.money.currencies import all_currencies
from hub.money.models import CurrencyRecord


def differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def downgrade_to_base(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "base")


async def test_migrated_schema_equals_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []
        assert await current_revision(connection) == head_revision()


async def test_currencies_are_seeded_from_the_registry(engine: AsyncEngine) -> None:
    query = select(CurrencyRecord.code, CurrencyRecord.exponent)
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    assert dict(rows) == {code: c.exponent for code, c in all_currencies().items()}


async def test_downgrade_to_base_and_back(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.run_sync(downgrade_to_base)
        assert await connection.run_sync(tables) == set()
        assert await current_revision(connection) is None
        await upgrade_connection(connection)
        await connection.commit()
        assert await connection.run_sync(differences) == []
        assert await current_revision(connection) == head_revision()


def _plain(sql: object) -> str:
    """SQL text without case, spaces, brackets or quotes, to compare conditions."""
    return re.sub(r"[\s()\"'`]", "", str(sql)).lower()


def model_checks() -> dict[str, dict[str, str]]:
    """Every named CHECK of the models (enum checks included), by table, with its text."""
    checks: dict[str, dict[str, str]] = {}
    for table in Base.metadata.tables.values():
        ddl = str(CreateTable(table).compile(dialect=sqlite.dialect()))
        found = re.findall(r"CONSTRAINT (ck_\w+) CHECK \((.*)\)", ddl)
        checks[table.name] = {name: _plain(text) for name, text in found}
    return checks


def model_partial_indexes() -> dict[str, str]:
    """Partial indexes of the models with their SQLite condition."""
    return {
        str(index.name): _plain(index.dialect_options["sqlite"]["where"])
        for table in Base.metadata.tables.values()
        for index in table.indexes
        if index.dialect_options["sqlite"]["where"] is not None
    }


def reflected_checks(connection: Connection) -> dict[str, dict[str, str]]:
    inspector = inspect(connection)
    return {
        table: {
            str(c["name"]): _plain(c["sqltext"]) for c in inspector.get_check_constraints(table)
        }
        for table in inspector.get_table_names()
        if table != "alembic_version"
    }


def partial_indexes(connection: Connection) -> dict[str, str]:
    inspector = inspect(connection)
    found = {}
    for table in inspector.get_table_names():
        for index in inspector.get_indexes(table):
            options = index.get("dialect_options", {})
            where = options.get("sqlite_where", options.get("postgresql_where"))
            if where is not None:
                found[str(index["name"])] = _plain(where)
    return found


async def test_the_database_holds_every_check_and_partial_index_of_the_models(
    engine: AsyncEngine, backend: str
) -> None:
    expected = model_checks()
    async with engine.connect() as connection:
        reflected = await connection.run_sync(reflected_checks)
        indexes = await connection.run_sync(partial_indexes)
    assert {t: set(c) for t, c in reflected.items()} == {t: set(c) for t, c in expected.items()}
    assert set(indexes) == set(model_partial_indexes())
    if backend == "sqlite":  # PostgreSQL rewrites conditions; SQLite keeps them as written
        assert reflected == expected
        assert indexes == model_partial_indexes()
