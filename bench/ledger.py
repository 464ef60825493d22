"""What the audit ledger costs a write: pledges created through the partners' command, each
in its own transaction, with the ledger on and (``hub.audit.ledger.switched_off``) off, on
SQLite and on PostgreSQL (one writer, then eight at once). Prints writes per second.

    .venv/bin/python bench/ledger.py [--writes 300]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
import uuid
from collections.abc import Iterator

import asyncpg
from sqlalchemy.engine import make_url

from hub.audit.ledger import switched_off
from hub.auth.principal import Principal
from hub.auth.scopes import ClientKind, Scope
from hub.db import create_engine, create_session_factory
from hub.migrate import upgrade_connection
from hub.organisations.models import OrganisationType
from hub.organisations.service import admit_member, create_organisation
from hub.pledges import commands
from hub.pledges.models import FocusArea, PledgeType
from hub.pledges.rules import PledgeDraft

POSTGRES = os.environ.get(
    "HUB_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
DRAFT = PledgeDraft(
    title="Connect 500 schools", pledge_type=PledgeType.FINANCIAL, focus_areas=(FocusArea.ACCESS,)
)


async def writes_per_second(url: str, writes: int, writers: int, ledger: bool) -> float:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await upgrade_connection(connection)
            await connection.commit()
        factory = create_session_factory(engine)
        async with factory() as session:
            member = await create_organisation(
                session, name="Bench", organisation_type=OrganisationType.PRIVATE_SECTOR
            )
            await admit_member(session, member.id)
            await session.commit()
        principal = Principal(
            kind=ClientKind.PARTNER,
            client_id="bench",
            member_id=member.id,
            scopes=frozenset({Scope.PLEDGES_WRITE}),
        )

        async def writer(count: int) -> None:
            for _ in range(count):
                async with factory() as session:
                    await commands.create(session, principal, DRAFT, ())
                    await session.commit()

        await writer(20)  # warm the pool and the caches first
        switch = contextlib.nullcontext() if ledger else switched_off()
        with switch:
            started = time.perf_counter()
            await asyncio.gather(*(writer(writes // writers) for _ in range(writers)))
            elapsed = time.perf_counter() - started
        return (writes // writers) * writers / elapsed
    finally:
        await engine.dispose()


@contextlib.contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as directory:
        yield f"sqlite+aiosqlite:///{directory}/bench.db"


def admin_dsn() -> str:
    return make_url(POSTGRES).set(drivername="postgresql").render_as_string(hide_password=False)


async def postgres_database() -> tuple[str, str]:
    name = f"p2c_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(
        make_url(POSTGRES).set(drivername="postgresql").render_as_string(False)
    )
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return name, make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)


async def drop(name: str) -> None:
    admin = await asyncpg.connect(
        make_url(POSTGRES).set(drivername="postgresql").render_as_string(False)
    )
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def main(writes: int) -> None:
    print(f"{writes} pledges created, each in its own transaction; writes per second")
    for ledger in (False, True, False, True):
        with sqlite_database() as url:
            rate = await writes_per_second(url, writes, 1, ledger)
        print(f"  SQLite, 1 writer,      ledger {'on ' if ledger else 'off'}: {rate:7.1f}")
    for writers in (1, 8):
        for ledger in (False, True, False, True):
            name, url = await postgres_database()
            try:
                rate = await writes_per_second(url, writes, writers, ledger)
            finally:
                await drop(name)
            print(
                f"  PostgreSQL, {writers} writer{'s' if writers > 1 else ' '}, "
                f"ledger {'on ' if ledger else 'off'}: {rate:7.1f}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=400)
    asyncio.run(main(parser.parse_args().writes))
