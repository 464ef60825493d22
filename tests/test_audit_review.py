"""Probes of an adversarial review of the audit ledger, kept as regression tests: the
sequencer's floor across a failed commit and concurrent sequencers, long request ids and file
names, secrets and decimals in events, double revocations, refused mutations beside good ones,
honest logs on each backend, and what verify catches."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import cli
from hub.audit.ledger import Trail, record_change, trail
from hub.audit.models import AuditEvent, AuditLeaf
from hub.audit.sequencer import Floor, sequence, sequence_all
from hub.audit.verify import verify
from hub.auth.principal import CONSOLE
from hub.countries.reference import BUNDLED_CHANGES, BUNDLED_COUNTRIES
from hub.db import create_engine, create_session_factory
from tests.fixtures.database import (
    asyncpg_dsn,
    postgres_admin,
    postgres_url,
)
from tests.fixtures.live import LiveHub
from tests.fixtures.oauth import basic
from tests.fixtures.partners import UPDATE, Partners, move, smart_pledge

Factory = async_sessionmaker[AsyncSession]


async def all_events(factory: Factory) -> list[AuditEvent]:
    async with factory() as session:
        return list(await session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


async def counts(factory: Factory) -> tuple[int, int]:
    async with factory() as session:
        written = await session.scalar(select(func.count()).select_from(AuditEvent))
        numbered = await session.scalar(select(func.count()).select_from(AuditLeaf))
    return int(written or 0), int(numbered or 0)


async def sequenced(factory: Factory, floor: Floor | None = None, seconds: float = 5) -> int:
    """Sequence with ``floor`` until every event is a leaf or ``seconds`` pass; the leaves."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        await sequence_all(factory, floor)
        written, numbered = await counts(factory)
        if written == numbered or asyncio.get_running_loop().time() > deadline:
            return numbered
        await asyncio.sleep(0.1)


async def first_event(factory: Factory, action: str) -> AuditEvent:
    return next(e for e in await all_events(factory) if e.action == action)


def probe(session: AsyncSession, entity_id: str = "1", **changes: object) -> None:
    record_change(
        session,
        CONSOLE,
        "probe.write",
        "Probe",
        entity_id,
        {name: {"before": None, "after": value} for name, value in changes.items()},
    )


# --- the sequencer's floor ------------------------------------------------------------------


async def test_a_run_whose_commit_failed_does_not_lose_its_events(
    session_factory: Factory,
) -> None:
    """The floor is raised inside ``sequence``, before the caller commits: when that commit
    fails (the database went away, a busy SQLite file), the leaves are rolled back but the
    floor stays raised, and this process never looks at those events again."""
    async with session_factory() as session:
        probe(session, n=1)
        await session.commit()
    floor = Floor()
    deadline = asyncio.get_running_loop().time() + 10
    while True:  # on PostgreSQL another open transaction on the server may hold it back
        async with session_factory() as session:
            taken, _ = await sequence(session, floor)
            await session.rollback()  # what a failed commit leaves
        if taken or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.1)
    assert taken == 1
    assert await sequenced(session_factory, floor, seconds=2) == 1, "the event was skipped for good"


async def test_verify_names_an_event_the_sequencer_passed_over(
    session_factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An event committed long ago that is not in the log was passed over: verify says so
    (here a floor set past it stands for whatever skipped it)."""
    async with session_factory() as session:
        probe(session, "skipped", n=1)
        await session.commit()
    async with session_factory() as session:
        skipped = await session.scalar(select(func.max(AuditEvent.id)))
        transaction = await session.scalar(select(func.max(AuditEvent.transaction_id)))
    above = (transaction or skipped or 0) + 1
    async with session_factory() as session:
        probe(session, "later", n=2)
        await session.commit()
    deadline = asyncio.get_running_loop().time() + 10
    while not await sequence_all(session_factory, Floor(above)):  # each run starts above it
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.1)
    async with session_factory() as session:
        assert (await verify(session)).problem is None  # just committed: it may yet come
    monkeypatch.setattr("hub.audit.verify.OVERDUE", timedelta(0))
    async with session_factory() as session:
        verdict = await verify(session)
    assert verdict.problem == f"event {skipped} was committed long ago and is not in the log"


async def test_concurrent_sequencers_and_writers_stay_gapless(
    postgres_database_url: str,
) -> None:
    """Several sequencers, each with its own floor, beside writers committing out of order."""
    engine = create_engine(postgres_database_url, pool_size=20)
    factory = create_session_factory(engine)
    try:

        async def write(n: int) -> None:
            async with factory() as session:
                probe(session, str(n), n=n)
                await session.flush()
                await asyncio.sleep(0.05 * (n % 4))  # commit out of id order
                await session.commit()

        async def sequencer(floor: Floor, stop: asyncio.Event) -> None:
            while not stop.is_set():
                await sequence_all(factory, floor)
                await asyncio.sleep(0.01)

        stop = asyncio.Event()
        sequencers = [asyncio.create_task(sequencer(Floor(), stop)) for _ in range(3)]
        for wave in range(4):
            await asyncio.gather(*(write(wave * 10 + n) for n in range(10)))
        stop.set()
        await asyncio.gather(*sequencers)
        assert await sequenced(factory, Floor(), seconds=20) == 40
        async with factory() as session:
            numbers = list(
                await session.scalars(select(AuditLeaf.leaf_number).order_by(AuditLeaf.leaf_number))
            )
            assert numbers == list(range(40))
            assert (await verify(session)).problem is None
    finally:
        await engine.dispose()


# --- the columns: what a valid request or import can put there --------------------------------


async def test_a_long_but_accepted_request_id_does_not_fail_the_write(partners: Partners) -> None:
    """The middleware accepts X-Request-Id up to 128 characters; audit_events.request_id is
    VARCHAR(64), so on PostgreSQL the event's INSERT fails and so does the mutation."""
    request_id = "r" * 100
    response = await partners.post(
        "alpha",
        """mutation C($input: PledgeInput!) { createPledge(input: $input) {
             pledge { id } userErrors { code } } }""",
        {"input": smart_pledge(title="Long request id")},
        headers={"X-Request-Id": request_id},
    )
    assert response.headers.get("x-request-id") == request_id
    body = response.json()
    assert "errors" not in body, body
    [event] = [e for e in await all_events(partners.session_factory) if e.request_id]
    assert event.request_id == request_id


async def test_an_import_of_a_file_with_a_long_name_is_recorded(session_factory: Factory) -> None:
    """``fx load`` names the file as the event's entity id, a VARCHAR(64)."""
    name = "imf_exchange_rates_monthly_average_all_currencies_2026-12-06_final.csv"
    assert len(name) > 64
    async with session_factory() as session:
        cli._record_import(session, "rates.load", "ExchangeRateFile", name, {"added": 3})
        await session.commit()
    [event] = await all_events(session_factory)
    assert event.entity_id == name


# --- state changes that escape the ledger ----------------------------------------------------


async def test_an_edit_of_the_title_alone_records_no_usd_rate_change(partners: Partners) -> None:
    """``changes_between`` compares ``str(Decimal)``: the in-memory rate of a USD pledge is
    Decimal(1), the stored one Decimal('1.00000000000000000000'), so every edit of a USD
    pledge records usd_rate changing from "1.000…" to "1" although it did not."""
    pledge = await partners.create(title="Dollars")
    edited = smart_pledge(title="Dollars, renamed")
    await partners.ok("alpha", UPDATE, id=pledge["id"], version=pledge["version"], input=edited)
    event = await first_event(partners.session_factory, "pledge.edit")
    changes = json.loads(event.changes)
    assert "usd_rate" not in changes, changes
    assert changes["title"] == {"before": "Dollars", "after": "Dollars, renamed"}


async def test_revoking_a_token_twice_is_one_event(hub: LiveHub) -> None:
    """The second revocation changes nothing (the deny-list insert does nothing) yet writes a
    second ``token.revoke`` saying revoked_at went from null to now."""
    token = hub.partners.tokens["gamma"]
    for _ in range(2):
        revoked = await hub.partners.http.post(
            "/oauth/revoke", data={"token": token}, auth=basic(hub.clients["gamma"])
        )
        assert revoked.status_code == 200
    found = [
        e for e in await all_events(hub.partners.session_factory) if e.action == "token.revoke"
    ]
    assert len(found) == 1, [json.loads(e.changes) for e in found]


# --- rollbacks and replays (passing probes) ---------------------------------------------------


async def test_a_refused_mutation_beside_a_good_one_leaves_only_the_good_ones_event(
    partners: Partners,
) -> None:
    pledge = await partners.create(title="Submitted")
    await partners.ok("alpha", move("submitPledge"), id=pledge["id"])
    before = len(await all_events(partners.session_factory))
    document = """mutation Two($input: PledgeInput!, $id: ID!) {
      a: createPledge(input: $input) { pledge { id } userErrors { code } }
      b: submitPledge(id: $id) { pledge { id } userErrors { code } }
    }"""
    headers = {"Idempotency-Key": f"two-{uuid.uuid4().hex}", "X-Request-Id": "two-1"}
    variables = {"input": smart_pledge(title="Second"), "id": pledge["id"]}
    first = await partners.post("alpha", document, variables, headers=headers)
    body = first.json()
    assert body["data"]["b"]["userErrors"], body  # refused: submitted already
    assert body["data"]["a"]["pledge"] is not None
    written = (await all_events(partners.session_factory))[before:]
    assert [(e.action, e.request_id) for e in written] == [("pledge.create", "two-1")]
    again = await partners.post("alpha", document, variables, headers=headers)
    assert again.json() == body
    assert len(await all_events(partners.session_factory)) == before + 1  # a replay: none


async def test_an_honest_log_verifies_on_each_backend(session_factory: Factory) -> None:
    async with session_factory() as session:
        trail(session, Trail(request_id="req-ü", idempotency_key="k"))
        probe(
            session,
            "São Tomé",
            decomposed="Sa\u0303o",
            composed="S\u00e3o",
            emoji="\U0001f30d",
            big=2**62,
            at=datetime(2026, 1, 1, tzinfo=UTC),
            quote='"\\\n',
        )
        await session.commit()
    assert await sequenced(session_factory, seconds=10) == 1
    async with session_factory() as session:
        verdict = await verify(session)
    assert verdict.problem is None
    assert verdict.leaves == 1


# --- verify -----------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_verify_names_a_removed_last_event_on_sqlite(
    session_factory: Factory, engine: object
) -> None:
    """SQLite never reuses an AUTOINCREMENT id and rolls sqlite_sequence back with its
    transaction, so ``max(id) < sqlite_sequence.seq`` proves events were removed (on
    PostgreSQL a rollback leaves gaps too: only tree heads kept elsewhere help, issue 10)."""
    for n in range(3):
        async with session_factory() as session:
            probe(session, str(n), n=n)
            await session.commit()
    assert await sequenced(session_factory) == 3
    async with session_factory() as session:
        for statement in (
            "DROP TRIGGER audit_events_no_delete",
            "DROP TRIGGER audit_leaves_no_delete",
            "DELETE FROM audit_leaves WHERE leaf_number = 2",
            "DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events)",
        ):
            await session.execute(text(statement))
        await session.commit()
    async with session_factory() as session:
        assert (await verify(session)).problem is not None


# --- the restricted role --------------------------------------------------------------------


@asynccontextmanager
async def lesser_role(url: str) -> AsyncIterator[str]:
    """A login role with the README's rights on the database at ``url``: its URL."""
    role = f"p2c_review_{uuid.uuid4().hex[:8]}"
    database = url.rsplit("/", 1)[1]
    admin = await postgres_admin()
    try:
        await admin.execute(f'CREATE ROLE "{role}" LOGIN')
        await admin.execute(f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"')
    finally:
        await admin.close()
    owner = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await owner.execute(
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}";'
            f' GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO "{role}";'
            f' REVOKE UPDATE, DELETE, TRUNCATE ON audit_events, audit_leaves FROM "{role}"'
        )
    finally:
        await owner.close()
    try:
        yield postgres_url(database).replace("postgres@", f"{role}@", 1)
    finally:
        owner = await asyncpg.connect(asyncpg_dsn(url))
        try:
            await owner.execute(f'DROP OWNED BY "{role}"')
        finally:
            await owner.close()
        admin = await postgres_admin()
        try:
            await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        finally:
            await admin.close()


async def test_the_serving_role_can_verify_an_empty_log(postgres_database_url: str) -> None:
    """verify reads audit_events_id_seq with SELECT; the README grants the serving role
    USAGE on sequences only, so ``audit verify`` on a new hub fails as that role."""
    async with lesser_role(postgres_database_url) as url:
        engine = create_engine(url)
        try:
            async with create_session_factory(engine)() as session:
                verdict = await verify(session)
        finally:
            await engine.dispose()
    assert verdict.problem is None


async def test_a_countries_load_that_changes_only_group_membership_is_recorded(
    database_url: str, session_factory: Factory, tmp_path: Path
) -> None:
    """An LDC graduation dropped from the changes file rewrites memberships and dated
    changes, yet the import's counts are only countries added and updated: no event."""
    countries = tmp_path / "countries.csv"
    countries.write_text(BUNDLED_COUNTRIES.read_text(encoding="utf-8-sig"), encoding="utf-8")
    lines = BUNDLED_CHANGES.read_text(encoding="utf-8-sig").splitlines()
    changes = tmp_path / "changes.csv"
    changes.write_text("\n".join(line for line in lines if "Samoa" not in line) + "\n")
    assert len(changes.read_text().splitlines()) == len(lines) - 1
    arguments = ["countries", "load", "--countries-file", str(countries)]
    arguments += ["--changes-file", str(changes)]
    result = await asyncio.to_thread(
        CliRunner().invoke, cli.main, arguments, env={"HUB_DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    assert "0 added, 0 updated" in result.output  # only memberships and changes moved
    actions = [e.action for e in await all_events(session_factory)]
    assert actions == ["countries.load"], "group membership changed without an event"


async def test_an_edit_of_targets_and_countries_is_in_its_event(partners: Partners) -> None:
    """``record`` snapshots the Pledge row only: target countries and target values live in
    child rows, so an edit of them is an event whose changes are just version/updated_at."""
    pledge = await partners.create(title="Children")
    edited = smart_pledge(title="Children", targetCountries=["MWI", "ZMB"])
    edited["targets"][0]["targetValue"] = "777"
    await partners.ok("alpha", UPDATE, id=pledge["id"], version=pledge["version"], input=edited)
    event = await first_event(partners.session_factory, "pledge.edit")
    changes = json.loads(event.changes)
    assert "ZMB" in event.changes, changes
    assert "777" in event.changes, changes


async def test_a_progress_report_event_holds_the_values_reported(partners: Partners) -> None:
    pledge = await partners.create(title="Reported")
    await partners.ok("alpha", move("submitPledge"), id=pledge["id"])
    await partners.ok("secretariat", move("publishPledge"), id=pledge["id"])
    report = {
        "periodStart": "2026-01-01",
        "periodEnd": "2026-06-30",
        "values": [{"targetId": pledge["targets"][0]["id"], "value": "4321"}],
    }
    await partners.ok(
        "alpha",
        """mutation R($pledgeId: ID!, $input: ProgressReportInput!) {
             reportProgress(pledgeId: $pledgeId, input: $input) {
               report { id } userErrors { code } } }""",
        pledgeId=pledge["id"],
        input=report,
    )
    [event] = [
        e for e in await all_events(partners.session_factory) if e.action.startswith("report")
    ]
    assert "4321" in event.changes, event.changes
