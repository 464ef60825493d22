"""The auditors' root fields over HTTP with real tokens (docs/audit.md): the audit trail and
its criteria, the endorsement trail with the terms each step was taken on, signed tree heads
and the proofs that check the log against them, audit events as nodes, and what a page costs
in SQL statements.

The hub under test signs no head and sequences nothing by itself (its two background tasks
idle), so a test decides when events become leaves (``sequenced``) and when heads are signed
(``signed_head``), and sees an event before it is in the log.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.audit import heads, sequencer
from hub.audit.heads import sign_head
from hub.audit.ledger import Trail, trail
from hub.audit.merkle import EMPTY_ROOT, node_hash, verify_consistency, verify_inclusion
from hub.audit.models import AuditEvent, AuditLeaf
from hub.audit.notes import public_bytes, read, signed_by, verifier_key
from hub.auth.principal import CONSOLE, Principal
from hub.auth.scopes import MEMBER_WRITES, ClientKind
from hub.endorsements import commands as endorsements
from hub.endorsements.models import Role
from hub.keys.models import KeyPurpose
from hub.keys.service import audit_public_key, ensure_audit_key, keys_for
from hub.organisations import commands as organisations
from hub.organisations.models import OrganisationType
from hub.organisations.service import OrganisationDraft
from hub.pledges import commands as pledges
from hub.pledges.models import FocusArea, PledgeType
from hub.pledges.rules import PledgeDraft
from hub.types import utcnow
from tests.fixtures.factories import add_member
from tests.fixtures.oauth import VAULT
from tests.fixtures.partners import (
    INVITE,
    RESPOND,
    REVOKE,
    UPDATE,
    Partners,
    gid,
    running_partners,
    smart_pledge,
)

LOG_NAME = "p2c-hub/audit"


async def _idle_sequencer(session_factory: object, stop: asyncio.Event) -> None:
    await stop.wait()


async def _idle_signer(
    sessions: object,
    vault: object,
    targets: object,
    interval: float,
    stop: asyncio.Event,
    *_: object,
) -> None:
    await stop.wait()


@pytest.fixture
async def auditing(
    database_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Partners]:
    """The partners' hub (with the SQL figures of HUB_DEBUG), whose sequencer and head signer
    wait for the end without doing anything."""
    monkeypatch.setattr(sequencer, "run", _idle_sequencer)
    monkeypatch.setattr(heads, "run", _idle_signer)
    async with running_partners(database_url, session_factory, debug=True) as running:
        yield running


async def sequenced(factory: async_sessionmaker[AsyncSession], seconds: float = 20) -> int:
    """Sequence until every event is a leaf; how many leaves. On PostgreSQL a transaction
    open anywhere on the server holds sequencing back until it ends: poll."""
    async with asyncio.timeout(seconds):
        while True:
            await sequencer.sequence_all(factory)
            async with factory() as session:
                written = await session.scalar(select(func.count()).select_from(AuditEvent))
                numbered = await session.scalar(select(func.count()).select_from(AuditLeaf))
            if written == numbered:
                return int(numbered or 0)
            await asyncio.sleep(0.1)


async def signed_head(factory: async_sessionmaker[AsyncSession]) -> int:
    """Sign a head of the log as it stands (making the audit key first); its size."""
    async with factory() as session:
        await ensure_audit_key(session, VAULT, utcnow(), LOG_NAME)
        head = await sign_head(session, VAULT, utcnow())
        await session.commit()
    assert head is not None
    return head.tree_size


async def audit_public(factory: async_sessionmaker[AsyncSession]) -> tuple[str, str, bytes]:
    """The audit key's id, name and raw public key."""
    async with factory() as session:
        [key] = await keys_for(session, KeyPurpose.AUDIT_SIGNING)
    name, public = audit_public_key(key)
    return key.kid, name, public


def key_of(global_id: str) -> int:
    """The row key in a global id."""
    _, _, key = base64.b64decode(global_id).decode().partition(":")
    return int(key)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def errors_of(body: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Each error's code and field."""
    return [(e["extensions"]["code"], e["extensions"].get("field")) for e in body["errors"]]


# ------------------------------------------------------------------------------------------
# The story most tests tell: a pledge, two invitations, an acceptance, a material edit that
# resets it, a new acceptance, a decline and a revocation.


TITLE = "Relier 500 écoles à São Tomé"
"""Not ASCII: the canonical form is UTF-8, and the hashes are over those bytes."""


@dataclass
class Story:
    pledge: dict[str, Any]
    beta: str
    gamma: str
    edit: dict[str, Any] | None = None


async def invited(p: Partners) -> Story:
    """Alpha's draft (2,500,000 USD for Malawi); beta invited as a funder, gamma as an
    implementer; beta accepts (4 events)."""
    pledge = await p.create(title=TITLE)
    beta = await p.invite(pledge["id"], "beta", ["FUNDER"])
    gamma = await p.invite(pledge["id"], "gamma", ["IMPLEMENTER"])
    await p.ok("beta", RESPOND, id=beta, answer="ACCEPT")
    return Story(pledge, beta, gamma)


async def edited(p: Partners, story: Story) -> None:
    """Alpha raises the amount to 3,000,000 USD and adds Kenya (a material edit, which puts
    beta back to INVITED); beta accepts again, gamma declines, alpha revokes beta (5 events)."""
    pledge = story.pledge
    targets = [{**smart_pledge()["targets"][0], "id": pledge["targets"][0]["id"]}]
    changed = smart_pledge(
        title=TITLE,
        pledgedAmount={"amount": "3000000.00", "currency": "USD"},
        targetCountries=["MWI", "KEN"],
        targets=targets,
    )
    data = await p.ok("alpha", UPDATE, id=pledge["id"], version=pledge["version"], input=changed)
    story.edit = data["updatePledge"]
    assert story.edit["materialChanges"] == ["pledgedAmount", "targetCountries"]
    assert story.edit["resetEndorsements"] == 1
    await p.ok("beta", RESPOND, id=story.beta, answer="ACCEPT")
    await p.ok("gamma", RESPOND, id=story.gamma, answer="DECLINE")
    await p.ok("alpha", REVOKE, id=story.beta)


STORY_ACTIONS = [
    "pledge.create",
    "endorsement.invite",
    "endorsement.invite",
    "endorsement.accept",
    "pledge.edit",
    "endorsement.reset",
    "endorsement.accept",
    "endorsement.decline",
    "endorsement.revoke",
]


async def connector_and_console(factory: async_sessionmaker[AsyncSession], member: int) -> None:
    """A connector's import (connector iati, run 7) and an organisation the secretariat adds
    at the console (operator ada): events no HTTP request makes."""
    connector = Principal(
        kind=ClientKind.CONNECTOR, client_id="iati-sync", member_id=member, scopes=MEMBER_WRITES
    )
    draft = PledgeDraft(
        title="Imported", pledge_type=PledgeType.POLICY, focus_areas=(FocusArea.ACCESS,)
    )
    async with factory() as session:
        trail(session, Trail(connector="iati", sync_run_id=7))
        await pledges.create(session, connector, draft, ())
        await session.commit()
    async with factory() as session:
        trail(session, Trail(operator="ada"))
        organisation = OrganisationDraft(
            name="Console Org", organisation_type=OrganisationType.CIVIL_SOCIETY
        )
        await organisations.add(session, CONSOLE, organisation)
        await session.commit()


# ------------------------------------------------------------------------------------------
# auditTrail


EVENT_FIELDS = """
  id eventId leafIndex time action entityType entityId changes requestId idempotencyKey
  eventHash leafHash canonicalForm
  actor { kind clientId operator connector syncRunId member { id name } }
"""

TRAIL = f"""
query Trail(
  $entityId: ID, $actor: String, $action: String, $from: DateTime, $to: DateTime,
  $first: Int, $after: String, $last: Int, $before: String
) {{
  auditTrail(
    entityId: $entityId, actor: $actor, action: $action, from: $from, to: $to,
    first: $first, after: $after, last: $last, before: $before
  ) {{
    totalCount
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
    edges {{ cursor node {{ {EVENT_FIELDS} }} }}
  }}
}}"""

CLIENT_ID = "query { viewer { clientId } }"


async def trail_page(p: Partners, who: str = "auditor", **arguments: Any) -> dict[str, Any]:
    """A page of the trail (``from`` and ``to`` given as ``since`` and ``until``)."""
    renamed = {"from": arguments.pop("since", None), "to": arguments.pop("until", None)}
    data = await p.ok(who, TRAIL, **arguments, **renamed)
    page: dict[str, Any] = data["auditTrail"]
    return page


async def whole_trail(p: Partners, **criteria: Any) -> list[dict[str, Any]]:
    page = await trail_page(p, first=100, **criteria)
    assert page["totalCount"] == len(page["edges"])
    return [edge["node"] for edge in page["edges"]]


async def client_ids(p: Partners) -> dict[str, str]:
    found = {}
    for who in ("alpha", "beta", "gamma", "secretariat"):
        found[who] = (await p.ok(who, CLIENT_ID))["viewer"]["clientId"]
    return found


async def test_the_trail_holds_every_event_oldest_first_with_hashes_that_check(
    auditing: Partners,
) -> None:
    p = auditing
    story = await invited(p)
    await edited(p, story)
    refused = await p.gql(
        "beta",
        INVITE,
        pledgeId=story.pledge["id"],
        organisationId=gid("Organisation", p.members["gamma"]),
        roles=["FUNDER"],
    )
    assert refused["data"]["inviteEndorser"]["userErrors"]  # refused: no event
    published = await p.post(
        "alpha",
        "mutation($id: ID!) { submitPledge(id: $id) { userErrors { code } } }",
        {"id": story.pledge["id"]},
        headers={"X-Request-Id": "req-audit-7", "Idempotency-Key": "submit-once"},
    )
    assert published.json()["data"]["submitPledge"]["userErrors"] == []
    ids = await client_ids(p)

    events = await whole_trail(p)
    assert [e["action"] for e in events] == [*STORY_ACTIONS, "pledge.submit"]
    keys = [e["eventId"] for e in events]
    assert keys == sorted(keys)
    assert keys == [key_of(e["id"]) for e in events]
    times = [datetime.fromisoformat(e["time"]) for e in events]
    assert times == sorted(times)
    assert all(e["leafIndex"] is None and e["leafHash"] is None for e in events)

    for event in events:
        form = event["canonicalForm"].encode("utf-8")
        assert sha256(form) == event["eventHash"]
        document = json.loads(form)
        again = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert again.encode("utf-8") == form
        assert document["action"] == event["action"]
        assert document["entity"] == {"type": event["entityType"], "id": event["entityId"]}
        assert document["changes"] == event["changes"]
        assert document["actor"]["client_id"] == event["actor"]["clientId"]
        assert datetime.fromisoformat(document["time"]) == datetime.fromisoformat(event["time"])
    assert TITLE in events[0]["canonicalForm"]
    assert events[0]["changes"]["title"] == {"before": None, "after": TITLE}

    by = {"alpha": "Alpha Telecom", "beta": "Beta Foundation", "gamma": "Gamma Networks"}
    actors = ["alpha", "alpha", "alpha", "beta", "alpha", "alpha", "beta", "gamma", "alpha"]
    for event, who in zip(events, [*actors, "alpha"], strict=True):
        member = {"id": gid("Organisation", p.members[who]), "name": by[who]}
        assert event["actor"] == {
            "kind": "PARTNER",
            "clientId": ids[who],
            "operator": None,
            "connector": None,
            "syncRunId": None,
            "member": member,
        }
    assert (events[-1]["requestId"], events[-1]["idempotencyKey"]) == (
        "req-audit-7",
        "submit-once",
    )
    assert events[0]["requestId"] not in (None, "req-audit-7")

    leaves = await sequenced(p.session_factory)
    after = await whole_trail(p)
    assert leaves == len(after) == len(events)
    assert [e["leafIndex"] for e in after] == list(range(len(events)))
    for before, event in zip(events, after, strict=True):
        assert event["eventHash"] == before["eventHash"]
        assert event["canonicalForm"] == before["canonicalForm"]
        assert event["leafHash"] == sha256(b"\x00" + event["canonicalForm"].encode("utf-8"))


def matching(events: Sequence[dict[str, Any]], test: Callable[[dict[str, Any]], bool]) -> list[str]:
    return [e["id"] for e in events if test(e)]


async def test_each_criterion_narrows_the_trail(auditing: Partners) -> None:
    p = auditing
    story = await invited(p)
    await connector_and_console(p.session_factory, p.members["gamma"])
    await edited(p, story)
    ids = await client_ids(p)
    everything = await whole_trail(p)
    assert len(everything) == 11

    async def found(**criteria: Any) -> list[str]:
        return [e["id"] for e in await whole_trail(p, **criteria)]

    # entityId: a pledge, an endorsement, an organisation; never another type's same key
    [imported] = [e for e in everything if e["actor"]["connector"] == "iati"]
    [beta] = [e for e in everything if e["action"] == "endorsement.invite"][:1]
    assert imported["entityId"] == beta["entityId"]  # Pledge 2 and Endorsement 2
    pledge_events = await whole_trail(p, entityId=story.pledge["id"])
    assert [e["action"] for e in pledge_events] == ["pledge.create", "pledge.edit"]
    assert await found(entityId=gid("Pledge", int(imported["entityId"]))) == [imported["id"]]
    beta_events = await whole_trail(p, entityId=story.beta)
    assert [e["action"] for e in beta_events] == [
        "endorsement.invite",
        "endorsement.accept",
        "endorsement.reset",
        "endorsement.accept",
        "endorsement.revoke",
    ]
    [console] = [e for e in everything if e["actor"]["operator"] == "ada"]
    organisation = gid("Organisation", int(console["entityId"]))
    assert await found(entityId=organisation) == [console["id"]]
    assert await found(entityId=gid("Pledge", 424242)) == []

    # actor: a client id, a connector's name, a console operator
    alpha_actions = [e["action"] for e in await whole_trail(p, actor=ids["alpha"])]
    assert alpha_actions == [
        "pledge.create",
        "endorsement.invite",
        "endorsement.invite",
        "pledge.edit",
        "endorsement.reset",
        "endorsement.revoke",
    ]
    assert await found(actor=ids["beta"]) == matching(
        everything, lambda e: e["actor"]["clientId"] == ids["beta"]
    )
    assert len(await found(actor=ids["beta"])) == 2
    assert await found(actor="iati") == [imported["id"]]
    assert await found(actor="ada") == [console["id"]]
    assert await found(actor="console") == [console["id"]]
    assert await found(actor=ids["secretariat"]) == []
    assert imported["actor"] == {
        "kind": "CONNECTOR",
        "clientId": "iati-sync",
        "operator": None,
        "connector": "iati",
        "syncRunId": 7,
        "member": {"id": gid("Organisation", p.members["gamma"]), "name": "Gamma Networks"},
    }
    assert console["actor"] == {
        "kind": "SECRETARIAT",
        "clientId": "console",
        "operator": "ada",
        "connector": None,
        "syncRunId": None,
        "member": None,
    }

    # action: exactly, or a family; never a prefix of a word, never a LIKE pattern
    assert len(await found(action="endorsement.accept")) == 2
    assert len(await found(action="endorsement")) == 7
    assert [e["action"] for e in await whole_trail(p, action="pledge")] == [
        "pledge.create",
        "pledge.create",
        "pledge.edit",
    ]
    assert await found(action="organisation") == [console["id"]]
    for nothing in ("endorsement.accep", "endorse", "pledge.", "%", "_ledge", "pledge.%", ""):
        assert await found(action=nothing) == [], nothing

    # from (included) and to (excluded), given at any offset
    times = {e["id"]: datetime.fromisoformat(e["time"]) for e in everything}
    start, end = times[everything[3]["id"]], times[everything[9]["id"]]
    india, brazil = timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-3))
    since, until = start.astimezone(india).isoformat(), end.astimezone(brazil).isoformat()
    assert "+05:30" in since
    assert "-03:00" in until
    window = [e["id"] for e in everything[3:9]]
    assert await found(since=since, until=until) == window
    assert await found(since=since) == [e["id"] for e in everything[3:]]
    assert await found(until=until) == [e["id"] for e in everything[:9]]
    assert await found(since=start.isoformat().replace("+00:00", "Z")) == await found(since=since)
    assert await found(since=until, until=since) == []
    later = (end + timedelta(microseconds=1)).astimezone(brazil).isoformat()
    assert await found(until=later) == [e["id"] for e in everything[:10]]

    # combined: each criterion narrows what the others select
    combined = await found(actor=ids["alpha"], action="endorsement", since=since)
    assert combined == matching(
        everything,
        lambda e: (
            e["actor"]["clientId"] == ids["alpha"]
            and e["action"].startswith("endorsement.")
            and times[e["id"]] >= start
        ),
    )
    actions = {e["id"]: e["action"] for e in everything}
    assert [actions[i] for i in combined] == ["endorsement.reset", "endorsement.revoke"]
    accepted = await found(entityId=story.beta, action="endorsement.accept", until=until)
    assert accepted == matching(
        everything,
        lambda e: (
            e["entityType"] == "Endorsement"
            and e["entityId"] == str(key_of(story.beta))
            and e["action"] == "endorsement.accept"
            and times[e["id"]] < end
        ),
    )
    assert len(accepted) == 2
    assert await found(entityId=story.beta, action="endorsement.accept", since=until) == []
    assert await found(entityId=story.pledge["id"], actor=ids["beta"]) == []


async def test_the_trail_pages_forwards_and_backwards(auditing: Partners) -> None:
    p = auditing
    story = await invited(p)
    await edited(p, story)
    everything = [e["id"] for e in await whole_trail(p)]
    assert len(everything) == 9

    first = await trail_page(p, first=3)
    assert first["totalCount"] == 9
    assert [e["node"]["id"] for e in first["edges"]] == everything[:3]
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False
    assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]

    walked: list[str] = []
    after: str | None = None
    while True:
        page = await trail_page(p, first=4, after=after)
        assert page["totalCount"] == 9
        walked += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert walked == everything

    backwards: list[str] = []
    before: str | None = None
    while True:
        page = await trail_page(p, last=3, before=before)
        backwards = [e["node"]["id"] for e in page["edges"]] + backwards
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert backwards == everything

    last = await trail_page(p, last=2)
    assert [e["node"]["id"] for e in last["edges"]] == everything[-2:]
    assert last["pageInfo"]["hasPreviousPage"] is True
    assert last["pageInfo"]["hasNextPage"] is False
    cursor = first["edges"][2]["cursor"]  # the third event
    middle = await trail_page(p, last=2, before=cursor)
    assert [e["node"]["id"] for e in middle["edges"]] == everything[:2]
    between = await trail_page(p, first=5, after=first["edges"][0]["cursor"], before=cursor)
    assert [e["node"]["id"] for e in between["edges"]] == everything[1:2]

    # a filtered trail pages its own events, with a total of its own
    family = await trail_page(p, action="endorsement", first=2)
    assert family["totalCount"] == 7
    rest = await trail_page(
        p, action="endorsement", first=10, after=family["pageInfo"]["endCursor"]
    )
    assert len(rest["edges"]) == 5
    assert rest["pageInfo"]["hasPreviousPage"] is True


async def test_the_trail_refuses_bad_criteria_with_a_code_and_a_field(
    auditing: Partners,
) -> None:
    p = auditing
    story = await invited(p)
    target = story.pledge["targets"][0]["id"]

    async def refused(who: str | None = "auditor", **arguments: Any) -> list[Any]:
        renamed = {"from": arguments.pop("since", None), "to": arguments.pop("until", None)}
        body = await p.gql(who, TRAIL, first=arguments.pop("first", 5), **arguments, **renamed)
        assert body["data"] is None, body
        return errors_of(body)

    assert await refused(entityId=gid("Country", 1)) == [("INVALID_ID", ["entityId"])]
    country = base64.b64encode(b"Country:MWI").decode()
    assert await refused(entityId=country) == [("INVALID_ID", ["entityId"])]
    assert await refused(entityId=target) == [("INVALID_ID", ["entityId"])]
    assert await refused(entityId=gid("AuditEvent", 1)) == [("INVALID_ID", ["entityId"])]
    assert await refused(entityId=base64.b64encode(b"Pledge:x").decode()) == [
        ("INVALID_ID", ["entityId"])
    ]
    assert await refused(since="2026-01-01T00:00:00") == [("NAIVE_TIME", ["from"])]
    assert await refused(until="2026-01-01T00:00:00") == [("NAIVE_TIME", ["to"])]
    assert await refused(first=101) == [("PAGE_SIZE_OUT_OF_RANGE", ["first"])]
    assert await refused(first=0) == [("PAGE_SIZE_OUT_OF_RANGE", ["first"])]
    assert await refused(first=None, last=101) == [("PAGE_SIZE_OUT_OF_RANGE", ["last"])]
    assert await refused(first=None) == [("PAGE_SIZE_REQUIRED", ["first"])]
    other = (await trail_page(p, action="pledge", first=1))["pageInfo"]["endCursor"]
    assert await refused(action="endorsement", after=other) == [("INVALID_CURSOR", ["after"])]
    assert await refused(who="alpha") == [("MISSING_SCOPE", ["scope"])]
    assert await refused(who=None) == [("UNAUTHENTICATED", [])]
    body = await p.gql("auditor", TRAIL, first=5, entityId="not a global id")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ID"
    secretariat = await trail_page(p, who="secretariat", first=5)  # it holds audit:read too
    assert secretariat["totalCount"] == 4


# ------------------------------------------------------------------------------------------
# endorsementTrail


STEPS = """
query Steps($pledgeId: ID, $memberId: ID, $first: Int, $after: String, $last: Int) {
  endorsementTrail(
    pledgeId: $pledgeId, memberId: $memberId, first: $first, after: $after, last: $last
  ) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { node {
      id step endorsementId pledgeId terms organisation { id name }
      event { id action leafIndex actor { clientId member { name } } }
    } }
  }
}"""


async def steps_page(p: Partners, who: str = "auditor", **arguments: Any) -> dict[str, Any]:
    data = await p.ok(who, STEPS, **arguments)
    page: dict[str, Any] = data["endorsementTrail"]
    return page


def summary(page: dict[str, Any]) -> list[tuple[str, str, str, int, list[str]]]:
    """Each step: what, whose, by whom, and the amount and countries it was taken on."""
    return [
        (
            node["step"],
            node["organisation"]["name"],
            node["event"]["actor"]["member"]["name"],
            node["terms"]["amount_minor"],
            node["terms"]["target_countries"],
        )
        for node in (edge["node"] for edge in page["edges"])
    ]


async def test_the_endorsement_trail_gives_each_step_the_terms_it_was_taken_on(
    auditing: Partners,
) -> None:
    p = auditing
    story = await invited(p)
    await edited(p, story)
    gammas = await p.create("gamma", title="Gamma's own", targetCountries=["NPL"])
    invitation = await p.ok(
        "gamma",
        INVITE,
        pledgeId=gammas["id"],
        organisationId=gid("Organisation", p.members["beta"]),
        roles=["FUNDER"],
    )
    asked = invitation["inviteEndorser"]["endorsement"]["id"]
    await p.ok("beta", RESPOND, id=asked, answer="ACCEPT")

    old, new = (250_000_000, ["MWI"]), (300_000_000, ["KEN", "MWI"])
    alpha, beta, gamma = "Alpha Telecom", "Beta Foundation", "Gamma Networks"
    page = await steps_page(p, pledgeId=story.pledge["id"], first=20)
    assert page["totalCount"] == 7
    assert summary(page) == [
        ("INVITE", beta, alpha, *old),
        ("INVITE", gamma, alpha, *old),
        ("ACCEPT", beta, beta, *old),
        ("RESET", beta, alpha, *new),
        ("ACCEPT", beta, beta, *new),
        ("DECLINE", gamma, gamma, *new),
        ("REVOKE", beta, alpha, *new),
    ]
    nodes = [edge["node"] for edge in page["edges"]]
    assert [n["endorsementId"] for n in nodes] == [story.beta, story.gamma] + [story.beta] * 3 + [
        story.gamma,
        story.beta,
    ]
    assert {n["pledgeId"] for n in nodes} == {story.pledge["id"]}
    assert [n["event"]["action"] for n in nodes] == [
        a for a in STORY_ACTIONS if a.startswith("endorsement.")
    ]
    assert [n["id"] for n in nodes] == [
        gid("EndorsementStep", key_of(n["event"]["id"])) for n in nodes
    ]
    assert all(n["event"]["leafIndex"] is None for n in nodes)
    terms = nodes[2]["terms"]
    assert (terms["title"], terms["currency"], terms["publication_status"]) == (
        TITLE,
        "USD",
        "DRAFT",
    )
    assert terms["lead_member_id"] == p.members["alpha"]
    assert [t["target_value"] for t in terms["targets"]] == ["500"]
    assert not {"id", "version", "created_at", "updated_at"} & set(terms)
    assert nodes[3]["terms"]["usd_amount_minor"] == 300_000_000
    assert nodes[3]["terms"]["title"] == TITLE

    # by member: beta's steps, on any pledge, each with the terms of its own pledge
    theirs = await steps_page(p, memberId=gid("Organisation", p.members["beta"]), first=20)
    gamma_terms = (250_000_000, ["NPL"])
    assert summary(theirs) == [
        ("INVITE", beta, alpha, *old),
        ("ACCEPT", beta, beta, *old),
        ("RESET", beta, alpha, *new),
        ("ACCEPT", beta, beta, *new),
        ("REVOKE", beta, alpha, *new),
        ("INVITE", beta, gamma, *gamma_terms),
        ("ACCEPT", beta, beta, *gamma_terms),
    ]
    assert theirs["edges"][-1]["node"]["terms"]["title"] == "Gamma's own"
    gammas_steps = await steps_page(p, memberId=gid("Organisation", p.members["gamma"]), first=9)
    assert [s[0] for s in summary(gammas_steps)] == ["INVITE", "DECLINE"]
    alphas = await steps_page(p, memberId=gid("Organisation", p.members["alpha"]), first=9)
    assert alphas["totalCount"] == 0  # its own endorsements are LEAD: no step

    # pages: the terms of a later page are still rebuilt from every earlier event
    second = await steps_page(p, pledgeId=story.pledge["id"], first=3, after=None)
    rest = await steps_page(
        p, pledgeId=story.pledge["id"], first=10, after=second["pageInfo"]["endCursor"]
    )
    assert summary(second) + summary(rest) == summary(page)
    tail = await steps_page(p, pledgeId=story.pledge["id"], last=1)
    assert summary(tail) == summary(page)[-1:]
    assert tail["pageInfo"]["hasPreviousPage"] is True

    # after sequencing, the events carry their leaves
    await sequenced(p.session_factory)
    numbered = await steps_page(p, pledgeId=story.pledge["id"], first=20)
    assert [e["node"]["event"]["leafIndex"] for e in numbered["edges"]] == [1, 2, 3, 5, 6, 7, 8]
    assert summary(numbered) == summary(page)


async def test_the_endorsement_trail_takes_a_pledge_or_a_member(auditing: Partners) -> None:
    p = auditing
    story = await invited(p)
    member = gid("Organisation", p.members["beta"])

    async def refused(who: str | None = "auditor", **arguments: Any) -> list[Any]:
        body = await p.gql(who, STEPS, first=arguments.pop("first", 5), **arguments)
        assert body["data"] is None, body
        return errors_of(body)

    assert await refused() == [("ONE_OF", ["pledgeId"])]
    assert await refused(pledgeId=story.pledge["id"], memberId=member) == [("ONE_OF", ["pledgeId"])]
    assert await refused(pledgeId=member) == [("INVALID_ID", ["pledgeId"])]
    assert await refused(memberId=story.pledge["id"]) == [("INVALID_ID", ["memberId"])]
    assert await refused(pledgeId=story.pledge["id"], first=101) == [
        ("PAGE_SIZE_OUT_OF_RANGE", ["first"])
    ]
    assert await refused(who="beta", memberId=member) == [("MISSING_SCOPE", ["scope"])]
    assert await refused(who=None, memberId=member) == [("UNAUTHENTICATED", [])]
    assert (await steps_page(p, pledgeId=gid("Pledge", 424242), first=5))["totalCount"] == 0
    assert (await steps_page(p, memberId=member, first=5))["totalCount"] == 2


# ------------------------------------------------------------------------------------------
# treeHead, inclusionProof, consistencyProof


def mth(leaves: Sequence[bytes]) -> bytes:
    """RFC 9162 section 2.1.1, as written there."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """RFC 9162 section 2.1.3.1, PATH(m, D[n])."""
    if len(leaves) == 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: Sequence[bytes], whole: bool) -> list[bytes]:
    """RFC 9162 section 2.1.4.1, SUBPROOF(m, D[n], b)."""
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*subproof(m, leaves[:k], whole), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def proof(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]); empty from 0 and between equal sizes (docs/audit.md)."""
    return [] if m in (0, len(leaves)) else subproof(m, leaves, True)


HEAD = "treeSize rootHash signedAt keyId note"


def aliased(template: str, values: Sequence[Any]) -> str:
    """One query asking ``template`` (with {0}) once per value, as p0, p1…"""
    return "{ " + " ".join(f"p{i}: {template.format(v)}" for i, v in enumerate(values)) + " }"


def hexes(values: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


async def test_heads_and_proofs_verify_against_the_log(auditing: Partners) -> None:
    p = auditing
    nothing = await p.ok("auditor", f"{{ treeHead {{ {HEAD} }} }}")
    assert nothing == {"treeHead": None}
    assert await signed_head(p.session_factory) == 0  # the empty log has a head too
    empty = (await p.ok("auditor", f"{{ treeHead(treeSize: 0) {{ {HEAD} }} }}"))["treeHead"]
    assert bytes.fromhex(empty["rootHash"]) == EMPTY_ROOT
    assert read(empty["note"])[0].tree_size == 0
    story = await invited(p)
    m = await sequenced(p.session_factory)
    assert await signed_head(p.session_factory) == m == 4
    await edited(p, story)
    n = await sequenced(p.session_factory)
    assert await signed_head(p.session_factory) == n == 9

    data = await p.ok(
        "auditor",
        f"""query($m: Int!, $n: Int!) {{
          newest: treeHead {{ {HEAD} }}
          older: treeHead(treeSize: $m) {{ {HEAD} }}
          none: treeHead(treeSize: 5) {{ {HEAD} }}
          proof: consistencyProof(fromSize: $m, toSize: $n) {{
            fromSize toSize fromRoot toRoot path }}
          auditTrail(first: 100) {{ edges {{ node {{ eventId leafIndex leafHash }} }} }}
        }}""",
        m=m,
        n=n,
    )
    newest, older = data["newest"], data["older"]
    assert (newest["treeSize"], older["treeSize"], data["none"]) == (n, m, None)
    events = [edge["node"] for edge in data["auditTrail"]["edges"]]
    leaves = hexes([e["leafHash"] for e in events])
    assert [e["leafIndex"] for e in events] == list(range(n))
    assert bytes.fromhex(newest["rootHash"]) == mth(leaves)
    assert bytes.fromhex(older["rootHash"]) == mth(leaves[:m])

    # the notes: parsed, matching their heads, signed by the audit key
    kid, name, public = await audit_public(p.session_factory)
    assert name == LOG_NAME
    for head in (newest, older):
        checkpoint, body, signatures = read(head["note"])
        assert (checkpoint.origin, checkpoint.tree_size) == (LOG_NAME, head["treeSize"])
        assert checkpoint.root_hash == bytes.fromhex(head["rootHash"])
        assert checkpoint.time == datetime.fromisoformat(head["signedAt"])
        assert checkpoint.time.tzinfo is not None
        assert signed_by(body, signatures, name, public)
        stranger = public_bytes(Ed25519PrivateKey.generate().public_key())
        assert not signed_by(body, signatures, name, stranger)
        size = head["treeSize"]
        forged = body.replace(f"\n{size}\n".encode(), f"\n{size + 1}\n".encode())
        assert forged != body
        assert not signed_by(forged, signatures, name, public)
        verifier = verifier_key(name, public)  # name+keyid+base64, whose base64 may hold "+"
        assert head["keyId"] == kid == verifier[: len(kid)]
        assert verifier[len(kid)] == "+"
        assert [s.name for s in signatures] == [LOG_NAME]

    # the consistency proof between the two heads
    consistency = data["proof"]
    assert (consistency["fromSize"], consistency["toSize"]) == (m, n)
    assert (consistency["fromRoot"], consistency["toRoot"]) == (
        older["rootHash"],
        newest["rootHash"],
    )
    roots = bytes.fromhex(older["rootHash"]), bytes.fromhex(newest["rootHash"])
    assert verify_consistency(m, n, *roots, hexes(consistency["path"]))
    assert hexes(consistency["path"]) == proof(m, leaves)
    assert not verify_consistency(m, n, roots[1], roots[0], hexes(consistency["path"]))

    # every event's inclusion proof in the newest tree and, when it is there, in the older
    for size, root in ((n, roots[1]), (m, roots[0])):
        inside = events[:size]
        query = aliased(
            "inclusionProof(eventId: {0}, treeSize: " + str(size) + ") "
            "{{ eventId leafIndex treeSize leafHash rootHash path }}",
            [e["eventId"] for e in inside],
        )
        proofs = await p.ok("auditor", query)
        for i, event in enumerate(inside):
            found = proofs[f"p{i}"]
            assert found["eventId"] == event["eventId"]
            assert (found["leafIndex"], found["treeSize"]) == (i, size)
            assert found["leafHash"] == event["leafHash"]
            assert bytes.fromhex(found["rootHash"]) == root
            assert verify_inclusion(leaves[i], i, size, hexes(found["path"]), root)
            assert hexes(found["path"]) == path(i, leaves[:size])
            assert not verify_inclusion(leaves[i - 1], i, size, hexes(found["path"]), root)

    # consistency from every size up to the newest
    query = aliased(
        "consistencyProof(fromSize: {0}, toSize: " + str(n) + ") {{ fromRoot toRoot path }}",
        range(n + 1),
    )
    proofs = await p.ok("auditor", query)
    assert len(proofs) == n + 1
    for size in range(n + 1):
        found = proofs[f"p{size}"]
        assert bytes.fromhex(found["fromRoot"]) == mth(leaves[:size])
        assert hexes(found["path"]) == proof(size, leaves)
        assert verify_consistency(size, n, mth(leaves[:size]), roots[1], hexes(found["path"]))
    same = await p.ok("auditor", f"{{ consistencyProof(fromSize: {m}, toSize: {m}) {{ path }} }}")
    assert same == {"consistencyProof": {"path": []}}


async def test_proofs_refuse_what_the_log_does_not_hold(auditing: Partners) -> None:
    p = auditing
    story = await invited(p)
    m = await sequenced(p.session_factory)
    await signed_head(p.session_factory)
    await p.ok("gamma", RESPOND, id=story.gamma, answer="DECLINE")  # one event, not a leaf
    events = await whole_trail(p)
    assert [e["leafIndex"] for e in events] == [0, 1, 2, 3, None]
    waiting = events[-1]["eventId"]
    first, last_leaf = events[0]["eventId"], events[m - 1]["eventId"]

    async def refused(query: str) -> list[Any]:
        body = await p.gql("auditor", query)
        assert body["data"] is None, body
        return errors_of(body)

    def inclusion(event: int, size: int) -> str:
        return f"{{ inclusionProof(eventId: {event}, treeSize: {size}) {{ path }} }}"

    def consistency(old: int, new: int) -> str:
        return f"{{ consistencyProof(fromSize: {old}, toSize: {new}) {{ path }} }}"

    assert await refused(inclusion(waiting, m)) == [("NOT_SEQUENCED", ["eventId"])]
    assert await refused(inclusion(first, m + 1)) == [("NOT_A_TREE_SIZE", ["treeSize"])]
    assert await refused(inclusion(first, -1)) == [("NOT_A_TREE_SIZE", ["treeSize"])]
    assert await refused(inclusion(last_leaf, m - 1)) == [("NOT_IN_TREE", ["treeSize"])]
    assert await refused(inclusion(first, 0)) == [("NOT_IN_TREE", ["treeSize"])]
    assert await refused(inclusion(2_000_000_000, m)) == [("NOT_FOUND", ["eventId"])]
    assert await refused(consistency(m, m - 1)) == [("NOT_A_TREE_SIZE", ["fromSize"])]
    assert await refused(consistency(-1, m)) == [("NOT_A_TREE_SIZE", ["fromSize"])]
    assert await refused(consistency(1, m + 1)) == [("NOT_A_TREE_SIZE", ["toSize"])]
    assert await p.ok("auditor", "{ treeHead(treeSize: 99) { treeSize } }") == {"treeHead": None}
    ok = await p.ok("auditor", inclusion(last_leaf, m))
    assert ok["inclusionProof"]["path"]
    for who, code in (("alpha", "MISSING_SCOPE"), (None, "UNAUTHENTICATED")):
        for query in (inclusion(first, m), consistency(0, m)):
            body = await p.gql(who, query)
            assert body["data"] is None
            assert body["errors"][0]["extensions"]["code"] == code
        body = await p.gql(who, "{ treeHead { treeSize } }")
        assert (body["data"], body["errors"][0]["extensions"]["code"]) == (
            {"treeHead": None},
            code,
        )


# ------------------------------------------------------------------------------------------
# node(id:)


NODE = """
query($id: ID!) {
  node(id: $id) {
    id
    ... on AuditEvent { action entityType actor { member { name } } }
    ... on EndorsementStep { step terms organisation { name } event { action } }
  }
}"""


async def test_audit_events_and_steps_are_nodes_for_auditors_only(auditing: Partners) -> None:
    p = auditing
    story = await invited(p)
    events = await whole_trail(p)
    accepted = events[3]
    assert accepted["action"] == "endorsement.accept"
    step = gid("EndorsementStep", key_of(accepted["id"]))

    for who in ("auditor", "secretariat"):
        event = (await p.ok(who, NODE, id=accepted["id"]))["node"]
        assert event == {
            "id": accepted["id"],
            "action": "endorsement.accept",
            "entityType": "Endorsement",
            "actor": {"member": {"name": "Beta Foundation"}},
        }
        found = (await p.ok(who, NODE, id=step))["node"]
        assert found["step"] == "ACCEPT"
        assert found["organisation"] == {"name": "Beta Foundation"}
        assert found["event"] == {"action": "endorsement.accept"}
        assert found["terms"]["amount_minor"] == 250_000_000
    for outsider in ("alpha", "beta", None):  # beta made the event, and does not see it
        assert await p.ok(outsider, NODE, id=accepted["id"]) == {"node": None}
        assert await p.ok(outsider, NODE, id=step) == {"node": None}
    for missing in (
        gid("AuditEvent", 2_000_000),
        gid("EndorsementStep", key_of(events[0]["id"])),  # a pledge's event: no step
        base64.b64encode(b"AuditEvent:x").decode(),
    ):
        assert await p.ok("auditor", NODE, id=missing) == {"node": None}
    both = await p.ok(
        "auditor",
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        ids=[events[0]["id"], story.pledge["id"], step],
    )
    assert both == {"nodes": [{"id": events[0]["id"]}, {"id": story.pledge["id"]}, {"id": step}]}


# ------------------------------------------------------------------------------------------
# What a page costs


COSTED_TRAIL = """
query($first: Int!) {
  auditTrail(first: $first) {
    totalCount edges { node { id action canonicalForm actor { clientId member { name } } } }
  }
}"""

COSTED_STEPS = """
query($pledgeId: ID, $memberId: ID, $first: Int!) {
  endorsementTrail(pledgeId: $pledgeId, memberId: $memberId, first: $first) {
    totalCount edges { node {
      step terms organisation { name } event { action actor { member { name } } }
    } }
  }
}"""


async def many_steps(factory: async_sessionmaker[AsyncSession], alpha: int, beta: int) -> int:
    """Alpha's pledge with 25 new members invited, each accepting; and 25 pledges, one per new
    member, each inviting beta, who accepts: 50 steps on one pledge, 50 of beta's on 25
    pledges; 126 events in all."""

    def partner(member: int) -> Principal:
        return Principal(
            kind=ClientKind.PARTNER,
            client_id=f"partner-{member}",
            member_id=member,
            scopes=MEMBER_WRITES,
        )

    def draft(title: str) -> PledgeDraft:
        return PledgeDraft(
            title=title,
            pledge_type=PledgeType.FINANCIAL,
            focus_areas=(FocusArea.ACCESS,),
            amount="1000",
            currency="USD",
            target_countries=("NPL",),
        )

    async with factory() as session:
        lead = await pledges.create(session, partner(alpha), draft("Shared"), ())
        for i in range(25):
            member = (await add_member(session, f"Member {i:02d}")).id
            made = await endorsements.invite_endorser(
                session, partner(alpha), lead.id, member, [Role.FUNDER]
            )
            await endorsements.answer(session, partner(member), made.id, accept=True)
            own = await pledges.create(session, partner(member), draft(f"Own {i:02d}"), ())
            asked = await endorsements.invite_endorser(
                session, partner(member), own.id, beta, [Role.FUNDER]
            )
            await endorsements.answer(session, partner(beta), asked.id, accept=True)
        await session.commit()
    return lead.id


async def test_trail_pages_cost_the_same_statements_for_5_and_for_50_items(
    auditing: Partners,
) -> None:
    p = auditing
    lead = await many_steps(p.session_factory, p.members["alpha"], p.members["beta"])

    async def statements(query: str, size: int, **arguments: Any) -> int:
        body = await p.gql("auditor", query, first=size, **arguments)
        assert "errors" not in body, body
        [connection] = body["data"].values()
        assert len(connection["edges"]) == size
        count: int = body["extensions"]["sql"]["statements"]
        return count

    trail_5, trail_50 = await statements(COSTED_TRAIL, 5), await statements(COSTED_TRAIL, 50)
    assert trail_5 == trail_50
    body = await p.gql("auditor", COSTED_TRAIL, first=50)
    members = {e["node"]["actor"]["member"]["name"] for e in body["data"]["auditTrail"]["edges"]}
    assert len(members) == 12  # alpha, beta and the first ten new members
    on_pledge = {"pledgeId": gid("Pledge", lead)}
    of_beta = {"memberId": gid("Organisation", p.members["beta"])}
    for arguments in (on_pledge, of_beta):
        small = await statements(COSTED_STEPS, 5, **arguments)
        large = await statements(COSTED_STEPS, 50, **arguments)
        assert small == large, arguments
    body = await p.gql("auditor", COSTED_STEPS, first=50, **of_beta)
    titles = {e["node"]["terms"]["title"] for e in body["data"]["endorsementTrail"]["edges"]}
    assert len(titles) == 25  # each step with its own pledge's terms


async def test_a_time_beyond_the_calendar_in_utc_is_refused_by_name(auditing: Partners) -> None:
    p = auditing
    await invited(p)
    found = []
    for argument, value in (
        ("from", "0001-01-01T00:00:00+01:00"),
        ("to", "0001-01-01T00:00:00+01:00"),
        ("from", "9999-12-31T23:59:59-01:00"),
        ("to", "9999-12-31T23:59:59-01:00"),
    ):
        body = await p.gql("auditor", TRAIL, first=5, **{argument: value})
        assert body["data"] is None, body
        [error] = body["errors"]
        found.append((argument, error["extensions"]["code"], error["extensions"].get("field")))
    assert found == [
        ("from", "TIME_OUT_OF_RANGE", ["from"]),
        ("to", "TIME_OUT_OF_RANGE", ["to"]),
        ("from", "TIME_OUT_OF_RANGE", ["from"]),
        ("to", "TIME_OUT_OF_RANGE", ["to"]),
    ]
