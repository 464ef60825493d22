"""Second adversarial review of the subscriptions: the widened ``endorsement_visible`` (a
member sees each of its own endorsements whatever the pledge), the socket's message checks,
queries and their budget over the socket, GraphiQL's routing of subscriptions, and the
statements each delivered event costs."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import event
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.fixtures.database import StatementCounter
from tests.fixtures.live import LiveHub, received, until
from tests.fixtures.partners import RESPOND, REVOKE, gid

PROTOCOL = "graphql-transport-ws"
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])

PUBLISHED = "subscription { pledgePublished { id title } }"
ENDORSEMENTS = """
subscription($pledgeId: ID, $since: DateTime) {
  endorsementChanged(pledgeId: $pledgeId, since: $since) {
    id status roles pledge { id title } organisation { name }
  }
}"""


pytestmark = pytest.mark.usefixtures("no_unhandled_errors")


async def opened(hub: LiveHub, token: str | None = None) -> ClientConnection:
    """An acknowledged graphql-transport-ws socket."""
    socket = await connect(hub.ws, subprotocols=[Subprotocol(PROTOCOL)])
    payload = {"authorization": f"Bearer {token}"} if token else {}
    await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
    assert (await received(socket))["type"] == "connection_ack"
    return socket


async def send(socket: ClientConnection, message: Any) -> None:
    await socket.send(json.dumps(message))


async def operate(
    socket: ClientConnection, operation_id: str, query: str, **variables: Any
) -> None:
    payload: dict[str, Any] = {"query": query, "variables": variables or None}
    await send(socket, {"id": operation_id, "type": "subscribe", "payload": payload})


async def answer_of(socket: ClientConnection, operation_id: str) -> dict[str, Any]:
    """The one result of a query (or a refused operation) sent over the socket."""
    message = await received(socket)
    assert message.get("id") == operation_id, message
    if message["type"] == "error":
        return {"errors": message["payload"]}
    assert message["type"] == "next", message
    assert (await received(socket)) == {"id": operation_id, "type": "complete"}
    payload: dict[str, Any] = message["payload"]
    return payload


async def close_code(socket: ClientConnection, seconds: float = 5.0) -> int | str:
    try:
        async with asyncio.timeout(seconds):
            while True:
                await socket.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else "no close frame"


def user_errors(data: dict[str, Any]) -> list[dict[str, Any]]:
    [payload] = data.values()
    errors: list[dict[str, Any]] = payload["userErrors"]
    return errors


# --- 1. a member's own endorsement on a draft it no longer sees ---------------------------


async def declined_draft_invitation(hub: LiveHub, title: str) -> tuple[str, str]:
    """Alpha's draft, beta invited to it and declining: (the draft's id, beta's endorsement)."""
    partners = hub.partners
    draft = await partners.create(title=title)
    invitation = await partners.invite(draft["id"], "beta", ["FUNDER"])
    await partners.ok("beta", RESPOND, id=invitation, answer="DECLINE")
    return draft["id"], invitation


@SQLITE_ONLY
async def test_answering_a_declined_invitation_to_a_hidden_draft_is_an_endorsement_error(
    hub: LiveHub,
) -> None:
    """b751119 lets beta see its declined invitation to alpha's draft, so
    ``_endorsement_for`` no longer says "no endorsement"; it goes on to ``pledge_for``,
    which refuses with "no pledge with this id is visible" (NOT_FOUND, field id) about an id
    that is the endorsement's. On a published pledge the same answer is INVALID_TRANSITION:
    the hidden draft must not change what an answer to one's own record says."""
    partners = hub.partners
    _, hidden = await declined_draft_invitation(hub, "Secret draft")
    public = await partners.published(title="Public pledge")
    shown = await partners.invite(public["id"], "beta", ["FUNDER"])
    await partners.ok("beta", RESPOND, id=shown, answer="DECLINE")
    answers = {}
    for name, endorsement in (("public", shown), ("hidden", hidden)):
        data = (await partners.gql("beta", RESPOND, id=endorsement, answer="ACCEPT"))["data"]
        [error] = user_errors(data)
        answers[name] = (error["code"], error["message"])
    assert answers["public"][0] == "INVALID_TRANSITION"
    assert answers["hidden"] == answers["public"], answers


@SQLITE_ONLY
async def test_revoking_a_revoked_invitation_to_a_hidden_draft_is_an_endorsement_error(
    hub: LiveHub,
) -> None:
    """Alpha revoked beta's invitation to a draft; beta (which still sees the endorsement) tries
    to revoke it too: the answer must speak of the endorsement (its status), not of "no pledge
    with this id"."""
    partners = hub.partners
    draft = await partners.create(title="Another secret draft")
    invitation = await partners.invite(draft["id"], "beta", ["FUNDER"])
    await partners.ok("alpha", REVOKE, id=invitation)
    node = await partners.ok(
        "beta", "query($id: ID!) { node(id: $id) { ... on Endorsement { status } } }",
        id=invitation,
    )  # fmt: skip
    assert node["node"] == {"status": "REVOKED"}
    data = (await partners.gql("beta", REVOKE, id=invitation))["data"]
    [error] = user_errors(data)
    assert "pledge" not in error["message"], error
    assert error["code"] in ("INVALID_TRANSITION", "NOT_PERMITTED"), error


SEEN_BY = """
query($org: ID!, $endorsement: ID!) {
  node(id: $endorsement) { ... on Endorsement { id status roles pledge { id } } }
  organisation: node(id: $org) {
    ... on Organisation {
      endorsements { id status pledge { id title } }
      totals { pledgesEndorsed }
      pledges(first: 10) { totalCount }
    }
  }
}"""


@SQLITE_ONLY
async def test_a_declined_draft_invitation_shows_its_owner_no_draft_and_others_nothing(
    hub: LiveHub,
) -> None:
    """Beta sees its own declined record with a null pledge; nobody else sees it; no count
    moves; gamma's invitation to the same draft stays hidden from beta; beta's inbox is
    empty."""
    partners = hub.partners
    draft_id, invitation = await declined_draft_invitation(hub, "Hidden terms")
    gammas = await partners.invite(draft_id, "gamma", ["FUNDER"])
    await partners.ok("gamma", RESPOND, id=gammas, answer="ACCEPT")
    beta_org = gid("Organisation", partners.members["beta"])
    for who in ("beta", "gamma", None):
        body = await partners.gql(who, SEEN_BY, org=beta_org, endorsement=invitation)
        assert "errors" not in body, body
        data = body["data"]
        assert data["organisation"]["totals"]["pledgesEndorsed"] == 0
        assert data["organisation"]["pledges"]["totalCount"] == 0
        if who == "beta":
            assert data["node"] == {
                "id": invitation, "status": "DECLINED", "roles": ["FUNDER"], "pledge": None,
            }  # fmt: skip
            assert data["organisation"]["endorsements"] == [
                {"id": invitation, "status": "DECLINED", "pledge": None}
            ]
        else:
            assert data["node"] is None
            assert data["organisation"]["endorsements"] == []
    gamma_seen = await partners.gql("beta", "query($id: ID!) { node(id: $id) { id } }", id=gammas)
    assert gamma_seen["data"]["node"] is None
    inbox = await partners.ok("beta", "{ viewer { pendingInvitations(first: 10) { totalCount } } }")
    assert inbox["viewer"]["pendingInvitations"]["totalCount"] == 0


async def test_a_member_is_told_of_its_decline_of_a_draft_and_of_nothing_else_there(
    hub: LiveHub,
) -> None:
    """Beta declines an invitation to alpha's draft: beta gets the DECLINED event with a null
    pledge (the draft is hidden again); alpha's later invitation of gamma to the same draft,
    and gamma's answer, never reach beta, live or on a catch-up."""
    from datetime import UTC, datetime, timedelta

    from tests.fixtures.live import subscription

    partners = hub.partners
    since = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    draft = await partners.create(title="Draft beta leaves")
    async with subscription(hub.ws, ENDORSEMENTS, token=partners.tokens["beta"]) as beta:
        await hub.subscribed(1)
        invitation = await partners.invite(draft["id"], "beta", ["FUNDER"])
        assert (await beta.next())["endorsementChanged"]["pledge"]["title"] == "Draft beta leaves"
        await partners.ok("beta", RESPOND, id=invitation, answer="DECLINE")
        declined = (await beta.next())["endorsementChanged"]
        assert (declined["id"], declined["status"], declined["pledge"]) == (
            invitation, "DECLINED", None,
        )  # fmt: skip
        gammas = await partners.invite(draft["id"], "gamma", ["FUNDER"])
        await partners.ok("gamma", RESPOND, id=gammas, answer="ACCEPT")
        await beta.quiet(0.5)
    async with subscription(
        hub.ws, ENDORSEMENTS, token=partners.tokens["beta"], since=since
    ) as caught_up:
        event_ = (await caught_up.next())["endorsementChanged"]
        assert (event_["id"], event_["status"], event_["pledge"]) == (invitation, "DECLINED", None)
        await caught_up.quiet(0.5)


# --- 2. the socket: messages, queries, budget ----------------------------------------------


@SQLITE_ONLY
async def test_a_complete_with_an_unhashable_id_closes_with_4400(hub: LiveHub) -> None:
    """``handle_message`` checks the shape of ``subscribe`` only: ``complete`` with an id that
    is a list or an object reaches Strawberry's ``cleanup_operation``, whose ``in
    self.operations`` raises TypeError (unhashable): a traceback, and no close frame."""
    answers = []
    for operation_id in ([1], {"a": 1}):
        socket = await opened(hub)
        await send(socket, {"type": "complete", "id": operation_id})
        answers.append(await close_code(socket))
    assert answers == [4400, 4400]


RATE = "{ rateLimit { cost remaining } }"


@SQLITE_ONLY
async def test_a_query_over_the_socket_is_charged_to_the_same_budget_as_over_http(
    hub: LiveHub,
) -> None:
    """Queries over the socket cost what they cost over HTTP, to the token's client once
    connection_init brought it, and the subscription is charged once, when it starts."""
    partners = hub.partners
    token = partners.tokens["beta"]
    before = (await partners.ok("beta", RATE))["rateLimit"]
    socket = await opened(hub, token)
    await operate(socket, "q", RATE)
    over_socket = (await answer_of(socket, "q"))["data"]["rateLimit"]
    assert over_socket["remaining"] == before["remaining"] - over_socket["cost"]
    await operate(socket, "s", PUBLISHED)
    await hub.subscribed(1)
    after_subscribing = (await partners.ok("beta", RATE))["rateLimit"]
    charged = over_socket["remaining"] - after_subscribing["remaining"] - after_subscribing["cost"]
    assert charged == 100  # 100 for the subscription; its scalars cost nothing
    for index in range(3):
        await partners.published(title=f"Event {index}")
        assert (await received(socket))["id"] == "s"
    after_events = (await partners.ok("beta", RATE))["rateLimit"]
    # only the publishing (alpha, secretariat) and this query were charged: nothing to beta
    assert after_events["remaining"] == after_subscribing["remaining"] - after_events["cost"]
    await socket.close()


# --- 4. statements per delivered event ------------------------------------------------------


async def statements_for_one_event(hub: LiveHub, subscribers: int) -> int:
    """Statements the hub sends, beyond the publishing itself, to deliver one published pledge
    to ``subscribers`` anonymous subscribers of ``pledgePublished { id title }``."""
    partners = hub.partners
    pledge = await partners.create(title="Counted")
    await partners.ok("alpha", _move("submitPledge"), id=pledge["id"])
    sockets = [await opened(hub) for _ in range(subscribers)]
    for socket in sockets:
        await operate(socket, "s", PUBLISHED)
    await hub.subscribed(subscribers)
    counter = StatementCounter()
    engine = hub.app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        await partners.ok("secretariat", _move("publishPledge"), id=pledge["id"])
        for socket in sockets:
            message = await received(socket)
            assert message["payload"]["data"]["pledgePublished"]["title"] == "Counted"
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    for socket in sockets:
        await socket.close()
    await until(lambda: hub.app.state.broker.count() == 0)
    return counter.count


def _move(name: str) -> str:
    return f"mutation($id: ID!) {{ {name}(id: $id) {{ pledge {{ id }} userErrors {{ code }} }} }}"


@SQLITE_ONLY
async def test_each_subscriber_costs_the_same_few_statements_per_event(hub: LiveHub) -> None:
    one = await statements_for_one_event(hub, 1)
    five = await statements_for_one_event(hub, 5)
    per_subscriber = (five - one) / 4
    print(f"statements: 1 subscriber {one}, 5 subscribers {five}, {per_subscriber} each")
    assert per_subscriber <= 2


# --- 3. GraphiQL's routing of subscriptions ---------------------------------------------------

GRAPHIQL_CASES: list[tuple[str, str | None, bool]] = [
    # (document, operationName GraphiQL sends, whether it is a subscription)
    ("subscription { pledgePublished { title } }", None, True),
    ("# a comment\nsubscription Named { pledgePublished { title } }", "Named", True),
    (
        "fragment F on Pledge { title }\nsubscription { pledgePublished { ...F } }",
        None,
        True,
    ),
    (
        'query Q { pledges(first: 1, filter: { text: """\nsubscription Q\n""" }) { totalCount } }',
        "Q",
        False,
    ),
    (
        'mutation M { withdrawPledge(id: "subscription M") { userErrors { code } } }',
        "M",
        False,
    ),
    ("# subscription {\n{ pledges(first: 1) { totalCount } }", None, False),
    (
        'query Q($f: PledgeFilter = {text: "{"}) @skip(if: false) { pledges(filter: $f) '
        "{ totalCount } }\nsubscription S { pledgePublished { id } }",
        "S",
        True,
    ),
]


async def run_in_graphiql(page: Any, document: str) -> None:
    await page.evaluate(
        """(text) => document.querySelector('.graphiql-query-editor .CodeMirror')
            .CodeMirror.setValue(text)""",
        document,
    )
    await page.locator(".graphiql-execute-button").click()


async def _graphiql_page(hub: LiveHub, playwright: Any) -> Any:
    from tests.test_graphiql import launch

    browser = await launch(playwright)
    page = await browser.new_page()
    await page.goto(f"{hub.base}/graphql")
    await page.locator(".graphiql-query-editor .CodeMirror").first.wait_for(timeout=20_000)
    return browser, page


@pytest.mark.browser
@SQLITE_ONLY
async def test_graphiql_routes_by_the_operation_not_by_a_regex(
    database_url: str, session_factory: Any
) -> None:
    """The page decides what goes over the socket by the operation's own type: a subscription
    after a fragment goes over the socket, a query or mutation whose text holds
    "subscription <its name>" in a string or a comment goes over HTTP."""
    from playwright.async_api import async_playwright

    from tests.fixtures.live import live_hub
    from tests.test_graphiql import INSTALLED

    async with (
        live_hub(database_url, session_factory, graphiql_assets_dir=INSTALLED) as hub,
        async_playwright() as playwright,
    ):
        browser, page = await _graphiql_page(hub, playwright)
        try:
            decided = [
                await page.evaluate(
                    "([query, name]) => operationType(query, name) === 'subscription'",
                    [query, name],
                )
                for query, name, _ in GRAPHIQL_CASES
            ]
            # end to end: the fragment-first subscription, as a user runs it
            await page.evaluate(
                """(text) => document.querySelector('.graphiql-query-editor .CodeMirror')
                    .CodeMirror.setValue(text)""",
                GRAPHIQL_CASES[2][0],
            )
            await page.locator(".graphiql-execute-button").click()
            result = page.locator(".result-window")
            broker = hub.app.state.broker
            for _ in range(500):  # subscribed over the socket, or refused over HTTP
                if broker.count() >= 1 or "WEBSOCKET_REQUIRED" in await result.inner_text():
                    break
                await asyncio.sleep(0.02)
            if broker.count() >= 1:
                await hub.partners.published(title="After a fragment")
                await result.get_by_text("After a fragment").first.wait_for(timeout=20_000)
            shown = await result.inner_text()
        finally:
            await browser.close()
    routed = {query: seen for (query, _, _), seen in zip(GRAPHIQL_CASES, decided, strict=True)}
    assert "WEBSOCKET_REQUIRED" not in shown, (shown, routed)
    assert decided == [expected for _, _, expected in GRAPHIQL_CASES], routed


@pytest.mark.browser
@SQLITE_ONLY
async def test_graphiql_subscribes_with_the_token_of_the_headers_pane(
    database_url: str, session_factory: Any
) -> None:
    """The page's comment: "the token is the Authorization header set in the headers pane,
    sent in connection_init". It reads it from localStorage ``graphiql:headers``, which
    GraphiQL writes only with ``shouldPersistHeaders``, off by default: the socket goes
    anonymous and endorsementChanged is refused UNAUTHENTICATED. The fetcher's second
    argument carries the headers GraphiQL sends (``options.headers``)."""
    from playwright.async_api import async_playwright

    from tests.fixtures.live import live_hub
    from tests.test_graphiql import INSTALLED

    async with (
        live_hub(database_url, session_factory, graphiql_assets_dir=INSTALLED) as hub,
        async_playwright() as playwright,
    ):
        token = hub.partners.tokens["beta"]
        browser, page = await _graphiql_page(hub, playwright)
        try:
            await page.get_by_text("Headers", exact=True).click()
            await page.evaluate(
                """(text) => {
                    const editors = document.querySelectorAll('.graphiql-editor-tool .CodeMirror');
                    editors[editors.length - 1].CodeMirror.setValue(text);
                }""",
                json.dumps({"Authorization": f"Bearer {token}"}),
            )
            result = page.locator(".result-window")
            await run_in_graphiql(page, "{ viewer { kind } }")
            await result.get_by_text('"kind": "PARTNER"').wait_for(timeout=20_000)  # over HTTP
            await run_in_graphiql(page, "subscription { endorsementChanged { id status } }")
            broker = hub.app.state.broker
            for _ in range(500):
                if broker.count() >= 1 or "UNAUTHENTICATED" in await result.inner_text():
                    break
                await asyncio.sleep(0.02)
            shown = await result.inner_text()
            subscribed = broker.count()
        finally:
            await browser.close()
    assert subscribed == 1, shown


@SQLITE_ONLY
async def test_a_catch_up_loads_its_events_one_statement_each(hub: LiveHub) -> None:
    """``since`` over K missed events: the feed is read in batches of 100, but each event is
    then loaded by its own statement (``_events`` -> ``load_nodes`` of one id): K + 1
    statements where a batch load would take 2. Kept as a ceiling."""
    from datetime import UTC, datetime, timedelta

    from tests.fixtures.factories import add_member, add_published_pledge

    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    async with hub.partners.session_factory() as session:
        member = await add_member(session, "Catch-up member")
        for index in range(30):
            await add_published_pledge(session, member, title=f"Missed {index}")
        await session.commit()
    counter = StatementCounter()
    engine = hub.app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        socket = await opened(hub)
        await operate(
            socket, "s", "subscription($s: DateTime) { pledgePublished(since: $s) { id } }",
            s=since,
        )  # fmt: skip
        for _ in range(30):
            assert (await received(socket))["id"] == "s"
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    await socket.close()
    print(f"catch-up of 30 events: {counter.count} statements")
    assert counter.count <= 30 + 3


@SQLITE_ONLY
async def test_a_subscription_over_budget_ends_with_budget_exceeded(
    database_url: str, session_factory: Any
) -> None:
    """README: a refused subscription "ends at once with the error (..., BUDGET_EXCEEDED)"."""
    from tests.fixtures.live import live_hub

    async with live_hub(database_url, session_factory, anonymous_cost_per_hour=150) as hub:
        socket = await opened(hub)
        await operate(socket, "1", PUBLISHED)
        await hub.subscribed(1)
        await operate(socket, "2", PUBLISHED)
        refused = await answer_of(socket, "2")
        assert refused["errors"][0]["extensions"]["code"] == "BUDGET_EXCEEDED", refused
        assert hub.app.state.broker.count() == 1
        await socket.close()


@SQLITE_ONLY
async def test_over_http_get_a_subscription_is_refused_with_websocket_required(
    hub: LiveHub,
) -> None:
    """README: "Over HTTP a subscription is refused with WEBSOCKET_REQUIRED" (GET included)."""
    response = await hub.partners.http.get(
        "/graphql", params={"query": PUBLISHED}, headers={"Accept": "application/json"}
    )
    print("GET", response.status_code, response.text[:300])
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "WEBSOCKET_REQUIRED", body
