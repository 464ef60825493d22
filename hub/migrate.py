"""Schema migrations: upgrade to head, and tell which revision a database is at."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection


def alembic_config(url: str | None = None) -> Config:
    """Alembic's configuration, built in code so the installed package needs no ini file."""
    config = Config()
    config.set_main_option("script_location", "hub:migrations")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The revision the code expects the database to be at."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the migration scripts have no head revision")
    return head


def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url``; call it outside a running event loop (the CLI)."""
    command.upgrade(alembic_config(url), revision)


def _upgrade_on(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def upgrade_connection(connection: AsyncConnection, revision: str = "head") -> None:
    """Upgrade through an open connection, from async code (tests, embedded use)."""
    await connection.run_sync(_upgrade_on, revision)


async def current_revision(connection: AsyncConnection) -> str | None:
    """The revision the connected database is at, or None when it was never migrated."""

    def read(sync_connection: Connection) -> str | None:
        return MigrationContext.configure(sync_connection).get_current_revision()

    return await connection.run_sync(read)
