"""Auditors catch what a database administrator does to the log, with ``p2c-hub audit verify``
(``hub.audit.verify``) and with the independent ``tools/verify_audit.py`` run on an export:
an edited, deleted, swapped or inserted event, a truncated tail, a head signed by a wrong
key, and history rewritten with every hash recomputed and every head signed again with the
hub's own key, which only a head kept outside the database exposes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.audit.canonical import canonical, event_hash
from hub.audit.delivery import FileTarget, deliver_pending
from hub.audit.export import export
from hub.audit.heads import sign_head
from hub.audit.ledger import document, record_change
from hub.audit.models import AuditEvent, AuditLeaf, TreeHead
from hub.audit.notes import Checkpoint, sign, verifier_key
from hub.audit.tree import root_at
from hub.audit.verify import kept_heads, verify
from hub.auth.principal import CONSOLE
from hub.keys.models import KeyPurpose
from hub.keys.service import audit_public_key, ensure_audit_key, keys_for, open_audit_key
from hub.keys.vault import Vault
from hub.types import utcnow
from tests.hub.test_audit import sequenced

ROOT = Path(__file__).resolve().parent.parent
VERIFIER = ROOT / "tools" / "verify_audit.py"
NAME = "p2c-hub/audit"
APPEND_ONLY = ("audit_events", "audit_leaves", "audit_nodes", "audit_tree_heads")


@dataclass
class Ledger:
    """A hub's log of 13 events with heads of 8 and 13 leaves, delivered to ``heads`` (the
    file an auditor keeps), and what an auditor checks it with."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    vault: Vault
    heads: Path
    directory: Path

    async def events(self, count: int, start: int) -> None:
        async with self.sessions() as session:
            for n in range(start, start + count):
                changes = {"n": {"before": None, "after": n}}
                record_change(session, CONSOLE, "test.step", "Step", str(n), changes)
            await session.commit()
        await sequenced(self.sessions)

    async def head(self) -> TreeHead:
        async with self.sessions() as session:
            head = await sign_head(session, self.vault, utcnow())
            await session.commit()
        assert head is not None
        await deliver_pending(self.sessions, [FileTarget(self.heads)])
        return head

    async def vkey(self) -> str:
        async with self.sessions() as session:
            [key] = await keys_for(session, KeyPurpose.AUDIT_SIGNING)
        return verifier_key(*audit_public_key(key))

    async def hub_says(self) -> str | None:
        """What ``audit verify`` says, with the heads the auditor kept."""
        lines = self.heads.read_text(encoding="utf-8").split("\n")
        async with self.sessions() as session:
            return (await verify(session, kept_heads(lines, str(self.heads)))).problem

    async def verifier_says(self) -> subprocess.CompletedProcess[str]:
        """What the independent verifier says of an export taken now."""
        target = self.directory / "export.jsonl"
        async with self.sessions() as session:
            with target.open("wb") as out:
                await export(session, out, NAME, utcnow())
        command = [sys.executable, str(VERIFIER), str(target), "--key", await self.vkey()]
        return await asyncio.to_thread(
            subprocess.run,
            [*command, "--kept", str(self.heads)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    @asynccontextmanager
    async def administrator(self) -> AsyncIterator[AsyncSession]:
        """A session with the append-only triggers out of the way, as an owner could."""
        async with self.sessions() as session:
            if self.engine.dialect.name == "postgresql":
                await session.execute(text("SET LOCAL session_replication_role = replica"))
            else:
                for table in APPEND_ONLY:
                    for operation in ("update", "delete"):
                        await session.execute(
                            text(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
                        )
            yield session
            await session.commit()


async def forge_head(session: AsyncSession, size: int, key: Ed25519PrivateKey) -> None:
    """Add a head of the log's first ``size`` leaves as they stand, signed with ``key``."""
    checkpoint = Checkpoint(NAME, size, await root_at(session, size), utcnow())
    session.add(
        TreeHead(
            tree_size=size,
            root_hash=checkpoint.root_hash.hex(),
            signed_at=checkpoint.time.replace(microsecond=0),
            key_id="forged",
            note=sign(checkpoint, NAME, key),
        )
    )


@pytest.fixture
async def ledger(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> Ledger:
    vault = Vault([Fernet.generate_key().decode()])
    async with session_factory() as session:
        await ensure_audit_key(session, vault, utcnow() - timedelta(seconds=1), NAME)
        await session.commit()
    made = Ledger(engine, session_factory, vault, tmp_path / "heads.jsonl", tmp_path)
    await made.events(8, 0)
    await made.head()
    await made.events(5, 8)
    await made.head()
    return made


async def test_an_untouched_log_holds_for_both(ledger: Ledger) -> None:
    assert await ledger.hub_says() is None
    checked = await ledger.verifier_says()
    assert checked.returncode == 0, checked.stdout + checked.stderr
    async with ledger.sessions() as session:
        verdict = await verify(session, kept_heads(ledger.heads.read_text().split("\n"), "f"))
    assert (verdict.leaves, verdict.heads, verdict.kept) == (13, 2, 2)


EVENT_COLUMNS = (
    "occurred_at, actor_kind, actor_client_id, actor_member_id, actor_operator, connector, "
    "sync_run_id, action, entity_type, entity_id, changes, request_id, idempotency_key, "
    "event_hash"
)


def leaf_event(number: int) -> str:
    return f"(SELECT event_id FROM audit_leaves WHERE leaf_number = {number})"


TAMPERING: dict[str, tuple[list[str], str, str]] = {
    # case: (statements, what audit verify names, what the verifier's FAILED line names)
    "edited": (
        [f"UPDATE audit_events SET action = 'test.other' WHERE id = {leaf_event(2)}"],
        "(leaf 2) was changed",
        "FAILED: leaf 2 ",
    ),
    "deleted": (
        ["DELETE FROM audit_leaves WHERE leaf_number = 4"],
        "leaf 4 is missing",
        "leaf 4 is missing",
    ),
    "swapped": (  # two leaves exchange their events, each with its own hashes
        [
            "UPDATE audit_leaves SET leaf_number = 100 WHERE leaf_number = 1",
            "UPDATE audit_leaves SET leaf_number = 1 WHERE leaf_number = 2",
            "UPDATE audit_leaves SET leaf_number = 2 WHERE leaf_number = 100",
        ],
        "leaf 1 breaks the chain",
        "FAILED: head of size 8",
    ),
    "inserted": (  # every leaf from 3 on moves up one, and a copy of leaf 2 takes place 3
        [
            "UPDATE audit_leaves SET leaf_number = leaf_number + 1000 WHERE leaf_number >= 3",
            "UPDATE audit_leaves SET leaf_number = leaf_number - 999 WHERE leaf_number >= 1000",
            f"INSERT INTO audit_events ({EVENT_COLUMNS}) SELECT {EVENT_COLUMNS} "
            f"FROM audit_events WHERE id = {leaf_event(2)}",
            "INSERT INTO audit_leaves (leaf_number, event_id, leaf_hash, chain_hash, "
            "sequenced_at) SELECT 3, (SELECT max(id) FROM audit_events), leaf_hash, "
            "chain_hash, sequenced_at FROM audit_leaves WHERE leaf_number = 2",
        ],
        "leaf 3 breaks the chain",
        "FAILED: head of size 8",
    ),
    "a head signed by another key": (
        [],  # see test_a_head_signed_by_another_key
        "not signed by any of the hub's audit keys",
        "FAILED: head of size 13",
    ),
}


@pytest.mark.parametrize("how", [case for case in TAMPERING if "head" not in case])
async def test_both_verifiers_name_the_place_of_an_edit(how: str, ledger: Ledger) -> None:
    statements, hub_names, verifier_names = TAMPERING[how]
    async with ledger.administrator() as session:
        for statement in statements:
            await session.execute(text(statement))
    problem = await ledger.hub_says()
    assert problem is not None
    assert hub_names in problem, problem
    checked = await ledger.verifier_says()
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert verifier_names in checked.stdout, checked.stdout


async def test_a_head_signed_by_another_key(ledger: Ledger) -> None:
    async with ledger.administrator() as session:
        await forge_head(session, 13, Ed25519PrivateKey.generate())
    _, hub_names, verifier_names = TAMPERING["a head signed by another key"]
    problem = await ledger.hub_says()
    assert problem is not None
    assert hub_names in problem, problem
    checked = await ledger.verifier_says()
    assert checked.returncode == 1, checked.stdout
    assert verifier_names in checked.stdout, checked.stdout
    assert "key" in checked.stdout, checked.stdout


async def test_a_truncated_tail_is_caught_by_the_heads_kept_outside(ledger: Ledger) -> None:
    """The administrator removes the last five events, their leaves and subtrees, and the
    head that covered them: the log is consistent in itself, but a kept head is beyond it."""
    async with ledger.administrator() as session:
        for statement in (
            "DELETE FROM audit_head_deliveries",
            "DELETE FROM audit_tree_heads WHERE tree_size > 8",
            'DELETE FROM audit_nodes WHERE ("index" + 1) * (1 << level) > 8',
            "CREATE TEMPORARY TABLE gone AS SELECT event_id FROM audit_leaves "
            "WHERE leaf_number >= 8",
            "DELETE FROM audit_leaves WHERE leaf_number >= 8",
            "DELETE FROM audit_events WHERE id IN (SELECT event_id FROM gone)",
        ):
            await session.execute(text(statement))
    problem = await ledger.hub_says()
    assert problem is not None, "the truncated log passed"
    assert "kept head" in problem, problem
    assert "of size 13" in problem, problem
    assert "truncated" in problem, problem
    checked = await ledger.verifier_says()
    assert checked.returncode == 1, checked.stdout
    assert "FAILED: kept head of size 13" in checked.stdout, checked.stdout


async def test_history_rewritten_and_signed_again_is_caught_by_a_kept_head(
    ledger: Ledger,
) -> None:
    """The real threat: an administrator who holds the key edits an event, recomputes its
    hash, numbers the log again (leaves, chain, subtrees) and signs new heads of the same
    sizes. Everything in the database agrees; only the heads that left the hub do not."""
    async with ledger.administrator() as session:
        event = await session.scalar(
            select(AuditEvent)
            .join(AuditLeaf, AuditLeaf.event_id == AuditEvent.id)
            .where(AuditLeaf.leaf_number == 5)
        )
        assert event is not None
        event.action = "test.rewritten"
        event.event_hash = event_hash(canonical(document(event))).hex()
        for table in ("audit_head_deliveries", "audit_tree_heads", "audit_nodes", "audit_leaves"):
            await session.execute(text(f"DELETE FROM {table}"))
    await sequenced(ledger.sessions)
    async with ledger.administrator() as session:
        signer = await open_audit_key(session, ledger.vault, utcnow())
        assert signer is not None
        for size in (8, 13):
            await forge_head(session, size, signer.key)
    async with ledger.sessions() as session:
        alone = await verify(session)
    assert alone.problem is None, "the rewrite should hold in the database alone"
    assert alone.heads == 2
    problem = await ledger.hub_says()
    assert problem is not None, "the rewritten log passed"
    assert "kept head" in problem, problem
    assert "of size 8" in problem, problem
    assert "rewritten" in problem, problem
    checked = await ledger.verifier_says()
    assert checked.returncode == 1, checked.stdout
    assert "FAILED: kept head of size 8" in checked.stdout, checked.stdout


async def test_an_export_is_what_the_documentation_says(ledger: Ledger) -> None:
    target = ledger.directory / "export.jsonl"
    async with ledger.sessions() as session:
        with target.open("wb") as out:
            done = await export(session, out, NAME, utcnow())
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert (done.events, done.heads) == (13, 2)
    assert lines[0]["type"] == "log"
    assert lines[0]["format"] == "p2c-hub-audit-export/1"
    assert lines[0]["tree_size"] == 13
    assert [line["leaf"] for line in lines[1:14]] == list(range(13))
    assert [line["type"] for line in lines[14:]] == ["head", "head"]
