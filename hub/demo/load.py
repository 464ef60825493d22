"""Writing the demo plan through the hub's own services, with provenance on every record."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.columns import Provenance
from hub.demo.plan import AS_OF, DemoPlan, PledgePlan, ReportPlan
from hub.endorsements.models import EndorsementStatus
from hub.endorsements.service import invite, respond, revoke
from hub.money.amounts import money
from hub.money.conversion import DEFAULT_MAX_RATE_AGE
from hub.money.flows import record_flow
from hub.organisations.models import MembershipStatus, Organisation
from hub.organisations.service import (
    admit_member,
    apply_for_membership,
    create_organisation,
    suspend_member,
)
from hub.pledges.models import Measure, Pledge, PublicationStatus
from hub.pledges.rules import PledgeDraft, TargetDraft
from hub.pledges.service import (
    add_target,
    create_pledge,
    fulfil_pledge,
    publish_pledge,
    submit_pledge,
    withdraw_pledge,
)
from hub.progress.models import ReportStatus
from hub.progress.rules import ReportDraft, ReportedValue
from hub.progress.service import report_progress, review_report

SOURCE = "p2c-demo"
FETCHED = datetime.combine(AS_OF, time(12), UTC)


@dataclass(frozen=True, slots=True)
class DemoLoad:
    """What loading the demo did; ``already_loaded`` when it found the demo in place."""

    already_loaded: bool
    organisations: int = 0
    pledges: int = 0


def _provenance(key: str) -> Provenance:
    return Provenance(SOURCE, key, FETCHED, hashlib.sha256(key.encode()).hexdigest())


def _at(day: date) -> datetime:
    return datetime.combine(day, time(9), UTC)


async def demo_loaded(session: AsyncSession) -> bool:
    """Whether the demo coalition is in the database already."""
    query = select(exists().where(Organisation.source_system == SOURCE))
    return bool(await session.scalar(query))


async def database_is_empty(session: AsyncSession) -> bool:
    """Whether there is no organisation and no pledge at all."""
    anything = select(exists().where(Organisation.id.is_not(None))).union_all(
        select(exists().where(Pledge.id.is_not(None)))
    )
    return not any(await session.scalars(anything))


async def load_demo(
    session: AsyncSession,
    plan: DemoPlan,
    progress: Callable[[int], None] = lambda _: None,
    *,
    max_rate_age: timedelta = DEFAULT_MAX_RATE_AGE,
) -> DemoLoad:
    """Write the plan; a database that has the demo already is left as it is."""
    if await demo_loaded(session):
        return DemoLoad(already_loaded=True)
    ids: dict[str, int] = {}
    for organisation in plan.organisations:
        created = await create_organisation(
            session,
            name=organisation.name,
            organisation_type=organisation.organisation_type,
            headquarters_country=organisation.headquarters,
            provenance=_provenance(organisation.key),
        )
        ids[organisation.key] = created.id
        if organisation.status is MembershipStatus.APPLIED:
            await apply_for_membership(session, created.id, at=_at(organisation.joined))
        elif organisation.status is not MembershipStatus.NONE:
            await admit_member(session, created.id, at=_at(organisation.joined))
    for pledge in plan.pledges:
        await _load_pledge(session, pledge, ids, max_rate_age)
        progress(1)
    for organisation in plan.organisations:
        if organisation.status is MembershipStatus.SUSPENDED:
            await suspend_member(session, ids[organisation.key], at=_at(AS_OF))
    return DemoLoad(False, len(plan.organisations), len(plan.pledges))


async def _load_pledge(
    session: AsyncSession, plan: PledgePlan, ids: dict[str, int], max_rate_age: timedelta
) -> None:
    lead = ids[plan.lead]
    pledge = await create_pledge(
        session,
        lead,
        PledgeDraft(
            title=plan.title,
            pledge_type=plan.pledge_type,
            description=plan.description,
            focus_areas=plan.focus_areas,
            target_countries=plan.countries,
            target_groups=plan.groups,
            beneficiary_groups=plan.beneficiaries,
            sdgs=plan.sdgs,
            announced_on=plan.announced_on,
            start_date=plan.start,
            end_date=plan.end,
            amount=plan.amount,
            currency=plan.currency,
            implementation_status=plan.implementation,
        ),
        provenance=_provenance(plan.key),
        at=_at(plan.announced_on),
        max_rate_age=max_rate_age,
    )
    announced = _at(plan.announced_on)
    for invitation in plan.invitations:
        endorsement = await invite(
            session,
            pledge.id,
            ids[invitation.organisation],
            invitation.roles,
            invited_by_id=lead,
            at=announced,
        )
        answered = announced + timedelta(days=14)
        if invitation.status in (EndorsementStatus.ACCEPTED, EndorsementStatus.REVOKED):
            await respond(session, endorsement.id, accept=True, at=answered)
        if invitation.status is EndorsementStatus.DECLINED:
            await respond(session, endorsement.id, accept=False, at=answered)
        if invitation.status is EndorsementStatus.REVOKED:
            await revoke(
                session, endorsement.id, at=min(answered + timedelta(days=200), _at(AS_OF))
            )
    target_ids = []
    for target in plan.targets:
        created = await add_target(
            session,
            pledge.id,
            TargetDraft(
                indicator=target.indicator,
                unit=target.unit,
                measure=target.measure,
                direction=target.direction,
                cumulative=target.cumulative,
                label=target.label,
                description=target.description,
                baseline_value=target.baseline,
                baseline_date=plan.announced_on if target.baseline is not None else None,
                target_value=target.target,
                deadline=target.deadline,
            ),
        )
        target_ids.append(created.id)
    await _publish(session, pledge.id, plan)
    reached = [Decimal(0)] * len(plan.targets)
    for report in plan.reports:
        before = dict(zip(target_ids, reached, strict=True))
        await _report(session, pledge.id, lead, plan, report, before, max_rate_age)
        reached = [fraction or Decimal(0) for fraction in report.fractions]
    for number, flow in enumerate(plan.flows, start=1):
        assert plan.amount is not None
        assert plan.currency is not None
        share = (plan.amount * flow.share).quantize(Decimal(1))
        await record_flow(
            session,
            pledge.id,
            flow.kind,
            money(share, plan.currency),
            flow.on,
            counts_toward_total=flow.counts,
            count_reason=flow.reason,
            provenance=_provenance(f"{plan.key}-flow-{number}"),
            max_rate_age=max_rate_age,
        )


async def _publish(session: AsyncSession, pledge_id: int, plan: PledgePlan) -> None:
    day = _at(plan.announced_on)
    if plan.publication is PublicationStatus.DRAFT:
        return
    if plan.publication is PublicationStatus.WITHDRAWN and not plan.was_published:
        await withdraw_pledge(session, pledge_id, at=day + timedelta(days=30))
        return
    await submit_pledge(session, pledge_id)
    if plan.publication is PublicationStatus.SUBMITTED:
        return
    await publish_pledge(session, pledge_id, at=day + timedelta(days=7))
    if plan.publication is PublicationStatus.FULFILLED:
        await fulfil_pledge(session, pledge_id)
    if plan.publication is PublicationStatus.WITHDRAWN:
        await withdraw_pledge(session, pledge_id, at=min(day + timedelta(days=400), _at(AS_OF)))


CONSULTATION = "Consultation on the draft policy under way"


async def _report(
    session: AsyncSession,
    pledge_id: int,
    lead: int,
    plan: PledgePlan,
    report: ReportPlan,
    reached_before: dict[int, Decimal],
    max_rate_age: timedelta,
) -> None:
    """Report values: the level reached for cumulative targets, the period's gain otherwise."""
    values: list[ReportedValue] = []
    targets = zip(reached_before.items(), plan.targets, report.fractions, strict=True)
    for (target_id, before), target, fraction in targets:
        if target.measure is Measure.QUALITATIVE or fraction is None:
            values.append(
                ReportedValue(target_id, note="Consultation on the draft policy under way")
            )
            continue
        assert target.baseline is not None
        assert target.target is not None
        span = target.target - target.baseline
        if target.cumulative:
            value = target.baseline + span * fraction
        else:
            value = span * (fraction - before)
        values.append(ReportedValue(target_id, value.quantize(Decimal("0.01"))))
    disbursed = None
    if report.disbursed_share is not None and plan.amount is not None:
        disbursed = (plan.amount * report.disbursed_share / 4).quantize(Decimal(1))
    created = await report_progress(
        session,
        pledge_id,
        lead,
        ReportDraft(
            period_start=report.period_start,
            period_end=report.period_end,
            values=values,
            narrative=f"Progress from {report.period_start} to {report.period_end}.",
            evidence=[f"https://example.org/p2c-demo/{plan.key}/{report.period_end.year}"],
            disbursed_amount=disbursed,
            disbursed_currency=plan.currency if disbursed is not None else None,
        ),
        provenance=_provenance(f"{plan.key}-report-{report.period_end.isoformat()}"),
        at=_at(report.submitted_on),
        max_rate_age=max_rate_age,
    )
    if report.status is not ReportStatus.SUBMITTED:
        await review_report(session, created.id, verified=report.status is ReportStatus.VERIFIED)
