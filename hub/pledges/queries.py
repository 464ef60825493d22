"""Reading pledges as a viewer may see them: filters, orderings, pages and relations."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from hub.countries.models import CountryGroup, CountryGroupMembership
from hub.countries.service import member_on
from hub.endorsements.models import Endorsement, EndorsementRole, Role
from hub.organisations.models import Organisation, OrganisationType
from hub.pagination import Slice, Window, window
from hub.pledges.models import (
    BeneficiaryGroup,
    FocusArea,
    ImplementationStatus,
    Pledge,
    PledgeBeneficiaryGroup,
    PledgeFocusArea,
    PledgeSdg,
    PledgeTargetCountry,
    PledgeTargetGroup,
    PledgeType,
    PublicationStatus,
)
from hub.search import contains_text
from hub.visibility import Viewer, endorses, pledge_visible


class PledgeOrderField(enum.StrEnum):
    """What a list of pledges can be ordered by; ties are broken by id."""

    ANNOUNCED_ON = "ANNOUNCED_ON"
    USD_AMOUNT = "USD_AMOUNT"
    TITLE = "TITLE"


@dataclass(frozen=True, slots=True)
class PledgeOrder:
    field: PledgeOrderField = PledgeOrderField.ANNOUNCED_ON
    descending: bool = False


@dataclass(frozen=True, slots=True)
class GroupAsOf:
    """Pledges for a country group: a target country in it on ``on``, or the group itself."""

    group: CountryGroup
    on: date


@dataclass(frozen=True, slots=True)
class PledgeFilter:
    """Every condition is optional; lists match any of their values; all conditions hold."""

    focus_areas: Sequence[FocusArea] = ()
    pledge_types: Sequence[PledgeType] = ()
    publication_statuses: Sequence[PublicationStatus] = ()
    implementation_statuses: Sequence[ImplementationStatus] = ()
    target_countries: Sequence[str] = ()
    country_group: GroupAsOf | None = None
    member_ids: Sequence[int] = ()
    member_types: Sequence[OrganisationType] = ()
    roles: Sequence[Role] = ()
    text: str | None = None
    usd_min_minor: int | None = None
    usd_max_minor: int | None = None
    announced_from: date | None = None
    announced_to: date | None = None


def _endorsed(viewer: Viewer, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """The pledge has an endorsement that counts, meeting ``conditions``."""
    return exists().where(Endorsement.pledge_id == Pledge.id, endorses(viewer), *conditions)


def conditions(viewer: Viewer, criteria: PledgeFilter) -> list[ColumnElement[bool]]:
    """The SQL conditions for ``criteria``, always within what ``viewer`` may see."""
    found: list[ColumnElement[bool]] = [pledge_visible(viewer)]
    if criteria.focus_areas:
        found.append(
            exists().where(
                PledgeFocusArea.pledge_id == Pledge.id,
                PledgeFocusArea.focus_area.in_(criteria.focus_areas),
            )
        )
    if criteria.pledge_types:
        found.append(Pledge.pledge_type.in_(criteria.pledge_types))
    if criteria.publication_statuses:
        found.append(Pledge.publication_status.in_(criteria.publication_statuses))
    if criteria.implementation_statuses:
        found.append(Pledge.implementation_status.in_(criteria.implementation_statuses))
    if criteria.target_countries:
        found.append(
            exists().where(
                PledgeTargetCountry.pledge_id == Pledge.id,
                PledgeTargetCountry.country.in_(criteria.target_countries),
            )
        )
    if criteria.country_group is not None:
        group = criteria.country_group
        found.append(
            or_(
                exists().where(
                    PledgeTargetGroup.pledge_id == Pledge.id,
                    PledgeTargetGroup.country_group == group.group,
                ),
                exists().where(
                    PledgeTargetCountry.pledge_id == Pledge.id,
                    CountryGroupMembership.country == PledgeTargetCountry.country,
                    CountryGroupMembership.country_group == group.group,
                    member_on(group.on),
                ),
            )
        )
    if criteria.member_ids:
        found.append(_endorsed(viewer, Endorsement.organisation_id.in_(criteria.member_ids)))
    if criteria.member_types:
        found.append(
            _endorsed(
                viewer,
                Organisation.id == Endorsement.organisation_id,
                Organisation.organisation_type.in_(criteria.member_types),
            )
        )
    if criteria.roles:
        found.append(
            _endorsed(
                viewer,
                EndorsementRole.pledge_id == Endorsement.pledge_id,
                EndorsementRole.organisation_id == Endorsement.organisation_id,
                EndorsementRole.role.in_(criteria.roles),
                *(
                    [Endorsement.organisation_id.in_(criteria.member_ids)]
                    if criteria.member_ids
                    else []
                ),
            )
        )
    if criteria.text:
        found.append(
            or_(
                contains_text(Pledge.title, criteria.text),
                contains_text(Pledge.description, criteria.text),
            )
        )
    if criteria.usd_min_minor is not None:
        found.append(Pledge.usd_amount_minor >= criteria.usd_min_minor)
    if criteria.usd_max_minor is not None:
        found.append(Pledge.usd_amount_minor <= criteria.usd_max_minor)
    if criteria.announced_from is not None:
        found.append(Pledge.announced_on >= criteria.announced_from)
    if criteria.announced_to is not None:
        found.append(Pledge.announced_on <= criteria.announced_to)
    return found


ORDER_COLUMNS: dict[PledgeOrderField, InstrumentedAttribute[Any]] = {
    PledgeOrderField.ANNOUNCED_ON: Pledge.announced_on,
    PledgeOrderField.USD_AMOUNT: Pledge.usd_amount_minor,
    PledgeOrderField.TITLE: Pledge.title,
}


def order_clauses(order: PledgeOrder) -> list[ColumnElement[Any]]:
    """The ORDER BY of ``order``: pledges without a value last either way, ties by id."""
    column = ORDER_COLUMNS[order.field]
    primary = column.desc() if order.descending else column.asc()
    tie = Pledge.id.desc() if order.descending else Pledge.id.asc()
    return [column.is_(None), primary, tie]


def ordered(query: Select[Any], order: PledgeOrder) -> Select[Any]:
    """``query`` in ``order`` (``order_clauses``)."""
    return query.order_by(*order_clauses(order))


async def pledge_page(
    session: AsyncSession,
    viewer: Viewer,
    criteria: PledgeFilter,
    order: PledgeOrder,
    request: Slice,
) -> tuple[list[Pledge], Window]:
    """One page of the pledges matching ``criteria``, and where it sits in the whole list."""
    where = conditions(viewer, criteria)
    total = int(await session.scalar(select(func.count(Pledge.id)).where(*where)) or 0)
    span = window(request, total)
    if span.limit == 0:
        return [], span
    query = ordered(select(Pledge).where(*where), order).offset(span.start).limit(span.limit)
    return list(await session.scalars(query)), span


async def pledges_by_id(
    session: AsyncSession, viewer: Viewer, ids: Iterable[int]
) -> dict[int, Pledge]:
    """The visible pledges among ``ids``; an invisible one is simply absent."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.scalars(
        select(Pledge).where(Pledge.id.in_(wanted), pledge_visible(viewer))
    )
    return {pledge.id: pledge for pledge in rows}


async def _values(
    session: AsyncSession,
    column: InstrumentedAttribute[Any],
    key: InstrumentedAttribute[int],
    ids: Iterable[int],
) -> dict[int, list[Any]]:
    wanted = set(ids)
    found: dict[int, list[Any]] = defaultdict(list)
    if wanted:
        rows = await session.execute(
            select(key, column).where(key.in_(wanted)).order_by(key, column)
        )
        for owner, value in rows:
            found[owner].append(value)
    return {owner: found[owner] for owner in wanted}


async def focus_areas_by_pledge(
    session: AsyncSession, ids: Iterable[int]
) -> dict[int, list[FocusArea]]:
    """Focus areas of many pledges in one statement, in name order."""
    return await _values(session, PledgeFocusArea.focus_area, PledgeFocusArea.pledge_id, ids)


async def target_countries_by_pledge(
    session: AsyncSession, ids: Iterable[int]
) -> dict[int, list[str]]:
    """Target country codes of many pledges in one statement."""
    return await _values(session, PledgeTargetCountry.country, PledgeTargetCountry.pledge_id, ids)


async def target_groups_by_pledge(
    session: AsyncSession, ids: Iterable[int]
) -> dict[int, list[CountryGroup]]:
    """Whole country groups many pledges target, in one statement."""
    return await _values(session, PledgeTargetGroup.country_group, PledgeTargetGroup.pledge_id, ids)


async def beneficiaries_by_pledge(
    session: AsyncSession, ids: Iterable[int]
) -> dict[int, list[BeneficiaryGroup]]:
    """Beneficiary groups of many pledges in one statement."""
    return await _values(
        session, PledgeBeneficiaryGroup.beneficiary_group, PledgeBeneficiaryGroup.pledge_id, ids
    )


async def sdgs_by_pledge(session: AsyncSession, ids: Iterable[int]) -> dict[int, list[int]]:
    """SDGs of many pledges in one statement."""
    return await _values(session, PledgeSdg.sdg, PledgeSdg.pledge_id, ids)


PledgeIdsKey = tuple[int, tuple[Role, ...]]


async def pledge_ids_by_organisation(
    session: AsyncSession, viewer: Viewer, keys: Sequence[PledgeIdsKey]
) -> dict[PledgeIdsKey, list[int]]:
    """Visible pledges each organisation endorses (in any of the roles, when given),
    newest announcement first, for many organisations in one statement."""
    organisations = {organisation for organisation, _ in keys}
    rows = await session.execute(
        select(Endorsement.organisation_id, Pledge.id, EndorsementRole.role)
        .join(Pledge, Pledge.id == Endorsement.pledge_id)
        .join(
            EndorsementRole,
            and_(
                EndorsementRole.pledge_id == Endorsement.pledge_id,
                EndorsementRole.organisation_id == Endorsement.organisation_id,
            ),
        )
        .where(Endorsement.organisation_id.in_(organisations), endorses(viewer))
        .order_by(Pledge.announced_on.desc(), Pledge.id.desc())
    )
    by_organisation: dict[int, list[tuple[int, Role]]] = defaultdict(list)
    for organisation, pledge, role in rows:
        by_organisation[organisation].append((pledge, role))
    found = {}
    for organisation, roles in keys:
        ids = [p for p, role in by_organisation[organisation] if not roles or role in roles]
        found[organisation, roles] = list(dict.fromkeys(ids))
    return found


async def pledge_ids_by_country(
    session: AsyncSession, viewer: Viewer, codes: Sequence[str]
) -> dict[str, list[int]]:
    """Visible pledges targeting each country, newest announcement first, in one statement."""
    rows = await session.execute(
        select(PledgeTargetCountry.country, Pledge.id)
        .join(Pledge, Pledge.id == PledgeTargetCountry.pledge_id)
        .where(PledgeTargetCountry.country.in_(set(codes)), pledge_visible(viewer))
        .order_by(Pledge.announced_on.desc(), Pledge.id.desc())
    )
    found: dict[str, list[int]] = defaultdict(list)
    for code, pledge in rows:
        found[code].append(pledge)
    return {code: found[code] for code in codes}
