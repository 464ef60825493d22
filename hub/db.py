"""The engine, the one session factory, and the declarative base every model shares.

SQLite is the embedded default and PostgreSQL the production database; both must enforce
the same constraints, so SQLite connections switch foreign keys on and keep full
transactional control (savepoints work, BEGIN is ours). SQLite transactions begin
IMMEDIATE: one writer at a time, waiting its turn, instead of a transaction that read
first failing when another has written meanwhile; read-only sessions begin DEFERRED.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of all models; constraint names are predictable so errors can be explained."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite(url: str | URL) -> bool:
    """Whether a database URL points at SQLite."""
    return make_url(url).get_backend_name() == "sqlite"


def _lower(value: str | None) -> str | None:
    return value.lower() if value is not None else None


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    # SQLite's own lower() knows ASCII only; text search must fold "São" as PostgreSQL does
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA busy_timeout = 5000")
    cursor.close()


def _begin_sqlite(conn: Any) -> None:
    reading = conn.get_execution_options().get("hub_read_only", False)
    conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


PING_AFTER_IDLE = 1.0
"""Seconds a pooled connection may sit unused before it is checked on its way out."""


def _checked_in(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE:
        return
    try:
        dbapi_connection.ping()
    except Exception as error:  # any failure of the ping: the pool replaces the connection
        raise DisconnectionError(f"a pooled connection was lost: {error}") from error


def ping_when_idle(engine: AsyncEngine) -> None:
    """Check a pooled connection before use only when it sat idle a while (as HikariCP's
    alive-bypass window): a database restarted, or a connection ended by an administrator,
    is found before a request uses it, without the three round trips ``pool_pre_ping``
    costs asyncpg on every checkout, which under load is every few milliseconds."""
    pool = engine.sync_engine.pool
    event.listen(pool, "checkin", _checked_in)
    event.listen(pool, "checkout", _ping_if_idle)


POSTGRES_SETTINGS = {"jit": "off"}
"""Each session's settings on PostgreSQL. JIT compiles a statement anew each time it runs,
and once a plan's estimated cost passes ``jit_above_cost`` it did, for the public listing at
50,000 pledges: 540 of its 800 ms went to compiling. The hub's statements are short, or
their cost is in joins and sorts that JIT does not speed up."""


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create an async engine with the per-backend settings the hub relies on."""
    if not is_sqlite(url):
        kwargs.setdefault("connect_args", {}).setdefault("server_settings", POSTGRES_SETTINGS)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_sqlite)
    return engine


def create_session_factory(
    engine: AsyncEngine, *, read_only: bool = False, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    """The one way sessions are made; objects stay readable after commit.

    ``read_only`` sessions, which must never write, begin DEFERRED on SQLite: in WAL mode they
    read beside the one writer instead of queueing behind it (checking a token, say, while a
    long mutation holds the write lock). ``info`` is every session's ``Session.info`` (a
    serving process's announcements are delivered through it: see hub.live).
    """
    bind = engine.execution_options(hub_read_only=True) if read_only else engine
    return async_sessionmaker(bind, expire_on_commit=False, autoflush=False, info=info)


@asynccontextmanager
async def autocommit(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A pooled connection outside any transaction: each statement commits on its own, with
    no BEGIN or ROLLBACK around it (for single statements that need no more)."""
    async with engine.connect() as connection:
        yield await connection.execution_options(isolation_level="AUTOCOMMIT")


def engine_of(sessions: object) -> AsyncEngine:
    """The engine a session factory binds, for work beside sessions (a lock's connection)."""
    assert isinstance(sessions, async_sessionmaker)
    bind = sessions.kw["bind"]
    assert isinstance(bind, AsyncEngine)
    return bind


async def one_snapshot(session: AsyncSession) -> None:
    """Make the session's transaction read one snapshot throughout (PostgreSQL's REPEATABLE
    READ, read-only; a SQLite transaction reads one already): call it before anything is
    read, for work that reads several tables that must agree (the audit export, verify); a
    session that has read already keeps its isolation."""
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
