"""Pledges: recording them, editing them, and moving them through their publication life.

These are the hub's own writes, with the status rule of ``hub.lifecycle`` and no caller:
partners' actions go through ``hub.pledges.commands``, which authorizes and then calls these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.ledger import recording, snapshot
from hub.authorization import step
from hub.columns import Provenance
from hub.countries.service import require_countries
from hub.endorsements.service import has_lead, lead_endorsement
from hub.errors import Conflict, InvalidInput, NotFound
from hub.integrity import flush
from hub.lifecycle import Action, Entity
from hub.live.announcements import Topic, announce
from hub.money.amounts import UsdEquivalent, money
from hub.money.conversion import DEFAULT_MAX_RATE_AGE
from hub.money.service import stamp_usd, usd_equivalent
from hub.organisations.service import require_member
from hub.pledges.models import (
    Measure,
    Pledge,
    PledgeBeneficiaryGroup,
    PledgeFocusArea,
    PledgeSdg,
    PledgeTargetCountry,
    PledgeTargetGroup,
    PledgeText,
    PublicationStatus,
    Target,
    TextField,
)
from hub.pledges.queries import (
    beneficiaries_by_pledge,
    focus_areas_by_pledge,
    sdgs_by_pledge,
    target_countries_by_pledge,
    target_groups_by_pledge,
)
from hub.pledges.rules import (
    MAX_DESCRIPTION,
    PledgeDraft,
    Readiness,
    TargetDraft,
    Terms,
    check_draft,
    check_length,
    check_target,
    material_changes,
    publication_problems,
    smart_problems,
    target_terms,
)
from hub.progress.models import ProgressValue
from hub.types import utcnow


@dataclass(frozen=True, slots=True)
class TargetChange:
    """A target as a caller states it: ``target_id`` names one the pledge has, None a new one."""

    draft: TargetDraft
    target_id: int | None = None


MAX_TARGETS = 50


def _check(draft: PledgeDraft, targets: Sequence[TargetChange]) -> None:
    check_draft(draft)
    if len(targets) > MAX_TARGETS:
        raise InvalidInput(
            f"a pledge has at most {MAX_TARGETS} targets", code="TOO_LONG", field=("targets",)
        )
    for index, change in enumerate(targets):
        check_target(change.draft, at=("targets", str(index)))
    named = [change.target_id for change in targets if change.target_id is not None]
    if len(set(named)) != len(named):
        raise InvalidInput("a target is listed twice", code="DUPLICATE_VALUE", field=("targets",))


async def create_pledge(
    session: AsyncSession,
    lead_member_id: int,
    draft: PledgeDraft,
    targets: Sequence[TargetChange] = (),
    *,
    provenance: Provenance | None = None,
    at: datetime | None = None,
    max_rate_age: timedelta = DEFAULT_MAX_RATE_AGE,
) -> Pledge:
    """Record a DRAFT pledge led by a member, with the member's accepted LEAD endorsement.

    The pledged money is converted to US dollars at the rate nearest the announcement date.
    """
    _check(draft, targets)
    if any(change.target_id is not None for change in targets):
        raise InvalidInput(
            "a new pledge has no targets to refer to yet", code="UNKNOWN_TARGET", field=("targets",)
        )
    await require_member(session, lead_member_id, field=None)
    now = at or utcnow()
    pledge = Pledge(
        lead_member_id=lead_member_id,
        publication_status=PublicationStatus.DRAFT,
        announced_on=draft.announced_on or now.date(),
    )
    if provenance is not None:
        provenance.stamp(pledge)
    await _write_content(session, pledge, draft, max_rate_age)
    session.add(pledge)
    await flush(session)
    await _write_children(session, pledge, draft, targets, fresh=True)
    endorsement = lead_endorsement(lead_member_id, now)
    endorsement.pledge_id = pledge.id
    session.add(endorsement)
    await flush(session)
    await announce(session, Topic.ENDORSEMENT_CHANGED, endorsement.id)
    return pledge


async def update_pledge(
    session: AsyncSession,
    pledge: Pledge,
    draft: PledgeDraft,
    targets: Sequence[TargetChange],
    *,
    max_rate_age: timedelta = DEFAULT_MAX_RATE_AGE,
) -> list[str]:
    """Replace the pledge's content with ``draft`` and ``targets`` (its lead, status and
    history stay); returns the terms that changed, which make the edit material."""
    _check(draft, targets)
    before = await _stored_terms(session, pledge)
    await _forget_translations(session, pledge, draft)
    await _write_content(session, pledge, draft, max_rate_age)
    await _write_children(session, pledge, draft, targets, fresh=False)
    pledge.updated_at = utcnow()  # the version rises even when only child rows changed
    await flush(session)
    after = Terms(
        amount_minor=pledge.amount_minor,
        currency=pledge.currency,
        start_date=pledge.start_date,
        end_date=pledge.end_date,
        countries=frozenset(draft.target_countries),
        groups=frozenset(draft.target_groups),
        targets=frozenset((c.target_id, *target_terms(c.draft)) for c in targets),
    )  # what was just written, as stated: a new target has no id, so it differs from all
    return material_changes(before, after)


async def _forget_translations(session: AsyncSession, pledge: Pledge, draft: PledgeDraft) -> None:
    """A title or description edited in the hub says nothing of the source's translations
    of the old one: they go (an import writes its own again)."""
    if pledge.source_system is None:
        return  # only a source writes translations
    edited = [
        field
        for field, now, was in (
            (TextField.TITLE, draft.title, pledge.title),
            (TextField.DESCRIPTION, draft.description, pledge.description),
        )
        if now != was
    ]
    if edited:
        await session.execute(
            delete(PledgeText).where(
                PledgeText.pledge_id == pledge.id, PledgeText.field.in_(edited)
            )
        )


async def _write_content(
    session: AsyncSession, pledge: Pledge, draft: PledgeDraft, max_rate_age: timedelta
) -> None:
    await require_countries(session, draft.target_countries, field="targetCountries")
    pledge.title = draft.title.strip()
    pledge.description = draft.description
    pledge.pledge_type = draft.pledge_type
    pledge.implementation_status = draft.implementation_status
    pledge.announced_on = draft.announced_on or pledge.announced_on
    pledge.start_date, pledge.end_date = draft.start_date, draft.end_date
    if draft.amount is None or draft.currency is None:
        pledge.amount_minor = pledge.currency = None
        stamp_usd(pledge, UsdEquivalent(None))
        return
    pledged = money(draft.amount, draft.currency, field="pledgedAmount")
    pledge.amount_minor, pledge.currency = pledged.amount_minor, pledged.currency
    stamp_usd(pledge, await usd_equivalent(session, pledged, pledge.announced_on, max_rate_age))


async def _write_children(
    session: AsyncSession,
    pledge: Pledge,
    draft: PledgeDraft,
    targets: Sequence[TargetChange],
    *,
    fresh: bool,
) -> None:
    rows: list[object] = [
        *(PledgeFocusArea(pledge_id=pledge.id, focus_area=a) for a in draft.focus_areas),
        *(PledgeTargetCountry(pledge_id=pledge.id, country=c) for c in draft.target_countries),
        *(PledgeTargetGroup(pledge_id=pledge.id, country_group=g) for g in draft.target_groups),
        *(
            PledgeBeneficiaryGroup(pledge_id=pledge.id, beneficiary_group=g)
            for g in draft.beneficiary_groups
        ),
        *(PledgeSdg(pledge_id=pledge.id, sdg=sdg) for sdg in draft.sdgs),
    ]
    if not fresh:
        for model in (
            PledgeFocusArea,
            PledgeTargetCountry,
            PledgeTargetGroup,
            PledgeBeneficiaryGroup,
            PledgeSdg,
        ):
            await session.execute(delete(model).where(model.pledge_id == pledge.id))
    session.add_all(rows)
    await _write_targets(session, pledge.id, targets)


async def _write_targets(
    session: AsyncSession, pledge_id: int, targets: Sequence[TargetChange]
) -> None:
    """Update the targets named, add the new ones, and drop those left out, unless progress
    was reported against them (a report's values would lose their target)."""
    existing = {
        target.id: target
        for target in await session.scalars(select(Target).where(Target.pledge_id == pledge_id))
    }
    for index, change in enumerate(targets):
        if change.target_id is not None and change.target_id not in existing:
            raise NotFound(
                f"target {change.target_id} is not a target of this pledge",
                code="UNKNOWN_TARGET",
                field=("targets", str(index), "id"),
            )
    kept = {change.target_id for change in targets}
    dropped = sorted(set(existing) - kept)
    if dropped:
        reported = set(
            await session.scalars(
                select(ProgressValue.target_id).where(ProgressValue.target_id.in_(dropped))
            )
        )
        if reported:
            raise Conflict(
                f"target(s) {', '.join(map(str, sorted(reported)))} have progress reported "
                "against them and stay: list them again",
                code="TARGET_REPORTED",
                field=("targets",),
            )
        await session.execute(delete(Target).where(Target.id.in_(dropped)))
    for change in targets:
        target = existing.get(change.target_id) if change.target_id is not None else None
        if target is None:
            target = Target(pledge_id=pledge_id)
            session.add(target)
        _fill_target(target, change.draft)


def _fill_target(target: Target, draft: TargetDraft) -> None:
    target.indicator = draft.indicator
    target.label = draft.label
    target.description = draft.description
    target.unit = draft.unit.strip()
    target.measure = draft.measure
    target.direction = draft.direction
    target.cumulative = draft.cumulative
    target.baseline_value = draft.baseline_value
    target.baseline_date = draft.baseline_date
    target.target_value = draft.target_value
    target.deadline = draft.deadline


async def _stored_terms(session: AsyncSession, pledge: Pledge) -> Terms:
    """The terms co-endorsers stand behind, as stored now."""
    countries = await session.scalars(
        select(PledgeTargetCountry.country).where(PledgeTargetCountry.pledge_id == pledge.id)
    )
    groups = await session.scalars(
        select(PledgeTargetGroup.country_group).where(PledgeTargetGroup.pledge_id == pledge.id)
    )
    targets = await session.scalars(select(Target).where(Target.pledge_id == pledge.id))
    return Terms(
        amount_minor=pledge.amount_minor,
        currency=pledge.currency,
        start_date=pledge.start_date,
        end_date=pledge.end_date,
        countries=frozenset(countries),
        groups=frozenset(groups),
        targets=frozenset((target.id, *target_terms(target_draft(target))) for target in targets),
    )


def target_draft(target: Target) -> TargetDraft:
    return TargetDraft(
        indicator=target.indicator,
        unit=target.unit,
        measure=target.measure,
        direction=target.direction,
        cumulative=target.cumulative,
        label=target.label,
        description=target.description,
        baseline_value=target.baseline_value,
        baseline_date=target.baseline_date,
        target_value=target.target_value,
        deadline=target.deadline,
    )


async def parts_of(session: AsyncSession, pledge_id: int) -> dict[str, Any]:
    """What a pledge holds in rows of its own, for the audit ledger: focus areas, target
    countries and groups, beneficiaries, SDGs and targets (each target's own fields)."""
    if not recording():
        return {}
    ids = [pledge_id]
    listed: dict[str, Mapping[int, Sequence[Any]]] = {
        "focus_areas": await focus_areas_by_pledge(session, ids),
        "target_countries": await target_countries_by_pledge(session, ids),
        "target_groups": await target_groups_by_pledge(session, ids),
        "beneficiary_groups": await beneficiaries_by_pledge(session, ids),
        "sdgs": await sdgs_by_pledge(session, ids),
    }
    parts: dict[str, Any] = {
        name: sorted(found.get(pledge_id, [])) for name, found in listed.items()
    }
    targets = await session.scalars(
        select(Target).where(Target.pledge_id == pledge_id).order_by(Target.id)
    )
    stamps = ("created_at", "updated_at")  # a target rewritten as it was has not changed
    parts["targets"] = [
        {name: value for name, value in snapshot(target).items() if name not in stamps}
        for target in targets
    ]
    return parts


async def get_pledge(session: AsyncSession, pledge_id: int) -> Pledge:
    """The pledge with this id, or ``NotFound``."""
    pledge = await session.get(Pledge, pledge_id)
    if pledge is None:
        raise NotFound(f"pledge {pledge_id} does not exist", field=("pledgeId",))
    return pledge


async def readiness(session: AsyncSession, pledge: Pledge) -> Readiness:
    """What the pledge holds that SMART-completeness asks for, in one statement."""
    quantified = (
        select(func.count())
        .where(
            Target.pledge_id == pledge.id,
            Target.measure == Measure.QUANTITATIVE,
            Target.target_value.is_not(None),
            Target.deadline.is_not(None),
        )
        .scalar_subquery()
    )
    counts = (
        await session.execute(
            select(
                select(func.count())
                .where(PledgeFocusArea.pledge_id == pledge.id)
                .scalar_subquery(),
                select(func.count())
                .where(PledgeTargetCountry.pledge_id == pledge.id)
                .scalar_subquery(),
                select(func.count())
                .where(PledgeTargetGroup.pledge_id == pledge.id)
                .scalar_subquery(),
                quantified,
            )
        )
    ).one()
    return Readiness(
        pledge_type=pledge.pledge_type,
        focus_areas=counts[0],
        places=counts[1] + counts[2],
        quantified_targets_with_deadline=counts[3],
        has_amount=pledge.amount_minor is not None,
        has_lead=await has_lead(session, pledge.id),
    )


async def require_ready(session: AsyncSession, pledge: Pledge, *, smart: bool) -> None:
    """Refuse a pledge that may not go public yet, naming every missing part; ``smart`` asks
    for SMART-completeness (partners' pledges), not only what every pledge needs."""
    facts = await readiness(session, pledge)
    problems = smart_problems(facts) if smart else publication_problems(facts)
    if problems:
        raise InvalidInput.several(problems)


async def submit_pledge(session: AsyncSession, pledge_id: int, *, smart: bool = False) -> Pledge:
    """DRAFT to SUBMITTED, once the pledge has a focus area and its lead (and, with ``smart``,
    is SMART-complete)."""
    pledge = await get_pledge(session, pledge_id)
    step(Entity.PLEDGE, Action.SUBMIT, pledge.publication_status)
    await require_ready(session, pledge, smart=smart)
    pledge.publication_status = PublicationStatus.SUBMITTED
    pledge.returned_at = pledge.return_note = None  # the note was for the lead, and is answered
    await flush(session)
    return pledge


async def return_pledge(
    session: AsyncSession, pledge_id: int, note: str, *, at: datetime | None = None
) -> Pledge:
    """SUBMITTED back to DRAFT with the secretariat's note on what to change."""
    check_length(note, MAX_DESCRIPTION, ("note",))
    pledge = await get_pledge(session, pledge_id)
    step(Entity.PLEDGE, Action.RETURN, pledge.publication_status)
    pledge.publication_status = PublicationStatus.DRAFT
    pledge.returned_at, pledge.return_note = at or utcnow(), note.strip() or None
    await flush(session)
    return pledge


async def publish_pledge(
    session: AsyncSession, pledge_id: int, *, at: datetime | None = None, smart: bool = False
) -> Pledge:
    """SUBMITTED to PUBLISHED (the secretariat's decision); the same checks apply."""
    pledge = await get_pledge(session, pledge_id)
    step(Entity.PLEDGE, Action.PUBLISH, pledge.publication_status)
    await require_ready(session, pledge, smart=smart)
    pledge.publication_status = PublicationStatus.PUBLISHED
    pledge.published_at = at or utcnow()
    await flush(session)
    await announce(session, Topic.PLEDGE_PUBLISHED, pledge.id)
    return pledge


async def fulfil_pledge(session: AsyncSession, pledge_id: int) -> Pledge:
    """PUBLISHED to FULFILLED: the commitment was met."""
    pledge = await get_pledge(session, pledge_id)
    step(Entity.PLEDGE, Action.FULFIL, pledge.publication_status)
    pledge.publication_status = PublicationStatus.FULFILLED
    await flush(session)
    return pledge


async def withdraw_pledge(
    session: AsyncSession, pledge_id: int, *, at: datetime | None = None
) -> Pledge:
    """DRAFT, SUBMITTED or PUBLISHED to WITHDRAWN; a once-published pledge keeps its
    publication date (and stays in the public graph, marked withdrawn)."""
    pledge = await get_pledge(session, pledge_id)
    step(Entity.PLEDGE, Action.WITHDRAW, pledge.publication_status)
    pledge.publication_status = PublicationStatus.WITHDRAWN
    pledge.withdrawn_at = at or utcnow()
    await flush(session)
    return pledge


async def add_target(session: AsyncSession, pledge_id: int, draft: TargetDraft) -> Target:
    """Add a measurable target to a pledge."""
    check_target(draft)
    await get_pledge(session, pledge_id)
    target = Target(pledge_id=pledge_id)
    _fill_target(target, draft)
    session.add(target)
    await flush(session)
    return target
