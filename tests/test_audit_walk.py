"""Every mutation and every console action that changes state writes its audit event: the
walk fails when one changes state without an event, or when a mutation of the schema is not
walked. Then ``p2c-hub audit sequence`` and ``audit verify`` on the result."""

from __future__ import annotations

import getpass
import json
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hub.audit.models import AuditEvent
from hub.imports.connectors import ConnectorConfig, HttpConfig, add_connector
from hub.imports.models import ConnectorKind
from hub.keys.vault import generate_encryption_key
from schema import build_schema
from tests.fixtures.factories import add_review_item
from tests.fixtures.partners import (
    APPROVE,
    CREATE,
    CREATE_ORGANISATION,
    INVITE,
    REJECT,
    REPORT,
    RESPOND,
    RETURN,
    REVOKE,
    UPDATE,
    UPDATE_ORGANISATION,
    VERIFY,
    Partners,
    gid,
    move,
    smart_pledge,
)
from tests.test_cli import free_port, hub, hub_env

ADD_CONNECTOR = """
mutation($input: AddConnectorInput!) {
  addConnector(input: $input) { connector { name } userErrors { field message code } }
}"""
SCHEDULE = """
mutation($name: String!, $every: Int) {
  setConnectorSchedule(name: $name, everySeconds: $every) {
    connector { everySeconds } userErrors { field message code }
  }
}"""
REMOVE_CONNECTOR = """
mutation($name: String!) {
  removeConnector(name: $name) { removedConnectorId userErrors { field message code } }
}"""
RESOLVE_REVIEW = """
mutation($input: ResolveReviewItemInput!) {
  resolveReviewItem(input: $input) { reviewItem { status } userErrors { field message code } }
}"""


async def actions_since(partners: Partners, last: int) -> tuple[int, list[AuditEvent]]:
    async with partners.session_factory() as session:
        found = list(
            await session.scalars(
                select(AuditEvent).where(AuditEvent.id > last).order_by(AuditEvent.id)
            )
        )
    return (found[-1].id if found else last), found


async def test_every_mutation_writes_its_event(partners: Partners) -> None:
    walked: set[str] = set()
    last = 0

    async def step(who: str, mutation: str, document: str, **variables: Any) -> dict[str, Any]:
        nonlocal last
        data = await partners.ok(who, document, **variables)
        last, written = await actions_since(partners, last)
        assert written, f"{mutation} changed state without an audit event"
        for event in written:
            assert event.actor_client_id is not None, event.action
        walked.add(mutation)
        return data

    made = await step("alpha", "createPledge", CREATE, input=smart_pledge())
    pledge = made["createPledge"]["pledge"]
    edited = await step("alpha", "updatePledge", UPDATE, id=pledge["id"], version=pledge["version"],
               input=smart_pledge(title="Connect 600 schools"))  # fmt: skip
    beta = gid("Organisation", partners.members["beta"])
    invited = await step("alpha", "inviteEndorser", INVITE, pledgeId=pledge["id"],
                         organisationId=beta, roles=["IMPLEMENTER"])  # fmt: skip
    invitation = invited["inviteEndorser"]["endorsement"]["id"]
    await step("beta", "respondToEndorsement", RESPOND, id=invitation, answer="ACCEPT")
    await step("alpha", "submitPledge", move("submitPledge"), id=pledge["id"])
    await step("secretariat", "returnPledge", RETURN, id=pledge["id"], note="Add a target.")
    await step("alpha", "submitPledge", move("submitPledge"), id=pledge["id"])
    await step("secretariat", "publishPledge", move("publishPledge"), id=pledge["id"])
    report = {
        "periodStart": "2026-01-01",
        "periodEnd": "2026-06-30",
        "values": [
            {"targetId": edited["updatePledge"]["pledge"]["targets"][0]["id"], "value": "10"}
        ],
    }
    first = await step("beta", "reportProgress", REPORT, pledgeId=pledge["id"], input=report)
    await step("secretariat", "verifyProgress", VERIFY, id=first["reportProgress"]["report"]["id"])
    second = await step("alpha", "reportProgress", REPORT, pledgeId=pledge["id"], input=report)
    await step("secretariat", "rejectProgress", REJECT,
               id=second["reportProgress"]["report"]["id"], note="No evidence.")  # fmt: skip
    await step("alpha", "revokeEndorsement", REVOKE, id=invitation)
    await step("secretariat", "markPledgeFulfilled", move("markPledgeFulfilled"), id=pledge["id"])
    other = await partners.create(title="To withdraw")
    last, _ = await actions_since(partners, last)
    await step("alpha", "withdrawPledge", move("withdrawPledge"), id=other["id"])
    organisation = {"name": "Walked Org", "organisationType": "MEDIA"}
    added = await step("secretariat", "createOrganisation", CREATE_ORGANISATION, input=organisation)
    added_id = added["createOrganisation"]["organisation"]["id"]
    await step("secretariat", "updateOrganisation", UPDATE_ORGANISATION, id=added_id,
               input={**organisation, "name": "Walked Organisation"})  # fmt: skip
    await step("secretariat", "approveMembership", APPROVE, id=added_id)
    await step("secretariat", "addConnector", ADD_CONNECTOR, input={
        "name": "walked", "kind": "IATI_FILE", "member": added_id,
        "selection": {"sectors": ["22040"]},
    })  # fmt: skip
    async with partners.session_factory() as session:  # an HTTP source is checked when added
        http = ConnectorConfig(http=HttpConfig(url="https://search.worldbank.example"))
        await add_connector(session, "walked-http", ConnectorKind.WORLD_BANK,
                            partners.members["alpha"], http)  # fmt: skip
        await session.commit()
    await step("secretariat", "setConnectorSchedule", SCHEDULE, name="walked-http", every=3600)
    await step("secretariat", "removeConnector", REMOVE_CONNECTOR, name="walked")
    async with partners.session_factory() as session:
        review = await add_review_item(session, partners.members["alpha"], "walked-review")
        await session.commit()
    await step("secretariat", "resolveReviewItem", RESOLVE_REVIEW,
               input={"id": gid("ReviewItem", review.id), "note": "Mapped to Africa."})  # fmt: skip
    mutation_type = build_schema()._schema.mutation_type
    assert mutation_type is not None
    assert walked == set(mutation_type.fields), set(mutation_type.fields) - walked


def test_every_console_action_writes_its_event_and_the_log_verifies(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    env = hub_env(
        port=str(free_port()),
        database_url=f"sqlite+aiosqlite:///{path}",
        key_encryption_keys=generate_encryption_key(),
    )
    assert hub(env, "migrate").returncode == 0
    fx = Path(__file__).parent.parent / "data" / "fx"
    steps: list[tuple[str, list[str]]] = [
        ("countries.load", ["countries", "load"]),
        ("rates.load", ["fx", "load", str(fx / "imf_exchangerates.csv"), "--format", "imf"]),
        ("organisation.create", ["members", "add", "--name", "Console Org", "--type", "MEDIA",
                                 "--iati", "XM-CONSOLE-1"]),
        ("organisation.approve", ["members", "approve", "XM-CONSOLE-1"]),
        ("organisation.edit", ["members", "update", "XM-CONSOLE-1", "--name", "Console Media"]),
        ("client.create", ["clients", "create", "--kind", "AUDITOR", "--scopes", "audit:read",
                           "--name", "Auditor", "--json"]),
        ("key.init", ["keys", "init"]),
        ("key.rotate", ["keys", "rotate"]),
        ("key.reseal", ["keys", "reseal"]),
        ("demo.load", ["demo-data"]),
    ]  # fmt: skip
    written, client_id = 0, ""
    for action, arguments in steps:
        done = hub(env, *arguments)
        assert done.returncode == 0, (action, done.stderr)
        if action == "client.create":
            client_id = json.loads(done.stdout)["client_id"]
        written = _events_after(path, written, action)
    first_key = _kids(path)[0]
    for action, arguments in (
        ("client.rotate_secret", ["clients", "rotate-secret", client_id]),
        ("client.revoke", ["clients", "revoke", client_id]),
        ("key.retire", ["keys", "retire", first_key]),
    ):
        assert hub(env, *arguments).returncode == 0, action
        written = _events_after(path, written, action)
    assert "nothing changed" in hub(env, "demo-data").stdout
    assert _events_after(path, written, None) == written  # a load that changed nothing: none
    with sqlite3.connect(path) as database:
        actors = set(
            database.execute("SELECT actor_kind, actor_client_id, actor_operator FROM audit_events")
        )
        secrets = [
            json.loads(changes)
            for (changes,) in database.execute(
                "SELECT changes FROM audit_events WHERE action IN ('client.rotate_secret', "
                "'key.reseal', 'key.init')"
            )
        ]
    assert actors == {("SECRETARIAT", "console", getpass.getuser())}
    for changes in secrets:
        for name in {"secret_hash", "private_key"} & set(changes):
            assert set(changes[name].values()) <= {"(withheld)", None}, changes
    sequenced = hub(env, "audit", "sequence")
    assert sequenced.stdout.strip() == f"{written} events appended to the log", sequenced.stderr
    verified = hub(env, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert f"{written} leaves checked" in verified.stdout
    with sqlite3.connect(path) as database:
        database.execute("DROP TRIGGER audit_events_no_update")
        database.execute("UPDATE audit_events SET actor_operator = 'someone else' WHERE id = 4")
    tampered = hub(env, "audit", "verify")
    assert tampered.returncode == 1
    assert "event 4 (leaf 3) was changed" in tampered.stderr


def _kids(path: Path) -> list[str]:
    with sqlite3.connect(path) as database:
        return [
            kid for (kid,) in database.execute("SELECT kid FROM server_keys ORDER BY created_at")
        ]


def _events_after(path: Path, before: int, action: str | None) -> int:
    """How many events there are, after ``action`` wrote its own (the last ones)."""
    with sqlite3.connect(path) as database:
        now = int(database.execute("SELECT count(*) FROM audit_events").fetchone()[0])
        newest = {a for (a,) in database.execute(
            "SELECT action FROM audit_events WHERE id > ?", (before,))}  # fmt: skip
    if action is not None:
        assert newest == {action}, f"{action} changed state without its audit event: {newest}"
    return now
