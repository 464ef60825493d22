"""One process's fan-out of announcements to its subscribers.

Publishing never waits: each subscription has an inbox of bounded size, and one that is full
(its subscriber fell behind) is emptied and marked as having missed announcements. Its
subscriber then catches up from the database (see ``hub.live.follow``), so a slow subscriber
costs itself some latency and nobody else anything. When the process may have missed
announcements altogether (its LISTEN connection was lost), every inbox is marked the same way.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager

from hub.errors import Forbidden
from hub.live.announcements import Announcement, Topic

INBOX_SIZE = 256
"""Announcements a subscription may have waiting before it is marked as behind."""


class Inbox:
    """The announcements of one topic waiting for one subscription."""

    def __init__(self, topic: Topic, size: int = INBOX_SIZE) -> None:
        self.topic = topic
        self.size = size
        self._waiting: deque[int] = deque()
        self._missed = False
        self._ready = asyncio.Event()

    def offer(self, subject_id: int) -> None:
        """Take an announcement, or, when full, drop what waits and note the gap."""
        if len(self._waiting) >= self.size:
            self.missed()
            return
        self._waiting.append(subject_id)
        self._ready.set()

    def missed(self) -> None:
        """Note that announcements were lost: the subscriber must catch up."""
        self._waiting.clear()
        self._missed = True
        self._ready.set()

    async def take(self) -> tuple[list[int], bool]:
        """Wait for announcements; the ids waiting, and whether some were missed before them."""
        await self._ready.wait()
        self._ready.clear()
        waiting, missed = list(self._waiting), self._missed
        self._waiting.clear()
        self._missed = False
        return waiting, missed


class Broker:
    """Subscriptions of one process by topic, at most ``per_owner`` at a time per owner
    (a client, or an address for anonymous callers)."""

    def __init__(self, per_owner: int, inbox_size: int = INBOX_SIZE) -> None:
        self.per_owner = per_owner
        self.inbox_size = inbox_size
        self._inboxes: defaultdict[Topic, set[Inbox]] = defaultdict(set)
        self._owners: Counter[str] = Counter()

    @contextmanager
    def subscribe(self, topic: Topic, owner: str) -> Iterator[Inbox]:
        """An inbox for ``topic`` while the block runs; ``Forbidden`` over the owner's bound."""
        if self._owners[owner] >= self.per_owner:
            raise Forbidden(
                f"this client already holds {self.per_owner} subscriptions, the most it may "
                "hold at once; end one before starting another",
                code="SUBSCRIPTION_LIMIT",
            )
        inbox = Inbox(topic, self.inbox_size)
        self._owners[owner] += 1
        self._inboxes[topic].add(inbox)
        try:
            yield inbox
        finally:
            self._inboxes[topic].discard(inbox)
            self._owners[owner] -= 1
            if not self._owners[owner]:
                del self._owners[owner]

    def publish(self, announcement: Announcement) -> None:
        for inbox in self._inboxes[announcement.topic]:
            inbox.offer(announcement.subject_id)

    def interrupt(self) -> None:
        """Every subscriber may have missed announcements (the listener reconnected)."""
        for inboxes in self._inboxes.values():
            for inbox in inboxes:
                inbox.missed()

    def count(self, owner: str | None = None) -> int:
        """Subscriptions held, by everyone or by ``owner``."""
        if owner is not None:
            return self._owners[owner]
        return sum(len(inboxes) for inboxes in self._inboxes.values())
