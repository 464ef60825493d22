"""Subscriptions end to end: a real graphql-transport-ws client against a served hub, on
SQLite (delivery in the process) and PostgreSQL (LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin, Subprotocol

from hub.db import create_engine, create_session_factory
from tests.fixtures.live import (
    LiveHub,
    live_hub,
    raw_socket,
    received,
    subscription,
    until,
)
from tests.fixtures.oauth import (
    ENCRYPTION_KEY,
    ISSUER,
    basic,
    claims_for,
    hub_signing_key,
    sign,
)
from tests.fixtures.partners import INVITE, REPORT, RESPOND, Partners, gid, move
from tests.test_cli import free_port, hub_env, serving

PUBLISHED = "subscription { pledgePublished { id title publicationStatus } }"
REPORTED = "subscription { progressReported { id narrative pledge { id } } }"
ENDORSEMENTS = """
subscription Endorsements($pledgeId: ID) {
  endorsementChanged(pledgeId: $pledgeId) { id status roles organisation { name } }
}"""


def report_input(pledge: dict[str, Any], narrative: str) -> dict[str, Any]:
    return {
        "periodStart": "2026-01-01",
        "periodEnd": "2026-06-30",
        "values": [{"targetId": pledge["targets"][0]["id"], "value": "120"}],
        "narrative": narrative,
    }


async def test_the_public_gets_what_is_published_and_never_a_draft(hub: LiveHub) -> None:
    partners = hub.partners
    async with (
        subscription(hub.ws, PUBLISHED) as published,
        subscription(hub.ws, REPORTED) as reported,
    ):
        await hub.subscribed(2)
        draft = await partners.create(title="Still a draft")
        await partners.ok("alpha", move("submitPledge"), id=draft["id"])
        pledge = await partners.published(title="Connect schools in Malawi")
        event = await published.next()
        assert event["pledgePublished"] == {
            "id": pledge["id"],
            "title": "Connect schools in Malawi",
            "publicationStatus": "PUBLISHED",
        }
        await partners.ok("alpha", REPORT, pledgeId=pledge["id"], input=report_input(pledge, "120"))
        report = await reported.next()
        assert report["progressReported"]["narrative"] == "120"
        assert report["progressReported"]["pledge"] == {"id": pledge["id"]}
        await published.quiet()


async def test_endorsement_changes_reach_the_members_they_concern(hub: LiveHub) -> None:
    partners = hub.partners
    pledge = await partners.create(title="Shared pledge")
    tokens = partners.tokens
    variables = {"pledgeId": pledge["id"]}
    async with (
        subscription(hub.ws, ENDORSEMENTS, token=tokens["alpha"], **variables) as lead,
        subscription(hub.ws, ENDORSEMENTS, token=tokens["beta"]) as invitee,
        subscription(hub.ws, ENDORSEMENTS, token=tokens["gamma"]) as outsider,
    ):
        await hub.subscribed(3)
        invitation = await partners.invite(pledge["id"], "beta", ["FUNDER"])
        for feed in (lead, invitee):
            event = (await feed.next())["endorsementChanged"]
            assert (event["id"], event["status"], event["roles"]) == (
                invitation,
                "INVITED",
                ["FUNDER"],
            )
        await partners.ok("beta", RESPOND, id=invitation, answer="ACCEPT")
        for feed in (lead, invitee):
            assert (await feed.next())["endorsementChanged"]["status"] == "ACCEPTED"
        # gamma saw nothing of it: its first event is its own invitation
        organisation = gid("Organisation", partners.members["gamma"])
        await partners.ok(
            "alpha",
            INVITE,
            pledgeId=pledge["id"],
            organisationId=organisation,
            roles=["IMPLEMENTER"],
        )
        event = (await outsider.next())["endorsementChanged"]
        assert event["organisation"]["name"] == "Gamma Networks"


async def test_endorsement_changes_need_a_members_token(hub: LiveHub) -> None:
    async with subscription(hub.ws, ENDORSEMENTS) as anonymous:
        failure = await anonymous.failure()
    assert "connection_init" in str(failure)
    token = hub.partners.tokens["secretariat"]
    async with subscription(hub.ws, ENDORSEMENTS, token=token) as secretariat:
        failure = await secretariat.failure()
    assert "acts for no member" in str(failure)


async def test_since_delivers_what_was_missed_then_what_happens(hub: LiveHub) -> None:
    partners = hub.partners
    before = datetime.now(UTC) - timedelta(seconds=1)
    first = await partners.published(title="First")
    second = await partners.published(title="Second")
    document = "subscription($since: DateTime) { pledgePublished(since: $since) { id } }"
    async with subscription(hub.ws, document, since=before.isoformat()) as feed:
        assert (await feed.next())["pledgePublished"]["id"] == first["id"]
        assert (await feed.next())["pledgePublished"]["id"] == second["id"]
        await hub.subscribed(1)
        third = await partners.published(title="Third")
        assert (await feed.next())["pledgePublished"]["id"] == third["id"]
        await feed.quiet()


async def test_since_is_bounded(hub: LiveHub) -> None:
    document = "subscription($since: DateTime) { pledgePublished(since: $since) { id } }"
    long_ago = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    async with subscription(hub.ws, document, since=long_ago) as feed:
        failure = await feed.failure()
    assert "at most 7 days ago" in str(failure)


async def test_a_bad_token_is_refused_at_connection_init(hub: LiveHub) -> None:
    async with raw_socket(hub.ws, token="not-a-token") as socket:
        with pytest.raises(ConnectionClosed) as closed:
            await received(socket)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403
    assert "not a signed JWT" in closed.value.rcvd.reason


async def test_an_expired_token_closes_the_socket(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_hub(database_url, session_factory, token_leeway_seconds=0) as hub:
        key = (await hub_signing_key(session_factory)).key
        now = int(time.time())
        token = sign(claims_for(hub.clients["beta"], iat=now, exp=now + 2), key)
        async with raw_socket(hub.ws, token) as socket:
            assert (await received(socket))["type"] == "connection_ack"
            subscribe = {"id": "1", "type": "subscribe", "payload": {"query": ENDORSEMENTS}}
            await socket.send(json.dumps(subscribe))
            await hub.subscribed(1)
            with pytest.raises(ConnectionClosed) as closed:
                await received(socket, seconds=10)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4403, "the token has expired")
        assert time.time() >= now + 2
        await asyncio.sleep(0.1)
        assert hub.app.state.broker.count() == 0


async def test_a_revoked_token_closes_the_socket(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_hub(database_url, session_factory, subscription_recheck_seconds=1) as hub:
        token = hub.partners.tokens["beta"]
        async with subscription(hub.ws, ENDORSEMENTS, token=token) as feed:
            await hub.subscribed(1)
            revoked = await hub.partners.http.post(
                "/oauth/revoke", data={"token": token}, auth=basic(hub.clients["beta"])
            )
            assert revoked.status_code == 200
            failure = await feed.failure(seconds=5)
        assert failure is not None
        async with raw_socket(hub.ws, token) as socket:
            with pytest.raises(ConnectionClosed) as closed:
                await received(socket)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4403
        assert "revoked" in closed.value.rcvd.reason


async def test_a_write_in_another_process_reaches_the_subscriber(
    postgres_database_url: str, tmp_path: Path
) -> None:
    """Two hub processes on one PostgreSQL: one serves the subscriber, the other (started
    with ``p2c-hub serve``) takes the write; LISTEN/NOTIFY carries the news across."""
    engine = create_engine(postgres_database_url)
    factory = create_session_factory(engine)
    try:
        async with live_hub(postgres_database_url, factory) as hub:
            env = hub_env(
                port=str(free_port()),
                database_url=postgres_database_url,
                public_url=ISSUER,
                key_encryption_keys=ENCRYPTION_KEY,
            )
            with serving(env, tmp_path / "writer.log") as writer:
                async with (
                    subscription(hub.ws, PUBLISHED) as published,
                    httpx.AsyncClient(base_url=writer) as http,
                ):
                    await hub.subscribed(1)
                    elsewhere = Partners(http, factory, hub.partners.members, hub.partners.tokens)
                    await elsewhere.create(title="A draft written elsewhere")
                    pledge = await elsewhere.published(title="Published elsewhere")
                    event = await published.next()
                    assert event["pledgePublished"]["id"] == pledge["id"]
                    assert event["pledgePublished"]["title"] == "Published elsewhere"
                    await published.quiet()
            assert '"path": "/graphql"' in (tmp_path / "writer.log").read_text()
    finally:
        await engine.dispose()


async def subscribe(socket: ClientConnection, operation_id: str, query: str) -> None:
    message = {"id": operation_id, "type": "subscribe", "payload": {"query": query}}
    await socket.send(json.dumps(message))


async def refusal(socket: ClientConnection, operation_id: str) -> dict[str, Any]:
    """The first error of operation ``operation_id``: an ``error`` message, or a ``next``
    holding errors (followed by ``complete``)."""
    message = await received(socket)
    assert message["id"] == operation_id, message
    if message["type"] == "error":
        error: dict[str, Any] = message["payload"][0]
        return error
    assert message["type"] == "next", message
    assert message["payload"]["data"] is None
    assert (await received(socket)) == {"id": operation_id, "type": "complete"}
    first: dict[str, Any] = message["payload"]["errors"][0]
    return first


async def test_depth_cost_and_the_number_of_subscriptions_are_bounded(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    limits = {
        "max_query_depth": 4,
        "max_operation_cost": 100,  # a subscription costs 100 before what it selects
        "subscriptions_per_connection": 2,
        "subscriptions_per_client": 3,
    }
    async with (
        live_hub(database_url, session_factory, **limits) as hub,
        raw_socket(hub.ws) as first,
        raw_socket(hub.ws) as second,
    ):
        for socket in (first, second):
            assert (await received(socket))["type"] == "connection_ack"
        deep = "subscription { pledgePublished { lead { pledges { edges { node { id } } } } } }"
        await subscribe(first, "deep", deep)
        error = await refusal(first, "deep")
        assert "exceeds maximum operation depth of 4" in error["message"]
        costly = "subscription { pledgePublished { endorsements { organisation { name } } } }"
        await subscribe(first, "costly", costly)
        error = await refusal(first, "costly")
        assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
        await subscribe(first, "1", PUBLISHED)
        await subscribe(first, "2", "subscription { progressReported { id } }")
        await hub.subscribed(2)
        await subscribe(first, "3", PUBLISHED)
        error = await refusal(first, "3")
        assert error["message"] == "Subscription limit reached"
        await subscribe(second, "4", PUBLISHED)
        await hub.subscribed(3)
        await subscribe(second, "5", PUBLISHED)  # the fourth of one address
        error = await refusal(second, "5")
        assert error["extensions"]["code"] == "SUBSCRIPTION_LIMIT"
        assert "already holds 3 subscriptions" in error["message"]
        await first.send(json.dumps({"id": "1", "type": "complete"}))
        await until(lambda: hub.app.state.broker.count() == 2)
        await subscribe(second, "6", PUBLISHED)
        await hub.subscribed(3)


async def test_over_http_a_subscription_is_refused_with_the_way_to_subscribe(
    hub: LiveHub,
) -> None:
    body = await hub.partners.gql(None, PUBLISHED)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "WEBSOCKET_REQUIRED"
    assert "graphql-transport-ws" in error["message"]


async def test_pages_of_other_origins_may_not_open_a_socket_unless_allowed(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    allowed = "https://coalition.example"
    async with live_hub(database_url, session_factory, cors_origins=[allowed]) as hub:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(hub.ws, origin=Origin("https://elsewhere.example")):
                pass
        assert refused.value.response.status_code == 403
        async with connect(
            hub.ws, origin=Origin(allowed), subprotocols=[Subprotocol("graphql-transport-ws")]
        ) as socket:
            await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert (await received(socket))["type"] == "connection_ack"
