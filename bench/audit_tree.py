"""What the audit log's Merkle tree costs and how it scales: sequencing (leaves and subtrees),
signing a head, a root, inclusion and consistency proofs at the log's full size, ``audit
verify``, the export, and tools/verify_audit.py on the export. On SQLite and PostgreSQL.

    .venv/bin/python bench/audit_tree.py [--events 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from ledger import drop, postgres_database, sqlite_database
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.audit.export import export
from hub.audit.heads import sign_head
from hub.audit.ledger import record_change
from hub.audit.models import AuditLeaf
from hub.audit.notes import verifier_key
from hub.audit.sequencer import sequence_all
from hub.audit.tree import consistency_proof, inclusion_proof, root_at
from hub.audit.verify import verify
from hub.auth.principal import CONSOLE
from hub.db import create_engine, create_session_factory
from hub.keys.models import KeyPurpose
from hub.keys.service import audit_public_key, ensure_audit_key, keys_for
from hub.keys.vault import Vault
from hub.migrate import upgrade_connection
from hub.types import utcnow

VERIFIER = Path(__file__).resolve().parent.parent / "tools" / "verify_audit.py"
WRITE_BATCH = 2_000


async def timed(label: str, work: Callable[[], Awaitable[object]], repeat: int = 1) -> None:
    started = time.perf_counter()
    for _ in range(repeat):
        await work()
    each = (time.perf_counter() - started) / repeat
    shown = f"{each * 1000:9.2f} ms" if each < 1 else f"{each:9.2f} s "
    print(f"    {label:<44}{shown}")


async def run(url: str, events: int) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await upgrade_connection(connection)
            await connection.commit()
        sessions: async_sessionmaker[AsyncSession] = create_session_factory(engine)
        vault = Vault([Fernet.generate_key().decode()])
        async with sessions() as session:
            await ensure_audit_key(session, vault, utcnow() - timedelta(seconds=1), "bench/audit")
            await session.commit()
        for start in range(0, events, WRITE_BATCH):
            async with sessions() as session:
                for n in range(start, min(start + WRITE_BATCH, events)):
                    changes = {"n": {"before": None, "after": n}}
                    record_change(session, CONSOLE, "bench.step", "Step", str(n), changes)
                await session.commit()

        async def sequenced() -> None:
            done = 0
            while done < events:  # PostgreSQL: once the writes are older than every other
                done += await sequence_all(sessions)
                await asyncio.sleep(0 if done else 0.1)

        await timed(f"sequence {events} events (leaves, subtrees)", sequenced)

        async def signed() -> None:
            async with sessions() as session:
                await sign_head(session, vault, utcnow())
                await session.commit()

        await timed("sign a head", signed)
        async with sessions() as session:
            middle = await session.scalar(
                select(AuditLeaf.event_id).where(AuditLeaf.leaf_number == events // 2)
            )
            [key] = await keys_for(session, KeyPurpose.AUDIT_SIGNING)
        assert middle is not None

        async def reading(work: Callable[[AsyncSession], Awaitable[object]]) -> None:
            async with sessions() as session:
                await work(session)

        await timed("root of the whole log", lambda: reading(lambda s: root_at(s, events)), 50)
        await timed(
            "inclusion proof of the middle event",
            lambda: reading(lambda s: inclusion_proof(s, middle, events)),
            50,
        )
        await timed(
            "consistency proof from a third to all",
            lambda: reading(lambda s: consistency_proof(s, events // 3, events)),
            50,
        )

        async def verified() -> None:
            async with sessions() as session:
                assert (await verify(session)).problem is None

        await timed("p2c-hub audit verify (all checks)", verified)
        with tempfile.TemporaryDirectory() as directory:
            target = Path(directory) / "export.jsonl"

            async def exported() -> None:
                async with sessions() as session:
                    with target.open("wb") as out:
                        await export(session, out, "bench/audit", utcnow())

            await timed("p2c-hub audit export", exported)
            print(f"    {'export size':<44}{target.stat().st_size / 1e6:9.1f} MB")
            command = [sys.executable, str(VERIFIER), str(target)]
            command += ["--key", verifier_key(*audit_public_key(key))]

            async def checked() -> None:
                done = await asyncio.to_thread(
                    subprocess.run, command, capture_output=True, text=True, check=False
                )
                assert done.returncode == 0, done.stdout + done.stderr

            await timed("tools/verify_audit.py on the export", checked)
    finally:
        await engine.dispose()


async def main(events: int) -> None:
    print(f"the audit log's tree with {events} events")
    print("  SQLite")
    with sqlite_database() as url:
        await run(url, events)
    print("  PostgreSQL")
    name, url = await postgres_database()
    try:
        await run(url, events)
    finally:
        await drop(name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().events))
