"""What a write announces, sent in the writing transaction so that nothing is announced that
did not commit.

On PostgreSQL an announcement is a ``NOTIFY`` on ``CHANNEL``: PostgreSQL hands it to every
listening process when the transaction commits, and drops it with a rolled-back transaction
or savepoint. On SQLite (one process) the session keeps its announcements and gives them to
its process's broker after the commit; a savepoint rolled back takes its own with it.
Payloads carry ids only (a NOTIFY payload holds at most 8,000 bytes): each subscriber loads
what its caller may see.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

CHANNEL = "p2c_hub_live"

NOTIFY = text(
    "SELECT pg_notify(:channel, payload) FROM unnest(CAST(:payloads AS text[])) AS payload"
)
"""One statement for every announcement of a write."""

_RECEIVER = "hub.live.receiver"
_PENDING = "hub.live.pending"


class Topic(enum.StrEnum):
    """What changed."""

    PLEDGE_PUBLISHED = "pledge_published"
    PROGRESS_REPORTED = "progress_reported"
    ENDORSEMENT_CHANGED = "endorsement_changed"


@dataclass(frozen=True, slots=True)
class Announcement:
    """One change: its topic and the id of the record it concerns."""

    topic: Topic
    subject_id: int

    def encode(self) -> str:
        return f"{self.topic.value}:{self.subject_id}"

    @classmethod
    def decode(cls, payload: str) -> Announcement | None:
        """The announcement in a NOTIFY payload; None for one this hub did not send."""
        topic, _, subject = payload.partition(":")
        try:
            return cls(Topic(topic), int(subject))
        except ValueError:
            return None


class Receiver(Protocol):
    """Where a process's announcements go (its broker)."""

    def publish(self, announcement: Announcement) -> None: ...


def delivering_to(receiver: Receiver) -> dict[str, Any]:
    """The ``Session.info`` that makes SQLite sessions hand announcements to ``receiver``."""
    return {_RECEIVER: receiver}


async def announce(session: AsyncSession, topic: Topic, *subject_ids: int) -> None:
    """Announce changes to ``subject_ids`` when the session's transaction commits."""
    if not subject_ids:
        return
    announcements = [Announcement(topic, subject_id) for subject_id in subject_ids]
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            NOTIFY, {"channel": CHANNEL, "payloads": [a.encode() for a in announcements]}
        )
        return
    sync = session.sync_session
    if _RECEIVER not in sync.info:
        return  # a session of no serving process (the CLI, a test): nobody subscribes to it
    transaction = sync.get_nested_transaction() or sync.get_transaction()
    pending = sync.info.setdefault(_PENDING, [])
    pending.extend((transaction, announcement) for announcement in announcements)


def _within(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if pending:
        pending[:] = [(t, a) for t, a in pending if not _within(t, previous)]


@event.listens_for(Session, "after_commit")
def _deliver_committed(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released: its announcements wait for the transaction
    pending = session.info.pop(_PENDING, None)
    if pending:
        receiver: Receiver = session.info[_RECEIVER]
        for _, announcement in pending:
            receiver.publish(announcement)


@event.listens_for(Session, "after_transaction_end")
def _forget_ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)  # closed without a commit: nothing is announced
