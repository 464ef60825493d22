"""What a caller may do to progress reports: those taking part report, the secretariat judges."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.ledger import changes_between, record, snapshot
from hub.auth.principal import Principal
from hub.authorization import actors, authorize, require_scope
from hub.endorsements.models import Endorsement, EndorsementRole, EndorsementStatus
from hub.errors import Conflict, NotFound
from hub.lifecycle import PLEDGE_OPEN_FOR, REPORTING_ROLES, Action, Entity
from hub.pledges.commands import pledge_for
from hub.progress.models import ProgressReport
from hub.progress.rules import ReportDraft
from hub.progress.service import report_progress, review_report
from hub.visibility import report_visible


async def may_report(session: AsyncSession, pledge_id: int, member_id: int) -> bool:
    """Whether the member accepted the LEAD, CO_LEAD or IMPLEMENTER role in the pledge."""
    query = select(
        exists().where(
            Endorsement.pledge_id == pledge_id,
            Endorsement.organisation_id == member_id,
            Endorsement.status == EndorsementStatus.ACCEPTED,
            EndorsementRole.pledge_id == Endorsement.pledge_id,
            EndorsementRole.organisation_id == Endorsement.organisation_id,
            EndorsementRole.role.in_(REPORTING_ROLES),
        )
    )
    return bool(await session.scalar(query))


async def report(
    session: AsyncSession, principal: Principal, pledge_id: int, draft: ReportDraft
) -> ProgressReport:
    """A SUBMITTED report by a lead, co-lead or implementer of a published pledge."""
    require_scope(principal, Entity.REPORT, Action.REPORT)
    pledge = await pledge_for(session, principal, pledge_id, field="pledgeId")
    member = principal.member_id
    reporter = member is not None and await may_report(session, pledge.id, member)
    held = actors(principal, lead_member_id=pledge.lead_member_id, reporter=reporter)
    authorize(principal, Entity.REPORT, Action.REPORT, None, held)
    if pledge.publication_status not in PLEDGE_OPEN_FOR[Action.REPORT]:
        raise Conflict(
            f"progress is reported on published pledges; this one is {pledge.publication_status}",
            code="PLEDGE_NOT_PUBLISHED",
            field=("pledgeId",),
        )
    assert member is not None
    made = await report_progress(session, pledge.id, member, draft)
    reported = {
        "values": [[value.target_id, value.value, value.note] for value in made.values],
        "evidence": [link.url for link in made.evidence],
    }
    await record(session, principal, "report.report", made, parts=changes_between(None, reported))
    return made


async def review(
    session: AsyncSession, principal: Principal, report_id: int, *, verified: bool, note: str
) -> ProgressReport:
    """The secretariat verifies or rejects a submitted report."""
    action = Action.VERIFY if verified else Action.REJECT
    require_scope(principal, Entity.REPORT, action)
    found = await session.scalar(
        select(ProgressReport)
        .where(ProgressReport.id == report_id, report_visible(principal.viewer))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise NotFound("no progress report with this id is visible to this client", field=("id",))
    authorize(principal, Entity.REPORT, action, found.status, actors(principal))
    before = snapshot(found)
    reviewed = await review_report(session, found.id, verified=verified, note=note)
    await record(session, principal, f"report.{action.value.lower()}", reviewed, before)
    return reviewed
