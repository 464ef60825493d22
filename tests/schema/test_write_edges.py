"""The edges of partners' writes that a hostile or racing client finds: hidden drafts in
answers, racing answers and verdicts, crossing requests, unstorable text and numbers, stale
answers within one request. Each was a defect found in review, fixed, and kept here."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text, update

from hub.endorsements.models import Endorsement, EndorsementStatus
from hub.organisations.models import MembershipStatus, Organisation
from hub.pledges.models import Pledge
from hub.progress.models import ProgressReport
from hub.types import utcnow
from tests.fixtures.partners import (
    APPROVE,
    CREATE,
    CREATE_ORGANISATION,
    INVITE,
    REJECT,
    REPORT,
    RESPOND,
    RETURN,
    UPDATE,
    VERIFY,
    Partners,
    gid,
    move,
    smart_pledge,
)

POSTGRES_ONLY = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


# --- helpers -------------------------------------------------------------------------------


def key(global_id: str) -> int:
    """The row key in a global id."""
    return int(base64.b64decode(global_id).decode().split(":")[1])


async def raw(
    partners: Partners, who: str | None, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """POST with the body encoded by hand (ASCII-escaped JSON, so lone surrogates and NUL
    characters reach the hub as any JSON client may send them); HTTP must be 200."""
    headers = {"Content-Type": "application/json"}
    if who is not None:
        headers["Authorization"] = f"Bearer {partners.tokens[who]}"
    body = json.dumps({"query": query, "variables": variables}).encode()
    response = await partners.http.post("/graphql", content=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def internal(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        error
        for error in body.get("errors", ())
        if (error.get("extensions") or {}).get("code") == "INTERNAL_ERROR"
    ]


async def count(partners: Partners, model: Any, *where: Any) -> int:
    async with partners.session_factory() as session:
        query = select(func.count()).select_from(model).where(*where)
        return int(await session.scalar(query) or 0)


async def lock_waiters(partners: Partners, wanted: int) -> None:
    """Wait until ``wanted`` backends of the test's database wait on a lock (PostgreSQL)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    async with asyncio.timeout(10):
        while True:
            async with partners.session_factory() as session:
                if (await session.scalar(query) or 0) >= wanted:
                    return
            await asyncio.sleep(0.02)


def succeeded(body: dict[str, Any], field: str) -> bool:
    payload = body["data"][field]
    return "errors" not in body and payload is not None and payload["userErrors"] == []


# --- 1. payloads that fail after the write ----------------------------------------------------

DECLINE_WITH_PLEDGE = """
mutation($id: ID!) {
  respondToEndorsement(id: $id, answer: DECLINE) {
    endorsement { id status pledge { id title } }
    userErrors { field message code }
  }
}"""


async def test_declining_an_invitation_to_a_draft_answers_with_its_pledge(
    partners: Partners,
) -> None:
    draft = await partners.create()
    invitation = await partners.invite(draft["id"], "beta", ["FUNDER"])
    body = await partners.gql("beta", DECLINE_WITH_PLEDGE, id=invitation)
    assert "errors" not in body, body
    assert body["data"]["respondToEndorsement"]["endorsement"]["status"] == "DECLINED"
    async with partners.session_factory() as session:
        stored = await session.get_one(Endorsement, key(invitation))
    assert stored.status is EndorsementStatus.DECLINED


# --- 2. stale answers within one request ----------------------------------------------------

TWO_UPDATES = """
mutation($id: ID!, $v1: Int!, $v2: Int!, $a: PledgeInput!, $b: PledgeInput!) {
  a: updatePledge(id: $id, version: $v1, input: $a) {
    pledge { version focusAreas targets { unit } } userErrors { code }
  }
  b: updatePledge(id: $id, version: $v2, input: $b) {
    pledge { version focusAreas targets { unit } } userErrors { code }
  }
}"""


async def test_a_later_mutation_of_the_request_answers_what_it_wrote(partners: Partners) -> None:
    pledge = await partners.create()
    km = [{"indicator": "FIBRE_KM", "unit": "km", "targetValue": "5"}]
    data = await partners.ok(
        "alpha", TWO_UPDATES, id=pledge["id"], v1=pledge["version"], v2=pledge["version"] + 1,
        a=smart_pledge(focusAreas=["ACCESS"]),
        b=smart_pledge(focusAreas=["ADOPTION"], targets=km),
    )  # fmt: skip
    second = data["b"]["pledge"]
    assert second["version"] == pledge["version"] + 2
    assert second["focusAreas"] == ["ADOPTION"]
    assert [target["unit"] for target in second["targets"]] == ["km"]


# --- 3. a request that rolls back must not claim the writes it undid --------------------------

CREATE_TWO = """
mutation($a: PledgeInput!, $b: PledgeInput!) {
  a: createPledge(input: $a) { pledge { id } userErrors { code } }
  b: createPledge(input: $b) { pledge { id } userErrors { code } }
}"""


async def test_a_request_rolled_back_does_not_answer_that_it_wrote(partners: Partners) -> None:
    before = await count(partners, Pledge)
    body = await raw(
        partners, "alpha", CREATE_TWO,
        {"a": smart_pledge(title="Kept?"), "b": smart_pledge(title="bad \ud800 title")},
    )  # fmt: skip
    first = (body.get("data") or {}).get("a") or {}
    if first.get("pledge") is not None:
        assert await count(partners, Pledge) == before + 1, body


# --- 4. a published pledge stays SMART-complete -------------------------------------------------


async def test_a_published_pledge_cannot_be_edited_out_of_smart_completeness(
    partners: Partners,
) -> None:
    pledge = await partners.published()
    bare = {"title": "Nothing left", "pledgeType": "FINANCIAL"}
    body = await partners.gql(
        "alpha", UPDATE, id=pledge["id"], version=pledge["version"], input=bare
    )
    payload = body["data"]["updatePledge"]
    codes = {error["code"] for error in payload["userErrors"]}
    assert {"FOCUS_AREA_REQUIRED", "TARGET_REQUIRED", "AMOUNT_REQUIRED"} <= codes, payload
    assert payload["pledge"] is None
    async with partners.session_factory() as session:
        stored = await session.get_one(Pledge, key(pledge["id"]))
    assert stored.version == pledge["version"]


# --- 5. the secretariat's return note is not public ----------------------------------------------


async def test_the_return_note_is_not_shown_to_the_public(partners: Partners) -> None:
    pledge = await partners.create()
    await partners.ok("alpha", move("submitPledge"), id=pledge["id"])
    note = "Your figures look inflated; between us."
    await partners.ok("secretariat", RETURN, id=pledge["id"], note=note)
    await partners.ok("alpha", move("submitPledge"), id=pledge["id"])
    await partners.ok("secretariat", move("publishPledge"), id=pledge["id"])
    public = await partners.ok(
        None, "query($id: ID!) { node(id: $id) { ... on Pledge { returnNote } } }",
        id=pledge["id"],
    )  # fmt: skip
    assert public["node"]["returnNote"] is None


# --- 6-9. odd input is a user error, never an internal one -------------------------------------


async def test_nul_characters_are_user_errors(partners: Partners) -> None:
    cases: list[dict[str, Any]] = [
        {"input": smart_pledge(title="a\u0000b")},
        {"input": smart_pledge(description="a\u0000b")},
        {"input": smart_pledge(targetCountries=["MW\u0000"])},
    ]
    for variables in cases:
        body = await raw(partners, "alpha", CREATE, variables)
        assert not internal(body), (variables, body)
    organisation = {"name": "Null\u0000 Org", "organisationType": "YOUTH"}
    body = await raw(partners, "secretariat", CREATE_ORGANISATION, {"input": organisation})
    assert not internal(body), body


async def test_lone_surrogates_are_user_errors(partners: Partners) -> None:
    before = await count(partners, Pledge)
    body = await raw(partners, "alpha", CREATE, {"input": smart_pledge(title="x\ud800y")})
    assert not internal(body), body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "INVALID_TEXT", "field": ["input", "title"]}, body
    assert await count(partners, Pledge) == before


async def test_amounts_with_extreme_exponents_are_user_errors(partners: Partners) -> None:
    before = await count(partners, Pledge)
    for amount in ("1e999999999", "1e-999999999"):
        given = smart_pledge(pledgedAmount={"amount": amount, "currency": "USD"})
        body = await raw(partners, "alpha", CREATE, {"input": given})
        assert not internal(body), (amount, body)
        errors = body["data"]["createPledge"]["userErrors"]
        assert errors, body
        assert errors[0]["field"] == ["input", "pledgedAmount", "amount"], body
    assert await count(partners, Pledge) == before  # no pledge of 0.00 USD


async def test_a_disbursement_too_small_to_store_is_refused(partners: Partners) -> None:
    pledge = await partners.published()
    report = {
        "periodStart": "2026-01-01",
        "periodEnd": "2026-03-31",
        "disbursed": {"amount": "1e-999999999", "currency": "USD"},
    }
    body = await partners.gql("alpha", REPORT, pledgeId=pledge["id"], input=report)
    assert not internal(body), body
    assert body["data"]["reportProgress"]["userErrors"], body
    assert await count(partners, ProgressReport) == 0


async def test_values_with_extreme_exponents_are_user_errors_or_stored(
    partners: Partners,
) -> None:
    target = [{"indicator": "FIBRE_KM", "unit": "km", "targetValue": "0E-1000000"}]
    body = await raw(partners, "alpha", CREATE, {"input": smart_pledge(targets=target)})
    assert not internal(body), body


# --- 10-13. races and lock waits (PostgreSQL: real row locks) ---------------------------------


@POSTGRES_ONLY
async def test_racing_answers_to_one_invitation_only_one_wins(partners: Partners) -> None:
    pledge = await partners.create()
    invitation = await partners.invite(pledge["id"], "beta", ["FUNDER"])
    async with partners.session_factory() as holder:
        await holder.execute(
            select(Pledge.id).where(Pledge.id == key(pledge["id"])).with_for_update()
        )
        accept = asyncio.create_task(partners.gql("beta", RESPOND, id=invitation, answer="ACCEPT"))
        decline = asyncio.create_task(
            partners.gql("beta", RESPOND, id=invitation, answer="DECLINE")
        )
        await lock_waiters(partners, 2)
        await holder.commit()
    answers = [await accept, await decline]
    wins = [body for body in answers if succeeded(body, "respondToEndorsement")]
    assert len(wins) == 1, answers
    [loser] = [body for body in answers if body not in wins]
    codes = [e["code"] for e in loser["data"]["respondToEndorsement"]["userErrors"]]
    assert codes == ["INVALID_TRANSITION"], answers


@POSTGRES_ONLY
async def test_racing_verdicts_on_one_report_only_one_wins(partners: Partners) -> None:
    pledge = await partners.published()
    report = {"periodStart": "2026-01-01", "periodEnd": "2026-03-31"}
    made = await partners.ok("alpha", REPORT, pledgeId=pledge["id"], input=report)
    report_id = made["reportProgress"]["report"]["id"]
    async with partners.session_factory() as holder:
        await holder.execute(
            select(ProgressReport.id).where(ProgressReport.id == key(report_id)).with_for_update()
        )
        verify = asyncio.create_task(partners.gql("secretariat", VERIFY, id=report_id))
        reject = asyncio.create_task(
            partners.gql("secretariat", REJECT, id=report_id, note="No evidence.")
        )
        await lock_waiters(partners, 2)
        await holder.commit()
    verdicts = {"verifyProgress": await verify, "rejectProgress": await reject}
    wins = [field for field, body in verdicts.items() if succeeded(body, field)]
    assert len(wins) == 1, verdicts


@POSTGRES_ONLY
async def test_racing_approvals_of_one_organisation_only_one_wins(partners: Partners) -> None:
    made = await partners.ok(
        "secretariat", CREATE_ORGANISATION,
        input={"name": "Delta Youth Network", "organisationType": "YOUTH"},
    )  # fmt: skip
    organisation = made["createOrganisation"]["organisation"]["id"]
    async with partners.session_factory() as holder:
        await holder.execute(
            select(Organisation.id).where(Organisation.id == key(organisation)).with_for_update()
        )
        first = asyncio.create_task(partners.gql("secretariat", APPROVE, id=organisation))
        second = asyncio.create_task(partners.gql("secretariat", APPROVE, id=organisation))
        await lock_waiters(partners, 2)
        await holder.commit()
    answers = [await first, await second]
    wins = [body for body in answers if succeeded(body, "approveMembership")]
    assert len(wins) == 1, answers


CROSSING = """
mutation($x: ID!, $y: ID!, $z: ID!, $input: PledgeInput!) {
  a: updatePledge(id: $x, version: 1, input: $input) { userErrors { code } }
  b: updatePledge(id: $y, version: 0, input: $input) { userErrors { code } }
  c: updatePledge(id: $z, version: 1, input: $input) { userErrors { code } }
}"""


@POSTGRES_ONLY
async def test_crossing_multi_mutation_requests_are_not_internal_errors(
    partners: Partners,
) -> None:
    p1, p2, p3 = [await partners.create(title=title) for title in ("One", "Two", "Gate")]
    async with partners.session_factory() as holder:
        await holder.execute(select(Pledge.id).where(Pledge.id == key(p3["id"])).with_for_update())
        first = asyncio.create_task(
            partners.gql("alpha", CROSSING, x=p1["id"], y=p3["id"], z=p2["id"],
                         input=smart_pledge())
        )  # fmt: skip
        await lock_waiters(partners, 1)
        second = asyncio.create_task(
            partners.gql("alpha", CROSSING, x=p2["id"], y=p3["id"], z=p1["id"],
                         input=smart_pledge())
        )  # fmt: skip
        await lock_waiters(partners, 2)
        await holder.commit()
    answers = [await first, await second]
    assert not any(internal(body) for body in answers), answers


# --- 14-15. material edits ------------------------------------------------------------------


async def test_equal_terms_written_differently_are_not_material(partners: Partners) -> None:
    pledge = await partners.published(targetCountries=["MWI", "KEN"])
    invitation = await partners.invite(pledge["id"], "beta", ["FUNDER"])
    await partners.ok("beta", RESPOND, id=invitation, answer="ACCEPT")
    same = smart_pledge(
        targetCountries=["KEN", "MWI"],
        pledgedAmount={"amount": "2500000", "currency": "USD"},
        targets=[{
            "id": pledge["targets"][0]["id"], "indicator": "SCHOOLS_CONNECTED",
            "unit": "schools", "baseline": "0.000", "targetValue": "500.0",
            "deadline": "2028-12-31",
        }],
    )  # fmt: skip
    data = await partners.ok(
        "alpha", UPDATE, id=pledge["id"], version=pledge["version"], input=same
    )
    assert data["updatePledge"]["materialChanges"] == []
    assert data["updatePledge"]["resetEndorsements"] == 0


async def test_renaming_what_an_other_target_measures_is_material(partners: Partners) -> None:
    def other(label: str, target_id: str | None = None) -> list[dict[str, Any]]:
        target = {"indicator": "OTHER", "label": label, "unit": "networks",
                  "targetValue": "40", "deadline": "2028-12-31"}  # fmt: skip
        return [target | ({"id": target_id} if target_id else {})]

    pledge = await partners.published(targets=other("Community networks built"))
    invitation = await partners.invite(pledge["id"], "beta", ["FUNDER"])
    await partners.ok("beta", RESPOND, id=invitation, answer="ACCEPT")
    renamed = smart_pledge(targets=other("Community networks planned", pledge["targets"][0]["id"]))
    data = await partners.ok(
        "alpha", UPDATE, id=pledge["id"], version=pledge["version"], input=renamed
    )
    assert data["updatePledge"]["materialChanges"] == ["targets"]
    assert data["updatePledge"]["resetEndorsements"] == 1


# --- 16-19. refusals as documented ----------------------------------------------------------


async def test_credentials_are_refused_before_the_id_is_looked_at(partners: Partners) -> None:
    organisation_id = gid("Organisation", partners.members["alpha"])
    anonymous = await partners.gql(None, move("submitPledge"), id=organisation_id)
    assert anonymous["data"]["submitPledge"] is None, anonymous
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    auditor = await partners.gql("auditor", move("submitPledge"), id=organisation_id)
    assert auditor["data"]["submitPledge"] is None, auditor
    assert auditor["errors"][0]["extensions"]["code"] == "MISSING_SCOPE"


async def test_a_malformed_id_is_refused_with_a_code(partners: Partners) -> None:
    body = await partners.gql("alpha", move("submitPledge"), id="not a global id!")
    payload = body["data"]["submitPledge"]
    codes = [e["code"] for e in payload["userErrors"]] if payload else []
    codes += [(e.get("extensions") or {}).get("code") for e in body.get("errors", ())]
    assert codes == ["INVALID_ID"], body


async def test_a_replayed_refusal_is_the_first_answer_exactly(partners: Partners) -> None:
    pledge = await partners.create()
    variables = {
        "pledgeId": pledge["id"],
        "organisationId": gid("Organisation", partners.members["beta"]),
        "roles": ["FUNDER"],
    }
    headers = {"Idempotency-Key": "invite-once"}
    first: httpx.Response = await partners.post("alpha_read", INVITE, variables, headers=headers)
    retry: httpx.Response = await partners.post("alpha_read", INVITE, variables, headers=headers)
    assert first.json()["errors"][0]["extensions"]["code"] == "MISSING_SCOPE"
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.json() == first.json()


async def test_a_user_error_names_a_field_the_mutation_has(partners: Partners) -> None:
    async with partners.session_factory() as session:
        await session.execute(
            update(Organisation)
            .where(Organisation.id == partners.members["alpha"])
            .values(membership_status=MembershipStatus.SUSPENDED, suspended_at=utcnow())
        )
        await session.commit()
    body = await partners.gql("alpha", CREATE, input=smart_pledge())
    [error] = body["data"]["createPledge"]["userErrors"]
    assert error["code"] == "NOT_A_MEMBER"
    inputs = {"title", "pledgeType", "description", "focusAreas", "targetCountries",
              "targetGroups", "beneficiaryGroups", "sdgs", "announcedOn", "startDate",
              "endDate", "pledgedAmount", "implementationStatus", "targets"}  # fmt: skip
    field = error["field"]
    assert not field or (field[0] == "input" and field[1] in inputs), error


async def test_unstorable_text_in_a_literal_is_refused_and_emoji_escapes_pass(
    partners: Partners,
) -> None:
    query = '{ pledges(first: 1, filter: {text: "%s"}) { totalCount } }'
    refused = await partners.gql(None, query % "a\\u0000b")
    [error] = refused["errors"]
    assert error["extensions"] == {"code": "INVALID_TEXT", "field": []}, refused
    assert refused["data"] is None
    fine = await partners.gql(None, query % "\\uD83D\\uDE00")
    assert fine == {"data": {"pledges": {"totalCount": 0}}}
