"""The log's Merkle tree as the database keeps it: the sequencer adds every complete subtree
with the leaves that complete it, the migration computes them for a log sequenced before it,
roots and proofs read from the store equal RFC 9162's over the leaves, and heads are signed and
delivered, in order, to their targets."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from alembic import command
from cryptography.fernet import Fernet
from sqlalchemy import Connection, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.audit import heads
from hub.audit.delivery import FileTarget, HttpTarget, deliver_pending, head_line
from hub.audit.ledger import record_change
from hub.audit.merkle import root, verify_consistency, verify_inclusion
from hub.audit.models import AuditEvent, AuditLeaf, AuditNode, TreeHead
from hub.audit.notes import read, signed_by, verifier_key
from hub.audit.sequencer import BATCH
from hub.audit.tree import consistency_proof, inclusion_proof, root_at
from hub.audit.verify import verify
from hub.auth.principal import CONSOLE
from hub.keys.models import KeyPurpose
from hub.keys.service import audit_public_key, ensure_audit_key, keys_for
from hub.keys.vault import Vault
from hub.migrate import alembic_config, upgrade_connection
from hub.types import utcnow
from tests.fixtures.server import running_app
from tests.hub.test_audit import sequenced


async def write_events(sessions: async_sessionmaker[AsyncSession], count: int) -> None:
    async with sessions() as session:
        for n in range(count):
            record_change(session, CONSOLE, "test.step", "Step", str(n), {"n": {"after": n}})
        await session.commit()


async def leaf_hashes(sessions: async_sessionmaker[AsyncSession]) -> list[bytes]:
    async with sessions() as session:
        found = await session.scalars(select(AuditLeaf.leaf_hash).order_by(AuditLeaf.leaf_number))
        return [bytes.fromhex(digest) for digest in found]


async def test_the_tree_in_the_database_is_rfc_9162s(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """Leaves arrive in runs of every size; after each, every root and every proof read from
    the store equals the RFC's over the leaves, and verifies."""
    for run in (1, 1, 2, 3, 5, 8, 1):
        await write_events(session_factory, run)
        await sequenced(session_factory)
    leaves = await leaf_hashes(session_factory)
    size = len(leaves)
    assert size == 21
    async with session_factory() as session:
        stored = len((await session.scalars(select(AuditNode))).all())
        assert stored == size - bin(size).count("1")  # a complete subtree per merge
        for n in range(size + 1):
            assert await root_at(session, n) == root(leaves[:n]), n
        events = {
            leaf.leaf_number: leaf.event_id for leaf in await session.scalars(select(AuditLeaf))
        }
        for n in range(1, size + 1):
            for index in range(n):
                proof = await inclusion_proof(session, events[index], n)
                assert verify_inclusion(leaves[index], index, n, proof.path, root(leaves[:n]))
            for m in range(n + 1):
                path = await consistency_proof(session, m, n)
                assert verify_consistency(m, n, root(leaves[:m]), root(leaves[:n]), path)
        assert (await verify(session)).problem is None


async def test_a_batch_larger_than_one_run_keeps_the_tree(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await write_events(session_factory, BATCH + 37)
    await sequenced(session_factory)
    leaves = await leaf_hashes(session_factory)
    async with session_factory() as session:
        assert await root_at(session, len(leaves)) == root(leaves)
        assert (await verify(session)).problem is None


async def test_the_migration_computes_the_subtrees_of_a_log_sequenced_before_it(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await write_events(session_factory, 11)
    await sequenced(session_factory)
    leaves = await leaf_hashes(session_factory)

    def back_to_0005(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")

    async with engine.connect() as connection:
        await connection.run_sync(back_to_0005)
        await upgrade_connection(connection)
        await connection.commit()
    async with session_factory() as session:
        assert await root_at(session, 11) == root(leaves)
        assert (await verify(session)).problem is None


@pytest.fixture
def vault() -> Vault:
    return Vault([Fernet.generate_key().decode()])


async def with_key(sessions: async_sessionmaker[AsyncSession], vault: Vault) -> tuple[str, bytes]:
    async with sessions() as session:
        await ensure_audit_key(session, vault, utcnow() - timedelta(seconds=1), "test/audit")
        await session.commit()
        [key] = await keys_for(session, KeyPurpose.AUDIT_SIGNING)
    return audit_public_key(key)


async def test_a_head_is_signed_when_the_log_grew_and_only_then(
    session_factory: async_sessionmaker[AsyncSession], vault: Vault
) -> None:
    async with session_factory() as session:
        assert await heads.sign_head(session, vault, utcnow()) is None  # no key yet
    name, public = await with_key(session_factory, vault)
    await write_events(session_factory, 3)
    await sequenced(session_factory)
    async with session_factory() as session:
        first = await heads.sign_head(session, vault, utcnow())
        again = await heads.sign_head(session, vault, utcnow())
        await session.commit()
    assert first is not None
    assert again is first
    checkpoint, body, signatures = read(first.note)
    assert (checkpoint.origin, checkpoint.tree_size) == ("test/audit", 3)
    assert checkpoint.root_hash == root(await leaf_hashes(session_factory))
    assert signed_by(body, signatures, name, public)
    async with session_factory() as session:
        assert len((await session.scalars(select(TreeHead))).all()) == 1


async def test_heads_reach_an_http_target_in_order_once_it_answers(
    session_factory: async_sessionmaker[AsyncSession], vault: Vault, tmp_path: Path
) -> None:
    """The endpoint refuses at first (503): nothing counts as delivered; once it answers 201,
    it receives every head, oldest first, with the bearer token, and each only once."""
    await with_key(session_factory, vault)
    received: list[dict[str, str]] = []
    failing = True

    async def endpoint(request: Request) -> Response:
        if failing:
            return Response(status_code=503)
        assert request.headers["authorization"] == "Bearer s3cret"
        received.append(json.loads(await request.body()))
        return Response(status_code=201)

    app = Starlette(routes=[Route("/heads", endpoint, methods=["POST"])])
    signed = []
    for count in (2, 3):
        await write_events(session_factory, count)
        await sequenced(session_factory)
        async with session_factory() as session:
            signed.append(await heads.sign_head(session, vault, utcnow()))
            await session.commit()
    async with running_app(app) as base, httpx.AsyncClient() as client:
        target = HttpTarget(f"{base}/heads", client, "s3cret")
        file = FileTarget(tmp_path / "heads.jsonl")
        assert await deliver_pending(session_factory, [target, file]) == 2  # the file's two
        assert received == []
        failing = False
        assert await deliver_pending(session_factory, [target, file]) == 2
        assert await deliver_pending(session_factory, [target, file]) == 0
    notes = [head.note for head in signed if head is not None]
    assert [entry["note"] for entry in received] == notes
    assert (tmp_path / "heads.jsonl").read_bytes() == b"".join(head_line(n) for n in notes)


async def test_an_unwritable_file_target_is_tried_again(
    session_factory: async_sessionmaker[AsyncSession], vault: Vault, tmp_path: Path
) -> None:
    await with_key(session_factory, vault)
    async with session_factory() as session:
        await heads.sign_head(session, vault, utcnow())
        await session.commit()
    target = FileTarget(tmp_path / "missing" / "heads.jsonl")
    assert await deliver_pending(session_factory, [target]) == 0
    (tmp_path / "missing").mkdir()
    assert await deliver_pending(session_factory, [target]) == 1


async def test_the_serving_loop_signs_and_delivers_on_its_schedule(
    session_factory: async_sessionmaker[AsyncSession], vault: Vault, tmp_path: Path
) -> None:
    await with_key(session_factory, vault)
    target = FileTarget(tmp_path / "heads.jsonl")
    stop = asyncio.Event()
    running = asyncio.create_task(heads.run(session_factory, vault, [target], 0.05, stop))
    try:
        await write_events(session_factory, 4)
        await sequenced(session_factory)
        async with asyncio.timeout(10):
            while True:
                lines = target.path.read_text().splitlines() if target.path.exists() else []
                if lines and read(json.loads(lines[-1])["note"])[0].tree_size == 4:
                    break
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await running
    async with session_factory() as session:
        assert (await session.scalar(select(AuditEvent.id).limit(1))) is not None
        assert (await verify(session)).problem is None


def test_the_documented_head_verifies_with_the_documented_key() -> None:
    """docs/audit.md's example is a real head: a known answer for the note format."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text()
    note = text.split("```\np2c-hub/audit\n", 1)[1].split("```", 1)[0]
    vkey = text.split("e.g.\n`", 1)[1].split("`", 1)[0]
    name, key_id, encoded = vkey.split("+", 2)
    public = base64.b64decode(encoded)[1:]
    checkpoint, body, signatures = read("p2c-hub/audit\n" + note)
    assert (checkpoint.tree_size, key_id) == (4, signatures[0].key_id.hex())
    assert signed_by(body, signatures, name, public)
    assert verifier_key(name, public) == vkey
    assert not signed_by(body.replace(b"\n4\n", b"\n5\n"), signatures, name, public)


async def test_a_quiet_log_gets_a_fresh_head_once_the_newest_is_too_old(
    session_factory: async_sessionmaker[AsyncSession], vault: Vault
) -> None:
    """A head's time says the log was as it says then: without a fresh one now and then, an
    auditor could not tell a quiet log from one the hub stopped showing."""
    await with_key(session_factory, vault)
    await write_events(session_factory, 2)
    await sequenced(session_factory)
    day, now = timedelta(days=1), utcnow()
    signed = []
    for later in (timedelta(0), timedelta(hours=23), timedelta(hours=25)):
        async with session_factory() as session:
            signed.append(await heads.sign_head(session, vault, now + later, day))
            await session.commit()
    first, same, fresh = signed
    assert first is not None
    assert same is not None
    assert fresh is not None
    assert same.id == first.id
    assert fresh.id != first.id
    assert (fresh.tree_size, fresh.root_hash) == (first.tree_size, first.root_hash)
    assert read(fresh.note)[0].time > read(first.note)[0].time
