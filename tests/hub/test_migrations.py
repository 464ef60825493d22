"""Migrations produce exactly the models' schema, on both backends, and run both ways."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.db import Base
from hub.migrate import current_revision, head_revision, upgrade_connection
from hub.money.currencies import all_currencies
from hub.money.models import CurrencyRecord


def differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_equals_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []
        assert await current_revision(connection) == head_revision()


async def test_currencies_are_seeded_from_the_registry(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        rows = (
            await connection.execute(select(CurrencyRecord.code, CurrencyRecord.exponent))
        ).all()
    assert {code: exponent for code, exponent in rows} == {
        code: currency.exponent for code, currency in all_currencies().items()
    }


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_downgrade_to_base_and_back(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await upgrade_connection_to(connection, "base")
        assert table_names_without_version(await connection.run_sync(table_names)) == set()
        await upgrade_connection(connection)
        await connection.commit()
        assert await connection.run_sync(differences) == []


async def upgrade_connection_to(connection: object, revision: str) -> None:
    from alembic import command

    from hub.migrate import alembic_config

    def run(sync_connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = sync_connection
        command.downgrade(config, revision)

    await connection.run_sync(run)  # type: ignore[attr-defined]


def table_names_without_version(names: set[str]) -> set[str]:
    return names - {"alembic_version"}
