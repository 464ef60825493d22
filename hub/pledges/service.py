"""Pledges: recording, submitting and publishing them, and reading the public ones."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.countries.service import require_countries
from hub.endorsements.service import has_lead, lead_endorsement
from hub.errors import Conflict, NotFound
from hub.integrity import flush
from hub.money.amounts import money, usd_equivalent
from hub.organisations.service import require_member
from hub.pagination import Page, PageRequest, fetch_page
from hub.pledges.models import (
    FocusArea,
    Pledge,
    PledgeBeneficiaryGroup,
    PledgeFocusArea,
    PledgeSdg,
    PledgeTargetCountry,
    PledgeTargetGroup,
    PublicationStatus,
)
from hub.pledges.rules import PUBLIC_STATUSES, PledgeDraft, check_draft, submission_problems
from hub.types import utcnow


async def create_pledge(session: AsyncSession, lead_member_id: int, draft: PledgeDraft) -> Pledge:
    """Record a DRAFT pledge led by a member, with the member's accepted LEAD endorsement."""
    check_draft(draft)
    await require_member(session, lead_member_id, field="leadMemberId")
    await require_countries(session, draft.target_countries, field="targetCountries")
    now = utcnow()
    pledge = Pledge(
        lead_member_id=lead_member_id,
        title=draft.title.strip(),
        description=draft.description,
        pledge_type=draft.pledge_type,
        publication_status=PublicationStatus.DRAFT,
        implementation_status=draft.implementation_status,
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
    if draft.amount is not None and draft.currency is not None:
        pledged = money(draft.amount, draft.currency, field="pledgedAmount")
        usd = usd_equivalent(pledged, now.date())
        pledge.amount_minor, pledge.currency = pledged.amount_minor, pledged.currency
        pledge.usd_amount_minor = usd.amount_minor
        pledge.usd_rate, pledge.usd_rate_date = usd.rate, usd.rate_date
        pledge.usd_rate_source, pledge.usd_missing_reason = usd.source, usd.missing_reason
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


async def _move(
    session: AsyncSession, pledge_id: int, source: PublicationStatus, target: PublicationStatus
) -> Pledge:
    pledge = await get_pledge(session, pledge_id)
    if pledge.publication_status is not source:
        raise Conflict(
            f"only a {source} pledge can become {target}; this one is {pledge.publication_status}",
            code="INVALID_TRANSITION",
            field=("publicationStatus",),
        )
    areas = (await focus_areas_by_pledge(session, [pledge_id]))[pledge_id]
    problems = submission_problems(areas, await has_lead(session, pledge_id))
    if problems:
        raise problems[0]
    pledge.publication_status = target
    await flush(session)
    return pledge


async def submit_pledge(session: AsyncSession, pledge_id: int) -> Pledge:
    """DRAFT to SUBMITTED, once the pledge has a focus area and its lead."""
    return await _move(session, pledge_id, PublicationStatus.DRAFT, PublicationStatus.SUBMITTED)


async def publish_pledge(session: AsyncSession, pledge_id: int) -> Pledge:
    """SUBMITTED to PUBLISHED (the secretariat's decision); the same checks apply."""
    return await _move(session, pledge_id, PublicationStatus.SUBMITTED, PublicationStatus.PUBLISHED)


async def list_public_pledges(session: AsyncSession, request: PageRequest) -> Page[Pledge]:
    """Published and fulfilled pledges in id order: what anyone may read."""
    query = select(Pledge).where(Pledge.publication_status.in_(PUBLIC_STATUSES))
    return await fetch_page(session, query, Pledge.id, request)


async def focus_areas_by_pledge(
    session: AsyncSession, pledge_ids: Iterable[int]
) -> dict[int, list[FocusArea]]:
    """Focus areas of many pledges in one statement, in a stable order."""
    wanted = set(pledge_ids)
    found: dict[int, list[FocusArea]] = defaultdict(list)
    rows = await session.execute(
        select(PledgeFocusArea.pledge_id, PledgeFocusArea.focus_area)
        .where(PledgeFocusArea.pledge_id.in_(wanted))
        .order_by(PledgeFocusArea.pledge_id, PledgeFocusArea.focus_area)
    )
    for pledge_id, area in rows:
        found[pledge_id].append(area)
    return {pledge_id: found[pledge_id] for pledge_id in wanted}
