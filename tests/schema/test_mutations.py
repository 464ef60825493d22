"""Partners write the pledge graph over HTTP with real tokens: the whole path from a draft to
verified progress, and the refusals on the way."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.endorsements.models import Endorsement
from hub.pledges.models import Pledge
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
    VIEWER,
    Partners,
    gid,
    move,
    running_partners,
    smart_pledge,
)


async def count(session_factory: async_sessionmaker[AsyncSession], model: Any) -> int:
    async with session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_pledge_from_draft_to_verified_progress(partners: Partners) -> None:
    pledge = await partners.create()
    assert pledge["publicationStatus"] == "DRAFT"
    assert [e["roles"] for e in pledge["endorsements"]] == [["LEAD"]]
    assert pledge["pledgedAmount"] == {"amount": "2500000.00", "currency": "USD"}
    anonymous = await partners.gql(
        None, "query($id: ID!) { node(id: $id) { id } }", id=pledge["id"]
    )
    assert anonymous["data"]["node"] is None  # a draft is not public

    invitation = await partners.invite(pledge["id"], "beta", ["CO_LEAD", "FUNDER"])
    inbox = (await partners.ok("beta", VIEWER))["viewer"]
    assert inbox["member"]["name"] == "Beta Foundation"
    assert inbox["pendingInvitations"]["totalCount"] == 1
    assert inbox["pendingInvitations"]["edges"][0]["node"]["id"] == invitation
    accepted = await partners.ok("beta", RESPOND, id=invitation, answer="ACCEPT")
    assert accepted["respondToEndorsement"]["endorsement"]["status"] == "ACCEPTED"
    assert (await partners.ok("beta", VIEWER))["viewer"]["pendingInvitations"]["totalCount"] == 0

    submitted = await partners.ok("alpha", move("submitPledge"), id=pledge["id"])
    assert submitted["submitPledge"]["pledge"]["publicationStatus"] == "SUBMITTED"
    done = await partners.ok("secretariat", move("publishPledge"), id=pledge["id"])
    assert done["publishPledge"]["pledge"]["publicationStatus"] == "PUBLISHED"

    target = pledge["targets"][0]["id"]
    report = {
        "periodStart": "2026-01-01",
        "periodEnd": "2026-06-30",
        "values": [{"targetId": target, "value": "120"}],
        "narrative": "120 schools online.",
        "evidence": ["https://example.org/report"],
    }
    reported = await partners.ok("beta", REPORT, pledgeId=pledge["id"], input=report)
    made = reported["reportProgress"]["report"]
    assert made["status"] == "SUBMITTED"
    assert made["reportingMember"]["name"] == "Beta Foundation"
    verified = await partners.ok("secretariat", VERIFY, id=made["id"])
    assert verified["verifyProgress"]["report"]["status"] == "VERIFIED"

    public = await partners.ok(
        None,
        "query($id: ID!) { node(id: $id) { ... on Pledge { publicationStatus "
        "endorsements { status organisation { name } } targets { latestValue } } } }",
        id=pledge["id"],
    )
    node = public["node"]
    assert node["publicationStatus"] == "PUBLISHED"
    assert {e["organisation"]["name"] for e in node["endorsements"]} == {
        "Alpha Telecom",
        "Beta Foundation",
    }
    assert node["targets"][0]["latestValue"] == "120"


async def test_submission_lists_every_missing_part(partners: Partners) -> None:
    bare = {"title": "Something good", "pledgeType": "FINANCIAL"}
    data = await partners.ok("alpha", CREATE, input=bare)
    pledge = data["createPledge"]["pledge"]
    body = await partners.gql("alpha", move("submitPledge"), id=pledge["id"])
    payload = body["data"]["submitPledge"]
    assert payload["pledge"] is None
    assert {(e["code"], tuple(e["field"])) for e in payload["userErrors"]} == {
        ("FOCUS_AREA_REQUIRED", ("focusAreas",)),
        ("PLACE_REQUIRED", ("targetCountries",)),
        ("TARGET_REQUIRED", ("targets",)),
        ("AMOUNT_REQUIRED", ("pledgedAmount",)),
    }
    again = await partners.gql(
        "alpha",
        "query($id: ID!) { node(id: $id) { ... on Pledge { publicationStatus } } }",
        id=pledge["id"],
    )
    assert again["data"]["node"]["publicationStatus"] == "DRAFT"


async def test_a_stale_version_writes_nothing(partners: Partners) -> None:
    pledge = await partners.create()
    first = await partners.ok(
        "alpha", UPDATE, id=pledge["id"], version=pledge["version"],
        input=smart_pledge(title="Connect 600 schools in Malawi"),
    )  # fmt: skip
    assert first["updatePledge"]["pledge"]["version"] == pledge["version"] + 1
    body = await partners.gql(
        "alpha", UPDATE, id=pledge["id"], version=pledge["version"],
        input=smart_pledge(title="Someone else's title"),
    )  # fmt: skip
    payload = body["data"]["updatePledge"]
    assert payload["pledge"] is None
    [error] = payload["userErrors"]
    assert error["code"] == "STALE_VERSION"
    assert error["field"] == ["version"]
    check = await partners.ok(
        "alpha", "query($id: ID!) { node(id: $id) { ... on Pledge { title version } } }",
        id=pledge["id"],
    )  # fmt: skip
    assert check["node"] == {
        "title": "Connect 600 schools in Malawi",
        "version": pledge["version"] + 1,
    }


async def test_a_material_edit_asks_co_endorsers_again(partners: Partners) -> None:
    pledge = await partners.published()
    invitation = await partners.invite(pledge["id"], "beta", ["FUNDER"])
    await partners.ok("beta", RESPOND, id=invitation, answer="ACCEPT")
    target = pledge["targets"][0]
    kept = [{
        "id": target["id"], "indicator": "SCHOOLS_CONNECTED", "unit": "schools",
        "baseline": "0", "targetValue": "500", "deadline": "2028-12-31",
    }]  # fmt: skip
    wording = await partners.ok(
        "alpha", UPDATE, id=pledge["id"], version=pledge["version"],
        input=smart_pledge(description="Clearer words.", targets=kept),
    )  # fmt: skip
    assert wording["updatePledge"]["materialChanges"] == []
    assert wording["updatePledge"]["resetEndorsements"] == 0
    version = wording["updatePledge"]["pledge"]["version"]
    material = await partners.ok(
        "alpha", UPDATE, id=pledge["id"], version=version,
        input=smart_pledge(
            description="Clearer words.", targets=kept,
            pledgedAmount={"amount": "3000000", "currency": "USD"},
        ),
    )  # fmt: skip
    payload = material["updatePledge"]
    assert payload["materialChanges"] == ["pledgedAmount"]
    assert payload["resetEndorsements"] == 1
    statuses = {e["organisation"]["name"]: e["status"] for e in payload["pledge"]["endorsements"]}
    assert statuses == {"Alpha Telecom": "ACCEPTED", "Beta Foundation": "INVITED"}
    assert payload["pledge"]["publicationStatus"] == "PUBLISHED"
    inbox = (await partners.ok("beta", VIEWER))["viewer"]
    assert inbox["pendingInvitations"]["totalCount"] == 1


async def test_inputs_are_checked_field_by_field(partners: Partners) -> None:
    cases: list[tuple[dict[str, Any], str, list[str]]] = [
        ({"pledgedAmount": {"amount": "10.5", "currency": "JPY"}}, "TOO_MANY_DECIMALS",
         ["input", "pledgedAmount", "amount"]),
        ({"pledgedAmount": {"amount": "100", "currency": "ZZZ"}}, "UNKNOWN_CURRENCY",
         ["input", "pledgedAmount", "currency"]),
        ({"pledgedAmount": {"amount": "-5", "currency": "USD"}}, "INVALID_AMOUNT",
         ["input", "pledgedAmount", "amount"]),
        ({"targetCountries": ["MW"]}, "UNKNOWN_COUNTRY", ["input", "targetCountries"]),
        ({"startDate": "2027-01-01", "endDate": "2026-01-01"}, "INVALID_INPUT",
         ["input", "endDate"]),
        ({"title": "x" * 501}, "TOO_LONG", ["input", "title"]),
        ({"targets": [{"indicator": "OTHER", "unit": "sites", "targetValue": "5"}]}, "REQUIRED",
         ["input", "targets", "0", "label"]),
        ({"targets": [{"indicator": "FIBRE_KM", "unit": "km", "targetValue": "1e30"}]},
         "VALUE_OUT_OF_RANGE", ["input", "targets", "0", "targetValue"]),
    ]  # fmt: skip
    before = await count(partners.session_factory, Pledge)
    for changes, code, field in cases:
        body = await partners.gql("alpha", CREATE, input=smart_pledge(**changes))
        assert "errors" not in body, body
        [error] = body["data"]["createPledge"]["userErrors"]
        assert (error["code"], error["field"]) == (code, field), (changes, error)
    assert await count(partners.session_factory, Pledge) == before


async def test_hidden_and_missing_pledges_are_told_apart_by_nothing(partners: Partners) -> None:
    draft = await partners.create("gamma")
    hidden = await partners.gql("alpha", move("submitPledge"), id=draft["id"])
    missing = await partners.gql("alpha", move("submitPledge"), id=gid("Pledge", 999_999))
    assert hidden["data"] == {
        "submitPledge": {
            "pledge": None,
            "userErrors": [
                {
                    "field": ["id"],
                    "message": "no pledge with this id is visible to this client",
                    "code": "NOT_FOUND",
                }
            ],
        }
    }
    assert missing["data"] == hidden["data"]
    wrong_type = await partners.gql("alpha", move("submitPledge"), id=gid("Organisation", 1))
    assert wrong_type["data"]["submitPledge"]["userErrors"][0]["code"] == "INVALID_ID"


async def test_who_may_do_what(partners: Partners) -> None:
    pledge = await partners.create()
    anonymous = await partners.gql(None, CREATE, input=smart_pledge())
    assert anonymous["data"]["createPledge"] is None
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    no_scope = await partners.gql("auditor", CREATE, input=smart_pledge())
    assert no_scope["errors"][0]["extensions"]["code"] == "MISSING_SCOPE"
    assert "pledges:write" in no_scope["errors"][0]["message"]
    publishing = await partners.gql("alpha", move("publishPledge"), id=pledge["id"])
    assert publishing["errors"][0]["extensions"]["code"] == "MISSING_SCOPE"
    other = await partners.gql("beta", move("submitPledge"), id=pledge["id"])
    assert other["data"]["submitPledge"]["userErrors"][0]["code"] == "NOT_FOUND"
    await partners.ok("alpha", move("submitPledge"), id=pledge["id"])
    again = await partners.gql("alpha", move("submitPledge"), id=pledge["id"])
    assert again["data"]["submitPledge"]["userErrors"][0]["code"] == "INVALID_TRANSITION"
    fulfil = await partners.gql("secretariat", move("markPledgeFulfilled"), id=pledge["id"])
    assert fulfil["data"]["markPledgeFulfilled"]["userErrors"][0]["code"] == "INVALID_TRANSITION"


async def test_a_returned_pledge_waits_in_the_leads_inbox(partners: Partners) -> None:
    pledge = await partners.create()
    await partners.ok("alpha", move("submitPledge"), id=pledge["id"])
    returned = await partners.ok("secretariat", RETURN, id=pledge["id"], note="Name the schools.")
    assert returned["returnPledge"]["pledge"]["publicationStatus"] == "DRAFT"
    inbox = (await partners.ok("alpha", VIEWER))["viewer"]
    [edge] = inbox["returnedPledges"]["edges"]
    assert edge["node"]["returnNote"] == "Name the schools."
    assert inbox["kind"] == "PARTNER"
    assert inbox["scopes"] == ["endorsements:write", "pledges:write", "progress:write"]
    assert (await partners.ok(None, VIEWER))["viewer"] is None


async def test_answers_and_revocations(partners: Partners) -> None:
    pledge = await partners.published()
    invitation = await partners.invite(pledge["id"], "beta", ["ENDORSER"])
    not_yours = await partners.gql("gamma", RESPOND, id=invitation, answer="ACCEPT")
    assert not_yours["data"]["respondToEndorsement"]["userErrors"][0]["code"] == "NOT_FOUND"
    lead_answers = await partners.gql("alpha", RESPOND, id=invitation, answer="ACCEPT")
    assert lead_answers["data"]["respondToEndorsement"]["userErrors"][0]["code"] == "NOT_PERMITTED"
    declined = await partners.ok("beta", RESPOND, id=invitation, answer="DECLINE")
    assert declined["respondToEndorsement"]["endorsement"]["status"] == "DECLINED"
    again = await partners.invite(pledge["id"], "beta", ["IMPLEMENTER"])
    assert again == invitation  # the same record, invited afresh
    await partners.ok("beta", RESPOND, id=invitation, answer="ACCEPT")
    ended = await partners.ok("beta", REVOKE, id=invitation)
    assert ended["revokeEndorsement"]["endorsement"]["status"] == "REVOKED"
    lead = pledge["endorsements"][0]["id"]
    refused = await partners.gql("alpha", REVOKE, id=lead)
    assert refused["data"]["revokeEndorsement"]["userErrors"][0]["code"] == "LEAD_REQUIRED"


async def test_only_those_taking_part_report_and_rejected_reports_say_why(
    partners: Partners,
) -> None:
    pledge = await partners.published()
    report = {"periodStart": "2026-01-01", "periodEnd": "2026-03-31", "narrative": "Begun."}
    outsider = await partners.gql("gamma", REPORT, pledgeId=pledge["id"], input=report)
    assert outsider["data"]["reportProgress"]["userErrors"][0]["code"] == "NOT_PERMITTED"
    made = await partners.ok("alpha", REPORT, pledgeId=pledge["id"], input=report)
    report_id = made["reportProgress"]["report"]["id"]
    rejected = await partners.ok("secretariat", REJECT, id=report_id, note="No evidence.")
    assert rejected["rejectProgress"]["report"] == {
        "id": report_id, "status": "REJECTED", "reviewNote": "No evidence.",
    }  # fmt: skip
    twice = await partners.gql("secretariat", VERIFY, id=report_id)
    assert twice["data"]["verifyProgress"]["userErrors"][0]["code"] == "INVALID_TRANSITION"


async def test_the_secretariat_keeps_the_members_list(partners: Partners) -> None:
    made = await partners.ok(
        "secretariat", CREATE_ORGANISATION,
        input={"name": "Delta Youth Network", "organisationType": "YOUTH",
               "headquartersCountry": "NPL", "website": "https://delta.example"},
    )  # fmt: skip
    organisation = made["createOrganisation"]["organisation"]
    assert organisation["membershipStatus"] == "NONE"
    duplicate = await partners.gql(
        "secretariat", UPDATE_ORGANISATION, id=organisation["id"],
        input={"name": "Delta", "organisationType": "YOUTH", "website": "ftp://delta"},
    )  # fmt: skip
    [error] = duplicate["data"]["updateOrganisation"]["userErrors"]
    assert (error["code"], error["field"]) == ("INVALID_URL", ["input", "website"])
    approved = await partners.ok("secretariat", APPROVE, id=organisation["id"])
    assert approved["approveMembership"]["organisation"]["membershipStatus"] == "MEMBER"
    twice = await partners.gql("secretariat", APPROVE, id=organisation["id"])
    assert twice["data"]["approveMembership"]["userErrors"][0] == {
        "field": ["id"], "message": "a MEMBER organisation cannot be approved",
        "code": "INVALID_TRANSITION",
    }  # fmt: skip
    partner = await partners.gql("alpha", APPROVE, id=organisation["id"])
    assert partner["errors"][0]["extensions"]["code"] == "MISSING_SCOPE"


async def test_a_refused_call_leaves_nothing(partners: Partners) -> None:
    pledge = await partners.create()
    before = (
        await count(partners.session_factory, Pledge),
        await count(partners.session_factory, Endorsement),
    )
    beta = gid("Organisation", partners.members["beta"])
    await partners.gql(
        "alpha_read", INVITE, pledgeId=pledge["id"], organisationId=beta, roles=["FUNDER"]
    )
    await partners.gql("auditor", CREATE, input=smart_pledge())
    bad_target = smart_pledge(targets=[{"indicator": "FIBRE_KM", "unit": "", "targetValue": "5"}])
    await partners.gql("alpha", CREATE, input=bad_target)
    after = (
        await count(partners.session_factory, Pledge),
        await count(partners.session_factory, Endorsement),
    )
    assert after == before


async def test_each_client_spends_its_own_budget_and_writes_cost_more(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    rate = "{ rateLimit { cost limit remaining resetAt } }"
    write = "mutation($input: PledgeInput!) { createPledge(input: $input) { pledge { id } } }"
    async with running_partners(database_url, session_factory, client_cost_per_hour=200) as hub:
        read = (await hub.ok("alpha", rate))["rateLimit"]
        assert (read["cost"], read["limit"], read["remaining"]) == (1, 200, 199)
        await hub.ok("alpha", write, input=smart_pledge())
        after = (await hub.ok("alpha", rate))["rateLimit"]
        # 50 for the mutation (its payload), 1 for the pledge; then 1 for this query
        assert after["remaining"] == 199 - 51 - 1
        await hub.ok("alpha", write, input=smart_pledge())
        await hub.ok("alpha", write, input=smart_pledge())  # 45 left: not enough for one more
        refused = await hub.gql("alpha", write, input=smart_pledge())
        [error] = refused["errors"]
        assert error["extensions"]["code"] == "BUDGET_EXCEEDED"
        assert error["extensions"]["resetAt"] == after["resetAt"]
        assert f"it resets at {after['resetAt']}" in error["message"]
        assert await count(session_factory, Pledge) == 3
        other = (await hub.ok("beta", rate))["rateLimit"]
        assert other["remaining"] == 199  # beta's budget is its own
        anonymous = (await hub.ok(None, rate))["rateLimit"]
        assert anonymous["limit"] == 1_000_000


async def test_reports_are_checked_field_by_field(partners: Partners) -> None:
    pledge = await partners.published()
    other = await partners.published(title="Another pledge")
    target = pledge["targets"][0]["id"]
    base = {"periodStart": "2026-01-01", "periodEnd": "2026-06-30"}
    cases: list[tuple[dict[str, Any], str, list[str]]] = [
        ({"periodEnd": "2025-12-31"}, "INVALID_INPUT", ["input", "periodEnd"]),
        ({"disbursed": {"amount": "-1", "currency": "USD"}}, "INVALID_AMOUNT",
         ["input", "disbursed", "amount"]),
        ({"disbursed": {"amount": "1.001", "currency": "USD"}}, "TOO_MANY_DECIMALS",
         ["input", "disbursed", "amount"]),
        ({"evidence": ["ftp://example.org/x"]}, "INVALID_INPUT", ["input", "evidence", "0"]),
        ({"values": [{"targetId": other["targets"][0]["id"], "value": "1"}]}, "UNKNOWN_TARGET",
         ["input", "values"]),
        ({"values": [{"targetId": target}]}, "REQUIRED", ["input", "values", "0"]),
        ({"values": [{"targetId": target, "value": "1"}, {"targetId": target, "value": "2"}]},
         "DUPLICATE_VALUE", ["input", "values", "1"]),
        ({"values": [{"targetId": target, "value": "0.0000001"}]}, "TOO_MANY_DECIMALS",
         ["input", "values", "0", "value"]),
        ({"values": [{"targetId": pledge["id"], "value": "1"}]}, "INVALID_ID",
         ["input", "values", "0", "targetId"]),
    ]  # fmt: skip
    for changes, code, field in cases:
        body = await partners.gql("alpha", REPORT, pledgeId=pledge["id"], input=base | changes)
        assert "errors" not in body, body
        [error] = body["data"]["reportProgress"]["userErrors"]
        assert (error["code"], error["field"]) == (code, field), (changes, error)
