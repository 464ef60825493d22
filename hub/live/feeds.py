"""What each feed shows a viewer, through the one visibility rule, and what it holds since a
moment (to catch up).

Each change is a record's id and the time that places it in its feed: when a pledge was
published, when a report was submitted, when an endorsement last changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, literal, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from hub.endorsements.models import Endorsement
from hub.live.announcements import Topic
from hub.pledges.models import Pledge
from hub.progress.models import ProgressReport
from hub.visibility import Viewer, endorsement_visible, pledge_visible, report_visible


@dataclass(frozen=True, slots=True, order=True)
class Change:
    """A record in a feed, placed by its time (then its id)."""

    at: datetime
    subject_id: int


@dataclass(frozen=True, slots=True)
class Interest:
    """What one subscription follows: a topic as ``viewer`` sees it, narrowed to the changes
    that concern ``member_id`` (endorsements) or to one pledge (``pledge_id``)."""

    topic: Topic
    viewer: Viewer
    member_id: int | None = None
    pledge_id: int | None = None


def _feed(interest: Interest) -> tuple[Select[Any], InstrumentedAttribute[Any], Any]:
    """The feed's rows (id, time), its id column and its time column."""
    conditions: list[ColumnElement[bool]]
    if interest.topic is Topic.PLEDGE_PUBLISHED:
        conditions = [Pledge.published_at.is_not(None), pledge_visible(interest.viewer)]
        if interest.pledge_id is not None:
            conditions.append(Pledge.id == interest.pledge_id)
        return _rows(Pledge.id, Pledge.published_at, conditions)
    if interest.topic is Topic.PROGRESS_REPORTED:
        conditions = [report_visible(interest.viewer)]
        if interest.pledge_id is not None:
            conditions.append(ProgressReport.pledge_id == interest.pledge_id)
        return _rows(ProgressReport.id, ProgressReport.submitted_at, conditions)
    member = interest.member_id
    led = select(Pledge.id).where(Pledge.lead_member_id == member)
    conditions = [
        endorsement_visible(interest.viewer),
        or_(Endorsement.organisation_id == member, Endorsement.pledge_id.in_(led)),
    ]
    if interest.pledge_id is not None:
        conditions.append(Endorsement.pledge_id == interest.pledge_id)
    return _rows(Endorsement.id, Endorsement.updated_at, conditions)


def _rows(
    key: InstrumentedAttribute[Any], at: Any, conditions: list[ColumnElement[bool]]
) -> tuple[Select[Any], InstrumentedAttribute[Any], Any]:
    return select(key, at).where(and_(*conditions)), key, at


async def visible_changes(
    session: AsyncSession, interest: Interest, subject_ids: Iterable[int]
) -> list[Change]:
    """Of the announced ``subject_ids``, those in the feed as its viewer sees it, in order."""
    query, key, _ = _feed(interest)
    rows = await session.execute(query.where(key.in_(set(subject_ids))))
    return sorted(Change(at, subject_id) for subject_id, at in rows)


async def changes_since(
    session: AsyncSession, interest: Interest, after: Change, limit: int
) -> list[Change]:
    """At most ``limit`` changes of the feed placed after ``after``, in order."""
    query, key, at = _feed(interest)
    rows = await session.execute(
        # bound with the columns' own types: the moment is stored in UTC on every backend
        query.where(tuple_(at, key) > tuple_(literal(after.at, at.type), literal(after.subject_id)))
        .order_by(at, key)
        .limit(limit)
    )
    return [Change(stamp, subject_id) for subject_id, stamp in rows]
