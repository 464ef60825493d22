"""Reading organisations and members, and what they stand behind, as a viewer may see it."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from hub.endorsements.models import Endorsement
from hub.imports.models import counted_amount, counted_usd
from hub.organisations.models import MembershipStatus, Organisation, OrganisationType
from hub.pagination import Slice, Window, window
from hub.pledges.models import Pledge
from hub.search import contains_text
from hub.visibility import Viewer, endorses, pledge_visible


class OrganisationOrderField(enum.StrEnum):
    """What a list of organisations can be ordered by; ties are broken by id."""

    NAME = "NAME"
    MEMBER_SINCE = "MEMBER_SINCE"
    RECORDED = "RECORDED"


@dataclass(frozen=True, slots=True)
class OrganisationOrder:
    field: OrganisationOrderField = OrganisationOrderField.NAME
    descending: bool = False


@dataclass(frozen=True, slots=True)
class OrganisationFilter:
    """Every condition is optional; lists match any of their values."""

    organisation_types: Sequence[OrganisationType] = ()
    membership_statuses: Sequence[MembershipStatus] = ()
    headquarters_countries: Sequence[str] = ()
    text: str | None = None


ORDER_COLUMNS: dict[OrganisationOrderField, InstrumentedAttribute[Any]] = {
    OrganisationOrderField.NAME: Organisation.name,
    OrganisationOrderField.MEMBER_SINCE: Organisation.member_since,
    OrganisationOrderField.RECORDED: Organisation.id,
}


def _conditions(criteria: OrganisationFilter, members_only: bool) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if members_only:
        found.append(Organisation.membership_status == MembershipStatus.MEMBER)
    if criteria.organisation_types:
        found.append(Organisation.organisation_type.in_(criteria.organisation_types))
    if criteria.membership_statuses:
        found.append(Organisation.membership_status.in_(criteria.membership_statuses))
    if criteria.headquarters_countries:
        found.append(Organisation.headquarters_country.in_(criteria.headquarters_countries))
    if criteria.text:
        found.append(contains_text(Organisation.name, criteria.text))
    return found


async def organisation_page(
    session: AsyncSession,
    criteria: OrganisationFilter,
    order: OrganisationOrder,
    request: Slice,
    *,
    members_only: bool,
) -> tuple[list[Organisation], Window]:
    """One page of organisations (members only, when asked) and its place in the whole list."""
    where = _conditions(criteria, members_only)
    total = int(await session.scalar(select(func.count(Organisation.id)).where(*where)) or 0)
    span = window(request, total)
    if span.limit == 0:
        return [], span
    column = ORDER_COLUMNS[order.field]
    query = (
        select(Organisation)
        .where(*where)
        .order_by(
            column.is_(None),
            column.desc() if order.descending else column.asc(),
            Organisation.id.desc() if order.descending else Organisation.id.asc(),
        )
        .offset(span.start)
        .limit(span.limit)
    )
    return list(await session.scalars(query)), span


@dataclass(frozen=True, slots=True)
class OrganisationTotals:
    """What an organisation stands behind, counting visible pledges only; an amount an
    ancestor pledge holds counts there only (``hub.imports.linking``)."""

    pledges_led: int = 0
    pledges_endorsed: int = 0
    led_usd_minor: int = 0
    led_without_usd: int = 0


async def totals_by_organisation(
    session: AsyncSession, viewer: Viewer, ids: Iterable[int]
) -> dict[int, OrganisationTotals]:
    """Totals for many organisations in two statements."""
    wanted = set(ids)
    usd, amount = counted_usd(viewer), counted_amount(viewer)
    led = await session.execute(
        select(
            Pledge.lead_member_id,
            func.count(Pledge.id),
            func.coalesce(func.sum(usd), 0),
            func.count(Pledge.id).filter(amount.is_not(None), usd.is_(None)),
        )
        .where(Pledge.lead_member_id.in_(wanted), pledge_visible(viewer))
        .group_by(Pledge.lead_member_id)
    )
    endorsements = await session.execute(
        select(Endorsement.organisation_id, func.count(Endorsement.id))
        .where(Endorsement.organisation_id.in_(wanted), endorses(viewer))
        .group_by(Endorsement.organisation_id)
    )
    endorsed: dict[int, int] = {organisation: count for organisation, count in endorsements}
    led_by = {row[0]: row for row in led}
    found = {}
    for organisation in wanted:
        row = led_by.get(organisation)
        found[organisation] = OrganisationTotals(
            pledges_led=int(row[1] or 0) if row else 0,
            pledges_endorsed=endorsed.get(organisation, 0),
            led_usd_minor=int(row[2] or 0) if row else 0,
            led_without_usd=int(row[3] or 0) if row else 0,
        )
    return found
