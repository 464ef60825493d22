"""A subscriber's loop: what it missed since the moment it names, then what is announced,
and a catch-up from the database whenever announcements may have been lost (its inbox
overflowed, or the process's LISTEN connection was re-established).

Delivery is at least once within ``MARGIN``: a catch-up reads again from a little before the
last change delivered, and what was delivered since then is not repeated.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import InvalidInput
from hub.live.broker import Broker
from hub.live.feeds import Change, Interest, changes_since, visible_changes
from hub.types import utcnow

MARGIN = timedelta(seconds=10)
"""How far before the last change delivered a catch-up reads again: writers' clocks and
transactions committing later than they stamped their records."""

MAX_AGE = timedelta(days=7)
"""The oldest ``since`` a subscription may name; older history is for the queries."""

BATCH = 100
"""Changes read per statement while catching up."""


@dataclass(frozen=True, slots=True)
class Live:
    """What subscriptions need of their process: its broker and read-only sessions."""

    broker: Broker
    session_factory: Callable[[], AbstractAsyncContextManager[AsyncSession]]


class Seen:
    """The changes delivered within ``MARGIN`` of the latest, so none is delivered twice;
    nothing before ``start`` (the subscription's ``since``, or the moment it began)."""

    def __init__(self, start: datetime) -> None:
        self.start = self.latest = start
        self._recent: set[Change] = set()

    def first_time(self, change: Change) -> bool:
        if change in self._recent:
            return False
        self._recent.add(change)
        if change.at > self.latest:
            self.latest = change.at
            floor = self.latest - MARGIN
            self._recent = {seen for seen in self._recent if seen.at >= floor}
        return True

    def resume_point(self) -> Change:
        """Where a catch-up starts."""
        return Change(max(self.latest - MARGIN, self.start), 0)


def checked_since(since: datetime, now: datetime) -> datetime:
    """``since`` in UTC, if it is a moment of the last ``MAX_AGE``."""
    if since.tzinfo is None:
        raise InvalidInput(
            "since needs its offset from UTC (2026-12-06T15:00:00Z or +01:00)",
            field=("since",),
        )
    since = since.astimezone(UTC)
    if since < now - MAX_AGE:
        raise InvalidInput(
            f"since may be at most {MAX_AGE.days} days ago; read older changes with the "
            "queries and subscribe from a later moment",
            code="SINCE_TOO_OLD",
            field=("since",),
        )
    if since > now + MARGIN:
        raise InvalidInput(
            "since is in the future; leave it out to follow what happens from now",
            code="SINCE_IN_FUTURE",
            field=("since",),
        )
    return since


async def follow(
    live: Live, interest: Interest, owner: str, since: datetime | None = None
) -> AsyncGenerator[list[int], None]:
    """The ids of the changes ``interest`` follows, from ``since`` (inclusive) or from now, in
    order, a batch at a time (what arrived together, or a page of a catch-up), so that the
    subscriber loads each batch at once."""
    now = utcnow()
    if since is not None:
        since = min(checked_since(since, now), now)
    with live.broker.subscribe(interest.topic, owner) as inbox:
        seen = Seen(since or now)
        catch_up_from = Change(since, 0) if since is not None else None
        while True:
            if catch_up_from is not None:
                async for page in _changes_after(live, interest, catch_up_from):
                    if fresh := [c.subject_id for c in page if seen.first_time(c)]:
                        yield fresh
            subject_ids, missed = await inbox.take()
            catch_up_from = seen.resume_point() if missed else None
            if subject_ids and not missed:
                async with live.session_factory() as session:
                    changes = await visible_changes(session, interest, subject_ids)
                if fresh := [c.subject_id for c in changes if seen.first_time(c)]:
                    yield fresh


async def _changes_after(
    live: Live, interest: Interest, after: Change
) -> AsyncIterator[list[Change]]:
    while True:
        async with live.session_factory() as session:
            page = await changes_since(session, interest, after, BATCH)
        yield page
        if len(page) < BATCH:
            return
        after = page[-1]
