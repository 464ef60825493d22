"""Pledge statistics by focus area, type, country, country group, member type or year.

Public data only, for every caller. A pledge can sit in several groups (two focus areas,
three countries); group totals then overlap, which the result says, and the overall
totals count each pledge once. A pledge whose commitment an ancestor in its hierarchy holds
(``hub.imports.linking``) counts as a pledge, but its amount is counted in the ancestor's only.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import FromClause, Integer, Select, cast, extract, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.countries.models import CountryGroupMembership
from hub.countries.service import member_on
from hub.endorsements.models import Endorsement
from hub.imports.models import counted_amount, counted_usd
from hub.organisations.models import Organisation
from hub.pledges.models import Pledge, PledgeFocusArea, PledgeTargetCountry, PledgeTargetGroup
from hub.pledges.queries import PledgeFilter, conditions
from hub.visibility import Viewer, endorses


class StatsGroupBy(enum.StrEnum):
    FOCUS_AREA = "FOCUS_AREA"
    PLEDGE_TYPE = "PLEDGE_TYPE"
    COUNTRY = "COUNTRY"
    COUNTRY_GROUP = "COUNTRY_GROUP"
    MEMBER_TYPE = "MEMBER_TYPE"
    YEAR = "YEAR"


@dataclass
class StatsRow:
    """Totals over a set of pledges."""

    key: str
    pledges: int = 0
    members: int = 0
    usd_minor: int = 0
    without_usd: int = 0
    without_usd_by_currency: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PledgeStats:
    groups: list[StatsRow]
    total: StatsRow
    groups_overlap: bool


@dataclass(frozen=True, slots=True)
class _PledgeRow:
    id: int
    usd_minor: int | None
    amount_minor: int | None
    currency: str | None


def _total(key: str, pledges: Iterable[_PledgeRow], members: set[int]) -> StatsRow:
    row = StatsRow(key, members=len(members))
    missing: dict[str, int] = defaultdict(int)
    for pledge in pledges:
        row.pledges += 1
        if pledge.usd_minor is not None:
            row.usd_minor += pledge.usd_minor
        elif pledge.amount_minor is not None and pledge.currency is not None:
            row.without_usd += 1
            missing[pledge.currency] += pledge.amount_minor
    row.without_usd_by_currency = dict(sorted(missing.items()))
    return row


def key_query(viewer: Viewer, group_by: StatsGroupBy, matching: FromClause) -> Select[Any, Any]:
    """(pledge id, group key) for each key of each matching pledge (``matching`` has their
    ``id``s, once each): an enum value, an alpha-3 code or a year; a pair may come more than
    once. Joined, not ``IN``: PostgreSQL then hashes the matching pledges instead of looking
    each up (at 50,000 pledges, 27 ms instead of 71 for the country keys)."""
    if group_by is StatsGroupBy.PLEDGE_TYPE:
        return select(Pledge.id, Pledge.pledge_type).join(matching, matching.c.id == Pledge.id)
    if group_by is StatsGroupBy.YEAR:
        year = cast(extract("year", Pledge.announced_on), Integer)
        return select(Pledge.id, year).join(matching, matching.c.id == Pledge.id)
    if group_by is StatsGroupBy.FOCUS_AREA:
        return select(PledgeFocusArea.pledge_id, PledgeFocusArea.focus_area).join(
            matching, matching.c.id == PledgeFocusArea.pledge_id
        )
    if group_by is StatsGroupBy.COUNTRY:
        return select(PledgeTargetCountry.pledge_id, PledgeTargetCountry.country).join(
            matching, matching.c.id == PledgeTargetCountry.pledge_id
        )
    if group_by is StatsGroupBy.MEMBER_TYPE:
        return (
            select(Endorsement.pledge_id, Organisation.organisation_type)
            .join(Organisation, Organisation.id == Endorsement.organisation_id)
            .join(matching, matching.c.id == Endorsement.pledge_id)
            .where(endorses(viewer))
        )
    explicit = select(PledgeTargetGroup.pledge_id, PledgeTargetGroup.country_group).join(
        matching, matching.c.id == PledgeTargetGroup.pledge_id
    )
    by_country = (
        select(PledgeTargetCountry.pledge_id, CountryGroupMembership.country_group)
        .join(matching, matching.c.id == PledgeTargetCountry.pledge_id)
        .join(Pledge, Pledge.id == PledgeTargetCountry.pledge_id)
        .join(
            CountryGroupMembership,
            CountryGroupMembership.country == PledgeTargetCountry.country,
        )
        .where(member_on(Pledge.announced_on))
    )
    return select(explicit.union(by_country).subquery())


async def _keys(
    session: AsyncSession, viewer: Viewer, group_by: StatsGroupBy, matching: FromClause
) -> dict[int, set[str]]:
    """The group keys of each matching pledge."""
    keys: dict[int, set[str]] = defaultdict(set)
    for pledge, key in await session.execute(key_query(viewer, group_by, matching)):
        keys[pledge].add(str(key))
    return keys


async def pledge_stats(
    session: AsyncSession, viewer: Viewer, criteria: PledgeFilter, group_by: StatsGroupBy
) -> PledgeStats:
    """Totals per group and overall for the visible pledges matching ``criteria``.

    A pledge counts in a country group when it targets the group itself, or a country that
    belonged to the group on the day the pledge was announced. The member count of a group
    counts the organisations with an accepted endorsement on its pledges; grouped by member
    type, only the organisations of that type.
    """
    where = conditions(viewer, criteria)
    matching = select(Pledge.id).where(*where).subquery()
    rows = await session.execute(
        select(Pledge.id, counted_usd(viewer), counted_amount(viewer), Pledge.currency).where(
            *where
        )
    )
    pledges = {row[0]: _PledgeRow(*row) for row in rows}
    keys = await _keys(session, viewer, group_by, matching) if pledges else {}
    members: dict[int, set[tuple[int, str]]] = defaultdict(set)
    if pledges:
        endorsers = await session.execute(
            select(
                Endorsement.pledge_id, Endorsement.organisation_id, Organisation.organisation_type
            )
            .join(Organisation, Organisation.id == Endorsement.organisation_id)
            .join(matching, matching.c.id == Endorsement.pledge_id)
            .where(endorses(viewer))
        )
        for pledge, organisation, kind in endorsers:
            members[pledge].add((organisation, str(kind)))
    by_key: dict[str, list[int]] = defaultdict(list)
    for pledge in sorted(pledges):
        for key in keys.get(pledge, ()):
            by_key[key].append(pledge)

    def members_of(group: list[int], key: str) -> set[int]:
        of_type = group_by is StatsGroupBy.MEMBER_TYPE
        return {o for p in group for o, kind in members[p] if not of_type or kind == key}

    groups = [
        _total(key, (pledges[p] for p in group), members_of(group, key))
        for key, group in sorted(by_key.items())
    ]
    overlap = any(len(found) > 1 for found in keys.values())
    everyone = {o for found in members.values() for o, _ in found}
    return PledgeStats(groups, _total("ALL", pledges.values(), everyone), overlap)
