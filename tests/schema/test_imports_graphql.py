"""The connector administrators' root fields over HTTP with real tokens: connectors, sync
runs, dead letters and the review queue, their filters and pages, their nodes hidden from
everyone else; and on pledges, texts in the languages a source wrote them and where an
imported pledge came from, for those who may see it, at a flat cost in SQL statements.

The records are made as the hub makes them: connectors, runs and dead letters through
``hub.imports``' services, pledges through the pledge services, and the rows an import leaves
beside a pledge (its source record, texts and review items) with the ORM.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.imports.connectors import ConnectorConfig, add_connector
from hub.imports.models import (
    Connector,
    ConnectorKind,
    ReviewEntry,
    ReviewStatus,
    SourceRecord,
    SourceState,
)
from hub.imports.runs import advance, dead_letter, finish, resolve, start_run
from hub.organisations.models import Organisation
from hub.pledges.models import PledgeText, TextField
from tests.fixtures.factories import add_pledge, add_published_pledge
from tests.fixtures.partners import Partners, gid, running_partners

SOURCE = "https://alpha.example/activities.xml"
DIGEST = "a" * 64
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class Seeded:
    """The keys of what ``seed`` made."""

    alpha_connector: int
    beta_connector: int
    failed_run: int
    resumed_run: int
    beta_run: int
    taken_letter: int
    open_letter: int
    beta_letter: int
    imported: int
    """Alpha's published pledge, imported: texts in three languages and a source record."""
    draft: int
    """Alpha's imported draft: a title in es-419 only."""
    written: int
    """Alpha's published pledge written in the hub: no texts, no source record."""
    reviews: list[int]


async def seed(factory: async_sessionmaker[AsyncSession], members: dict[str, int]) -> Seeded:
    """Two connectors (alpha's and beta's); alpha's first run fails after keeping two dead
    letters, its second resumes after it and takes one of them; beta's one run keeps one.
    Three pledges of alpha's and three review items."""
    async with factory() as session:
        alpha = await add_connector(
            session,
            "iati-alpha",
            ConnectorKind.IATI_FILE,
            members["alpha"],
            ConnectorConfig(reporting_orgs=("XM-DAC-ALPHA",), sectors=("22040",), publish=True),
        )
        beta = await add_connector(
            session,
            "iati-beta",
            ConnectorKind.IATI_FILE,
            members["beta"],
            ConnectorConfig(activity_ids=("XM-DAC-BETA-1",), tags=("99:P2C",)),
        )
        failed, _ = await start_run(session, alpha, SOURCE, DIGEST)
        advance(failed, 3, {"fetched": 3, "created": 1, "rejected": 2})
        taken = dead_letter(
            session, failed, source="iati", external_id="XM-DAC-ALPHA-9",
            place=f"{SOURCE}#2", reason="NO_TITLE: the activity has no title",
            payload="<iati-activity><iati-identifier>XM-DAC-ALPHA-9</iati-identifier>",
        )  # fmt: skip
        waiting = dead_letter(
            session, failed, source="iati", external_id=None, place=f"{SOURCE}#3",
            reason="UNREADABLE: not an activity", payload="<broken",
        )  # fmt: skip
        finish(failed, "the connection dropped")
        failed.started_at, failed.finished_at = T0, T0 + timedelta(seconds=90)
        await session.flush()
        resumed, resume = await start_run(session, alpha, SOURCE, DIGEST)
        assert resume.run_id == failed.id
        advance(resumed, 5, {"fetched": 2, "updated": 1, "unchanged": 1})
        resolve(taken, resumed)
        finish(resumed)
        resumed.started_at = T0 + timedelta(hours=1)
        resumed.finished_at = T0 + timedelta(hours=1, seconds=2.5)
        beta_run, _ = await start_run(session, beta, "file:///beta.xml", "b" * 64)
        advance(beta_run, 1, {"fetched": 1, "rejected": 1, "skipped": 4, "unclaimed": 2})
        beta_letter = dead_letter(
            session, beta_run, source="iati", external_id="XM-DAC-BETA-1",
            place="file:///beta.xml#1", reason="NO_COUNTRY", payload="<iati-activity/>",
        )  # fmt: skip
        await session.flush()

        lead = await session.get(Organisation, members["alpha"])
        assert lead is not None
        imported = await add_published_pledge(
            session, lead, title="Connect 500 schools", description="Fibre for rural schools."
        )
        draft = await add_pledge(session, lead, title="Train 1,000 teachers")
        written = await add_published_pledge(session, lead, title="Written in the hub")
        session.add_all(
            [
                PledgeText(pledge_id=imported.id, field=TextField.TITLE, language="en",
                           text="Connect 500 schools"),
                PledgeText(pledge_id=imported.id, field=TextField.TITLE, language="fr",
                           text="Connecter 500 écoles"),
                PledgeText(pledge_id=imported.id, field=TextField.TITLE, language="fr-ca",
                           text="Brancher 500 écoles"),
                PledgeText(pledge_id=imported.id, field=TextField.DESCRIPTION, language="fr",
                           text="De la fibre pour les écoles rurales."),
                PledgeText(pledge_id=draft.id, field=TextField.TITLE, language="es-419",
                           text="Formar a 1.000 docentes"),
            ]
        )  # fmt: skip
        session.add(
            SourceRecord(
                source="iati", external_id="XM-DAC-ALPHA-1", state=SourceState.PLEDGE,
                connector_id=alpha.id, sync_run_id=resumed.id, pledge_id=imported.id,
                reporting_org="XM-DAC-ALPHA", content_hash="c" * 64, place=f"{SOURCE}#1",
                notes=json.dumps(["the title was cut to 500 characters"]),
                gaps=json.dumps(["targets"]), pending=True, pledge_only=True,
            )
        )  # fmt: skip
        entries = [
            ReviewEntry(
                source="iati", external_id="XM-DAC-ALPHA-1", pledge_id=imported.id,
                subject="ORGANISATION", code="(no name)", names="Ministère de l'Éducation",
                reason="no IATI identifier: create the organisation", status=ReviewStatus.OPEN,
                sync_run_id=resumed.id,
            ),
            ReviewEntry(
                source="iati", external_id="XM-DAC-ALPHA-1", pledge_id=imported.id,
                subject="REGION", code="298", names="Africa, regional",
                reason="a region that is no country group", status=ReviewStatus.OPEN,
                sync_run_id=resumed.id,
            ),
            ReviewEntry(
                source="iati", external_id="XM-DAC-BETA-1", pledge_id=None,
                subject="ORGANISATION", code="XM-DAC-GAMMA", names="Gamma",
                reason="unknown organisation", status=ReviewStatus.RESOLVED,
                sync_run_id=beta_run.id,
            ),
        ]  # fmt: skip
        session.add_all(entries)
        await session.flush()
        finish(beta_run)
        await session.commit()
        return Seeded(
            alpha.id, beta.id, failed.id, resumed.id, beta_run.id, taken.id, waiting.id,
            beta_letter.id, imported.id, draft.id, written.id, [e.id for e in entries],
        )  # fmt: skip


@pytest.fixture
async def hub(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[tuple[Partners, Seeded]]:
    """The partners' hub (with the SQL figures of HUB_DEBUG) and the seeded imports."""
    async with running_partners(database_url, session_factory, debug=True) as partners:
        yield partners, await seed(session_factory, partners.members)


def errors_of(body: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Each error's code and field."""
    return [(e["extensions"]["code"], e["extensions"].get("field")) for e in body["errors"]]


# ------------------------------------------------------------------------------------------
# connectors and syncRuns

CONNECTORS = """
query($first: Int, $after: String) {
  connectors(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id name kind activityIds reportingOrgs sectors tags identifiers publish
      member { name }
    } }
  }
}"""

RUNS = """
query($connector: ID, $status: SyncRunStatus, $first: Int, $after: String, $last: Int) {
  syncRuns(connector: $connector, status: $status, first: $first, after: $after, last: $last) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { node {
      id runId status source sourceDigest position error durationSeconds
      fetched created updated unchanged rejected unclaimed skipped
      startedAt finishedAt
      connector { name }
      resumedFrom { runId status }
    } }
  }
}"""


async def test_connectors_by_name_with_their_selection_and_member(
    hub: tuple[Partners, Seeded],
) -> None:
    p, s = hub
    data = await p.ok("secretariat", CONNECTORS, first=1)
    page = data["connectors"]
    assert page["totalCount"] == 2
    assert page["pageInfo"]["hasNextPage"] is True
    [alpha] = [edge["node"] for edge in page["edges"]]
    assert alpha == {
        "id": gid("Connector", s.alpha_connector),
        "name": "iati-alpha",
        "kind": "IATI_FILE",
        "activityIds": [],
        "reportingOrgs": ["XM-DAC-ALPHA"],
        "sectors": ["22040"],
        "tags": [],
        "identifiers": [],
        "publish": True,
        "member": {"name": "Alpha Telecom"},
    }
    after = page["pageInfo"]["endCursor"]
    rest = (await p.ok("secretariat", CONNECTORS, first=100, after=after))["connectors"]
    assert [e["node"]["name"] for e in rest["edges"]] == ["iati-beta"]
    assert rest["edges"][0]["node"]["tags"] == ["99:P2C"]
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_sync_runs_newest_first_with_counts_duration_and_resumption(
    hub: tuple[Partners, Seeded],
) -> None:
    p, s = hub
    page = (await p.ok("secretariat", RUNS, first=10))["syncRuns"]
    assert page["totalCount"] == 3
    runs = [edge["node"] for edge in page["edges"]]
    assert [r["runId"] for r in runs] == [s.beta_run, s.resumed_run, s.failed_run]
    beta, resumed, failed = runs
    assert failed == {
        "id": gid("SyncRun", s.failed_run),
        "runId": s.failed_run,
        "status": "FAILED",
        "source": SOURCE,
        "sourceDigest": DIGEST,
        "position": 3,
        "error": "the connection dropped",
        "durationSeconds": 90.0,
        "fetched": 3,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "rejected": 2,
        "unclaimed": 0,
        "skipped": 0,
        "startedAt": "2026-03-01T09:00:00+00:00",
        "finishedAt": "2026-03-01T09:01:30+00:00",
        "connector": {"name": "iati-alpha"},
        "resumedFrom": None,
    }
    assert resumed["status"] == "SUCCEEDED"
    assert resumed["error"] is None
    assert resumed["durationSeconds"] == 2.5
    assert resumed["resumedFrom"] == {"runId": s.failed_run, "status": "FAILED"}
    assert (resumed["position"], resumed["fetched"], resumed["updated"]) == (5, 2, 1)
    assert beta["connector"] == {"name": "iati-beta"}
    assert (beta["skipped"], beta["unclaimed"], beta["rejected"]) == (4, 2, 1)


async def test_sync_runs_filtered_and_paged(hub: tuple[Partners, Seeded]) -> None:
    p, s = hub

    async def run_ids(**arguments: Any) -> list[int]:
        page = (await p.ok("secretariat", RUNS, **arguments))["syncRuns"]
        assert page["totalCount"] >= len(page["edges"])
        return [edge["node"]["runId"] for edge in page["edges"]]

    alpha = gid("Connector", s.alpha_connector)
    assert await run_ids(first=10, connector=alpha) == [s.resumed_run, s.failed_run]
    assert await run_ids(first=10, status="FAILED") == [s.failed_run]
    assert await run_ids(first=10, status="RUNNING") == []
    assert await run_ids(first=10, connector=alpha, status="SUCCEEDED") == [s.resumed_run]
    assert await run_ids(last=1) == [s.failed_run]

    first = (await p.ok("secretariat", RUNS, first=2))["syncRuns"]
    assert first["pageInfo"]["hasNextPage"] is True
    after = first["pageInfo"]["endCursor"]
    second = (await p.ok("secretariat", RUNS, first=2, after=after))["syncRuns"]
    assert [e["node"]["runId"] for e in second["edges"]] == [s.failed_run]
    assert second["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "endCursor": second["pageInfo"]["endCursor"],
    }
    # A cursor is of one list: the same position under another filter is refused.
    body = await p.gql("secretariat", RUNS, first=2, after=after, status="FAILED")
    assert errors_of(body) == [("INVALID_CURSOR", ["after"])]


async def test_page_sizes_and_ids_are_checked(hub: tuple[Partners, Seeded]) -> None:
    p, s = hub
    for arguments, expected in (
        ({"first": 101}, ("PAGE_SIZE_OUT_OF_RANGE", ["first"])),
        ({"first": 0}, ("PAGE_SIZE_OUT_OF_RANGE", ["first"])),
        ({}, ("PAGE_SIZE_REQUIRED", ["first"])),
        ({"first": 5, "connector": gid("Pledge", s.imported)}, ("INVALID_ID", ["connector"])),
    ):
        body = await p.gql("secretariat", RUNS, **arguments)
        assert body["data"] is None, body
        assert errors_of(body) == [expected], arguments
    body = await p.gql("secretariat", RUNS, first=5, connector="not a global id")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ID"
    body = await p.gql("secretariat", LETTERS, first=5, connector=gid("SyncRun", s.beta_run))
    assert errors_of(body) == [("INVALID_ID", ["connector"])]
    body = await p.gql("secretariat", REVIEW, first=101)
    assert errors_of(body) == [("PAGE_SIZE_OUT_OF_RANGE", ["first"])]


# ------------------------------------------------------------------------------------------
# deadLetters and reviewQueue

LETTERS = """
query($connector: ID, $status: DeadLetterStatus, $first: Int) {
  deadLetters(connector: $connector, status: $status, first: $first) {
    totalCount
    edges { node {
      id letterId status source externalId place reason payload attempts resolvedAt
      connector { name }
      run { runId }
      resolvedBy { runId }
    } }
  }
}"""

OPEN_LETTERS = """
query($first: Int) { deadLetters(first: $first) { totalCount edges { node { letterId } } } }
"""


async def test_dead_letters_open_by_default_oldest_first(hub: tuple[Partners, Seeded]) -> None:
    p, s = hub
    data = await p.ok("secretariat", OPEN_LETTERS, first=10)
    assert [e["node"]["letterId"] for e in data["deadLetters"]["edges"]] == [
        s.open_letter,
        s.beta_letter,
    ]
    page = (await p.ok("secretariat", LETTERS, first=10, status="OPEN"))["deadLetters"]
    assert page["totalCount"] == 2
    waiting = page["edges"][0]["node"]
    assert waiting == {
        "id": gid("DeadLetter", s.open_letter),
        "letterId": s.open_letter,
        "status": "OPEN",
        "source": "iati",
        "externalId": None,
        "place": f"{SOURCE}#3",
        "reason": "UNREADABLE: not an activity",
        "payload": "<broken",
        "attempts": 1,
        "resolvedAt": None,
        "connector": {"name": "iati-alpha"},
        "run": {"runId": s.failed_run},
        "resolvedBy": None,
    }


async def test_dead_letters_by_status_and_connector(hub: tuple[Partners, Seeded]) -> None:
    p, s = hub

    async def letters(**arguments: Any) -> list[dict[str, Any]]:
        page = (await p.ok("secretariat", LETTERS, first=10, **arguments))["deadLetters"]
        assert page["totalCount"] == len(page["edges"])
        return [edge["node"] for edge in page["edges"]]

    [taken] = await letters(status="RESOLVED")
    assert taken["letterId"] == s.taken_letter
    assert taken["externalId"] == "XM-DAC-ALPHA-9"
    assert taken["payload"].startswith("<iati-activity>")
    assert taken["run"] == {"runId": s.failed_run}
    assert taken["resolvedBy"] == {"runId": s.resumed_run}
    assert taken["resolvedAt"] is not None
    every = await letters(status=None)
    assert [letter["letterId"] for letter in every] == [
        s.taken_letter,
        s.open_letter,
        s.beta_letter,
    ]
    beta = gid("Connector", s.beta_connector)
    assert [letter["letterId"] for letter in await letters(connector=beta)] == [s.beta_letter]
    alpha = gid("Connector", s.alpha_connector)
    assert await letters(connector=alpha, status="RESOLVED") == [taken]


REVIEW = """
query($status: ReviewStatus, $subject: String, $first: Int) {
  reviewQueue(status: $status, subject: $subject, first: $first) {
    totalCount
    edges { node {
      id subject code names reason status source externalId
      pledge { title }
      run { runId }
    } }
  }
}"""

OPEN_REVIEW = "query { reviewQueue(first: 10) { totalCount edges { node { code } } } }"


async def test_the_review_queue_open_by_default_by_status_and_subject(
    hub: tuple[Partners, Seeded],
) -> None:
    p, s = hub
    data = await p.ok("secretariat", OPEN_REVIEW)
    assert data["reviewQueue"]["totalCount"] == 2
    assert [e["node"]["code"] for e in data["reviewQueue"]["edges"]] == ["(no name)", "298"]
    [region] = [
        e["node"]
        for e in (await p.ok("secretariat", REVIEW, first=10, subject="REGION"))["reviewQueue"][
            "edges"
        ]
    ]
    assert region == {
        "id": gid("ReviewItem", s.reviews[1]),
        "subject": "REGION",
        "code": "298",
        "names": "Africa, regional",
        "reason": "a region that is no country group",
        "status": "OPEN",
        "source": "iati",
        "externalId": "XM-DAC-ALPHA-1",
        "pledge": {"title": "Connect 500 schools"},
        "run": {"runId": s.resumed_run},
    }
    resolved = (await p.ok("secretariat", REVIEW, first=10, status="RESOLVED"))["reviewQueue"]
    assert [e["node"]["id"] for e in resolved["edges"]] == [gid("ReviewItem", s.reviews[2])]
    assert resolved["edges"][0]["node"]["pledge"] is None
    every = (await p.ok("secretariat", REVIEW, first=10, status=None))["reviewQueue"]
    assert every["totalCount"] == 3
    none = await p.ok("secretariat", REVIEW, first=10, subject="ORGANISATION", status="OPEN")
    assert none["reviewQueue"]["totalCount"] == 1


# ------------------------------------------------------------------------------------------
# Who may ask

ROOT_FIELDS = {
    "connectors": CONNECTORS,
    "syncRuns": RUNS,
    "deadLetters": LETTERS,
    "reviewQueue": REVIEW,
}


@pytest.mark.parametrize("who", ["alpha", "alpha_read", "auditor"])
async def test_callers_without_connectors_admin_are_refused(
    hub: tuple[Partners, Seeded], who: str
) -> None:
    p, _ = hub
    for name, document in ROOT_FIELDS.items():
        body = await p.gql(who, document, first=5)
        assert body["data"] is None, (name, body)
        assert errors_of(body) == [("MISSING_SCOPE", ["scope"])], name
        assert "connectors:admin" in body["errors"][0]["message"]
    for name, document in ROOT_FIELDS.items():
        body = await p.gql(None, document, first=5)
        assert errors_of(body) == [("UNAUTHENTICATED", [])], name


NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Connector { name }
    ... on SyncRun { runId }
    ... on DeadLetter { letterId }
    ... on ReviewItem { code }
  }
}"""

NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"


async def test_nodes_are_seen_by_connector_administrators_only(
    hub: tuple[Partners, Seeded],
) -> None:
    p, s = hub
    ids = [
        gid("Connector", s.beta_connector),
        gid("SyncRun", s.resumed_run),
        gid("DeadLetter", s.beta_letter),
        gid("ReviewItem", s.reviews[0]),
    ]
    found = [(await p.ok("secretariat", NODE, id=i))["node"] for i in ids]
    assert found == [
        {"__typename": "Connector", "id": ids[0], "name": "iati-beta"},
        {"__typename": "SyncRun", "id": ids[1], "runId": s.resumed_run},
        {"__typename": "DeadLetter", "id": ids[2], "letterId": s.beta_letter},
        {"__typename": "ReviewItem", "id": ids[3], "code": "(no name)"},
    ]
    missing = [gid("SyncRun", 10**6), gid("ReviewItem", 2**40)]
    data = await p.ok("secretariat", NODES, ids=[*ids, *missing])
    assert [n and n["__typename"] for n in data["nodes"]] == [
        "Connector", "SyncRun", "DeadLetter", "ReviewItem", None, None,
    ]  # fmt: skip
    for who in ("alpha", "beta", "alpha_read", "auditor", None):
        for i in ids:
            assert await p.ok(who, NODE, id=i) == {"node": None}, (who, i)
        assert await p.ok(who, NODES, ids=ids) == {"nodes": [None, None, None, None]}


# ------------------------------------------------------------------------------------------
# Pledges: texts in languages, and where they were imported from

TEXTS = """
query($id: ID!, $language: String) {
  node(id: $id) { ... on Pledge {
    title own: title(language: null)
    inLanguage: title(language: $language)
    description describedIn: description(language: $language)
    languages
  } }
}"""


async def test_title_and_description_in_a_language_with_fallbacks(
    hub: tuple[Partners, Seeded],
) -> None:
    p, s = hub
    imported = gid("Pledge", s.imported)

    async def texts(language: str | None, who: str | None = None, pledge: str = imported) -> Any:
        return (await p.ok(who, TEXTS, id=pledge, language=language))["node"]

    fr = await texts("fr")
    assert fr == {
        "title": "Connect 500 schools",
        "own": "Connect 500 schools",
        "inLanguage": "Connecter 500 écoles",
        "description": "Fibre for rural schools.",
        "describedIn": "De la fibre pour les écoles rurales.",
        "languages": ["en", "fr", "fr-ca"],
    }
    title = {
        language: (await texts(language))["inLanguage"]
        for language in ("fr-CA", "FR-ca", " fr ", "fr-BE", "fr-Latn-CA", "en-GB", "de", "", "-")
    }
    assert title == {
        "fr-CA": "Brancher 500 écoles",  # exact, any case
        "FR-ca": "Brancher 500 écoles",
        " fr ": "Connecter 500 écoles",
        "fr-BE": "Connecter 500 écoles",  # the primary language: the bare tag first
        "fr-Latn-CA": "Connecter 500 écoles",
        "en-GB": "Connect 500 schools",
        "de": "Connect 500 schools",  # none: the pledge's own
        "": "Connect 500 schools",
        "-": "Connect 500 schools",
    }
    canadian = await texts("fr-ca")
    assert canadian["describedIn"] == "De la fibre pour les écoles rurales."  # fr for fr-ca
    assert (await texts(None))["inLanguage"] == "Connect 500 schools"
    assert (await texts("de"))["describedIn"] == "Fibre for rural schools."

    draft = gid("Pledge", s.draft)
    spanish = await texts("es", "alpha", draft)  # es-419 for es: no bare es to prefer
    assert (spanish["inLanguage"], spanish["languages"]) == ("Formar a 1.000 docentes", ["es-419"])
    assert spanish["describedIn"] == ""  # the draft's own description: none written
    assert await p.ok(None, TEXTS, id=draft, language="es") == {"node": None}
    written = await texts("fr", pledge=gid("Pledge", s.written))
    assert (written["inLanguage"], written["languages"]) == ("Written in the hub", [])


IMPORTED_FROM = """
query($id: ID!) {
  node(id: $id) { ... on Pledge {
    importedFrom { source externalId place notes gaps pledgeOnly needsReview }
  } }
}"""


async def test_where_a_pledge_was_imported_from_is_for_its_lead_and_the_secretariat(
    hub: tuple[Partners, Seeded],
) -> None:
    p, s = hub
    imported = gid("Pledge", s.imported)
    expected = {
        "source": "iati",
        "externalId": "XM-DAC-ALPHA-1",
        "place": f"{SOURCE}#1",
        "notes": ["the title was cut to 500 characters"],
        "gaps": ["targets"],
        "pledgeOnly": True,
        "needsReview": True,
    }
    for who in ("alpha", "alpha_read", "secretariat"):
        data = await p.ok(who, IMPORTED_FROM, id=imported)
        assert data == {"node": {"importedFrom": expected}}, who
    for other in (None, "beta", "gamma", "auditor"):  # they see the published pledge, not this
        hidden = await p.ok(other, IMPORTED_FROM, id=imported)
        assert hidden == {"node": {"importedFrom": None}}, other
    for who in ("alpha", "secretariat"):
        written = await p.ok(who, IMPORTED_FROM, id=gid("Pledge", s.written))
        assert written == {"node": {"importedFrom": None}}, who


# ------------------------------------------------------------------------------------------
# What it costs

LIST_IN_FRENCH = """
query($first: Int!) {
  pledges(first: $first) {
    edges { node {
      title(language: "fr") description(language: "fr-CA") languages
      importedFrom { externalId notes }
    } }
  }
}"""

COSTED = {
    "syncRuns": "syncRuns(first: $first) { edges { node { runId connector { name } "
    "resumedFrom { runId connector { name } } } } }",
    "deadLetters": "deadLetters(status: null, first: $first) { edges { node { letterId "
    "connector { name } run { runId } resolvedBy { runId } } } }",
    "reviewQueue": "reviewQueue(status: null, first: $first) { edges { node { code "
    "pledge { title } run { runId connector { name } } } } }",
}


async def more_imports(
    factory: async_sessionmaker[AsyncSession], members: dict[str, int], seeded: Seeded, n: int
) -> None:
    """``n`` more imported pledges of alpha's, each with French texts, a source record and a
    review item; and ``n`` more runs of beta's, half of them failed (with two dead letters
    each) and half resuming after those: the same shapes as ``seed``'s, many times over."""
    async with factory() as session:
        lead = await session.get(Organisation, members["alpha"])
        assert lead is not None
        for i in range(n):
            pledge = await add_published_pledge(session, lead, title=f"Pledge {i}")
            session.add_all(
                [
                    PledgeText(pledge_id=pledge.id, field=TextField.TITLE, language="fr",
                               text=f"Engagement {i}"),
                    PledgeText(pledge_id=pledge.id, field=TextField.DESCRIPTION,
                               language="fr-ca", text=f"Description {i}"),
                    SourceRecord(
                        source="iati", external_id=f"XM-DAC-ALPHA-{100 + i}",
                        state=SourceState.PLEDGE, connector_id=seeded.alpha_connector,
                        sync_run_id=seeded.resumed_run, pledge_id=pledge.id,
                        content_hash="d" * 64, notes=json.dumps([f"note {i}"]),
                    ),
                    ReviewEntry(
                        source="iati", external_id=f"XM-DAC-ALPHA-{100 + i}",
                        pledge_id=pledge.id, subject="REGION", code=str(i), names="",
                        reason="a region", status=ReviewStatus.OPEN,
                        sync_run_id=seeded.resumed_run,
                    ),
                ]
            )  # fmt: skip
        await session.flush()
        connector = await session.get(Connector, seeded.beta_connector)
        assert connector is not None
        for i in range(n // 2):
            source = f"file:///beta-{i}.xml"
            failed, _ = await start_run(session, connector, source, "e" * 64)
            for place in (f"{source}#1", f"{source}#2"):
                dead_letter(session, failed, source="iati", external_id=None, place=place,
                            reason="NO_TITLE", payload=None)  # fmt: skip
            finish(failed, "stopped")
            await session.flush()
            again, resume = await start_run(session, connector, source, "e" * 64)
            assert resume.run_id == failed.id
            finish(again)
            await session.flush()
        await session.commit()


async def test_pages_cost_the_same_statements_for_few_and_for_many(
    hub: tuple[Partners, Seeded],
) -> None:
    p, s = hub

    async def statements(who: str, document: str, size: int) -> int:
        body = await p.gql(who, document, first=size)
        assert "errors" not in body, body
        [connection] = body["data"].values()
        assert len(connection["edges"]) == size
        count: int = body["extensions"]["sql"]["statements"]
        return count

    documents = {
        name: f"query($first: Int!) {{ {selection} }}" for name, selection in COSTED.items()
    }
    few = {name: await statements("secretariat", d, 3) for name, d in documents.items()}
    french_few = {who: await statements(who, LIST_IN_FRENCH, 3) for who in ("alpha", "secretariat")}
    await more_imports(p.session_factory, p.members, s, 30)
    many = {name: await statements("secretariat", d, 30) for name, d in documents.items()}
    french_many = {
        who: await statements(who, LIST_IN_FRENCH, 30) for who in ("alpha", "secretariat")
    }
    assert few == many
    assert french_few == french_many
    # count and page, then one batch each: texts, source records
    assert french_many == {"alpha": 4, "secretariat": 4}
    body = await p.ok("beta", LIST_IN_FRENCH, first=100)
    nodes = [edge["node"] for edge in body["pledges"]["edges"]]
    assert all(node["importedFrom"] is None for node in nodes)
    assert {node["title"] for node in nodes} >= {"Engagement 0", "Engagement 29"}
    assert {node["description"] for node in nodes} >= {"Description 0", "Description 29"}
