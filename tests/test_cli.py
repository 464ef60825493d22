"""The ``p2c-hub`` command end to end, as ``make run`` uses it: migrate, then serve."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
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
    """A port nothing listens on, for a server started later. Chosen at random below the
    kernel's ephemeral range: a port the kernel hands out for port 0 is soon handed out
    again, and two test processes given the same one would each test the other's server."""
    while True:
        port = random.randrange(20_000, 32_000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


def hub_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update({f"HUB_{key.upper()}": value for key, value in settings.items()})
    return env


def hub(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*P2C_HUB, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def migrate(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return hub(env, "migrate")


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[str]:
    """Run ``p2c-hub serve`` until its readiness probe answers; yields the base URL."""
    with served(env, log) as (base, _):
        yield base


@contextmanager
def served(env: dict[str, str], log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``serving``, with the process too."""
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
        yield base, process
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
    assert f"P2C Hub serving on {base} (GraphQL at {base}/graphql)" in lines
    records = [json.loads(line) for line in lines if line.startswith("{")]
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

    # the README's grants for the audit ledger: insert and read, nothing more
    run_sql(
        owner_url,
        f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_events, audit_leaves, audit_nodes, "
        f'audit_tree_heads FROM "{role}"',
    )

    with serving(env, tmp_path / "serve.log") as base:
        data = httpx.post(f"{base}/graphql", json={"query": "{ members(first: 1) { totalCount } }"})
    assert data.json() == {"data": {"members": {"totalCount": 0}}}

    # the ledger written, sequenced and verified as the serving role, which cannot edit it
    added = hub(env, "members", "add", "--name", "Served Org", "--type", "MEDIA")
    assert added.returncode == 0, added.stderr
    deadline = time.monotonic() + 20  # another test's open transaction holds sequencing back
    while "1 events appended" not in hub(env, "audit", "sequence").stdout:
        assert time.monotonic() < deadline, "the event was never sequenced"
        time.sleep(0.2)
    verified = hub(env, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "1 leaves checked" in verified.stdout
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
        run_sql(serving_url, "UPDATE audit_events SET action = 'x'")

    # and its heads signed, exported and checked as that role, which cannot edit them either
    env["HUB_KEY_ENCRYPTION_KEYS"] = hub(env, "keys", "generate-encryption-key").stdout.strip()
    env["HUB_AUDIT_HEADS_FILE"] = str(tmp_path / "heads.jsonl")
    for command in (["keys", "init"], ["audit", "head"]):
        done = hub(env, *command)
        assert done.returncode == 0, done.stderr
    verified = hub(env, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "1 heads and 1 kept heads checked" in verified.stdout
    for statement in ("UPDATE audit_tree_heads SET tree_size = 0", "DELETE FROM audit_nodes"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            run_sql(serving_url, statement)


def test_serve_signs_a_head_on_its_schedule_and_when_asked(tmp_path: Path) -> None:
    """A head at start, then none for an hour unless asked: SIGUSR1 signs one at once."""
    heads = tmp_path / "heads.jsonl"
    env = hub_env(
        port=str(free_port()),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
        key_encryption_keys=hub({}, "keys", "generate-encryption-key").stdout.strip(),
        audit_heads_file=str(heads),
        audit_head_interval_seconds="3600",
    )
    for command in (["migrate"], ["keys", "init"], ["audit", "sequence"]):
        assert hub(env, *command).returncode == 0

    def sizes() -> list[int]:
        lines = heads.read_text().splitlines() if heads.exists() else []
        return [int(json.loads(line)["note"].split("\n")[1]) for line in lines]

    def eventually(wanted: list[int]) -> None:
        deadline = time.monotonic() + 15
        while sizes() != wanted:
            assert time.monotonic() < deadline, f"heads of {sizes()}, not {wanted}"
            time.sleep(0.1)

    with served(env, tmp_path / "serve.log") as (_, process):
        eventually([2])  # the two keys' events, signed at start
        assert hub(env, "members", "add", "--name", "Asked Org", "--type", "MEDIA").returncode == 0
        time.sleep(1.5)  # sequenced within a second; no head before the hour is up
        assert sizes() == [2]
        process.send_signal(signal.SIGUSR1)
        eventually([2, 3])


def run_sql(url: str, statement: str) -> None:
    """Run one statement on the database at ``url``, outside any test's event loop."""

    async def run() -> None:
        connection = await asyncpg.connect(asyncpg_dsn(url))
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


FX = Path(__file__).parent.parent / "data" / "fx"


def test_reference_rates_and_demo_commands(tmp_path: Path) -> None:
    env = hub_env(database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    assert migrate(env).returncode == 0

    early = hub(env, "demo-data")
    assert early.returncode == 1
    assert "load the countries first" in early.stderr

    loaded = hub(env, "countries", "load")
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.startswith("countries: 249 added, 0 updated; 136 group memberships")
    assert "countries: 0 added, 0 updated" in hub(env, "countries", "load").stdout

    imf = hub(env, "fx", "load", str(FX / "imf_exchangerates.csv"), "--format", "imf")
    assert imf.returncode == 0, imf.stderr
    assert imf.stdout.strip() == "IMF rates: 5243 added, 0 updated, 0 unchanged"
    assert imf.stderr.count("neither is loaded") == 4

    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Rate,Currency\n2022-01-31,0.8,GBP\n2022-02-28,0.8.1,GBP\n")
    refused = hub(env, "fx", "load", str(bad), "--format", "imf")
    assert refused.returncode == 1
    assert "bad.csv, line 3: rate '0.8.1' is not a number" in refused.stderr
    assert "Traceback" not in refused.stderr

    fred = hub(env, "fx", "load", str(FX / "fred-monthly.csv"), "--format", "fred")
    assert fred.returncode == 0, fred.stderr
    assert "skipped Venezuela: the series runs across several redenominations" in fred.stderr

    demo = hub(env, "demo-data", "--if-empty")
    assert demo.returncode == 0, demo.stderr
    assert demo.stdout.strip().endswith("demo coalition: 71 organisations, 320 pledges")
    assert "nothing changed" in hub(env, "demo-data").stdout
    assert "was not loaded" in hub(env, "demo-data", "--if-empty").stdout


@pytest.mark.parametrize(
    "command",
    [[], ["serve"], ["migrate"], ["version"], ["countries", "load"], ["fx", "load"],
     ["demo-data"], ["schema", "print"]],
)  # fmt: skip
def test_every_command_has_help(command: list[str]) -> None:
    result = hub(hub_env(), *command, "--help")
    assert result.returncode == 0
    assert "Usage: p2c-hub" in result.stdout


def test_version_and_usage_errors(tmp_path: Path) -> None:
    assert hub(hub_env(), "version").stdout.strip() == "0.1.0"
    missing = hub(hub_env(), "fx", "load", str(tmp_path / "nope.csv"), "--format", "imf")
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr
    half = hub(hub_env(), "countries", "load", "--countries-file", str(FX / "fred-monthly.csv"))
    assert half.returncode == 2
    assert "give both" in half.stderr


def test_an_unsupported_database_url_is_a_usage_error() -> None:
    result = hub(hub_env(database_url="postgresql://postgres@127.0.0.1/test"), "migrate")
    assert result.returncode == 2
    assert "HUB_DATABASE_URL" in result.stderr
    assert "postgresql+asyncpg" in result.stderr
    assert "Traceback" not in result.stderr
