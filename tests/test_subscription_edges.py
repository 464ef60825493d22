"""Adversarial probes of the subscriptions: malformed protocol messages, hostile
connection_init payloads, odd ``since`` and ``pledgeId`` values, what may and may not reach a
subscriber, rolled-back writes, leaks of the broker's counts, and operations other than
subscriptions over the socket."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.fixtures.live import (
    LiveHub,
    end_listening_connection,
    live_hub,
    received,
    subscription,
    until,
)
from tests.fixtures.partners import REJECT, REPORT, REVOKE, gid, move

PROTOCOL = "graphql-transport-ws"
PUBLISHED = "subscription($since: DateTime) { pledgePublished(since: $since) { id title } }"
REPORTED = """
subscription($pledgeId: ID, $since: DateTime) {
  progressReported(pledgeId: $pledgeId, since: $since) { id status narrative }
}"""
ENDORSEMENTS = """
subscription($pledgeId: ID, $since: DateTime) {
  endorsementChanged(pledgeId: $pledgeId, since: $since) {
    id status pledge { id title publicationStatus } organisation { name }
  }
}"""


pytestmark = pytest.mark.usefixtures("no_unhandled_errors")


async def opened(hub: LiveHub, payload: Any = None, *, init: bool = True) -> ClientConnection:
    socket = await connect(hub.ws, subprotocols=[Subprotocol(PROTOCOL)])
    if init:
        message: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await socket.send(json.dumps(message))
    return socket


async def closed_with(socket: ClientConnection, seconds: float = 5.0) -> tuple[int, str]:
    async def until_closed() -> None:
        async with asyncio.timeout(seconds):
            while True:
                await socket.recv()

    with pytest.raises(ConnectionClosed) as closed:
        await until_closed()
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def send(socket: ClientConnection, message: Any) -> None:
    await socket.send(json.dumps(message))


async def subscribe(
    socket: ClientConnection, operation_id: str, query: str, **variables: Any
) -> None:
    payload: dict[str, Any] = {"query": query}
    if variables:
        payload["variables"] = variables
    await send(socket, {"id": operation_id, "type": "subscribe", "payload": payload})


async def first_error(socket: ClientConnection, operation_id: str) -> dict[str, Any]:
    """The first error of an operation: in an ``error`` message, or in a ``next``."""
    message = await received(socket)
    assert message.get("id") == operation_id, message
    if message["type"] == "error":
        error: dict[str, Any] = message["payload"][0]
        return error
    assert message["type"] == "next", message
    assert message["payload"].get("errors"), message
    assert (await received(socket)) == {"id": operation_id, "type": "complete"}
    found: dict[str, Any] = message["payload"]["errors"][0]
    return found


async def drained(hub: LiveHub) -> None:
    """The broker holds no subscription (every socket closed and cleaned up)."""
    await until(lambda: hub.app.state.broker.count() == 0, seconds=5)


# --- protocol and connection_init (the database plays no part: SQLite only) ---------------

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])


async def close_code_after(hub: LiveHub, message: Any) -> int | str:
    """What a fresh, acknowledged socket answers ``message`` with: its close code, or the
    first message it sends back."""
    socket = await opened(hub, {})
    assert (await received(socket))["type"] == "connection_ack"
    await send(socket, message)
    try:
        async with asyncio.timeout(3):
            answer = await socket.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else "no close frame"
    finally:
        await socket.close()
    return str(json.loads(answer).get("type"))


@SQLITE_ONLY
async def test_a_message_that_is_not_an_object_closes_with_4400(hub: LiveHub) -> None:
    """``[]``, ``"hello"``, ``1``, ``null``: Strawberry indexes them as dicts, the handler
    dies with a TypeError (logged as "Exception in ASGI application") and the socket drops
    without a close frame."""
    messages: list[Any] = [[], "hello", 1, None, [{"type": "ping"}]]
    answers = [await close_code_after(hub, message) for message in messages]
    assert answers == [4400] * len(messages)
    await drained(hub)


@SQLITE_ONLY
async def test_malformed_subscribe_messages_close_or_fail_cleanly(hub: LiveHub) -> None:
    """A subscribe whose payload is not an object, whose query is not a string or does not
    parse: a 4400 close or an ``error`` message, never a worker traceback and a bare
    ``complete`` that tells the client nothing."""
    messages: list[dict[str, Any]] = [
        {"id": "1", "type": "subscribe"},
        {"id": "1", "type": "subscribe", "payload": {}},
        {"type": "subscribe", "payload": {"query": PUBLISHED}},
        {"id": "1", "type": "nonsense"},
        {"id": "1", "type": "subscribe", "payload": "query"},
        {"id": "1", "type": "subscribe", "payload": {"query": 5}},
        {"id": "1", "type": "subscribe", "payload": {"query": "subscription {"}},
    ]
    answers = [await close_code_after(hub, message) for message in messages]
    assert all(answer in (4400, "error") for answer in answers), answers
    await drained(hub)


@SQLITE_ONLY
async def test_a_connection_init_payload_that_is_not_an_object_closes_with_4400(
    hub: LiveHub,
) -> None:
    for payload in ("x", 5, [1], True):
        socket = await opened(hub, payload)
        code, reason = await closed_with(socket)
        assert (code, reason) == (4400, "the connection_init payload must be an object")


@SQLITE_ONLY
async def test_malformed_authorization_is_refused_with_4403_and_a_short_reason(
    hub: LiveHub,
) -> None:
    token = hub.partners.tokens["alpha"]
    payloads: list[dict[str, Any]] = [
        {"authorization": 5},
        {"authorization": None},
        {"authorization": ["Bearer x"]},
        {"authorization": {"token": "x"}},
        {"authorization": "Bearer a", "Authorization": "Bearer b"},
        {"Authorization": f"Bearer {token}", "AUTHORIZATION": "x"},
        {"authorization": ""},
        {"authorization": "Basic dXNlcjpwYXNz"},
        {"authorization": "Bearer"},
        {"authorization": "Bearer " + "x" * 1_000_000},
        {"authorization": "Bearer " + "\u00e9" * 200},
    ]
    for payload in payloads:
        socket = await opened(hub, payload)
        code, reason = await closed_with(socket)
        assert code == 4403, payload
        assert 0 < len(reason.encode()) <= 123
        assert "Traceback" not in reason


@SQLITE_ONLY
async def test_an_authorization_in_any_case_is_honoured(hub: LiveHub) -> None:
    token = hub.partners.tokens["beta"]
    socket = await opened(hub, {"AuThOrIzAtIoN": f"bearer {token}"})
    assert (await received(socket))["type"] == "connection_ack"
    await subscribe(socket, "1", ENDORSEMENTS)
    await hub.subscribed(1)
    await socket.close()
    await drained(hub)


@SQLITE_ONLY
async def test_protocol_state_errors_close_and_free_subscriptions(hub: LiveHub) -> None:
    early = await opened(hub, init=False)  # subscribe before connection_init
    await subscribe(early, "1", PUBLISHED)
    assert (await closed_with(early))[0] == 4401
    twice = await opened(hub, {})  # a second connection_init
    assert (await received(twice))["type"] == "connection_ack"
    await subscribe(twice, "1", PUBLISHED)
    await hub.subscribed(1)
    await send(twice, {"type": "connection_init", "payload": {}})
    assert (await closed_with(twice))[0] == 4429
    await drained(hub)
    duplicate = await opened(hub, {})  # unknown complete, then a duplicate id
    assert (await received(duplicate))["type"] == "connection_ack"
    await send(duplicate, {"id": "nobody", "type": "complete"})
    await send(duplicate, {"type": "ping"})
    assert (await received(duplicate))["type"] == "pong"
    await subscribe(duplicate, "1", PUBLISHED)
    await hub.subscribed(1)
    await subscribe(duplicate, "1", PUBLISHED)
    assert (await closed_with(duplicate))[0] == 4409
    await drained(hub)


# --- arguments ------------------------------------------------------------------------


async def refusal_of(hub: LiveHub, query: str, **variables: Any) -> dict[str, Any]:
    socket = await opened(hub, {})
    assert (await received(socket))["type"] == "connection_ack"
    await subscribe(socket, "1", query, **variables)
    try:
        return await first_error(socket, "1")
    finally:
        await socket.close()


@SQLITE_ONLY
async def test_a_naive_since_is_a_clear_input_error(hub: LiveHub) -> None:
    """A ``since`` without an offset: compared with an aware "now" it raises TypeError, and
    the caller gets INTERNAL_ERROR (with a traceback in the log) instead of INVALID_INPUT."""
    naive = (datetime.now(UTC) - timedelta(hours=1)).replace(tzinfo=None).isoformat()
    error = await refusal_of(hub, PUBLISHED, since=naive)
    assert error.get("extensions", {}).get("code") not in (None, "INTERNAL_ERROR"), error
    await drained(hub)


@SQLITE_ONLY
async def test_garbled_since_and_pledge_ids_are_refused_cleanly(hub: LiveHub) -> None:
    for since in ("yesterday", "2026-13-45T00:00:00Z", 5, "0001-01-01T00:00:00Z"):
        error = await refusal_of(hub, PUBLISHED, since=since)
        assert "Internal error" not in error["message"], (since, error)
    for pledge_id in ("garbage", gid("Organisation", 1), "", 42):
        error = await refusal_of(hub, REPORTED, pledgeId=pledge_id)
        assert "Internal error" not in error["message"], (pledge_id, error)
    await drained(hub)


async def test_since_in_another_offset_catches_up_the_same(hub: LiveHub) -> None:
    """``since`` names a moment: +05:00 or Z, the same pledges are caught up."""
    before = datetime.now(UTC) - timedelta(seconds=2)
    pledge = await hub.partners.published(title="Published a moment ago")
    caught_up: dict[str, Any] = {}
    for zone in (UTC, timezone(timedelta(hours=5)), timezone(timedelta(hours=-5))):
        since = before.astimezone(zone).isoformat()
        async with subscription(hub.ws, PUBLISHED, since=since) as feed:
            try:
                event = await feed.next(seconds=10)  # at once when it works; 2 s was too
            except TimeoutError:  # short on two busy cores
                caught_up[since[-6:]] = None
            else:
                caught_up[since[-6:]] = event["pledgePublished"]["id"]
    assert caught_up == dict.fromkeys(caught_up, pledge["id"])


# --- what reaches whom ----------------------------------------------------------------


async def test_catch_up_shows_nobody_a_draft_or_another_members_invitation(
    hub: LiveHub,
) -> None:
    partners = hub.partners
    before = (datetime.now(UTC) - timedelta(seconds=2)).isoformat()
    draft = await partners.create(title="Secret draft")
    await partners.invite(draft["id"], "beta", ["FUNDER"])
    withdrawn = await partners.create(title="Withdrawn unpublished")
    await partners.ok("alpha", move("withdrawPledge"), id=withdrawn["id"])
    public = await partners.published(title="Public one")
    tokens = partners.tokens
    async with (
        subscription(hub.ws, PUBLISHED, since=before) as anonymous,
        subscription(hub.ws, PUBLISHED, token=tokens["gamma"], since=before) as gamma_pledges,
        subscription(hub.ws, ENDORSEMENTS, token=tokens["gamma"], since=before) as gamma,
        subscription(hub.ws, ENDORSEMENTS, token=tokens["beta"], since=before) as beta,
    ):
        for feed in (anonymous, gamma_pledges):
            assert (await feed.next())["pledgePublished"]["title"] == "Public one"
        invited = (await beta.next())["endorsementChanged"]
        assert invited["pledge"]["title"] == "Secret draft"  # beta is invited: may see it
        for feed in (anonymous, gamma_pledges, gamma, beta):
            await feed.quiet(0.3)
    assert public["publicationStatus"] == "PUBLISHED"


async def test_a_rejected_report_reaches_only_those_it_concerns(hub: LiveHub) -> None:
    partners = hub.partners
    pledge = await partners.published(title="Reported on")
    report_input = {
        "periodStart": "2026-01-01",
        "periodEnd": "2026-06-30",
        "values": [{"targetId": pledge["targets"][0]["id"], "value": "5"}],
        "narrative": "to be rejected",
    }
    before = (datetime.now(UTC) - timedelta(seconds=2)).isoformat()
    data = await partners.ok("alpha", REPORT, pledgeId=pledge["id"], input=report_input)
    report_id = data["reportProgress"]["report"]["id"]
    await partners.ok("secretariat", REJECT, id=report_id, note="no evidence")
    async with (
        subscription(hub.ws, REPORTED, since=before) as anonymous,
        subscription(hub.ws, REPORTED, token=partners.tokens["gamma"], since=before) as gamma,
        subscription(hub.ws, REPORTED, token=partners.tokens["alpha"], since=before) as alpha,
    ):
        assert (await alpha.next())["progressReported"]["status"] == "REJECTED"
        await anonymous.quiet(0.3)
        await gamma.quiet(0.1)


async def test_a_member_learns_its_invitation_to_a_draft_was_revoked(hub: LiveHub) -> None:
    """README: an endorsement of the caller's member reaches it as it is invited, answered,
    revoked. An invitation to a draft, then revoked by the lead: the invitee must learn it,
    or its system shows the invitation as open for ever."""
    partners = hub.partners
    draft = await partners.create(title="Draft with an invitation")
    async with subscription(hub.ws, ENDORSEMENTS, token=partners.tokens["beta"]) as beta:
        await hub.subscribed(1)
        invitation = await partners.invite(draft["id"], "beta", ["FUNDER"])
        assert (await beta.next())["endorsementChanged"]["status"] == "INVITED"
        await partners.ok("alpha", REVOKE, id=invitation)
        event = (await beta.next(seconds=2))["endorsementChanged"]
        assert (event["id"], event["status"]) == (invitation, "REVOKED")


# --- writes that do not commit ------------------------------------------------------------


PUBLISH_TWO = """
mutation Two($first: ID!, $second: ID!) {
  one: publishPledge(id: $first) { pledge { id } userErrors { code } }
  two: publishPledge(id: $second) { pledge { id } userErrors { code } }
}"""


async def submitted(hub: LiveHub, title: str) -> dict[str, Any]:
    pledge = await hub.partners.create(title=title)
    await hub.partners.ok("alpha", move("submitPledge"), id=pledge["id"])
    return pledge


async def test_a_mutation_refused_after_announcing_announces_nothing(
    hub: LiveHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service announced, then the mutation was refused (userErrors, savepoint rolled
    back) or failed (internal error, request rolled back): nobody hears of it."""
    from hub.errors import Conflict
    from hub.pledges import service

    real = service.publish_pledge
    failures = iter([Conflict("collided", code="TRY_AGAIN"), RuntimeError("boom")])

    async def publish_then_fail(*args: Any, **kwargs: Any) -> Any:
        await real(*args, **kwargs)
        raise next(failures)

    first, second, third = [await submitted(hub, f"Pledge {n}") for n in range(3)]
    async with subscription(hub.ws, PUBLISHED) as feed:
        await hub.subscribed(1)
        monkeypatch.setattr("hub.pledges.commands.publish_pledge", publish_then_fail)
        refused = await hub.partners.gql("secretariat", move("publishPledge"), id=first["id"])
        assert refused["data"]["publishPledge"]["userErrors"], refused
        failed = await hub.partners.gql("secretariat", move("publishPledge"), id=second["id"])
        assert failed["errors"][0]["extensions"]["code"] == "INTERNAL_ERROR"
        monkeypatch.setattr("hub.pledges.commands.publish_pledge", real)
        await feed.quiet(0.5)
        # one published, one refused in the same request: the published one is heard of
        both = await hub.partners.gql(
            "secretariat", PUBLISH_TWO, first=third["id"], second=third["id"]
        )
        assert both["data"]["two"]["userErrors"], both
        assert (await feed.next())["pledgePublished"]["id"] == third["id"]
        await feed.quiet(0.3)


# --- operations other than subscriptions over the socket ----------------------------------


async def test_a_mutation_over_the_socket_is_refused_and_the_socket_stays_sound(
    hub: LiveHub,
) -> None:
    """A mutation sent over the WebSocket is refused (HTTP_REQUIRED), writes nothing, and the
    connection's later operations still read soundly."""
    from tests.fixtures.partners import CREATE, smart_pledge

    token = hub.partners.tokens["alpha"]
    socket = await opened(hub, {"authorization": f"Bearer {token}"})
    assert (await received(socket))["type"] == "connection_ack"
    await subscribe(socket, "live", PUBLISHED)
    await hub.subscribed(1)
    create = {"query": CREATE, "variables": {"input": smart_pledge(title="Over WS")}}
    await send(socket, {"id": "m", "type": "subscribe", "payload": create})
    error = await first_error(socket, "m")
    assert error["extensions"]["code"] == "HTTP_REQUIRED"
    for operation_id in ("q1", "q2"):
        query = {"query": "{ pledges(first: 5) { totalCount } }"}
        await send(socket, {"id": operation_id, "type": "subscribe", "payload": query})
        answer = await received(socket)
        assert answer["type"] == "next", answer
        assert answer["payload"]["data"]["pledges"]["totalCount"] == 0, answer
        assert (await received(socket)) == {"id": operation_id, "type": "complete"}
    pledge = await hub.partners.published(title="Over HTTP")
    event = await received(socket)
    assert (event["id"], event["payload"]["data"]["pledgePublished"]["id"]) == (
        "live",
        pledge["id"],
    )
    await assert_no_transaction_left_open(hub)
    await socket.close()
    await drained(hub)


async def assert_no_transaction_left_open(hub: LiveHub) -> None:
    from sqlalchemy import text

    factory = hub.partners.session_factory
    async with factory() as session:
        if session.get_bind().dialect.name != "postgresql":
            return
        stuck = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
            )
        )
    assert stuck == 0


# --- a subscriber's loop: since in the future, catch-ups --------------------------------


async def _publish_directly(
    factory: async_sessionmaker[AsyncSession], count: int, *, description: str = ""
) -> list[int]:
    from tests.fixtures.factories import add_member, add_published_pledge

    ids = []
    async with factory() as session:
        member = await add_member(session, f"Member {datetime.now(UTC).timestamp()}")
        await session.commit()
        for index in range(count):
            fields: dict[str, Any] = {"title": f"Direct {index}"}
            if description:
                fields["description"] = description
            ids.append((await add_published_pledge(session, member, **fields)).id)
            await session.commit()
    return ids


@SQLITE_ONLY
async def test_a_since_in_the_future_loses_nothing_after_a_catch_up(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """``since`` a day ahead (a client's clock wrong, or a typo): the subscription is either
    refused, or it still delivers what is published once it had to catch up (its inbox
    overflowed or the LISTEN connection came back)."""
    from hub.errors import InvalidInput
    from hub.live.announcements import Topic
    from hub.live.broker import Broker
    from hub.live.feeds import Interest
    from hub.live.follow import Live, follow
    from hub.visibility import PUBLIC

    broker = Broker(per_owner=10)
    live = Live(broker, session_factory)
    since = datetime.now(UTC) + timedelta(days=1)
    feed = follow(live, Interest(Topic.PLEDGE_PUBLISHED, PUBLIC), "someone", since)
    first = asyncio.ensure_future(anext(feed))
    try:
        await until(lambda: broker.count() == 1 or first.done(), seconds=5)
        if first.done():
            with pytest.raises(InvalidInput):
                first.result()
            return
        published = await _publish_directly(session_factory, 2)
        broker.interrupt()  # what the listener does when its connection comes back
        assert (await asyncio.wait_for(first, 2))[0] == published[0]
    finally:
        first.cancel()
        await feed.aclose()
    assert broker.count() == 0


@SQLITE_ONLY
async def test_a_catch_up_delivers_nothing_from_before_the_subscription(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """Without ``since`` a subscription delivers what happens from now on. A catch-up (the
    LISTEN connection came back) must not deliver what was published before it began."""
    from hub.live.announcements import Announcement, Topic
    from hub.live.broker import Broker
    from hub.live.feeds import Interest
    from hub.live.follow import Live, follow
    from hub.visibility import PUBLIC

    [earlier] = await _publish_directly(session_factory, 1)
    broker = Broker(per_owner=10)
    live = Live(broker, session_factory)
    feed = follow(live, Interest(Topic.PLEDGE_PUBLISHED, PUBLIC), "someone")
    first = asyncio.ensure_future(anext(feed))
    try:
        await until(lambda: broker.count() == 1)
        broker.interrupt()
        [later] = await _publish_directly(session_factory, 1)
        broker.publish(Announcement(Topic.PLEDGE_PUBLISHED, later))
        delivered = await asyncio.wait_for(first, 3)
        assert delivered == [later], f"pledge {earlier}, published before subscribing, came"
    finally:
        first.cancel()
        await feed.aclose()


# --- limits, timeouts, leaks --------------------------------------------------------------


@SQLITE_ONLY
async def test_a_socket_without_connection_init_is_closed_with_4408(
    database_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import hub.app

    monkeypatch.setattr(hub.app, "CONNECTION_INIT_WAIT", timedelta(seconds=0.5))
    async with live_hub(database_url, session_factory) as running:
        socket = await opened(running, init=False)
        code, _ = await closed_with(socket, seconds=5)
        assert code == 4408


@SQLITE_ONLY
async def test_a_too_deep_subscription_says_depth_limit(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_hub(database_url, session_factory, max_query_depth=3) as running:
        socket = await opened(running, {})
        assert (await received(socket))["type"] == "connection_ack"
        deep = "subscription { pledgePublished { lead { pledges { edges { node { id } } } } } }"
        await subscribe(socket, "deep", deep)
        error = await first_error(socket, "deep")
        assert error["extensions"]["code"] == "DEPTH_LIMIT", error
        await socket.close()


@SQLITE_ONLY
async def test_a_socket_cut_off_frees_every_subscription(hub: LiveHub) -> None:
    token = hub.partners.tokens["beta"]
    for _ in range(3):
        socket = await opened(hub, {"authorization": f"Bearer {token}"})
        assert (await received(socket))["type"] == "connection_ack"
        await subscribe(socket, "1", PUBLISHED)
        await subscribe(socket, "2", REPORTED)
        await subscribe(socket, "3", ENDORSEMENTS)
        await hub.subscribed(3)
        socket.transport.abort()  # no close frame: the network went away
        await drained(hub)


@SQLITE_ONLY
async def test_the_client_bound_holds_across_sockets_and_leaks_nothing(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    limits = {"subscriptions_per_client": 2, "subscriptions_per_connection": 5}
    async with live_hub(database_url, session_factory, **limits) as running:
        token = running.partners.tokens["beta"]
        sockets = [await opened(running, {"authorization": f"Bearer {token}"}) for _ in range(3)]
        for socket in sockets:
            assert (await received(socket))["type"] == "connection_ack"
        await subscribe(sockets[0], "1", PUBLISHED)
        await subscribe(sockets[1], "1", PUBLISHED)
        await running.subscribed(2)
        for attempt in range(5):  # refused again and again: the count never moves
            await subscribe(sockets[2], f"x{attempt}", PUBLISHED)
            error = await first_error(sockets[2], f"x{attempt}")
            assert error["extensions"]["code"] == "SUBSCRIPTION_LIMIT"
            assert running.app.state.broker.count() == 2
        # a second token of the same client is the same client
        other = await opened(running, {"authorization": f"Bearer {token}"})
        assert (await received(other))["type"] == "connection_ack"
        await subscribe(other, "y", PUBLISHED)
        assert (await first_error(other, "y"))["extensions"]["code"] == "SUBSCRIPTION_LIMIT"
        for socket in (*sockets, other):
            await socket.close()
        await until(lambda: running.app.state.broker.count() == 0, seconds=5)


@SQLITE_ONLY
async def test_a_consumer_that_never_reads_stalls_no_other_subscriber(
    hub: LiveHub, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    from hub.live.announcements import delivering_to

    fields = " ".join(f"d{n}: description" for n in range(30))
    heavy = f"subscription {{ pledgePublished {{ id {fields} }} }}"
    stuck = await connect(hub.ws, subprotocols=[Subprotocol(PROTOCOL)], max_queue=1)
    await send(stuck, {"type": "connection_init", "payload": {}})
    assert (await received(stuck))["type"] == "connection_ack"
    for n in range(10):
        await subscribe(stuck, str(n), heavy)
    serving = session_factory.__class__(
        session_factory.kw["bind"],
        expire_on_commit=False,
        autoflush=False,
        info=delivering_to(hub.app.state.broker),
    )
    async with subscription(hub.ws, PUBLISHED) as fast:
        await hub.subscribed(11)
        loop = asyncio.get_running_loop()
        started = loop.time()
        published = await _publish_directly(serving, 8, description="x" * 19_000)
        for pledge_id in published:
            event = await fast.next(seconds=5)
            assert event["pledgePublished"]["id"] == gid("Pledge", pledge_id)
        assert loop.time() - started < 10
        # the hub still answers HTTP promptly
        response = await hub.partners.http.get("/healthz")
        assert response.status_code == 200
    stuck.transport.abort()
    await drained(hub)


# --- the token, watched -------------------------------------------------------------------


@SQLITE_ONLY
async def test_an_expired_token_is_closed_even_while_the_database_is_away(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """At expiry the socket closes; the expiry is in the token, so a database that cannot be
    reached (the recheck fails) neither keeps the socket open nor makes the watcher spin."""
    import time

    from starlette.routing import WebSocketRoute

    from tests.fixtures.oauth import claims_for, hub_signing_key, sign

    async with live_hub(
        database_url, session_factory, token_leeway_seconds=0, subscription_recheck_seconds=1
    ) as running:
        key = (await hub_signing_key(session_factory)).key
        now = int(time.time())
        token = sign(claims_for(running.clients["beta"], iat=now, exp=now + 2), key)
        socket = await opened(running, {"authorization": f"Bearer {token}"})
        assert (await received(socket))["type"] == "connection_ack"
        await subscribe(socket, "1", ENDORSEMENTS)
        await running.subscribed(1)
        [route] = [r for r in running.app.routes if isinstance(r, WebSocketRoute)]
        validator = route.app.token_watch.validator  # type: ignore[attr-defined]
        calls = 0

        async def database_away(authorization: str | None) -> Any:
            nonlocal calls
            calls += 1
            raise OSError("connection refused")

        validator.principal = database_away
        try:
            await asyncio.sleep(now + 3.5 - time.time())
            checked = calls
            try:
                code, reason = await closed_with(socket, seconds=0.5)
            except TimeoutError:
                code, reason = 0, "still open 1.5 s after expiry"
        finally:
            del validator.principal
        assert checked < 20, f"the watcher checked the token {checked} times in 3.5 s"
        assert (code, reason) == (4403, "the token has expired")
        await until(lambda: running.app.state.broker.count() == 0, seconds=3)


# --- PostgreSQL: the LISTEN connection ------------------------------------------------------


async def test_what_is_published_while_listen_is_down_still_arrives(
    postgres_database_url: str,
) -> None:
    from hub.db import create_engine, create_session_factory
    from hub.live.listener import Listener

    engine = create_engine(postgres_database_url)
    factory = create_session_factory(engine)
    try:
        async with (
            live_hub(postgres_database_url, factory) as running,
            subscription(running.ws, PUBLISHED) as feed,
        ):
            await running.subscribed(1)
            listener: Listener = running.app.state.listener
            for round_ in range(2):
                await end_listening_connection(listener)
                pledge = await running.partners.published(title=f"During the gap {round_}")
                event = await feed.next(seconds=10)
                assert event["pledgePublished"]["id"] == pledge["id"]
                await until(lambda: listener.connections == round_ + 2)  # noqa: B023
            await feed.quiet(0.3)
    finally:
        await engine.dispose()
