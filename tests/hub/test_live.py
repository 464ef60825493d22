"""Announcements, the broker, the listener and a subscriber's loop, on both backends: nothing
is announced that did not commit, a slow subscriber stalls nobody and misses nothing, and a
lost LISTEN connection comes back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import suppress
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.db import create_engine, create_session_factory, is_sqlite
from hub.errors import Forbidden
from hub.live.announcements import Announcement, Topic, announce, delivering_to
from hub.live.broker import Broker, Inbox
from hub.live.feeds import Change, Interest
from hub.live.follow import MARGIN, Live, Seen, follow
from hub.live.listener import Listener
from hub.types import utcnow
from hub.visibility import PUBLIC
from tests.fixtures.factories import add_member, add_pledge, add_published_pledge
from tests.fixtures.live import end_listening_connection, until


async def test_an_inbox_that_overflows_drops_what_waits_and_says_so() -> None:
    inbox = Inbox(Topic.PLEDGE_PUBLISHED, size=2)
    inbox.offer(1)
    inbox.offer(2)
    assert await inbox.take() == ([1, 2], False)
    for subject_id in (3, 4, 5):
        inbox.offer(subject_id)
    assert await inbox.take() == ([], True)
    inbox.offer(6)
    assert await inbox.take() == ([6], False)


def test_the_broker_bounds_each_owners_subscriptions() -> None:
    broker = Broker(per_owner=2)
    with broker.subscribe(Topic.PLEDGE_PUBLISHED, "client:a"):
        with broker.subscribe(Topic.PROGRESS_REPORTED, "client:a"):
            with (
                pytest.raises(Forbidden) as refused,
                broker.subscribe(Topic.PLEDGE_PUBLISHED, "client:a"),
            ):
                pass
            assert refused.value.code == "SUBSCRIPTION_LIMIT"
            with broker.subscribe(Topic.PLEDGE_PUBLISHED, "client:b"):
                assert broker.count() == 3
        with broker.subscribe(Topic.PLEDGE_PUBLISHED, "client:a"):
            assert broker.count("client:a") == 2
    assert broker.count() == 0


def test_seen_repeats_nothing_within_the_margin() -> None:
    start = utcnow()
    seen = Seen(start)
    first, later = Change(start, 1), Change(start + timedelta(seconds=1), 2)
    assert seen.first_time(first)
    assert not seen.first_time(first)
    assert seen.first_time(later)
    assert seen.resume_point() == Change(start, 0)  # never before the subscription began
    assert seen.first_time(Change(later.at, 3))  # same moment, another record
    much_later = Change(start + 3 * MARGIN, 4)
    assert seen.first_time(much_later)
    assert seen.resume_point() == Change(much_later.at - MARGIN, 0)


@pytest.fixture
async def listener(database_url: str) -> AsyncIterator[Listener | None]:
    """A broker fed as a serving process's is: by a LISTEN connection on PostgreSQL (None on
    SQLite, where sessions hand announcements to the broker themselves)."""
    broker = Broker(per_owner=100, inbox_size=4)
    listener = Listener(database_url, broker, keepalive=1.0)
    if is_sqlite(database_url):
        yield None
        return
    task = asyncio.create_task(listener.run())
    try:
        assert await listener.started(10)
        yield listener
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


@pytest.fixture
def broker(listener: Listener | None) -> Broker:
    return listener.broker if listener is not None else Broker(per_owner=100, inbox_size=4)


@pytest.fixture
def serving_factory(engine: AsyncEngine, broker: Broker) -> async_sessionmaker[AsyncSession]:
    """Sessions as a serving process makes them (their announcements go to its broker)."""
    return create_session_factory(engine, info=delivering_to(broker))


async def collect(inbox: Inbox, count: int) -> list[int]:
    """The next ``count`` ids delivered to ``inbox`` (a gap fails)."""
    ids: list[int] = []
    async with asyncio.timeout(5):
        while len(ids) < count:
            taken, missed = await inbox.take()
            assert not missed
            ids += taken
    return ids


async def nothing_arrives(inbox: Inbox) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(inbox.take(), 0.3)


async def test_only_committed_announcements_are_delivered(
    broker: Broker, serving_factory: async_sessionmaker[AsyncSession]
) -> None:
    with broker.subscribe(Topic.PLEDGE_PUBLISHED, "test") as inbox:
        async with serving_factory() as session:
            await session.execute(text("SELECT 1"))
            kept = await session.begin_nested()
            await announce(session, Topic.PLEDGE_PUBLISHED, 1)
            await kept.commit()
            dropped = await session.begin_nested()
            await announce(session, Topic.PLEDGE_PUBLISHED, 2)
            inner = await session.begin_nested()
            await announce(session, Topic.PLEDGE_PUBLISHED, 3)
            await inner.commit()
            await dropped.rollback()
            await announce(session, Topic.PLEDGE_PUBLISHED, 4, 5)
            await nothing_arrives(inbox)  # not before the commit
            await session.commit()
        assert await collect(inbox, 3) == [1, 4, 5]
        async with serving_factory() as session:
            await announce(session, Topic.PLEDGE_PUBLISHED, 6)
            await session.rollback()
        async with serving_factory() as session:
            await announce(session, Topic.PLEDGE_PUBLISHED, 7)
        async with serving_factory() as session:
            await announce(session, Topic.PROGRESS_REPORTED, 8)
            await announce(session, Topic.PLEDGE_PUBLISHED, 9)
            await session.commit()
        assert await collect(inbox, 1) == [9]
        await nothing_arrives(inbox)


async def _published(factory: async_sessionmaker[AsyncSession], count: int) -> list[int]:
    ids = []
    async with factory() as session:
        member = await add_member(session, f"Member {utcnow().timestamp()}")
        await session.commit()
        for index in range(count):
            ids.append((await add_published_pledge(session, member, title=f"P{index}")).id)
            await session.commit()
    return ids


async def test_a_slow_subscriber_stalls_nobody_and_catches_up_in_order(
    broker: Broker, engine: AsyncEngine, serving_factory: async_sessionmaker[AsyncSession]
) -> None:
    live = Live(broker, create_session_factory(engine, read_only=True))
    interest = Interest(Topic.PLEDGE_PUBLISHED, PUBLIC)
    fast, slow = follow(live, interest, "fast"), follow(live, interest, "slow")
    fast_got: list[int] = []

    async def keep_up() -> None:
        async for batch in fast:
            fast_got.extend(batch)

    keeping_up = asyncio.create_task(keep_up())
    slow_first = asyncio.ensure_future(anext(slow))
    await until(lambda: broker.count() == 2)
    async with serving_factory() as session:  # a draft is announced to nobody
        member = await add_member(session, "Drafting member")
        await add_pledge(session, member)
        await session.commit()
    published = await _published(serving_factory, 12)
    assert await asyncio.wait_for(slow_first, 5) == published[:1]
    await until(lambda: len(fast_got) == 12)
    assert fast_got == published  # in time, while the slow one read nothing
    # its inbox overflowed: it caught up from the database, in one page
    assert await asyncio.wait_for(anext(slow), 5) == published[1:]
    more = await _published(serving_factory, 1)
    assert await asyncio.wait_for(anext(slow), 5) == more
    keeping_up.cancel()
    with suppress(asyncio.CancelledError):
        await keeping_up
    await slow.aclose()
    assert broker.count() == 0


async def test_a_lost_listen_connection_is_made_again(postgres_database_url: str) -> None:
    engine = create_engine(postgres_database_url)
    broker = Broker(per_owner=1)
    listener = Listener(postgres_database_url, broker, keepalive=1.0)
    listening = asyncio.create_task(listener.run())
    serving_factory = create_session_factory(engine)
    try:
        assert await listener.started(10)
        with broker.subscribe(Topic.PLEDGE_PUBLISHED, "test") as inbox:
            await end_listening_connection(listener)
            await until(lambda: listener.connections == 2)
            assert await asyncio.wait_for(inbox.take(), 5) == ([], True)  # catch up, it says
            async with serving_factory() as session:
                await announce(session, Topic.PLEDGE_PUBLISHED, 42)
                await session.commit()
            assert await collect(inbox, 1) == [42]
    finally:
        listening.cancel()
        with suppress(asyncio.CancelledError):
            await listening
        await engine.dispose()


def test_announcements_carry_ids_only() -> None:
    announcement = Announcement(Topic.ENDORSEMENT_CHANGED, 12345)
    assert announcement.encode() == "endorsement_changed:12345"
    assert Announcement.decode(announcement.encode()) == announcement
    assert Announcement.decode("someone_else:1") is None
    assert Announcement.decode("pledge_published:x") is None
