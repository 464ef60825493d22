"""Progress reports: members report actual values against their pledge's targets."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.authorization import step
from hub.columns import Provenance
from hub.errors import Conflict, InvalidInput, NotFound
from hub.integrity import flush
from hub.lifecycle import Action, Entity
from hub.live.announcements import Topic, announce
from hub.money.amounts import money
from hub.money.conversion import DEFAULT_MAX_RATE_AGE
from hub.money.service import stamp_usd, usd_equivalent
from hub.organisations.service import require_member
from hub.pledges.models import Target
from hub.pledges.rules import MAX_DESCRIPTION, check_length
from hub.pledges.service import get_pledge
from hub.progress.models import EvidenceLink, ProgressReport, ProgressValue, ReportStatus
from hub.progress.rules import ReportDraft, check_report
from hub.types import utcnow


async def report_progress(
    session: AsyncSession,
    pledge_id: int,
    member_id: int,
    draft: ReportDraft,
    *,
    provenance: Provenance | None = None,
    at: datetime | None = None,
    max_rate_age: timedelta = DEFAULT_MAX_RATE_AGE,
) -> ProgressReport:
    """Record a SUBMITTED report; values must name targets of the same pledge."""
    check_report(draft)
    await get_pledge(session, pledge_id)
    await require_member(session, member_id, field=None)
    await _require_targets_of(session, pledge_id, draft)
    report = ProgressReport(
        pledge_id=pledge_id,
        reporting_member_id=member_id,
        period_start=draft.period_start,
        period_end=draft.period_end,
        narrative=draft.narrative,
        submitted_at=at or utcnow(),
        status=ReportStatus.SUBMITTED,
        values=[
            ProgressValue(
                target_id=reported.target_id,
                pledge_id=pledge_id,
                value=reported.value,
                note=reported.note,
            )
            for reported in draft.values
        ],
        evidence=[EvidenceLink(url=url) for url in draft.evidence],
    )
    if provenance is not None:
        provenance.stamp(report)
    await _stamp_disbursed(session, report, draft, max_rate_age)
    session.add(report)
    await flush(session)
    await announce(session, Topic.PROGRESS_REPORTED, report.id)
    return report


async def revise_report(
    session: AsyncSession,
    report: ProgressReport,
    draft: ReportDraft,
    *,
    max_rate_age: timedelta = DEFAULT_MAX_RATE_AGE,
) -> ProgressReport:
    """Replace what a report not yet reviewed says: for an imported report its source
    restated (a reviewed report stays as the secretariat saw it)."""
    check_report(draft)
    if report.status is not ReportStatus.SUBMITTED:
        raise Conflict(
            f"report {report.id} was {report.status.lower()} and stays as it was reviewed",
            code="REPORT_REVIEWED",
        )
    await _require_targets_of(session, report.pledge_id, draft)
    await session.execute(delete(ProgressValue).where(ProgressValue.report_id == report.id))
    session.add_all(
        ProgressValue(
            report_id=report.id,
            target_id=reported.target_id,
            pledge_id=report.pledge_id,
            value=reported.value,
            note=reported.note,
        )
        for reported in draft.values
    )
    report.period_start, report.period_end = draft.period_start, draft.period_end
    report.narrative = draft.narrative
    report.amount_minor = report.currency = report.usd_amount_minor = report.usd_rate = None
    report.usd_rate_date = report.usd_rate_source = report.usd_missing_reason = None
    await _stamp_disbursed(session, report, draft, max_rate_age)
    await flush(session)
    await announce(session, Topic.PROGRESS_REPORTED, report.id)
    return report


async def remove_report(session: AsyncSession, report: ProgressReport) -> None:
    """Remove a report not yet reviewed: an imported one its source no longer states."""
    if report.status is not ReportStatus.SUBMITTED:
        raise Conflict(
            f"report {report.id} was {report.status.lower()} and stays as it was reviewed",
            code="REPORT_REVIEWED",
        )
    await session.execute(delete(ProgressValue).where(ProgressValue.report_id == report.id))
    await session.execute(delete(EvidenceLink).where(EvidenceLink.report_id == report.id))
    await session.delete(report)
    await flush(session)


async def _require_targets_of(session: AsyncSession, pledge_id: int, draft: ReportDraft) -> None:
    targets = set(await session.scalars(select(Target.id).where(Target.pledge_id == pledge_id)))
    named = {reported.target_id for reported in draft.values}
    stray = sorted(named - targets)
    if stray:
        raise InvalidInput(
            f"target(s) {', '.join(map(str, stray))} are not targets of pledge {pledge_id}",
            code="UNKNOWN_TARGET",
            field=("values",),
        )


async def _stamp_disbursed(
    session: AsyncSession, report: ProgressReport, draft: ReportDraft, max_rate_age: timedelta
) -> None:
    if draft.disbursed_amount is not None and draft.disbursed_currency is not None:
        disbursed = money(draft.disbursed_amount, draft.disbursed_currency, field="disbursed")
        report.amount_minor, report.currency = disbursed.amount_minor, disbursed.currency
        stamp_usd(report, await usd_equivalent(session, disbursed, draft.period_end, max_rate_age))


async def review_report(
    session: AsyncSession,
    report_id: int,
    *,
    verified: bool,
    note: str = "",
    at: datetime | None = None,
) -> ProgressReport:
    """The secretariat's verdict on a SUBMITTED report, with what it found."""
    check_length(note, MAX_DESCRIPTION, ("note",))
    report = await get_report(session, report_id)
    step(Entity.REPORT, Action.VERIFY if verified else Action.REJECT, report.status)
    report.status = ReportStatus.VERIFIED if verified else ReportStatus.REJECTED
    report.reviewed_at, report.review_note = at or utcnow(), note.strip() or None
    await flush(session)
    return report


async def get_report(session: AsyncSession, report_id: int) -> ProgressReport:
    """The report with this id, or ``NotFound``."""
    report = await session.get(ProgressReport, report_id)
    if report is None:
        raise NotFound(f"progress report {report_id} does not exist", field=("reportId",))
    return report
