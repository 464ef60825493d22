"""Migrations produce exactly the models' schema, on both backends, and run both ways."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

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
