"""Retried and racing writes over real HTTP, on a database made for each test.

Partners retry writes when a response is lost, and several of a member's clients edit the
same pledges at once. An ``Idempotency-Key`` must make a retry return the first response
without writing again, and the version check must let exactly one writer through per
version. Both can only break under real concurrency, so these tests drive a real hub with
real tokens and concurrent requests, and check what the database holds afterwards.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from hub import idempotency
from hub.auth.clients import Credentials, create_client
from hub.auth.scopes import ClientKind
from hub.endorsements.models import Endorsement
from hub.idempotency import IdempotencyRecord
from hub.pledges import commands
from hub.pledges.models import Pledge, PledgeFocusArea, PledgeTargetCountry, Target
from hub.types import utcnow
from schema import writes
from tests.fixtures.oauth import ISSUER, get_token
from tests.fixtures.partners import CREATE, Partners, running_partners, smart_pledge

KEY = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"

UPDATE = """
mutation Race($id: ID!, $version: Int!, $input: PledgeInput!) {
  updatePledge(id: $id, version: $version, input: $input) {
    pledge { id version title }
    userErrors { field message code }
  }
}"""

READ = "query($id: ID!) { node(id: $id) { ... on Pledge { version title } } }"

POSTGRES_ONLY = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


@pytest.fixture
async def partners(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Partners]:
    async with running_partners(database_url, session_factory) as running:
        running.http.timeout = httpx.Timeout(30)  # requests here may wait on each other
        yield running


async def count(partners: Partners, model: Any) -> int:
    async with partners.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def keyed(
    partners: Partners, who: str, query: str, key: str | bytes, **variables: Any
) -> httpx.Response:
    """POST an operation as ``who`` with an ``Idempotency-Key``; HTTP must be 200."""
    headers: dict[str, Any] = {KEY: key}
    response = await partners.post(who, query, variables, headers=headers)
    assert response.status_code == 200, response.text
    return response


def replayed(response: httpx.Response) -> bool:
    return bool(response.headers.get(REPLAYED) == "true")


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert body["data"] is None, body
    [error] = body["errors"]
    assert error["extensions"]["field"] == [KEY], error
    code: str = error["extensions"]["code"]
    return code


async def version_of(partners: Partners, pledge_id: str) -> tuple[int, str]:
    node = (await partners.ok("alpha", READ, id=pledge_id))["node"]
    return node["version"], node["title"]


@dataclass
class Client:
    """A partner client of alpha's member made for the test, with its token in ``partners``."""

    name: str
    credentials: Credentials

    @property
    def scope(self) -> str:
        """Whose idempotency keys these are, as the hub derives it from the token."""
        who = f"{ISSUER} {self.credentials.client.client_id}".encode()
        return f"client:{hashlib.sha256(who).hexdigest()[:32]}"


async def more_clients(partners: Partners, how_many: int) -> list[Client]:
    """``how_many`` more partner clients of alpha's member, each with its token."""
    now = utcnow()
    async with partners.session_factory() as session:
        member = str(partners.members["alpha"])
        made = [
            await create_client(
                session,
                name=f"alpha racer {n}",
                kind=ClientKind.PARTNER,
                scopes=["pledges:write"],
                member=member,
                now=now,
            )
            for n in range(how_many)
        ]
        await session.commit()
    tokens = await asyncio.gather(*(get_token(partners.http, credentials) for credentials in made))
    clients = [Client(f"racer {n}", credentials) for n, credentials in enumerate(made)]
    for client, token in zip(clients, tokens, strict=True):
        partners.tokens[client.name] = token["access_token"]
    return clients


def row_id(global_id: str) -> int:
    """The database key of a global id."""
    return int(base64.b64decode(global_id).decode().split(":", 1)[1])


# --- idempotency, one request after another ------------------------------------------------


async def test_a_retry_returns_the_first_response_and_writes_once(partners: Partners) -> None:
    before = await count(partners, Pledge)
    first = await keyed(partners, "alpha", CREATE, "create-1", input=smart_pledge())
    retry = await keyed(partners, "alpha", CREATE, "create-1", input=smart_pledge())
    assert "errors" not in first.json()
    assert first.json()["data"]["createPledge"]["userErrors"] == []
    assert retry.json() == first.json()
    assert not replayed(first)
    assert replayed(retry)
    assert await count(partners, Pledge) == before + 1
    async with partners.session_factory() as session:
        [record] = await session.scalars(select(IdempotencyRecord))
    assert record.key == "create-1"
    assert json.loads(record.response or "null") == first.json()


async def test_the_same_key_with_another_request_is_refused(partners: Partners) -> None:
    first = await keyed(partners, "alpha", CREATE, "k", input=smart_pledge())
    before = await count(partners, Pledge)
    other_variables = await keyed(
        partners, "alpha", CREATE, "k", input=smart_pledge(title="Another title")
    )
    assert error_code(other_variables) == "IDEMPOTENCY_KEY_REUSED"
    assert not replayed(other_variables)
    other_document = await keyed(
        partners, "alpha", UPDATE.replace("mutation Race", "mutation Other"), "k",
        id=first.json()["data"]["createPledge"]["pledge"]["id"], version=1,
        input=smart_pledge(),
    )  # fmt: skip
    assert error_code(other_document) == "IDEMPOTENCY_KEY_REUSED"
    assert await count(partners, Pledge) == before
    assert await count(partners, IdempotencyRecord) == 1
    again = await keyed(partners, "alpha", CREATE, "k", input=smart_pledge())
    assert replayed(again)
    assert again.json() == first.json()


async def test_a_key_belongs_to_one_client(partners: Partners) -> None:
    before = await count(partners, Pledge)
    alpha = await keyed(partners, "alpha", CREATE, "shared", input=smart_pledge())
    website = await keyed(partners, "alpha_read", CREATE, "shared", input=smart_pledge())
    assert not replayed(alpha)
    assert not replayed(website)
    made = {
        alpha.json()["data"]["createPledge"]["pledge"]["id"],
        website.json()["data"]["createPledge"]["pledge"]["id"],
    }
    assert len(made) == 2
    assert await count(partners, Pledge) == before + 2
    assert await count(partners, IdempotencyRecord) == 2
    for who, first in (("alpha", alpha), ("alpha_read", website)):
        retry = await keyed(partners, who, CREATE, "shared", input=smart_pledge())
        assert replayed(retry)
        assert retry.json() == first.json()
    assert await count(partners, Pledge) == before + 2


async def test_a_key_outlives_the_token_it_came_with(partners: Partners) -> None:
    [client] = await more_clients(partners, 1)
    first = await keyed(partners, client.name, CREATE, "renewed", input=smart_pledge())
    renewed = (await get_token(partners.http, client.credentials))["access_token"]
    assert renewed != partners.tokens[client.name]
    partners.tokens[client.name] = renewed
    retry = await keyed(partners, client.name, CREATE, "renewed", input=smart_pledge())
    assert replayed(retry)
    assert retry.json() == first.json()
    assert await count(partners, Pledge) == 1


async def test_keys_must_be_short_printable_ascii(partners: Partners) -> None:
    before = await count(partners, Pledge)
    bad: list[str | bytes] = ["k" * 256, "tab\there", "caf\xe9".encode("latin-1"), "a b", ""]
    for key in bad:
        response = await keyed(partners, "alpha", CREATE, key, input=smart_pledge())
        assert error_code(response) == "INVALID_IDEMPOTENCY_KEY", key
    assert await count(partners, Pledge) == before
    assert await count(partners, IdempotencyRecord) == 0
    longest = "~" * 255
    first = await keyed(partners, "alpha", CREATE, longest, input=smart_pledge())
    assert first.json()["data"]["createPledge"]["userErrors"] == []
    retry = await keyed(partners, "alpha", CREATE, longest, input=smart_pledge())
    assert replayed(retry)
    assert retry.json() == first.json()
    assert await count(partners, Pledge) == before + 1


async def test_a_refusal_is_replayed_as_it_was(partners: Partners) -> None:
    pledge = await partners.create()
    await partners.ok(
        "alpha", UPDATE, id=pledge["id"], version=pledge["version"],
        input=smart_pledge(title="Moved on"),
    )  # fmt: skip
    stale = {"id": pledge["id"], "version": pledge["version"], "input": smart_pledge()}
    first = await keyed(partners, "alpha", UPDATE, "stale", **stale)
    payload = first.json()["data"]["updatePledge"]
    assert payload["pledge"] is None
    assert [error["code"] for error in payload["userErrors"]] == ["STALE_VERSION"]
    retry = await keyed(partners, "alpha", UPDATE, "stale", **stale)
    assert replayed(retry)
    assert retry.json() == first.json()
    assert await version_of(partners, pledge["id"]) == (pledge["version"] + 1, "Moved on")
    # a success is replayed too, when running it again would now be refused as stale
    fresh = {"id": pledge["id"], "version": pledge["version"] + 1, "input": smart_pledge()}
    done = await keyed(partners, "alpha", UPDATE, "fresh", **fresh)
    assert done.json()["data"]["updatePledge"]["userErrors"] == []
    again = await keyed(partners, "alpha", UPDATE, "fresh", **fresh)
    assert replayed(again)
    assert again.json() == done.json()
    assert (await version_of(partners, pledge["id"]))[0] == pledge["version"] + 2


async def test_a_refused_field_is_replayed_as_it_was(partners: Partners) -> None:
    """The auditor lacks pledges:write, so its createPledge fails as a field error, which
    names the field's place in the document (``locations``). A retry with the key gets that
    response again, whole: a replay is the first response, not a copy with parts left out."""
    first = await keyed(partners, "auditor", CREATE, "no-scope", input=smart_pledge())
    [error] = first.json()["errors"]
    assert error["extensions"]["code"] == "MISSING_SCOPE"
    assert error["locations"] == [{"line": 3, "column": 3}]
    retry = await keyed(partners, "auditor", CREATE, "no-scope", input=smart_pledge())
    assert retry.json() == first.json()
    assert await count(partners, Pledge) == 0


async def test_keys_are_kept_a_day_then_may_be_used_afresh(partners: Partners) -> None:
    before = await count(partners, Pledge)
    first = await keyed(partners, "alpha", CREATE, "daily", input=smart_pledge())

    async def age(by: timedelta) -> None:
        async with partners.session_factory() as session:
            await session.execute(update(IdempotencyRecord).values(created_at=utcnow() - by))
            await session.commit()

    await age(timedelta(hours=23, minutes=55))
    kept = await keyed(partners, "alpha", CREATE, "daily", input=smart_pledge())
    assert replayed(kept)
    assert kept.json() == first.json()
    assert await count(partners, Pledge) == before + 1

    await age(timedelta(hours=24, minutes=5))
    afresh = await keyed(partners, "alpha", CREATE, "daily", input=smart_pledge())
    assert not replayed(afresh)
    made = afresh.json()["data"]["createPledge"]["pledge"]["id"]
    assert made != first.json()["data"]["createPledge"]["pledge"]["id"]
    assert await count(partners, Pledge) == before + 2
    async with partners.session_factory() as session:
        [record] = await session.scalars(select(IdempotencyRecord))
    assert utcnow() - record.created_at < timedelta(minutes=5)
    assert json.loads(record.response or "null") == afresh.json()
    retry = await keyed(partners, "alpha", CREATE, "daily", input=smart_pledge())
    assert replayed(retry)
    assert retry.json() == afresh.json()


async def test_an_internal_error_is_not_remembered(
    partners: Partners, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = commands.create
    failures = [RuntimeError("the write broke")]

    async def breaks_once(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return await original(*args, **kwargs)

    monkeypatch.setattr(commands, "create", breaks_once)
    before = await count(partners, Pledge)
    with capture_logs():
        broken = await keyed(partners, "alpha", CREATE, "flaky", input=smart_pledge())
    body = broken.json()
    assert [error["extensions"]["code"] for error in body["errors"]] == ["INTERNAL_ERROR"]
    assert await count(partners, Pledge) == before
    assert await count(partners, IdempotencyRecord) == 0
    retry = await keyed(partners, "alpha", CREATE, "flaky", input=smart_pledge())
    assert not replayed(retry)
    assert "errors" not in retry.json()
    assert retry.json()["data"]["createPledge"]["userErrors"] == []
    assert await count(partners, Pledge) == before + 1


async def test_the_key_is_stored_in_the_writes_transaction(
    partners: Partners, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When storing the response under the key fails, the write it guards is not kept
    either: a key is never missing from a committed write."""
    original = idempotency.remember
    failures = [RuntimeError("the key could not be stored")]

    async def fails_once(*args: Any, **kwargs: Any) -> None:
        if failures:
            raise failures.pop()
        await original(*args, **kwargs)

    monkeypatch.setattr(writes, "remember", fails_once)
    pledge = await partners.create()
    variables = {"id": pledge["id"], "version": 1, "input": smart_pledge(title="Kept with key")}
    with capture_logs():
        broken = await keyed(partners, "alpha", UPDATE, "atomic", **variables)
    assert [e["extensions"]["code"] for e in broken.json()["errors"]] == ["INTERNAL_ERROR"]
    assert await version_of(partners, pledge["id"]) == (1, pledge["title"])
    assert await count(partners, IdempotencyRecord) == 0
    retry = await keyed(partners, "alpha", UPDATE, "atomic", **variables)
    assert not replayed(retry)
    assert retry.json()["data"]["updatePledge"]["userErrors"] == []
    assert await version_of(partners, pledge["id"]) == (2, "Kept with key")
    assert await count(partners, IdempotencyRecord) == 1


async def test_a_key_on_a_query_is_ignored(partners: Partners) -> None:
    pledge = await partners.create()
    for key in ("query-key", "k" * 256):
        for _ in range(2):
            response = await keyed(partners, "alpha", READ, key, id=pledge["id"])
            assert response.json() == {"data": {"node": {"version": 1, "title": pledge["title"]}}}
            assert not replayed(response)
    assert await count(partners, IdempotencyRecord) == 0
    write = await keyed(partners, "alpha", CREATE, "query-key", input=smart_pledge())
    assert not replayed(write)
    assert write.json()["data"]["createPledge"]["userErrors"] == []


# --- a duplicate that arrives while the first request runs ----------------------------------


async def lock_waiters(partners: Partners) -> int:
    """PostgreSQL sessions of this database waiting on a lock (a new snapshot each time)."""
    async with partners.session_factory() as session:
        waiting = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return int(waiting or 0)


async def until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 5) -> None:
    """Poll ``check`` until it holds, for at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {seconds} s: {what}")


async def test_a_duplicate_waits_for_the_first_and_gets_its_response(
    partners: Partners, backend: str
) -> None:
    """The pledge's row is held by another transaction (on SQLite: the one writer), so the
    first request blocks inside its write; its duplicate arrives meanwhile."""
    pledge = await partners.create()
    variables = {"id": pledge["id"], "version": 1, "input": smart_pledge(title="Once only")}
    async with partners.session_factory() as holder:
        await holder.execute(
            select(Pledge).where(Pledge.id == row_id(pledge["id"])).with_for_update()
        )
        first = asyncio.create_task(keyed(partners, "alpha", UPDATE, "dup", **variables))
        if backend == "postgresql":
            await until(lambda: _waiting(partners, 1), "the first request waits on the row")
        else:
            await asyncio.sleep(0.3)
        second = asyncio.create_task(keyed(partners, "alpha", UPDATE, "dup", **variables))
        if backend == "postgresql":
            await until(lambda: _waiting(partners, 2), "the duplicate waits on the first")
        else:
            await asyncio.sleep(0.3)
        assert not first.done()
        assert not second.done()
        await holder.rollback()
    responses = await asyncio.gather(first, second)
    assert responses[0].json() == responses[1].json()
    payload = responses[0].json()["data"]["updatePledge"]
    assert payload["userErrors"] == []
    assert payload["pledge"]["version"] == 2
    assert sorted(replayed(r) for r in responses) == [False, True]
    if backend == "postgresql":  # the first holds its key; the duplicate waited on it
        assert not replayed(responses[0])
    assert await version_of(partners, pledge["id"]) == (2, "Once only")
    assert await count(partners, IdempotencyRecord) == 1


async def _waiting(partners: Partners, at_least: int) -> bool:
    return await lock_waiters(partners) >= at_least


async def test_a_duplicate_still_running_after_the_wait_gets_in_progress(
    partners: Partners, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first request is held inside its mutation, its key claimed, for longer than a
    duplicate may wait (one second on PostgreSQL here; SQLite waits on its one writer for at
    most five). The duplicate must wait and get the first response, or get ``IN_PROGRESS``;
    never fail."""
    monkeypatch.setattr(idempotency, "WAIT", timedelta(seconds=1))
    original = commands.update
    inside, release = asyncio.Event(), asyncio.Event()

    async def held(*args: Any, **kwargs: Any) -> Any:
        inside.set()
        await release.wait()
        return await original(*args, **kwargs)

    monkeypatch.setattr(commands, "update", held)
    pledge = await partners.create()
    variables = {"id": pledge["id"], "version": 1, "input": smart_pledge(title="Slow write")}
    hold = 3.0 if backend == "postgresql" else 7.0
    first = asyncio.create_task(keyed(partners, "alpha", UPDATE, "slow", **variables))
    try:
        async with asyncio.timeout(5):
            await inside.wait()
        asyncio.get_running_loop().call_later(hold, release.set)
        started = time.monotonic()
        with capture_logs():
            duplicate = await partners.post("alpha", UPDATE, variables, headers={KEY: "slow"})
        waited = time.monotonic() - started
    finally:
        release.set()
    done = await first
    assert done.json()["data"]["updatePledge"]["userErrors"] == []
    assert duplicate.status_code == 200, duplicate.text
    if replayed(duplicate):
        assert duplicate.json() == done.json()
    else:
        assert error_code(duplicate) == "IN_PROGRESS"
        assert waited >= 0.9  # it waited for the first one before giving up
    retry = await keyed(partners, "alpha", UPDATE, "slow", **variables)
    assert replayed(retry)
    assert retry.json() == done.json()
    assert await version_of(partners, pledge["id"]) == (2, "Slow write")


@POSTGRES_ONLY
async def test_a_keyed_write_queues_for_a_busy_pledge_like_any_write(
    partners: Partners, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wait for a duplicate's key is bounded; the write's own wait for a pledge another
    transaction holds is not the key's business. Two writes queue behind a transaction
    holding their pledges for longer than that bound (one second here), one with a key and
    one without: both must go through once the pledges are free."""
    monkeypatch.setattr(idempotency, "WAIT", timedelta(seconds=1))
    one, other = await partners.create(), await partners.create()
    rows = [row_id(one["id"]), row_id(other["id"])]
    async with partners.session_factory() as holder:
        await holder.execute(select(Pledge).where(Pledge.id.in_(rows)).with_for_update())
        with_key = asyncio.create_task(
            keyed(partners, "alpha", UPDATE, "queued", id=one["id"], version=1,
                  input=smart_pledge(title="Queued with a key"))
        )  # fmt: skip
        without = asyncio.create_task(
            partners.post("alpha", UPDATE, {"id": other["id"], "version": 1,
                          "input": smart_pledge(title="Queued without")})
        )  # fmt: skip
        await until(lambda: _waiting(partners, 2), "both writes wait on their pledges")
        await asyncio.sleep(2)
        await holder.rollback()
    with capture_logs():
        responses = await asyncio.gather(with_key, without)
    for response in responses:
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        assert body["data"]["updatePledge"]["userErrors"] == []
    assert await version_of(partners, one["id"]) == (2, "Queued with a key")
    assert await version_of(partners, other["id"]) == (2, "Queued without")


# --- the race ----------------------------------------------------------------------------


@dataclass
class Attempt:
    """One updatePledge a client sent (``copies`` times at once, under ``key``)."""

    client: int
    round: int
    pledge: str
    version: int
    title: str
    key: str | None
    responses: list[httpx.Response]

    @property
    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = self.responses[0].json()
        return body

    @property
    def won(self) -> bool:
        payload = self.body["data"]["updatePledge"]
        return bool(payload["userErrors"] == [])

    @property
    def variables(self) -> dict[str, Any]:
        return {"id": self.pledge, "version": self.version, "input": smart_pledge(title=self.title)}


SIZES = {"postgresql": (12, 8), "sqlite": (5, 4)}
"""Clients and rounds per backend; SQLite has one writer and 5 s busy waits. Twelve clients
racing three pledges still put four writers on each version every round; twenty took most of
the 30 s guard on two cores beside the rest of the suite."""


async def test_racing_writers_each_version_moves_once(partners: Partners, backend: str) -> None:
    """Every round each client reads one of three shared pledges, waits for all the others to
    have read, then updates it from the version it read: all writers of a pledge name the
    same version, so exactly one of them may win. Half the updates carry a key (the same
    key strings in every client: keys belong to their client), and half of those are sent
    twice at once, as a retry racing its original."""
    clients, rounds = SIZES[backend]
    started = time.monotonic()
    async with asyncio.timeout(30):
        racers = await more_clients(partners, clients)
        names = [racer.name for racer in racers]
        pledges = [(await partners.create(title=f"Shared {n}"))["id"] for n in range(3)]
        attempts: list[Attempt] = []
        barrier = asyncio.Barrier(clients)

        async def race(client: int) -> None:
            who = names[client]
            for round_ in range(rounds):
                await barrier.wait()  # the previous round's writes are all done
                pledge = pledges[(client + round_) % 3]
                version = (await partners.ok(who, READ, id=pledge))["node"]["version"]
                await barrier.wait()  # every client has read
                title = f"Written by client {client} in round {round_}"
                key = f"op-{round_}" if (client + round_) % 2 == 0 else None
                copies = 2 if (client + round_) % 4 == 0 else 1
                attempt = Attempt(client, round_, pledge, version, title, key, [])
                headers = {KEY: key} if key else {}
                attempt.responses = list(
                    await asyncio.gather(
                        *(
                            partners.post(who, UPDATE, attempt.variables, headers=headers)
                            for _ in range(copies)
                        )
                    )
                )
                attempts.append(attempt)

        async with asyncio.TaskGroup() as group:
            for client in range(clients):
                group.create_task(race(client))

        # late retries of every keyed update, all at once: each gets its first response
        with_keys = [attempt for attempt in attempts if attempt.key is not None]
        late = await asyncio.gather(
            *(
                partners.post(names[a.client], UPDATE, a.variables, headers={KEY: a.key or ""})
                for a in with_keys
            )
        )
        async with partners.session_factory() as session:
            stored = {
                (record.client, record.key): record
                for record in await session.scalars(select(IdempotencyRecord))
            }
            rows = {
                pledge.id: pledge
                for pledge in await session.scalars(select(Pledge).order_by(Pledge.id))
            }
    elapsed = time.monotonic() - started

    for attempt in attempts:
        for response in attempt.responses:
            assert response.status_code == 200, response.text
            body = response.json()
            assert "errors" not in body, body  # never an internal error
            assert body == attempt.body  # a retry racing its original got the same answer
        payload = attempt.body["data"]["updatePledge"]
        if attempt.won:
            assert payload["pledge"]["version"] == attempt.version + 1
            assert payload["pledge"]["title"] == attempt.title
        else:
            assert payload["pledge"] is None
            assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
                ("STALE_VERSION", ["version"])
            ], payload
        flags = sorted(replayed(response) for response in attempt.responses)
        if attempt.key is None or len(attempt.responses) == 1:
            assert flags == [False] * len(attempt.responses)
        else:
            assert flags == [False, True]  # one ran, the other waited and was replayed
    for attempt, response in zip(with_keys, late, strict=True):
        assert response.status_code == 200, response.text
        assert replayed(response)
        assert response.json() == attempt.body

    assert len(attempts) == clients * rounds
    contested = sum(not attempt.won for attempt in attempts)
    assert contested == (clients - 3) * rounds  # the race was real: one winner a pledge a round
    by_pledge: dict[str, dict[int, list[Attempt]]] = defaultdict(lambda: defaultdict(list))
    for attempt in attempts:
        by_pledge[attempt.pledge][attempt.version].append(attempt)
    assert len(rows) == 3  # nothing created on the way
    for pledge, versions in by_pledge.items():
        row = rows[row_id(pledge)]
        assert row.version == 1 + rounds  # every round moved every pledge exactly once
        assert sorted(versions) == list(range(1, row.version))
        for version, tried in versions.items():
            winners = [attempt for attempt in tried if attempt.won]
            assert len(winners) == 1, (pledge, version, [a.body for a in tried])
        last = next(a for a in versions[row.version - 1] if a.won)
        assert row.title == last.title  # no lost update

    assert set(stored) == {(racers[a.client].scope, a.key) for a in with_keys}
    for attempt in with_keys:
        record = stored[(racers[attempt.client].scope, attempt.key or "")]
        assert json.loads(record.response or "null") == attempt.body
    for model in (Target, PledgeFocusArea, PledgeTargetCountry, Endorsement):
        assert await count(partners, model) == 3, model  # one each per pledge, no duplicate
    assert elapsed < 30
