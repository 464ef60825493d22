"""What the secretariat reads of connectors and their runs (pages of runs, dead letters and
the review queue, and rows by id for the loaders), and what a pledge's readers get of its
import: its texts in other languages and, for those who may see it, its source record.

Every page is counted first and then read at its window (``hub.pagination``), so both
directions of a connection cost two statements whatever its position.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.principal import Principal
from hub.auth.scopes import ClientKind, Scope
from hub.authorization import holds_any_scope
from hub.imports.linking import hierarchy
from hub.imports.models import (
    Connector,
    CountedElsewhere,
    DeadLetter,
    LetterStatus,
    LinkRole,
    ReviewEntry,
    ReviewStatus,
    RunStatus,
    SourceRecord,
    SyncRun,
)
from hub.pagination import Slice, Window, window
from hub.pledges.models import PledgeText, TextField
from hub.visibility import Viewer, visible_pledge_ids

CONNECTORS_ADMIN = frozenset({Scope.CONNECTORS_ADMIN})
REVIEW_READERS = frozenset({Scope.CONNECTORS_ADMIN, Scope.MEMBERS_ADMIN})
"""Who reads the review queue: connector administrators, and the secretariat's members
administrators, who resolve its items about organisations (``hub.imports.review``)."""

Row = TypeVar("Row", Connector, SyncRun, DeadLetter, ReviewEntry)


async def _page(
    session: AsyncSession,
    model: type[Row],
    where: Sequence[ColumnElement[bool]],
    order: Sequence[Any],
    request: Slice,
) -> tuple[list[Row], Window]:
    """One page of the rows of ``model`` that ``where`` selects, in ``order``."""
    counted = await session.scalar(select(func.count()).select_from(model).where(*where))
    span = window(request, int(counted or 0))
    if span.limit == 0:
        return [], span
    rows = await session.scalars(
        select(model).where(*where).order_by(*order).offset(span.start).limit(span.limit)
    )
    return list(rows), span


async def connector_page(session: AsyncSession, request: Slice) -> tuple[list[Connector], Window]:
    """One page of the connectors, by name."""
    return await _page(session, Connector, [], [Connector.name], request)


async def run_page(
    session: AsyncSession,
    request: Slice,
    *,
    connector_id: int | None = None,
    status: RunStatus | None = None,
) -> tuple[list[SyncRun], Window]:
    """One page of sync runs, newest first: of one connector, in one status, or all."""
    where: list[ColumnElement[bool]] = []
    if connector_id is not None:
        where.append(SyncRun.connector_id == connector_id)
    if status is not None:
        where.append(SyncRun.status == status)
    return await _page(session, SyncRun, where, [SyncRun.id.desc()], request)


async def letter_page(
    session: AsyncSession,
    request: Slice,
    *,
    connector_id: int | None = None,
    status: LetterStatus | None = LetterStatus.OPEN,
) -> tuple[list[DeadLetter], Window]:
    """One page of dead letters, oldest first (the order a retry takes them in): open ones
    unless told otherwise (None: whatever their status)."""
    where: list[ColumnElement[bool]] = []
    if connector_id is not None:
        where.append(DeadLetter.connector_id == connector_id)
    if status is not None:
        where.append(DeadLetter.status == status)
    return await _page(session, DeadLetter, where, [DeadLetter.id], request)


async def review_page(
    session: AsyncSession,
    request: Slice,
    *,
    status: ReviewStatus | None = ReviewStatus.OPEN,
    subject: str | None = None,
) -> tuple[list[ReviewEntry], Window]:
    """One page of the review queue, oldest first: open items unless told otherwise, of one
    subject (ORGANISATION, REGION…) when given."""
    where: list[ColumnElement[bool]] = []
    if status is not None:
        where.append(ReviewEntry.status == status)
    if subject is not None:
        where.append(ReviewEntry.subject == subject)
    return await _page(session, ReviewEntry, where, [ReviewEntry.id], request)


async def _by_id(session: AsyncSession, model: type[Row], ids: Iterable[int]) -> dict[int, Row]:
    rows = await session.scalars(select(model).where(model.id.in_(set(ids))))
    return {row.id: row for row in rows}


async def connectors_by_id(session: AsyncSession, ids: Iterable[int]) -> dict[int, Connector]:
    """Connectors by id, in one statement."""
    return await _by_id(session, Connector, ids)


async def runs_by_id(session: AsyncSession, ids: Iterable[int]) -> dict[int, SyncRun]:
    """Sync runs by id, in one statement."""
    return await _by_id(session, SyncRun, ids)


async def letters_by_id(session: AsyncSession, ids: Iterable[int]) -> dict[int, DeadLetter]:
    """Dead letters by id, in one statement."""
    return await _by_id(session, DeadLetter, ids)


async def review_entries_by_id(session: AsyncSession, ids: Iterable[int]) -> dict[int, ReviewEntry]:
    """Review items by id, in one statement."""
    return await _by_id(session, ReviewEntry, ids)


async def sources_by_pledge(session: AsyncSession, ids: Iterable[int]) -> dict[int, SourceRecord]:
    """The source record each pledge was imported from (the one that writes it, where several
    are linked to it), in one statement."""
    rows = await session.scalars(
        select(SourceRecord)
        .where(SourceRecord.pledge_id.in_(set(ids)))
        .order_by(SourceRecord.link_role != LinkRole.LEAD, SourceRecord.id)
    )
    found: dict[int, SourceRecord] = {}
    for row in rows:
        if row.pledge_id is not None:
            found.setdefault(row.pledge_id, row)
    return found


async def linked_by_pledge(
    session: AsyncSession, ids: Iterable[int]
) -> dict[int, list[SourceRecord]]:
    """Every source record linked to each pledge, its lead record first, in one statement."""
    rows = await session.scalars(
        select(SourceRecord)
        .where(SourceRecord.pledge_id.in_(set(ids)))
        .order_by(
            SourceRecord.link_role != LinkRole.LEAD, SourceRecord.source, SourceRecord.external_id
        )
    )
    found: dict[int, list[SourceRecord]] = {}
    for row in rows:
        if row.pledge_id is not None:
            found.setdefault(row.pledge_id, []).append(row)
    return found


async def counted_elsewhere_by_pledge(
    session: AsyncSession, viewer: Viewer, ids: Iterable[int]
) -> dict[int, CountedElsewhere]:
    """For each pledge whose amount an ancestor the viewer sees holds, the topmost such one and
    why, in one statement (an ancestor it cannot see counts nothing for it: the amount counts
    where it is)."""
    rows = await session.scalars(
        select(CountedElsewhere)
        .where(
            CountedElsewhere.pledge_id.in_(set(ids)),
            CountedElsewhere.counted_in_id.in_(visible_pledge_ids(viewer)),
        )
        .order_by(CountedElsewhere.depth)
    )
    return {row.pledge_id: row for row in rows}  # the topmost one seen


async def parents_by_pledge(session: AsyncSession, ids: Iterable[int]) -> dict[int, list[int]]:
    """Each pledge's parent pledges, by id order."""
    return {key: sorted(found) for key, found in (await hierarchy(session, ids, up=True)).items()}


async def children_by_pledge(session: AsyncSession, ids: Iterable[int]) -> dict[int, list[int]]:
    """Each pledge's child pledges, by id order."""
    return {key: sorted(found) for key, found in (await hierarchy(session, ids, up=False)).items()}


async def texts_by_pledge(session: AsyncSession, ids: Iterable[int]) -> dict[int, list[PledgeText]]:
    """Each pledge's texts in other languages, by field and language, in one statement."""
    rows = await session.scalars(
        select(PledgeText)
        .where(PledgeText.pledge_id.in_(set(ids)))
        .order_by(PledgeText.pledge_id, PledgeText.field, PledgeText.language)
    )
    found: dict[int, list[PledgeText]] = {}
    for row in rows:
        found.setdefault(row.pledge_id, []).append(row)
    return found


def text_in(texts: Iterable[PledgeText], field: TextField, language: str) -> str | None:
    """The text of ``field`` in ``language`` (a BCP 47 tag, any case), or None.

    An exact match first; else one of the same primary language (``fr`` for ``fr-CA`` and
    ``fr-CA`` for ``fr``), the bare primary tag before a regional one, then by tag.
    """
    wanted = language.strip().lower()
    primary = wanted.partition("-")[0]
    same_field = [t for t in texts if t.field == field]
    for text in same_field:
        if text.language.lower() == wanted:
            return text.text
    near = sorted(
        (text.language.lower() != primary, text.language.lower(), text.text)
        for text in same_field
        if text.language.lower().partition("-")[0] == primary
    )
    return near[0][2] if near and primary else None


def languages_of(texts: Iterable[PledgeText]) -> list[str]:
    """The languages a pledge's texts are in, each once, by tag."""
    return sorted({text.language.lower() for text in texts})


def sees_source(principal: Principal, lead_member_id: int) -> bool:
    """Whether the principal may see where a pledge was imported from and what the import
    left to do: its lead member (through a partner's or a connector's token), the
    secretariat, and whoever administers connectors."""
    return (
        principal.kind is ClientKind.SECRETARIAT
        or holds_any_scope(principal, CONNECTORS_ADMIN)
        or (principal.member_id is not None and principal.member_id == lead_member_id)
    )


def strings(text: str | None) -> list[str]:
    """A stored JSON list of strings (notes, gaps); anything else in it is skipped."""
    try:
        stored = json.loads(text or "[]")
    except ValueError:
        return []
    return [item for item in stored if isinstance(item, str)] if isinstance(stored, list) else []


def candidate_ids(entry: ReviewEntry) -> list[int]:
    """The organisations (by id) a review item's uncertain match might mean, as stored (JSON);
    anything else in it is skipped."""
    try:
        stored = json.loads(entry.candidates or "[]")
    except ValueError:
        return []
    return [item for item in stored if type(item) is int] if isinstance(stored, list) else []
