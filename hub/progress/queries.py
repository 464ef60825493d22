"""Reading targets, progress reports and their values as a viewer may see them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.pledges.models import Target
from hub.progress.models import EvidenceLink, ProgressReport, ProgressValue
from hub.visibility import Viewer, report_counts, report_visible, visible_pledge_ids


async def targets_by_pledge(
    session: AsyncSession, viewer: Viewer, pledge_ids: Iterable[int]
) -> dict[int, list[Target]]:
    """Targets of the visible pledges among ``pledge_ids``, in one statement."""
    wanted = set(pledge_ids)
    rows = await session.scalars(
        select(Target)
        .where(Target.pledge_id.in_(wanted), Target.pledge_id.in_(visible_pledge_ids(viewer)))
        .order_by(Target.id)
    )
    found: dict[int, list[Target]] = defaultdict(list)
    for target in rows:
        found[target.pledge_id].append(target)
    return {pledge: found[pledge] for pledge in wanted}


async def reports_by_pledge(
    session: AsyncSession, viewer: Viewer, pledge_ids: Iterable[int]
) -> dict[int, list[ProgressReport]]:
    """Visible progress reports of many pledges, oldest period first, in one statement."""
    wanted = set(pledge_ids)
    rows = await session.scalars(
        select(ProgressReport)
        .where(ProgressReport.pledge_id.in_(wanted), report_visible(viewer))
        .order_by(ProgressReport.period_end, ProgressReport.id)
    )
    found: dict[int, list[ProgressReport]] = defaultdict(list)
    for report in rows:
        found[report.pledge_id].append(report)
    return {pledge: found[pledge] for pledge in wanted}


async def values_by_target(
    session: AsyncSession, viewer: Viewer, target_ids: Iterable[int]
) -> dict[int, list[Decimal]]:
    """Reported values of many targets from the reports that count, in period order."""
    wanted = set(target_ids)
    rows = await session.execute(
        select(ProgressValue.target_id, ProgressValue.value)
        .join(ProgressReport, ProgressReport.id == ProgressValue.report_id)
        .where(
            ProgressValue.target_id.in_(wanted),
            ProgressValue.value.is_not(None),
            report_counts(viewer),
        )
        .order_by(ProgressReport.period_end, ProgressReport.id)
    )
    found: dict[int, list[Decimal]] = defaultdict(list)
    for target, value in rows:
        if value is not None:
            found[target].append(value)
    return {target: found[target] for target in wanted}


async def values_by_report(
    session: AsyncSession, report_ids: Iterable[int]
) -> dict[int, list[ProgressValue]]:
    """The values each report gives, in one statement (reports were filtered already)."""
    wanted = set(report_ids)
    rows = await session.scalars(
        select(ProgressValue)
        .where(ProgressValue.report_id.in_(wanted))
        .order_by(ProgressValue.target_id)
    )
    found: dict[int, list[ProgressValue]] = defaultdict(list)
    for value in rows:
        found[value.report_id].append(value)
    return {report: found[report] for report in wanted}


async def evidence_by_report(
    session: AsyncSession, report_ids: Iterable[int]
) -> dict[int, list[EvidenceLink]]:
    """The evidence links of many reports, in one statement."""
    wanted = set(report_ids)
    rows = await session.scalars(
        select(EvidenceLink).where(EvidenceLink.report_id.in_(wanted)).order_by(EvidenceLink.id)
    )
    found: dict[int, list[EvidenceLink]] = defaultdict(list)
    for link in rows:
        found[link.report_id].append(link)
    return {report: found[report] for report in wanted}


async def targets_by_id(
    session: AsyncSession, viewer: Viewer, target_ids: Iterable[int]
) -> dict[int, Target]:
    """Targets of visible pledges by id, in one statement."""
    rows = await session.scalars(
        select(Target).where(
            Target.id.in_(set(target_ids)), Target.pledge_id.in_(visible_pledge_ids(viewer))
        )
    )
    return {target.id: target for target in rows}


async def reports_by_id(
    session: AsyncSession, viewer: Viewer, report_ids: Iterable[int]
) -> dict[int, ProgressReport]:
    """Visible progress reports by id, in one statement."""
    rows = await session.scalars(
        select(ProgressReport).where(ProgressReport.id.in_(set(report_ids)), report_visible(viewer))
    )
    return {report.id: report for report in rows}
