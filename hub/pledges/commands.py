"""What a caller may do to pledges: each command authorizes, then writes through the service.

A pledge the caller may not see is reported exactly as one that does not exist, so ids of
other members' drafts tell nothing. Every write locks the pledge's row first (PostgreSQL;
SQLite has one writer anyway), so two writers never both pass the version check.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from functools import partial

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.ledger import changes_between, record, snapshot
from hub.auth.principal import Principal
from hub.authorization import actors, authorize, require_scope
from hub.columns import Provenance
from hub.endorsements.service import reset_co_endorsements
from hub.errors import Conflict, NotFound
from hub.lifecycle import Action, Entity
from hub.pledges.models import Pledge, PublicationStatus
from hub.pledges.rules import PledgeDraft
from hub.pledges.service import (
    TargetChange,
    create_pledge,
    fulfil_pledge,
    parts_of,
    publish_pledge,
    require_ready,
    return_pledge,
    submit_pledge,
    update_pledge,
    withdraw_pledge,
)
from hub.visibility import pledge_visible


async def locked_pledge(
    session: AsyncSession, pledge_id: int, *conditions: ColumnElement[bool]
) -> Pledge | None:
    """The pledge meeting ``conditions``, locked for this transaction and read afresh."""
    return await session.scalar(
        select(Pledge)
        .where(Pledge.id == pledge_id, *conditions)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def pledge_for(
    session: AsyncSession, principal: Principal, pledge_id: int, *, field: str = "id"
) -> Pledge:
    """The pledge, locked for this transaction, if the principal may see it; else ``NotFound``
    with the same words whether it is hidden or absent."""
    pledge = await locked_pledge(session, pledge_id, pledge_visible(principal.viewer))
    if pledge is None:
        raise NotFound("no pledge with this id is visible to this client", field=(field,))
    return pledge


async def create(
    session: AsyncSession,
    principal: Principal,
    draft: PledgeDraft,
    targets: Sequence[TargetChange],
    *,
    at: datetime | None = None,
    provenance: Provenance | None = None,
) -> Pledge:
    """A DRAFT pledge led by the caller's member (a connector's names its source record)."""
    require_scope(principal, Entity.PLEDGE, Action.CREATE)
    authorize(principal, Entity.PLEDGE, Action.CREATE, None, actors(principal))
    assert principal.member_id is not None  # MEMBER is held only by a member's client
    pledge = await create_pledge(
        session, principal.member_id, draft, targets, at=at, provenance=provenance
    )
    parts = changes_between(None, await parts_of(session, pledge.id))
    await record(session, principal, "pledge.create", pledge, parts=parts)
    return pledge


async def update(
    session: AsyncSession,
    principal: Principal,
    pledge_id: int,
    version: int,
    draft: PledgeDraft,
    targets: Sequence[TargetChange],
    *,
    at: datetime | None = None,
) -> tuple[Pledge, list[str], int]:
    """Replace the content of a pledge the caller leads, if nobody changed it since the caller
    read ``version``; returns the pledge, the terms that changed and how many ACCEPTED
    co-endorsements went back to INVITED because they did."""
    require_scope(principal, Entity.PLEDGE, Action.EDIT)
    pledge = await pledge_for(session, principal, pledge_id)
    held = actors(principal, lead_member_id=pledge.lead_member_id)
    authorize(principal, Entity.PLEDGE, Action.EDIT, pledge.publication_status, held)
    if pledge.version != version:
        raise Conflict(
            f"the pledge is at version {pledge.version}, not {version}: someone changed it "
            "since you read it; read it again and retry",
            code="STALE_VERSION",
            field=("version",),
        )
    before, parts_before = snapshot(pledge), await parts_of(session, pledge.id)
    changed = await update_pledge(session, pledge, draft, targets)
    if pledge.publication_status is PublicationStatus.PUBLISHED:
        await require_ready(session, pledge, smart=True)  # public pledges stay SMART-complete
    parts = changes_between(parts_before, await parts_of(session, pledge.id))
    await record(session, principal, "pledge.edit", pledge, before, parts)
    reset = await reset_co_endorsements(session, pledge.id, at=at) if changed else []
    for endorsement, was in reset:
        await record(session, principal, "endorsement.reset", endorsement, was)
    return pledge, changed, len(reset)


async def _move(
    session: AsyncSession,
    principal: Principal,
    pledge_id: int,
    action: Action,
    step: Callable[[], Awaitable[Pledge]],
) -> Pledge:
    """Authorize ``action`` on the pledge, take the ``step`` and record it."""
    require_scope(principal, Entity.PLEDGE, action)
    pledge = await pledge_for(session, principal, pledge_id)
    held = actors(principal, lead_member_id=pledge.lead_member_id)
    authorize(principal, Entity.PLEDGE, action, pledge.publication_status, held)
    before = snapshot(pledge)
    moved = await step()
    await record(session, principal, f"pledge.{action.value.lower()}", moved, before)
    return moved


async def submit(session: AsyncSession, principal: Principal, pledge_id: int) -> Pledge:
    """The lead asks the secretariat to publish its SMART-complete draft."""
    step = partial(submit_pledge, session, pledge_id, smart=True)
    return await _move(session, principal, pledge_id, Action.SUBMIT, step)


async def publish(session: AsyncSession, principal: Principal, pledge_id: int) -> Pledge:
    """The secretariat publishes a submitted pledge, SMART-complete still."""
    step = partial(publish_pledge, session, pledge_id, smart=True)
    return await _move(session, principal, pledge_id, Action.PUBLISH, step)


async def send_back(
    session: AsyncSession, principal: Principal, pledge_id: int, note: str
) -> Pledge:
    """The secretariat returns a submitted pledge to its lead, saying what to change."""
    step = partial(return_pledge, session, pledge_id, note)
    return await _move(session, principal, pledge_id, Action.RETURN, step)


async def withdraw(session: AsyncSession, principal: Principal, pledge_id: int) -> Pledge:
    """The lead or the secretariat withdraws a pledge."""
    step = partial(withdraw_pledge, session, pledge_id)
    return await _move(session, principal, pledge_id, Action.WITHDRAW, step)


async def fulfil(session: AsyncSession, principal: Principal, pledge_id: int) -> Pledge:
    """The secretariat records that a published pledge was met."""
    step = partial(fulfil_pledge, session, pledge_id)
    return await _move(session, principal, pledge_id, Action.FULFIL, step)
