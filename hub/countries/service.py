"""Countries: loading reference data, group membership as of a date, and code look-ups."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from hub.countries.models import (
    Country,
    CountryGroup,
    CountryGroupChange,
    CountryGroupMembership,
)
from hub.countries.reference import CountryRow, GroupChange, memberships
from hub.errors import InvalidInput
from hub.integrity import flush


@dataclass(frozen=True, slots=True)
class ReferenceLoad:
    """What loading the reference data changed."""

    countries_added: int
    countries_updated: int
    memberships: int
    changes: int
    rows_replaced: int = 0
    """Group memberships and dated changes added or removed by this load."""


def _apply(country: Country, row: CountryRow) -> bool:
    values = {
        "alpha2": row.alpha2,
        "numeric": row.numeric,
        **row.names,
        "region_code": row.region_code,
        "region_name": row.region_name,
        "sub_region_code": row.sub_region_code,
        "sub_region_name": row.sub_region_name,
    }
    changed = False
    for field, value in values.items():
        if getattr(country, field, None) != value:
            setattr(country, field, value)
            changed = True
    return changed


async def load_reference(
    session: AsyncSession, countries: list[CountryRow], changes: list[GroupChange]
) -> ReferenceLoad:
    """Upsert countries and replace group memberships and changes; loading twice is a no-op."""
    periods = memberships(countries, changes)
    existing = {c.alpha3: c for c in await session.scalars(select(Country))}
    added = updated = 0
    for row in countries:
        country = existing.get(row.alpha3)
        if country is None:
            country = Country(alpha3=row.alpha3)
            _apply(country, row)
            session.add(country)
            added += 1
        elif _apply(country, row):
            updated += 1
    await flush(session)
    replaced = await _replace_differences(
        session,
        CountryGroupMembership,
        {(p.alpha3, p.group, p.valid_from, p.valid_to) for p in periods},
        lambda m: (m.country, m.country_group, m.valid_from, m.valid_to),
        lambda key: CountryGroupMembership(
            country=key[0], country_group=key[1], valid_from=key[2], valid_to=key[3]
        ),
    )
    replaced += await _replace_differences(
        session,
        CountryGroupChange,
        {(c.alpha3, c.group, c.kind, c.on, c.status, c.note) for c in changes},
        lambda c: (c.country, c.country_group, c.change, c.changed_on, c.status, c.note),
        lambda key: CountryGroupChange(
            country=key[0], country_group=key[1], change=key[2], changed_on=key[3],
            status=key[4], note=key[5],
        ),
    )  # fmt: skip
    return ReferenceLoad(added, updated, len(periods), len(changes), replaced)


async def _replace_differences(
    session: AsyncSession,
    model: type[Any],
    wanted: set[tuple[Any, ...]],
    key_of: Callable[[Any], tuple[Any, ...]],
    make: Callable[[tuple[Any, ...]], Any],
) -> int:
    """Make the table's rows equal ``wanted``, touching only the rows that differ; how many
    rows were removed or added."""
    stored = {key_of(row): row for row in await session.scalars(select(model))}
    gone = [row for key, row in stored.items() if key not in wanted]
    for row in gone:
        await session.delete(row)
    await flush(session)
    new = [make(key) for key in wanted - stored.keys()]
    session.add_all(new)
    await flush(session)
    return len(gone) + len(new)


def member_on(on: date | ColumnElement[Any] | InstrumentedAttribute[Any]) -> ColumnElement[bool]:
    """The SQL condition that a membership row holds on ``on`` (a date, or a date column)."""
    return and_(
        or_(CountryGroupMembership.valid_from.is_(None), CountryGroupMembership.valid_from <= on),
        or_(CountryGroupMembership.valid_to.is_(None), CountryGroupMembership.valid_to > on),
    )


async def countries_in_group(session: AsyncSession, group: CountryGroup, on: date) -> list[str]:
    """Alpha-3 codes of the group's members on ``on``, sorted."""
    rows = await session.scalars(
        select(CountryGroupMembership.country)
        .where(CountryGroupMembership.country_group == group, member_on(on))
        .order_by(CountryGroupMembership.country)
        .distinct()
    )
    return list(rows)


async def groups_of(
    session: AsyncSession, codes: Iterable[str], on: date
) -> dict[str, set[CountryGroup]]:
    """The groups each country belonged to on ``on``."""
    wanted = set(codes)
    found: dict[str, set[CountryGroup]] = defaultdict(set)
    rows = await session.execute(
        select(CountryGroupMembership.country, CountryGroupMembership.country_group).where(
            CountryGroupMembership.country.in_(wanted), member_on(on)
        )
    )
    for code, group in rows:
        found[code].add(group)
    return {code: found[code] for code in wanted}


@dataclass(frozen=True, slots=True)
class Alpha2Lookup:
    """Alpha-3 codes for the alpha-2 codes that are known, and the ones that are not."""

    found: dict[str, str]
    unknown: list[str]


async def alpha3_for_alpha2(session: AsyncSession, codes: Iterable[str]) -> Alpha2Lookup:
    """Turn alpha-2 codes (as IATI and the World Bank write them) into alpha-3; never guess."""
    wanted = {code: code.strip().upper() for code in codes}
    rows = await session.execute(
        select(Country.alpha2, Country.alpha3).where(Country.alpha2.in_(set(wanted.values())))
    )
    known = {alpha2: alpha3 for alpha2, alpha3 in rows}
    found = {code: known[norm] for code, norm in wanted.items() if norm in known}
    return Alpha2Lookup(found, sorted(code for code in wanted if code not in found))


async def alpha3_by_alpha2(session: AsyncSession) -> dict[str, str]:
    """Every country's alpha-3 code by its alpha-2, for mappings that read a whole source
    (IATI, the World Bank) against it once a run."""
    rows = await session.execute(select(Country.alpha2, Country.alpha3))
    return {alpha2: alpha3 for alpha2, alpha3 in rows}


async def require_countries(session: AsyncSession, codes: Iterable[str], *, field: str) -> None:
    """Refuse codes that are not ISO 3166-1 alpha-3 countries known to the hub."""
    wanted = set(codes)
    if not wanted:
        return
    known = set(await session.scalars(select(Country.alpha3).where(Country.alpha3.in_(wanted))))
    unknown = sorted(wanted - known)
    if unknown:
        raise InvalidInput(
            f"unknown ISO 3166-1 alpha-3 country code(s): {', '.join(unknown)}",
            code="UNKNOWN_COUNTRY",
            field=(field,),
        )


async def country_count(session: AsyncSession) -> int:
    """How many countries are loaded."""
    return int(await session.scalar(select(func.count()).select_from(Country)) or 0)
