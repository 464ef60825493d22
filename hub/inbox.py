"""What awaits a member: invitations to answer, reports due, pledges returned for changes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.endorsements.models import Endorsement, EndorsementRole, EndorsementStatus
from hub.lifecycle import PLEDGE_OPEN_FOR, REPORTING_ROLES, Action
from hub.pledges.models import Pledge, PublicationStatus
from hub.progress.measures import ReportingStatus, reporting_status
from hub.progress.models import ProgressReport, ReportStatus


async def pending_invitations(session: AsyncSession, member_id: int) -> list[int]:
    """Ids of the invitations the member has yet to answer on pledges still open, oldest first."""
    rows = await session.scalars(
        select(Endorsement.id)
        .join(Pledge, Pledge.id == Endorsement.pledge_id)
        .where(
            Endorsement.organisation_id == member_id,
            Endorsement.status == EndorsementStatus.INVITED,
            Pledge.publication_status.in_(PLEDGE_OPEN_FOR[Action.ACCEPT]),
        )
        .order_by(Endorsement.invited_at, Endorsement.id)
    )
    return list(rows)


async def returned_pledges(session: AsyncSession, member_id: int) -> list[int]:
    """Ids of the member's drafts the secretariat returned for changes, latest first."""
    rows = await session.scalars(
        select(Pledge.id)
        .where(
            Pledge.lead_member_id == member_id,
            Pledge.publication_status == PublicationStatus.DRAFT,
            Pledge.returned_at.is_not(None),
        )
        .order_by(Pledge.returned_at.desc(), Pledge.id)
    )
    return list(rows)


async def reports_due(session: AsyncSession, member_id: int, today: date) -> list[int]:
    """Ids of the published pledges the member reports on (it accepted a LEAD, CO_LEAD or
    IMPLEMENTER role) whose report is DUE or OVERDUE, the longest waiting first; one
    statement."""
    last_report = (
        select(func.max(ProgressReport.submitted_at))
        .where(
            ProgressReport.pledge_id == Pledge.id,
            ProgressReport.status != ReportStatus.REJECTED,
            func.date(ProgressReport.submitted_at) <= today,
        )
        .scalar_subquery()
    )
    reporting = (
        select(EndorsementRole.pledge_id)
        .join(
            Endorsement,
            and_(
                Endorsement.pledge_id == EndorsementRole.pledge_id,
                Endorsement.organisation_id == EndorsementRole.organisation_id,
            ),
        )
        .where(
            Endorsement.organisation_id == member_id,
            Endorsement.status == EndorsementStatus.ACCEPTED,
            EndorsementRole.role.in_(REPORTING_ROLES),
        )
    )
    rows = await session.execute(
        select(Pledge.id, Pledge.published_at, last_report).where(
            Pledge.publication_status == PublicationStatus.PUBLISHED,
            Pledge.id.in_(reporting),
        )
    )
    due: list[tuple[datetime, int]] = []
    for pledge_id, published_at, last_at in rows:
        status = reporting_status(published_at, last_at, today)
        since = last_at or published_at
        if since is not None and status in (ReportingStatus.DUE, ReportingStatus.OVERDUE):
            due.append((since, pledge_id))
    return [pledge_id for _, pledge_id in sorted(due)]
