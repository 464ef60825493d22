"""Reading countries, their groups as of a date, and the pledges that target them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.countries.models import Country, CountryGroup, CountryGroupMembership
from hub.countries.service import member_on
from hub.imports.models import counted_amount, counted_usd
from hub.pagination import Slice, Window, window
from hub.pledges.models import Pledge, PledgeTargetCountry
from hub.search import contains_text
from hub.visibility import Viewer, pledge_visible


@dataclass(frozen=True, slots=True)
class CountryFilter:
    """Every condition is optional."""

    codes: Sequence[str] = ()
    group: CountryGroup | None = None
    group_on: date | None = None
    region_codes: Sequence[str] = ()
    text: str | None = None


def _conditions(criteria: CountryFilter, today: date) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if criteria.codes:
        found.append(Country.alpha3.in_(criteria.codes))
    if criteria.group is not None:
        found.append(
            exists().where(
                CountryGroupMembership.country == Country.alpha3,
                CountryGroupMembership.country_group == criteria.group,
                member_on(criteria.group_on or today),
            )
        )
    if criteria.region_codes:
        found.append(
            or_(
                Country.region_code.in_(criteria.region_codes),
                Country.sub_region_code.in_(criteria.region_codes),
            )
        )
    if criteria.text:
        found.append(contains_text(Country.name, criteria.text))
    return found


async def country_page(
    session: AsyncSession, criteria: CountryFilter, request: Slice, today: date
) -> tuple[list[Country], Window]:
    """One page of countries by English name, and its place in the whole list."""
    where = _conditions(criteria, today)
    total = int(await session.scalar(select(func.count(Country.alpha3)).where(*where)) or 0)
    span = window(request, total)
    if span.limit == 0:
        return [], span
    query = select(Country).where(*where).order_by(Country.name, Country.alpha3)
    return list(await session.scalars(query.offset(span.start).limit(span.limit))), span


async def countries_by_code(session: AsyncSession, codes: Iterable[str]) -> dict[str, Country]:
    """Countries for many alpha-3 codes in one statement."""
    wanted = set(codes)
    rows = await session.scalars(select(Country).where(Country.alpha3.in_(wanted)))
    return {country.alpha3: country for country in rows}


@dataclass(frozen=True, slots=True)
class CountryTotals:
    """Visible pledges targeting a country; each counts with its whole amount, unless an
    ancestor pledge holds it (``hub.imports.linking``)."""

    pledges: int = 0
    usd_minor: int = 0
    without_usd: int = 0


async def totals_by_country(
    session: AsyncSession, viewer: Viewer, codes: Iterable[str]
) -> dict[str, CountryTotals]:
    """Totals for many countries in one statement."""
    wanted = set(codes)
    usd, amount = counted_usd(viewer), counted_amount(viewer)
    rows = await session.execute(
        select(
            PledgeTargetCountry.country,
            func.count(Pledge.id),
            func.coalesce(func.sum(usd), 0),
            func.count(Pledge.id).filter(amount.is_not(None), usd.is_(None)),
        )
        .join(Pledge, Pledge.id == PledgeTargetCountry.pledge_id)
        .where(PledgeTargetCountry.country.in_(wanted), pledge_visible(viewer))
        .group_by(PledgeTargetCountry.country)
    )
    found = {
        code: CountryTotals(int(n or 0), int(usd or 0), int(none or 0))
        for code, n, usd, none in rows
    }
    return {code: found.get(code, CountryTotals()) for code in wanted}
