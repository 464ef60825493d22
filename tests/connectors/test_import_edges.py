"""The edges of the connector framework and the IATI import (issue 11): re-imports of a
changed file, money at its limits, files, runs and dead letters, and the console.

SQLite only unless a test says otherwise: none of this depends on the backend, and the file
stays quick.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.framework import Stopped, sync
from connectors.iati.importer import incoming, options_for
from hub.audit.delivery import Sessions
from hub.auth.principal import Principal
from hub.auth.scopes import MEMBER_WRITES, ClientKind
from hub.db import create_engine, create_session_factory
from hub.imports.connectors import ConnectorConfig, add_connector, get_connector
from hub.imports.models import (
    ConnectorKind,
    DeadLetter,
    LetterStatus,
    RunStatus,
    SourceRecord,
    SyncRun,
)
from hub.imports.queries import text_in
from hub.organisations.models import OrganisationType
from hub.pledges import commands as pledge_commands
from hub.pledges.models import Pledge, PledgeText, PledgeType, PublicationStatus, TextField
from hub.pledges.rules import PledgeDraft
from tests.connectors.test_iati_import import (  # noqa: F401  (rated: a fixture)
    RatedTemplates,
    fresh_database,
    rated,
    state_of,
    summary,
)
from tests.fixtures.factories import add_member

MEMBER = "XM-T"
PARTNER = "XM-PARTNER"

COMMITMENT = (
    '<transaction><transaction-type code="2"/><transaction-date iso-date="2020-01-15"/>'
    '<value value-date="2020-01-15">{value}</value></transaction>'
)
DISBURSEMENT = (
    '<transaction><transaction-type code="3"/><transaction-date iso-date="{on}"/>'
    '<value value-date="{on}">{value}</value></transaction>'
)
PARTNER_ORG = (
    '<participating-org ref="{ref}" role="{role}" type="22"><narrative>{ref} NGO</narrative>'
    "</participating-org>"
)
PERIOD = (
    '<period><period-start iso-date="{start}"/><period-end iso-date="{end}"/>'
    '<target value="{target}"/><actual value="{actual}"/></period>'
)
INDICATOR = (
    '<indicator measure="1"><title><narrative>{label}</narrative></title>'
    '<baseline year="2019" iso-date="2019-01-01" value="0"/>{periods}</indicator>'
)


def activity(
    identifier: str = "XM-T-1",
    *,
    reporter: str = MEMBER,
    title: str = "Connect schools",
    titles: str = "",
    sector: str = "",
    orgs: str = "",
    transactions: str | None = None,
    indicators: str = "",
    currency: str = "EUR",
) -> str:
    """One IATI 2.03 activity; DRAFT when imported (no sector: it needs classification)."""
    if transactions is None:
        transactions = COMMITMENT.format(value="1000000")
    results = f'<result type="1"><title><narrative>Results</narrative></title>{indicators}</result>'
    return (
        f'<iati-activity default-currency="{currency}" xml:lang="en">'
        f"<iati-identifier>{identifier}</iati-identifier>"
        f'<reporting-org ref="{reporter}" type="10"><narrative>Test government</narrative>'
        "</reporting-org>"
        f"<title><narrative>{title}</narrative>{titles}</title>"
        f'<participating-org ref="{reporter}" role="1"/>{orgs}'
        '<activity-status code="2"/><activity-date type="2" iso-date="2020-01-01"/>'
        f'<recipient-country code="KE"/>{sector}{transactions}'
        f"{results if indicators else ''}</iati-activity>"
    )


def document(*activities: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<iati-activities version="2.03">\n'
        + "\n".join(activities)
        + "\n</iati-activities>\n"
    ).encode()


async def add_member_connector(
    sessions: Sessions, name: str = "t", identifier: str = MEMBER, **config: Any
) -> int:
    async with sessions() as session:
        member = await add_member(
            session,
            name=f"Member {identifier}",
            organisation_type=OrganisationType.GOVERNMENT,
            iati_identifier=identifier,
        )
        settings = ConnectorConfig(**({"reporting_orgs": (identifier,)} | config))
        await add_connector(session, name, ConnectorKind.IATI_FILE, member.id, settings)
        await session.commit()
        return member.id


async def run(
    sessions: Sessions, data: bytes, *, connector: str = "t", label: str = "t.xml"
) -> SyncRun:
    """``p2c-hub import iati`` of ``data`` as the file ``/review/<label>``."""
    async with sessions() as session:
        found = await get_connector(session, connector)
        options = await options_for(session, found)
    digest = hashlib.sha256(data).hexdigest()
    return await sync(
        sessions,
        found,
        f"/review/{label}",
        digest,
        lambda resume: incoming(data, label, options, resume.position),
    )


@pytest.fixture
async def engines(
    rated: RatedTemplates,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """Two fresh SQLite databases with countries and rates: one for the re-import, one for
    the fresh import it must end up equal to."""
    async with (
        fresh_database(rated, "sqlite", tmp_path) as first,
        fresh_database(rated, "sqlite", tmp_path) as second,
    ):
        engine_a, engine_b = create_engine(first), create_engine(second)
        try:
            yield engine_a, engine_b
        finally:
            await engine_a.dispose()
            await engine_b.dispose()


async def reimport_equals_fresh(
    engines: tuple[AsyncEngine, AsyncEngine], before: bytes, after: bytes, parts: tuple[str, ...]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Import ``before`` then ``after`` into one database and ``after`` alone into the
    other; their summaries (keyed by what the source names) of ``parts``."""
    again, fresh = engines
    sessions_a, sessions_b = create_session_factory(again), create_session_factory(fresh)
    await add_member_connector(sessions_a)
    await add_member_connector(sessions_b)
    first = await run(sessions_a, before)
    assert first.rejected == 0
    second = await run(sessions_a, after)
    assert second.rejected == 0, "the re-import was refused (a dead letter)"
    await run(sessions_b, after)
    held, wanted = summary(await state_of(again)), summary(await state_of(fresh))
    return {p: held[p] for p in parts}, {p: wanted[p] for p in parts}


# ---------------------------------------------------------------------------------------------
# Re-import after a change must leave what a fresh import of the new file leaves


def two_periods(*, second: bool) -> str:
    periods = PERIOD.format(start="2020-01-01", end="2020-12-31", target=50, actual=40)
    if second:
        periods += PERIOD.format(start="2021-01-01", end="2021-12-31", target=100, actual=80)
    return INDICATOR.format(label="Schools connected", periods=periods)


async def test_a_result_period_removed_from_the_source_loses_its_report(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """The publisher corrects its file: the 2021 period was a mistake. The re-import removes
    the 2021 report and its value (not yet reviewed): what a fresh import of the new file
    leaves."""
    before = document(activity(indicators=two_periods(second=True)))
    after = document(activity(indicators=two_periods(second=False)))
    held, wanted = await reimport_equals_fresh(engines, before, after, ("reports", "values"))
    assert held == wanted


async def test_a_disbursement_year_removed_from_the_source_loses_its_report(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """A disbursement dated 2021 by mistake is re-dated 2020: the re-import removes the 2021
    disbursement report, and its reports and flows are those of a fresh import."""
    commitment = COMMITMENT.format(value="1000000")
    before = document(
        activity(transactions=commitment + DISBURSEMENT.format(on="2021-03-01", value="5000"))
    )
    after = document(
        activity(transactions=commitment + DISBURSEMENT.format(on="2020-03-01", value="5000"))
    )
    held, wanted = await reimport_equals_fresh(engines, before, after, ("reports", "flows"))
    assert held == wanted


async def test_a_partners_changed_role_is_what_the_reimport_holds(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """The partner was Implementing (4) and is now Funding (1): while it has not answered,
    the re-import invites it again as FUNDER, as a fresh import does."""
    before = document(activity(orgs=PARTNER_ORG.format(ref=PARTNER, role=4)))
    after = document(activity(orgs=PARTNER_ORG.format(ref=PARTNER, role=1)))
    held, wanted = await reimport_equals_fresh(engines, before, after, ("endorsements",))
    assert held == wanted


async def test_a_partner_removed_then_named_again_is_invited_again(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """v1 names the partner, v2 drops it (the import withdraws the invitation), v3 names it
    again: the import invites it anew (INVITED), as a fresh import of v3 does."""
    named = document(activity(orgs=PARTNER_ORG.format(ref=PARTNER, role=4)))
    dropped = document(activity())
    again, fresh = engines
    sessions = create_session_factory(again)
    await add_member_connector(sessions)
    for data in (named, dropped):
        assert (await run(sessions, data)).rejected == 0
    third = await run(sessions, named)
    assert third.rejected == 0
    sessions_b = create_session_factory(fresh)
    await add_member_connector(sessions_b)
    await run(sessions_b, named)
    held = summary(await state_of(again))["endorsements"]
    wanted = summary(await state_of(fresh))["endorsements"]
    assert held == wanted


async def test_an_indicator_removed_from_the_source_after_progress_is_still_imported(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """The publisher drops an indicator that had an actual: the hub never drops a target with
    progress, so the import keeps that target and still takes the rest of the change."""
    kept = INDICATOR.format(
        label="Schools connected",
        periods=PERIOD.format(start="2020-01-01", end="2020-12-31", target=50, actual=40),
    )
    dropped = INDICATOR.format(
        label="Teachers trained",
        periods=PERIOD.format(start="2020-01-01", end="2020-12-31", target=10, actual=5),
    )
    before = document(activity(indicators=kept + dropped))
    after = document(activity(indicators=kept, title="Connect schools, revised"))
    again, _ = engines
    sessions = create_session_factory(again)
    await add_member_connector(sessions)
    assert (await run(sessions, before)).created == 1
    second = await run(sessions, after)
    async with sessions() as session:
        reasons = list(await session.scalars(select(DeadLetter.reason)))
        title = await session.scalar(select(Pledge.title))
    assert (second.updated, second.rejected, reasons) == (1, 0, []), reasons
    assert title == "Connect schools, revised"


def member_principal(member_id: int) -> Principal:
    return Principal(
        kind=ClientKind.PARTNER,
        client_id="member-app",
        member_id=member_id,
        scopes=frozenset(MEMBER_WRITES),
    )


async def test_a_pledge_whose_target_the_member_removed_is_updated_by_the_next_import(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """The member edits its imported draft through the partner API (updatePledge without the
    imported target); the publisher then retitles the activity. The import forgets the
    removed target's id, writes the indicator's target anew and updates the pledge."""
    indicator = INDICATOR.format(
        label="Schools connected",
        periods=PERIOD.format(start="2020-01-01", end="2020-12-31", target=50, actual=40),
    ).replace('<actual value="40"/>', "")
    engine, _ = engines
    sessions = create_session_factory(engine)
    member_id = await add_member_connector(sessions)
    assert (await run(sessions, document(activity(indicators=indicator)))).created == 1
    async with sessions() as session:
        pledge = await session.scalar(select(Pledge))
        assert pledge is not None
        draft = PledgeDraft(title="Our own words", pledge_type=PledgeType.FINANCIAL)
        await pledge_commands.update(
            session, member_principal(member_id), pledge.id, pledge.version, draft, []
        )
        await session.commit()
    changed = document(activity(indicators=indicator, title="Connect schools, revised"))
    second = await run(sessions, changed)
    async with sessions() as session:
        reasons = list(await session.scalars(select(DeadLetter.reason)))
    assert (second.updated, reasons) == (1, []), reasons


async def test_a_title_the_member_edits_is_what_every_language_gives(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """An edit of the title drops the source's translations of the old one, so after the
    member retitles its imported pledge, Pledge.title(language: "en") gives the new title."""
    engine, _ = engines
    sessions = create_session_factory(engine)
    member_id = await add_member_connector(sessions)
    assert (await run(sessions, document(activity()))).created == 1
    async with sessions() as session:
        pledge = await session.scalar(select(Pledge))
        assert pledge is not None
        draft = PledgeDraft(title="Our own words", pledge_type=PledgeType.FINANCIAL)
        await pledge_commands.update(
            session, member_principal(member_id), pledge.id, pledge.version, draft, []
        )
        await session.commit()
        texts = list(await session.scalars(select(PledgeText)))
    # what schema/pledges.py's Pledge.title resolver answers for language "en"
    assert (text_in(texts, TextField.TITLE, "en") or "Our own words") == "Our own words"


# ---------------------------------------------------------------------------------------------
# Money


async def test_a_commitment_with_more_decimals_than_its_currency_is_rounded_not_refused(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """The README: a value is "rounded half-even to the currency's smallest unit, noted";
    the pledged amount is rounded as its flows are, so the activity is imported, not refused."""
    engine, _ = engines
    sessions = create_session_factory(engine)
    await add_member_connector(sessions)
    data = document(activity(transactions=COMMITMENT.format(value="1000.125")))
    done = await run(sessions, data)
    async with sessions() as session:
        reasons = list(await session.scalars(select(DeadLetter.reason)))
        pledge = await session.scalar(select(Pledge))
    assert (done.created, reasons) == (1, []), reasons
    assert pledge is not None
    assert (pledge.amount_minor, pledge.currency) == (100012, "EUR")  # half-even


async def test_an_unknown_currency_drops_the_flow_not_the_activity(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """A transaction in a code that is no ISO 4217 currency (here the activity's
    default-currency ``XBT``) is "not a flow: noted", as the README's table says; the pledge
    is imported without an amount (noted), not refused."""
    engine, _ = engines
    sessions = create_session_factory(engine)
    await add_member_connector(sessions)
    done = await run(sessions, document(activity(currency="XBT")))
    async with sessions() as session:
        reasons = list(await session.scalars(select(DeadLetter.reason)))
    assert (done.created, reasons) == (1, []), reasons


async def test_a_transaction_dated_at_the_calendars_edge_is_a_dead_letter_not_a_failed_run(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """A publisher's placeholder value-date 0001-01-01 (or 9999-12-31): the rate lookup stays
    within the calendar (and a value past any limit is an UNSTORABLE dead letter of its own),
    so the run succeeds and reads every activity of the file."""
    engine, _ = engines
    sessions = create_session_factory(engine)
    await add_member_connector(sessions)
    odd = COMMITMENT.format(value="1000").replace("2020-01-15", "0001-01-01")
    data = document(activity("XM-T-1", transactions=odd), activity("XM-T-2"), activity("XM-T-3"))
    try:
        done = await run(sessions, data)
    except Stopped as stopped:
        done = stopped.run
    assert done.status is RunStatus.SUCCEEDED, done.error
    assert (done.created + done.rejected, done.fetched) == (3, 3)


# ---------------------------------------------------------------------------------------------
# Files, runs and dead letters


async def open_letters_now(sessions: Sessions) -> list[DeadLetter]:
    async with sessions() as session:
        return list(
            await session.scalars(select(DeadLetter).where(DeadLetter.status == LetterStatus.OPEN))
        )


async def test_a_fixed_file_closes_the_dead_letter_its_broken_version_left(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """A download cut short leaves an UNREADABLE dead letter (no payload, no key), which no
    record or retry can take: a later run that reads the same source to its end resolves it,
    so ``deadletters list`` no longer shows it."""
    engine, _ = engines
    sessions = create_session_factory(engine)
    await add_member_connector(sessions)
    whole = document(activity("XM-T-1"), activity("XM-T-2"), activity("XM-T-3"))
    cut = await run_stopped(sessions, whole[: len(whole) // 2])
    assert cut.status is RunStatus.FAILED
    assert len(await open_letters_now(sessions)) == 1
    fixed = await run(sessions, whole)
    assert fixed.status is RunStatus.SUCCEEDED
    assert [letter.reason for letter in await open_letters_now(sessions)] == []


async def run_stopped(sessions: Sessions, data: bytes, **options: Any) -> SyncRun:
    try:
        return await run(sessions, data, **options)
    except Stopped as stopped:
        return stopped.run


async def test_an_identifier_twice_in_one_file_is_unchanged_when_imported_again(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """Two activities with the same iati-identifier and different content in one file (a
    publisher's mistake, seen in real files): the first is the pledge, the second a
    DUPLICATE dead letter, so importing the unchanged file again updates nothing (no audit
    events, no material change resetting co-endorsements)."""
    engine, _ = engines
    sessions = create_session_factory(engine)
    await add_member_connector(sessions)
    data = document(activity("XM-T-1", title="First"), activity("XM-T-1", title="Second"))
    await run(sessions, data)
    again = await run(sessions, data)
    assert (again.updated, again.unchanged + again.rejected) == (0, 2)


async def test_a_connector_may_not_claim_another_members_identifier(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """``connectors add --also-reports-as`` refuses an identifier another member holds
    (IDENTIFIER_OF_ANOTHER): the hub never makes a pledge on an organisation's behalf, and
    such a connector would import that member's activities as its own member's."""
    engine, _ = engines
    sessions = create_session_factory(engine)
    await add_member_connector(sessions, "other", identifier="GB-1")
    async with sessions() as session:
        mine = await add_member(session, name="Mine", iati_identifier=MEMBER)
        config = ConnectorConfig(reporting_orgs=("GB-1",), identifiers=("GB-1",))
        try:
            await add_connector(session, "t", ConnectorKind.IATI_FILE, mine.id, config)
        except Exception:  # refused: what the hub must do
            return
        await session.commit()
    done = await run(sessions, document(activity("GB-1-7", reporter="GB-1")))
    assert done.created == 0, "GB-1's activity became a pledge of another member"


SMART_INDICATOR = INDICATOR.format(
    label="Schools connected",
    periods=PERIOD.format(start="2020-01-01", end="2030-12-31", target=500, actual=40),
)
SECTOR = '<sector vocabulary="1" code="22040"/>'


async def retry(sessions: Sessions, *ids: int) -> SyncRun:
    """``p2c-hub deadletters retry ID...``, as connectors/cli.py does it, in this process."""
    from functools import partial

    from connectors.cli import _given
    from connectors.letters import rereader
    from hub.imports.runs import open_letters

    async with sessions() as session:
        letters = await open_letters(session, ids=ids)
        connector = await get_connector(session, "t")
        reread = await rereader(session, connector)
    again = [reread(letter) for letter in letters]
    return await sync(sessions, connector, None, None, partial(_given, again))


async def refused_twice(sessions: Sessions) -> DeadLetter:
    """A SMART-complete pledge (SUBMITTED), then two later versions of its activity, each
    refused UNDER_REVIEW (the newer letter supersedes the older: one record, one open
    letter); then the secretariat returns the pledge."""
    from hub.pledges.service import return_pledge

    await add_member_connector(sessions)
    for title in ("First", "Second", "Third"):
        data = document(activity(title=title, sector=SECTOR, indicators=SMART_INDICATOR))
        await run(sessions, data, label=f"{title}.xml")
    letters = await open_letters_now(sessions)
    assert [letter.reason.split(":")[0] for letter in letters] == ["UNDER_REVIEW"]
    assert letters[0].payload is not None
    assert "Third" in letters[0].payload
    async with sessions() as session:
        pledge = await session.scalar(select(Pledge))
        assert pledge is not None
        assert pledge.publication_status is PublicationStatus.SUBMITTED
        await return_pledge(session, pledge.id, "over to you")
        await session.commit()
    return letters[0]


async def test_retrying_an_older_dead_letter_does_not_undo_a_newer_one(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """Only the newest version's letter stays open, so a retry cannot apply a stale one:
    the pledge ends with the "Third" title."""
    engine, _ = engines
    sessions = create_session_factory(engine)
    newest = await refused_twice(sessions)
    await retry(sessions, newest.id)
    async with sessions() as session:
        title = await session.scalar(select(Pledge.title))
        still = await session.get(DeadLetter, newest.id)
    assert still is not None
    assert (title, still.status) == ("Third", LetterStatus.RESOLVED)


async def test_a_retried_dead_letter_keeps_its_place(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """A record taken by ``deadletters retry`` keeps the place its letter gives (where the
    activity was read), which Pledge.importedFrom.place shows."""
    engine, _ = engines
    sessions = create_session_factory(engine)
    newer = await refused_twice(sessions)
    await retry(sessions, newer.id)
    async with sessions() as session:
        place = await session.scalar(select(SourceRecord.place))
    assert place == newer.place


async def test_an_overlong_identifier_is_a_dead_letter_on_postgresql(
    rated: RatedTemplates,  # noqa: F811
    tmp_path: Path,
) -> None:
    """An activity whose key is longer than the 500 characters source_records.external_id
    holds (SQLite does not enforce lengths, PostgreSQL does): the database's refusal makes
    that activity an UNSTORABLE dead letter and the run reads on; what stops a run is told in
    one line, never with the SQL and its parameters."""
    async with fresh_database(rated, "postgresql", tmp_path) as url:
        engine = create_engine(url)
        try:
            sessions = create_session_factory(engine)
            await add_member_connector(sessions)
            data = document(activity("XM-T-" + "x" * 600), activity("XM-T-2"))
            done = await run_stopped(sessions, data)
        finally:
            await engine.dispose()
    assert "\n" not in (done.error or ""), done.error
    assert (done.status, done.created, done.rejected) == (RunStatus.SUCCEEDED, 1, 1)


# ---------------------------------------------------------------------------------------------
# The console


@pytest.mark.parametrize("backend", ["sqlite"])
def test_import_reports_the_files_it_imported_when_a_later_one_is_missing(
    database_url: str, tmp_path: Path
) -> None:
    """``p2c-hub import iati a.xml missing.xml``: a.xml is imported and the summary shows
    its run, with missing.xml as UNREAD; the command then fails, naming the missing file."""
    from click.testing import CliRunner

    from hub.cli import main

    cli = CliRunner()
    env = {"HUB_DATABASE_URL": database_url}

    def ok(*args: str) -> str:
        done = cli.invoke(main, list(args), env=env)
        assert done.exit_code == 0, done.output
        return done.output

    ok("members", "add", "--name", "T", "--type", "GOVERNMENT", "--iati", MEMBER, "--approve")
    ok("connectors", "add", "t", "--member", MEMBER, "--reporting-org", MEMBER)
    present = tmp_path / "a.xml"
    present.write_bytes(document(activity()))
    done = cli.invoke(
        main, ["import", "iati", str(present), str(tmp_path / "missing.xml")], env=env
    )
    assert done.exit_code != 0
    assert '"SUCCEEDED"' in ok("connectors", "runs", "t", "--json")  # a.xml was imported
    assert str(present) in done.output, done.output


@pytest.mark.parametrize("backend", ["sqlite"])
def test_retry_says_when_the_letters_named_are_another_connectors(
    database_url: str, tmp_path: Path
) -> None:
    """``deadletters retry 1 --connector u`` when letter 1 is connector t's fails, saying
    whose letter it is, rather than "no open dead letters" while letter 1 waits."""
    from click.testing import CliRunner

    from hub.cli import main

    cli = CliRunner()
    env = {"HUB_DATABASE_URL": database_url}

    def invoke(*args: str) -> Any:
        return cli.invoke(main, list(args), env=env)

    invoke("members", "add", "--name", "T", "--type", "GOVERNMENT", "--iati", MEMBER, "--approve")
    for name in ("t", "u"):
        invoke("connectors", "add", name, "--member", MEMBER, "--reporting-org", MEMBER)
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"<html><body>Not found</body></html>")
    invoke("import", "iati", str(broken), "--connector", "t")
    assert '"id": 1' in invoke("deadletters", "list", "--json").output
    done = invoke("deadletters", "retry", "1", "--connector", "u")
    assert done.exit_code != 0 or "no open dead letters" not in done.output, done.output
