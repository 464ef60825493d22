"""A PostgreSQL cluster of the benchmark's own, on a free loopback port, with
``pg_stat_statements`` preloaded so that every server's SQL statements can be counted.

The machine's own PostgreSQL binaries build it in a temporary directory (as the ``postgres``
user when run as root, since PostgreSQL refuses to run as root); it is stopped and removed
on exit. Nothing of the machine's running cluster is touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    return Path(found[-1]).parent


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def own_cluster(max_connections: int = 200) -> Iterator[str]:
    """Start a cluster; yields the URL of its (empty) ``postgres`` maintenance database."""
    programs = binaries()
    directory = Path(tempfile.mkdtemp(prefix="p2c-bench-pg-"))
    data = directory / "data"
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    port = free_port()
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={directory} "
        f"-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top "
        f"-c max_connections={max_connections} -c fsync=off -c synchronous_commit=off "
        f"-c full_page_writes=off -c shared_buffers=512MB"
    )
    subprocess.run(
        _as_owner([str(programs / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    log = directory / "server.log"
    subprocess.run(
        _as_owner(
            [
                str(programs / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "start",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_owner([str(programs / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(directory, ignore_errors=True)


ROLES = ("hub", "floor", "postgraphile")
"""Each server connects as a role of its own, so that its statements are told apart."""


def role(server: str) -> str:
    return f"p2c_bench_{server}"


def as_role(url: str, server: str) -> str:
    """``url`` with the user replaced by ``server``'s role."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{role(server)}@{rest.split('@', 1)[1]}"


async def create_database(maintenance_url: str, name: str) -> str:
    """A fresh database ``name`` (dropped first if there), the servers' roles (JIT off for
    each), and pg_stat_statements when the server preloads it; returns its URL."""
    connection = await asyncpg.connect(maintenance_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
        existing = {
            row["rolname"] for row in await connection.fetch("SELECT rolname FROM pg_roles")
        }
        for server in ROLES:
            if role(server) not in existing:
                await connection.execute(f"CREATE ROLE {role(server)} SUPERUSER LOGIN")
            # the hub turns PostgreSQL's JIT off for its sessions (hub.db.POSTGRES_SETTINGS);
            # the same for every server, so that none pays for compiling and none is spared
            await connection.execute(f"ALTER ROLE {role(server)} SET jit = off")
    finally:
        await connection.close()
    url = maintenance_url.rsplit("/", 1)[0] + f"/{name}"
    connection = await asyncpg.connect(url)
    try:
        preloaded = await connection.fetchval("SHOW shared_preload_libraries")
        if "pg_stat_statements" in preloaded:
            await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    finally:
        await connection.close()
    return url


async def drop_database(maintenance_url: str, name: str) -> None:
    connection = await asyncpg.connect(maintenance_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


class StatementCounter:
    """Statements one server's role ran in one database, from pg_stat_statements (None
    without it)."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def _run(self, query: str, *arguments: str) -> int | None:
        connection = await asyncpg.connect(self.url)
        try:
            present = await connection.fetchval(
                "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'"
            )
            if not present:
                return None
            return int(await connection.fetchval(query, *arguments) or 0)
        finally:
            await connection.close()

    async def reset(self) -> None:
        await self._run("SELECT 0 FROM (SELECT pg_stat_statements_reset()) AS reset")

    async def top(self, server: str, limit: int = 8) -> list[dict[str, Any]]:
        """The statements ``server`` ran most often since the last reset (empty without
        pg_stat_statements): where #15's work starts."""
        connection = await asyncpg.connect(self.url)
        try:
            present = await connection.fetchval(
                "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'"
            )
            if not present:
                return []
            rows = await connection.fetch(
                "SELECT s.calls, round(s.total_exec_time::numeric, 1) AS ms, "
                "left(regexp_replace(s.query, '\\s+', ' ', 'g'), 160) AS query "
                "FROM pg_stat_statements s "
                "JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.userid "
                "WHERE d.datname = current_database() AND r.rolname = $1 "
                "ORDER BY s.calls DESC LIMIT $2",
                role(server),
                limit,
            )
        finally:
            await connection.close()
        return [{"calls": r["calls"], "ms": float(r["ms"]), "query": r["query"]} for r in rows]

    async def drain(self, server: str, limit: float = 300.0) -> float:
        """Wait until ``server``'s role runs no statement: what a run left queued must not
        be counted in the next one. Returns the seconds waited."""
        connection = await asyncpg.connect(self.url)
        started = time.perf_counter()
        try:
            while time.perf_counter() - started < limit:
                active = await connection.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND state = 'active'",
                    role(server),
                )
                if not active:
                    break
                await asyncio.sleep(0.2)
        finally:
            await connection.close()
        return time.perf_counter() - started

    async def count(self, server: str) -> int | None:
        """Statements ``server`` ran since the last reset."""
        return await self._run(
            "SELECT sum(calls) FROM pg_stat_statements s "
            "JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.userid "
            "WHERE d.datname = current_database() AND r.rolname = $1",
            role(server),
        )


async def execute(url: str, sql: str) -> None:
    """Run a script of statements in one database."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()
