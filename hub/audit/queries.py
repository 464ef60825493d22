"""What auditors read: pages of the trail, filtered, and the endorsement trail with the
pledge's terms as they stood at each step, rebuilt from the ledger itself."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.ledger import changes_of
from hub.audit.models import AuditEvent, AuditLeaf
from hub.endorsements.models import Endorsement
from hub.pagination import Slice, Window, window


@dataclass(frozen=True, slots=True)
class TrailFilter:
    """Which events: each criterion given narrows the trail. ``actor`` is a client id, a
    connector's name or a console operator; ``action`` an action (``pledge.publish``) or a
    family (``pledge``); ``since`` is included, ``until`` excluded."""

    entity_type: str | None = None
    entity_id: str | None = None
    actor: str | None = None
    actor_member_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Logged:
    """An event and its place in the log (None until it is sequenced)."""

    event: AuditEvent
    leaf: AuditLeaf | None


def _conditions(criteria: TrailFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if criteria.entity_type is not None:
        where.append(AuditEvent.entity_type == criteria.entity_type)
    if criteria.entity_id is not None:
        where.append(AuditEvent.entity_id == criteria.entity_id)
    if criteria.actor is not None:
        where.append(
            or_(
                AuditEvent.actor_client_id == criteria.actor,
                AuditEvent.connector == criteria.actor,
                AuditEvent.actor_operator == criteria.actor,
            )
        )
    if criteria.actor_member_id is not None:
        where.append(AuditEvent.actor_member_id == criteria.actor_member_id)
    if criteria.action is not None:
        action = criteria.action
        where.append(
            AuditEvent.action == action
            if "." in action
            else AuditEvent.action.startswith(f"{action}.", autoescape=True)
        )
    if criteria.since is not None:
        where.append(AuditEvent.occurred_at >= criteria.since)
    if criteria.until is not None:
        where.append(AuditEvent.occurred_at < criteria.until)
    return where


async def _page(
    session: AsyncSession, where: list[ColumnElement[bool]], request: Slice, *joined: Any
) -> tuple[list[Logged], Window]:
    """One page of the events ``where`` selects, oldest first."""
    counted = select(func.count(AuditEvent.id))
    for join in joined:
        counted = counted.join(*join)
    span = window(request, int(await session.scalar(counted.where(*where)) or 0))
    if span.limit == 0:
        return [], span
    query = select(AuditEvent, AuditLeaf).outerjoin(AuditLeaf, AuditLeaf.event_id == AuditEvent.id)
    for join in joined:
        query = query.join(*join)
    rows = await session.execute(
        query.where(*where).order_by(AuditEvent.id).offset(span.start).limit(span.limit)
    )
    return [Logged(event, leaf) for event, leaf in rows], span


async def trail_page(
    session: AsyncSession, criteria: TrailFilter, request: Slice
) -> tuple[list[Logged], Window]:
    """One page of the trail, oldest first."""
    return await _page(session, _conditions(criteria), request)


ENDORSEMENT_STEPS = (
    "endorsement.invite",
    "endorsement.accept",
    "endorsement.decline",
    "endorsement.revoke",
    "endorsement.reset",
)

BOOKKEEPING = frozenset({"id", "created_at", "updated_at", "version"})
"""A pledge's fields that are not its terms."""


@dataclass(frozen=True, slots=True)
class EndorsementStep:
    """A step of an endorsement: the event, whose endorsement it was, and the pledge's terms
    (its fields and parts as the ledger recorded them) when it was taken."""

    logged: Logged
    endorsement_id: int
    pledge_id: int
    organisation_id: int
    terms: dict[str, Any]


async def endorsement_trail(
    session: AsyncSession, pledge_id: int | None, organisation_id: int | None, request: Slice
) -> tuple[list[EndorsementStep], Window]:
    """Every invitation, acceptance, decline, revocation and reset of the endorsements of a
    pledge, or of an organisation, oldest first."""
    where = [AuditEvent.entity_type == "Endorsement", AuditEvent.action.in_(ENDORSEMENT_STEPS)]
    if pledge_id is not None:
        where.append(Endorsement.pledge_id == pledge_id)
    if organisation_id is not None:
        where.append(Endorsement.organisation_id == organisation_id)
    on = (Endorsement, AuditEvent.entity_id == cast(Endorsement.id, String))
    page, span = await _page(session, where, request, on)
    return await _steps(session, page), span


async def events_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Logged]:
    """Events by id, with their leaves."""
    rows = await session.execute(
        select(AuditEvent, AuditLeaf)
        .outerjoin(AuditLeaf, AuditLeaf.event_id == AuditEvent.id)
        .where(AuditEvent.id.in_(ids))
    )
    return {event.id: Logged(event, leaf) for event, leaf in rows}


async def steps_by_event(session: AsyncSession, ids: Sequence[int]) -> dict[int, EndorsementStep]:
    """Endorsement steps by the id of their event (other events are not steps)."""
    found = await events_by_id(session, ids)
    logged = [
        found[i]
        for i in sorted(found)
        if found[i].event.entity_type == "Endorsement"
        and found[i].event.action in ENDORSEMENT_STEPS
    ]
    return {step.logged.event.id: step for step in await _steps(session, logged)}


async def _steps(session: AsyncSession, page: Sequence[Logged]) -> list[EndorsementStep]:
    """The steps of endorsement events, with the terms of each one's pledge at that moment
    (two statements, whatever the number of events)."""
    if not page:
        return []
    endorsements = {
        e.id: e
        for e in await session.scalars(
            select(Endorsement).where(
                Endorsement.id.in_({int(logged.event.entity_id) for logged in page})
            )
        )
    }
    pledges = {endorsements[int(logged.event.entity_id)].pledge_id for logged in page}
    history = await session.execute(
        select(AuditEvent.id, AuditEvent.entity_id, AuditEvent.changes)
        .where(
            AuditEvent.entity_type == "Pledge",
            AuditEvent.entity_id.in_([str(p) for p in pledges]),
            AuditEvent.id < max(logged.event.id for logged in page),
        )
        .order_by(AuditEvent.id)
    )
    changes = [(event_id, int(entity), changes_of(text)) for event_id, entity, text in history]
    steps = []
    for logged in page:
        endorsement = endorsements[int(logged.event.entity_id)]
        before = (c for e, p, c in changes if p == endorsement.pledge_id and e < logged.event.id)
        steps.append(
            EndorsementStep(
                logged,
                endorsement.id,
                endorsement.pledge_id,
                endorsement.organisation_id,
                terms_after(before),
            )
        )
    return steps


def terms_after(changes: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A pledge's terms after its recorded changes, in order: each field's latest value."""
    terms: dict[str, Any] = {}
    for change in changes:
        if not isinstance(change, Mapping):
            continue  # changed in the database: the ledger's verification names it
        for name, values in change.items():
            if name not in BOOKKEEPING and isinstance(values, Mapping):
                terms[name] = values.get("after")
    return dict(sorted(terms.items()))
