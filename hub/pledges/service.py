"""Pledges: recording them, moving them through their publication life, reading them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hub.columns import Provenance
from hub.countries.service import require_countries
from hub.endorsements.service import has_lead, lead_endorsement
from hub.errors import Conflict, NotFound
from hub.integrity import flush
from hub.money.amounts import money
from hub.money.conversion import DEFAULT_MAX_RATE_AGE
from hub.money.service import stamp_usd, usd_equivalent
from hub.organisations.service import require_member
from hub.pledges.models import (
    Pledge,
    PledgeBeneficiaryGroup,
    PledgeFocusArea,
    PledgeSdg,
    PledgeTargetCountry,
    PledgeTargetGroup,
    PublicationStatus,
    Target,
)
from hub.pledges.queries import focus_areas_by_pledge
from hub.pledges.rules import (
    PledgeDraft,
    TargetDraft,
    check_draft,
    check_target,
    submission_problems,
)
from hub.types import utcnow


async def create_pledge(
    session: AsyncSession,
    lead_member_id: int,
    draft: PledgeDraft,
    *,
    provenance: Provenance | None = None,
    at: datetime | None = None,
    max_rate_age: timedelta = DEFAULT_MAX_RATE_AGE,
) -> Pledge:
    """Record a DRAFT pledge led by a member, with the member's accepted LEAD endorsement.

    The pledged money is converted to US dollars at the rate nearest the announcement date.
    """
    check_draft(draft)
    await require_member(session, lead_member_id, field="leadMemberId")
    await require_countries(session, draft.target_countries, field="targetCountries")
    now = at or utcnow()
    announced_on = draft.announced_on or now.date()
    pledge = Pledge(
        lead_member_id=lead_member_id,
        title=draft.title.strip(),
        description=draft.description,
        pledge_type=draft.pledge_type,
        publication_status=PublicationStatus.DRAFT,
        implementation_status=draft.implementation_status,
        announced_on=announced_on,
        start_date=draft.start_date,
        end_date=draft.end_date,
        focus_areas=[PledgeFocusArea(focus_area=area) for area in draft.focus_areas],
        target_countries=[PledgeTargetCountry(country=code) for code in draft.target_countries],
        target_groups=[PledgeTargetGroup(country_group=group) for group in draft.target_groups],
        beneficiary_groups=[
            PledgeBeneficiaryGroup(beneficiary_group=group) for group in draft.beneficiary_groups
        ],
        sdgs=[PledgeSdg(sdg=sdg) for sdg in draft.sdgs],
    )
    if provenance is not None:
        provenance.stamp(pledge)
    if draft.amount is not None and draft.currency is not None:
        pledged = money(draft.amount, draft.currency, field="pledgedAmount")
        pledge.amount_minor, pledge.currency = pledged.amount_minor, pledged.currency
        stamp_usd(pledge, await usd_equivalent(session, pledged, announced_on, max_rate_age))
    session.add(pledge)
    await flush(session)
    endorsement = lead_endorsement(lead_member_id, now)
    endorsement.pledge_id = pledge.id
    session.add(endorsement)
    await flush(session)
    return pledge


async def get_pledge(session: AsyncSession, pledge_id: int) -> Pledge:
    """The pledge with this id, or ``NotFound``."""
    pledge = await session.get(Pledge, pledge_id)
    if pledge is None:
        raise NotFound(f"pledge {pledge_id} does not exist", field=("pledgeId",))
    return pledge


def _refuse_transition(pledge: Pledge, target: PublicationStatus) -> Conflict:
    return Conflict(
        f"a {pledge.publication_status} pledge cannot become {target}",
        code="INVALID_TRANSITION",
        field=("publicationStatus",),
    )


async def _ready_to_go_public(session: AsyncSession, pledge: Pledge) -> None:
    areas = (await focus_areas_by_pledge(session, [pledge.id]))[pledge.id]
    problems = submission_problems(areas, await has_lead(session, pledge.id))
    if problems:
        raise problems[0]


async def submit_pledge(
    session: AsyncSession, pledge_id: int, *, at: datetime | None = None
) -> Pledge:
    """DRAFT to SUBMITTED, once the pledge has a focus area and its lead."""
    pledge = await get_pledge(session, pledge_id)
    if pledge.publication_status is not PublicationStatus.DRAFT:
        raise _refuse_transition(pledge, PublicationStatus.SUBMITTED)
    await _ready_to_go_public(session, pledge)
    pledge.publication_status = PublicationStatus.SUBMITTED
    await flush(session)
    return pledge


async def publish_pledge(
    session: AsyncSession, pledge_id: int, *, at: datetime | None = None
) -> Pledge:
    """SUBMITTED to PUBLISHED (the secretariat's decision); the same checks apply."""
    pledge = await get_pledge(session, pledge_id)
    if pledge.publication_status is not PublicationStatus.SUBMITTED:
        raise _refuse_transition(pledge, PublicationStatus.PUBLISHED)
    await _ready_to_go_public(session, pledge)
    pledge.publication_status = PublicationStatus.PUBLISHED
    pledge.published_at = at or utcnow()
    await flush(session)
    return pledge


async def fulfil_pledge(
    session: AsyncSession, pledge_id: int, *, at: datetime | None = None
) -> Pledge:
    """PUBLISHED to FULFILLED: the commitment was met."""
    pledge = await get_pledge(session, pledge_id)
    if pledge.publication_status is not PublicationStatus.PUBLISHED:
        raise _refuse_transition(pledge, PublicationStatus.FULFILLED)
    pledge.publication_status = PublicationStatus.FULFILLED
    await flush(session)
    return pledge


async def withdraw_pledge(
    session: AsyncSession, pledge_id: int, *, at: datetime | None = None
) -> Pledge:
    """Any status but WITHDRAWN to WITHDRAWN; a once-published pledge keeps its publication date."""
    pledge = await get_pledge(session, pledge_id)
    if pledge.publication_status is PublicationStatus.WITHDRAWN:
        raise _refuse_transition(pledge, PublicationStatus.WITHDRAWN)
    pledge.publication_status = PublicationStatus.WITHDRAWN
    pledge.withdrawn_at = at or utcnow()
    await flush(session)
    return pledge


async def add_target(session: AsyncSession, pledge_id: int, draft: TargetDraft) -> Target:
    """Add a measurable target to a pledge."""
    check_target(draft)
    await get_pledge(session, pledge_id)
    target = Target(
        pledge_id=pledge_id,
        indicator=draft.indicator,
        label=draft.label,
        description=draft.description,
        unit=draft.unit,
        measure=draft.measure,
        direction=draft.direction,
        cumulative=draft.cumulative,
        baseline_value=draft.baseline_value,
        baseline_date=draft.baseline_date,
        target_value=draft.target_value,
        deadline=draft.deadline,
    )
    session.add(target)
    await flush(session)
    return target
