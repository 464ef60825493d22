"""The ``p2c-hub`` command end to end, as ``make run`` uses it: migrate, then serve."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.fixtures.database import (
    asyncpg_dsn,
    create_postgres_database,
    drop_postgres_database,
    postgres_admin,
    postgres_url,
)

P2C_HUB = [str(Path(sys.executable).with_name("p2c-hub"))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def hub_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update({f"HUB_{key.upper()}": value for key, value in settings.items()})
    return env


def migrate(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*P2C_HUB, "migrate"], env=env, capture_output=True, text=True, timeout=60, check=False
    )


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[str]:
    """Run ``p2c-hub serve`` until its readiness probe answers; yields the base URL."""
    base = f"http://127.0.0.1:{env['HUB_PORT']}"
    with log.open("w") as out:
        process = subprocess.Popen([*P2C_HUB, "serve"], env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the hub did not become ready:\n{log.read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_migrate_and_serve_on_the_default_sqlite_database(tmp_path: Path) -> None:
    env = hub_env(port=str(free_port()))
    env["HUB_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'p2c-hub.db'}"

    migrated = migrate(env)
    assert migrated.returncode == 0, migrated.stderr
    assert "is migrated to the latest revision" in migrated.stdout
    assert migrate(env).returncode == 0, "migrating twice is harmless"

    log = tmp_path / "serve.log"
    with serving(env, log) as base:
        answer = httpx.get(f"{base}/healthz", headers={"X-Request-ID": "trace-cli-1"})
        data = httpx.post(f"{base}/graphql", json={"query": "{ pledges(first: 1) { totalCount } }"})
    assert answer.headers["x-request-id"] == "trace-cli-1"
    assert data.json() == {"data": {"pledges": {"totalCount": 0}}}

    lines = log.read_text().splitlines()
    assert lines[0] == f"P2C Hub serving on {base} (GraphQL at {base}/graphql)"
    records = [json.loads(line) for line in lines[1:]]
    [request] = [r for r in records if r.get("request_id") == "trace-cli-1"]
    assert request["event"] == "http.request"
    assert (request["method"], request["path"], request["status"]) == ("GET", "/healthz", 200)


def test_bad_settings_are_reported_without_a_trace() -> None:
    result = subprocess.run(
        [*P2C_HUB, "serve"],
        env=hub_env(port="not-a-port"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "HUB_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_database_fails_migration_clearly() -> None:
    result = migrate(hub_env(database_url="postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"))
    assert result.returncode == 1
    assert "could not migrate postgresql+asyncpg://postgres@127.0.0.1:9/nowhere" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
async def serving_role() -> AsyncIterator[tuple[str, str]]:
    """A fresh database owned by postgres, and a login role that may only read and write rows.

    The rights are granted as default privileges before any table exists, as a production
    database would be prepared (see the README).
    """
    database = await create_postgres_database()
    role = f"p2c_serving_{uuid.uuid4().hex[:8]}"
    admin = await postgres_admin()
    try:
        await admin.execute(f'CREATE ROLE "{role}" LOGIN')
        await admin.execute(f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"')
    finally:
        await admin.close()
    owner = await asyncpg.connect(asyncpg_dsn(postgres_url(database)))
    try:
        await owner.execute(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public"
            f' GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{role}";'
            f' ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO "{role}"'
        )
    finally:
        await owner.close()
    try:
        yield database, role
    finally:
        await drop_postgres_database(database)
        admin = await postgres_admin()
        try:
            await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        finally:
            await admin.close()


def test_migrations_run_as_the_owner_and_the_hub_serves_as_a_lesser_role(
    serving_role: tuple[str, str], tmp_path: Path
) -> None:
    database, role = serving_role
    owner_url = postgres_url(database)
    serving_url = owner_url.replace("postgres@", f"{role}@", 1)
    env = hub_env(port=str(free_port()), database_url=serving_url)

    refused = migrate(env)
    assert refused.returncode == 1
    assert "permission denied" in refused.stderr

    env["HUB_MIGRATION_DATABASE_URL"] = owner_url
    migrated = migrate(env)
    assert migrated.returncode == 0, migrated.stderr

    with serving(env, tmp_path / "serve.log") as base:
        data = httpx.post(f"{base}/graphql", json={"query": "{ members(first: 1) { totalCount } }"})
    assert data.json() == {"data": {"members": {"totalCount": 0}}}
