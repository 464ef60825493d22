"""The audit ledger: one event per change in the change's transaction, none for a refusal,
the canonical form, gapless sequencing that never skips an open transaction, tables that
refuse edits, and ``verify`` catching what a database administrator could do."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.audit.canonical import canonical
from hub.audit.ledger import Trail, trail
from hub.audit.models import AuditEvent, AuditLeaf
from hub.audit.sequencer import Floor, sequence_all
from hub.audit.verify import verify
from hub.auth.principal import Principal
from hub.auth.scopes import ClientKind, Scope
from hub.db import create_engine, create_session_factory
from hub.organisations import commands as organisations
from hub.organisations.models import OrganisationType
from hub.organisations.service import OrganisationDraft
from hub.pledges import commands as pledges
from hub.pledges.models import FocusArea, PledgeType
from hub.pledges.rules import PledgeDraft
from tests.fixtures.database import asyncpg_dsn
from tests.fixtures.factories import add_member
from tests.fixtures.live import LiveHub
from tests.fixtures.oauth import basic
from tests.fixtures.partners import Partners, move


async def events(factory: async_sessionmaker[AsyncSession]) -> list[AuditEvent]:
    async with factory() as session:
        return list(await session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


async def sequenced(
    factory: async_sessionmaker[AsyncSession], floor: Floor | None = None, seconds: float = 20
) -> int:
    """Sequence until every event is in the log; how many leaves. On PostgreSQL a transaction
    open anywhere on the server (another test's) holds sequencing back until it ends."""
    async with asyncio.timeout(seconds):
        while True:
            await sequence_all(factory, floor)
            async with factory() as session:
                written = await session.scalar(select(func.count()).select_from(AuditEvent))
                numbered = await session.scalar(select(func.count()).select_from(AuditLeaf))
            if written == numbered:
                return int(numbered or 0)
            await asyncio.sleep(0.1)


def test_the_canonical_form_is_what_the_standard_library_writes() -> None:
    document = {
        "time": datetime(2026, 12, 6, 16, 50, 5, 123456, tzinfo=UTC),
        "b": [Decimal("12.50"), date(2026, 1, 2), None, True, 7],
        "a": {"naïve": "São Tomé"},
    }
    form = canonical(document)
    assert (
        form
        == (
            '{"a":{"naïve":"São Tomé"},"b":["12.5","2026-01-02",null,true,7],'
            '"time":"2026-12-06T16:50:05.123456Z"}'
        ).encode()
    )
    again = json.dumps(json.loads(form), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert again.encode() == form
    with pytest.raises(TypeError, match="float"):
        canonical({"amount": 1.5})
    with pytest.raises(TypeError, match="aware"):
        canonical({"time": datetime(2026, 1, 1)})


async def test_a_mutation_writes_one_event_with_its_actor_and_a_refusal_none(
    partners: Partners,
) -> None:
    pledge = await partners.create(title="Audited")
    await partners.ok("alpha", move("submitPledge"), id=pledge["id"])
    before = await events(partners.session_factory)
    refused = await partners.gql("alpha", move("publishPledge"), id=pledge["id"])
    assert refused["errors"][0]["extensions"]["code"] == "MISSING_SCOPE"
    assert [e.id for e in await events(partners.session_factory)] == [e.id for e in before]
    response = await partners.post(
        "secretariat", move("publishPledge"), {"id": pledge["id"]},
        headers={"Idempotency-Key": "publish-audited-1", "X-Request-Id": "req-audit-1"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    [event] = (await events(partners.session_factory))[len(before) :]
    assert (event.action, event.entity_type) == ("pledge.publish", "Pledge")
    assert event.actor_kind == "SECRETARIAT"
    assert event.actor_client_id is not None
    assert event.actor_member_id is None
    assert (event.request_id, event.idempotency_key) == ("req-audit-1", "publish-audited-1")
    changes = json.loads(event.changes)
    assert changes["publication_status"] == {"before": "SUBMITTED", "after": "PUBLISHED"}
    assert changes["published_at"]["before"] is None


async def test_a_connector_and_the_console_are_named_as_actors(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        member = await add_member(session, "Connected Bank")
        await session.commit()
    connector = Principal(
        kind=ClientKind.CONNECTOR,
        client_id="iati-sync",
        member_id=member.id,
        scopes=frozenset({Scope.PLEDGES_WRITE}),
    )
    draft = PledgeDraft(
        title="Imported", pledge_type=PledgeType.FINANCIAL, focus_areas=(FocusArea.ACCESS,)
    )
    async with session_factory() as session:
        trail(session, Trail(connector="iati", sync_run_id=7))
        await pledges.create(session, connector, draft, ())
        await session.commit()
    console = Principal(
        kind=ClientKind.SECRETARIAT, client_id="console", scopes=frozenset({Scope.MEMBERS_ADMIN})
    )
    async with session_factory() as session:
        trail(session, Trail(operator="ada"))
        await organisations.add(
            session,
            console,
            OrganisationDraft(name="Console Org", organisation_type=OrganisationType.CIVIL_SOCIETY),
        )
        await session.commit()
    created, added = (await events(session_factory))[-2:]
    assert (created.action, created.actor_kind, created.connector, created.sync_run_id) == (
        "pledge.create",
        "CONNECTOR",
        "iati",
        7,
    )
    assert json.loads(created.changes)["title"] == {"before": None, "after": "Imported"}
    assert (added.action, added.actor_client_id, added.actor_operator) == (
        "organisation.create",
        "console",
        "ada",
    )


async def test_events_are_sequenced_without_gaps_and_the_log_verifies(
    partners: Partners,
) -> None:
    for n in range(3):
        await partners.create(title=f"Pledge {n}")
    await sequenced(partners.session_factory)
    async with partners.session_factory() as session:
        numbers = list(
            await session.scalars(select(AuditLeaf.leaf_number).order_by(AuditLeaf.leaf_number))
        )
        total = await session.scalar(select(func.count()).select_from(AuditEvent))
        verdict = await verify(session)
    assert numbers == list(range(total or 0))
    assert len(numbers) >= 3
    assert verdict.problem is None
    assert verdict.leaves == len(numbers)


async def test_the_ledger_refuses_updates_and_deletes(
    backend: str, session_factory: async_sessionmaker[AsyncSession], partners: Partners
) -> None:
    await partners.create(title="Kept")
    await sequenced(session_factory)
    statements = [
        "UPDATE audit_events SET action = 'x'",
        "DELETE FROM audit_events",
        "UPDATE audit_leaves SET leaf_hash = 'x'",
        "DELETE FROM audit_leaves",
    ]
    if backend == "postgresql":
        statements += ["TRUNCATE audit_events CASCADE", "TRUNCATE audit_leaves"]
    for statement in statements:
        async with session_factory() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))


async def test_an_open_transaction_is_never_skipped(postgres_database_url: str) -> None:
    """One writer holds its transaction open across several sequencer runs while others
    commit: nothing after it is numbered until it ends, and then every event is, gapless."""
    engine = create_engine(postgres_database_url)
    factory = create_session_factory(engine)
    try:
        async with factory() as session:
            member = await add_member(session, "Writer")
            await session.commit()
        principal = Principal(
            kind=ClientKind.PARTNER,
            client_id="writer",
            member_id=member.id,
            scopes=frozenset({Scope.PLEDGES_WRITE}),
        )
        draft = PledgeDraft(title="T", pledge_type=PledgeType.POLICY)
        floor = Floor()  # kept across runs, as a serving process keeps it
        before = await sequenced(factory, floor)
        async with factory() as held:
            await pledges.create(held, principal, draft, ())
            await held.flush()  # its event is written, its transaction open

            async def commit_one() -> None:
                async with factory() as session:
                    await pledges.create(session, principal, draft, ())
                    await session.commit()

            await asyncio.gather(*(commit_one() for _ in range(8)))
            for _ in range(3):
                await sequence_all(factory, floor)
            async with factory() as session:
                numbered = await session.scalar(select(func.count()).select_from(AuditLeaf))
            assert numbered == before  # nothing passes the open transaction
            await held.commit()
        assert await sequenced(factory, floor) == before + 9
        async with factory() as session:
            leaves = list(await session.scalars(select(AuditLeaf).order_by(AuditLeaf.leaf_number)))
            written = await session.scalar(select(func.count()).select_from(AuditEvent))
            assert [leaf.leaf_number for leaf in leaves] == list(range(written or 0))
            assert (await verify(session)).problem is None
    finally:
        await engine.dispose()


async def _tampered(url: str, engine: AsyncEngine, *statements: str) -> str | None:
    """What ``verify`` says after an administrator drops the triggers and runs ``statements``."""
    if url.startswith("postgresql"):
        admin = await asyncpg.connect(asyncpg_dsn(url))
        try:
            for table in ("audit_events", "audit_leaves"):
                await admin.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            for statement in statements:
                await admin.execute(statement)
        finally:
            await admin.close()
    else:
        async with engine.connect() as connection:
            for table in ("audit_events", "audit_leaves"):
                for operation in ("update", "delete"):
                    await connection.execute(text(f"DROP TRIGGER {table}_no_{operation}"))
            for statement in statements:
                await connection.execute(text(statement))
            await connection.commit()
    async with create_session_factory(engine)() as session:
        return (await verify(session)).problem


TAMPERING: dict[str, tuple[list[str], str]] = {
    "edited": (
        ["UPDATE audit_events SET action = 'pledge.nothing' WHERE id = (SELECT event_id FROM "
         "audit_leaves WHERE leaf_number = 2)"],
        "was changed",
    ),
    "edited, hash and all": (
        ["UPDATE audit_events SET action = 'x', event_hash = 'ab' WHERE id = (SELECT event_id "
         "FROM audit_leaves WHERE leaf_number = 1)"],
        "leaf 1",
    ),
    "deleted": (["DELETE FROM audit_leaves WHERE leaf_number = 2"], "leaf 2 is missing"),
    "swapped": (  # two events exchange what they say, each with its own hash
        ["CREATE TEMPORARY TABLE swap AS SELECT l.leaf_number, e.changes, e.event_hash, "
         "e.entity_id FROM audit_leaves l JOIN audit_events e ON e.id = l.event_id "
         "WHERE l.leaf_number IN (1, 2)",
         "UPDATE audit_events SET changes = (SELECT changes FROM swap WHERE leaf_number = 3 - "
         "(SELECT leaf_number FROM audit_leaves WHERE event_id = audit_events.id)), "
         "event_hash = (SELECT event_hash FROM swap WHERE leaf_number = 3 - "
         "(SELECT leaf_number FROM audit_leaves WHERE event_id = audit_events.id)), "
         "entity_id = (SELECT entity_id FROM swap WHERE leaf_number = 3 - "
         "(SELECT leaf_number FROM audit_leaves WHERE event_id = audit_events.id)) "
         "WHERE id IN (SELECT event_id FROM audit_leaves WHERE leaf_number IN (1, 2))"],
        "leaf 1",
    ),
    "inserted": (
        ["UPDATE audit_leaves SET leaf_number = leaf_number + 100 WHERE leaf_number >= 2"],
        "leaf 2 is missing",
    ),
    "emptied": (["DELETE FROM audit_leaves", "DELETE FROM audit_events"], "emptied"),
    "truncated": (["TRUNCATE audit_leaves, audit_events"], "emptied"),
}  # fmt: skip


@pytest.mark.parametrize("how", list(TAMPERING))
async def test_verify_catches_what_an_administrator_could_do(
    how: str, database_url: str, engine: AsyncEngine, partners: Partners
) -> None:
    for n in range(4):
        await partners.create(title=f"Pledge {n}")
    await sequenced(partners.session_factory)
    async with partners.session_factory() as session:
        assert (await verify(session)).problem is None
    statements, named = TAMPERING[how]
    if how == "truncated" and not database_url.startswith("postgresql"):
        statements = TAMPERING["emptied"][0]  # SQLite has no TRUNCATE: DELETE is its own
    problem = await _tampered(database_url, engine, *statements)
    assert problem is not None
    assert named in problem, problem


async def test_a_revoked_token_is_an_event_of_the_client_that_revoked_it(hub: LiveHub) -> None:
    token = hub.partners.tokens["beta"]
    revoked = await hub.partners.http.post(
        "/oauth/revoke", data={"token": token}, auth=basic(hub.clients["beta"])
    )
    assert revoked.status_code == 200
    [event] = [e for e in await events(hub.partners.session_factory) if e.action == "token.revoke"]
    assert event.actor_client_id == hub.clients["beta"].client.client_id
    assert event.actor_member_id == hub.partners.members["beta"]
    assert event.actor_kind == "PARTNER"
