"""Countries: the bundled reference data, dated group membership, alpha-2 look-ups."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.countries.models import (
    ChangeStatus,
    Country,
    CountryGroup,
    CountryGroupChange,
    CountryGroupMembership,
)
from hub.countries.reference import (
    ReferenceDataError,
    is_member_on,
    memberships,
    parse_changes,
    parse_countries,
    read_reference,
)
from hub.countries.service import (
    alpha3_for_alpha2,
    countries_in_group,
    groups_of,
    load_reference,
)

LDC, LLDC, SIDS = CountryGroup.LDC, CountryGroup.LLDC, CountryGroup.SIDS


def test_the_bundled_file_has_every_country_with_six_names() -> None:
    countries, changes = read_reference()
    assert len(countries) == 249
    afghanistan = next(c for c in countries if c.alpha3 == "AFG")
    assert (afghanistan.alpha2, afghanistan.numeric) == ("AF", "004")
    assert afghanistan.names["name_zh"] == "阿富汗"
    assert afghanistan.names["name_ar"] == "أفغانستان"
    assert (afghanistan.region_name, afghanistan.sub_region_name) == ("Asia", "Southern Asia")
    assert len(changes) == 12


def test_effective_changes_are_applied_over_the_snapshot() -> None:
    periods = {(m.alpha3, m.group): m for m in memberships(*read_reference())}
    bhutan = periods["BTN", LDC]
    assert (bhutan.valid_from, bhutan.valid_to) == (None, date(2023, 12, 13))
    sao_tome = periods["STP", LDC]
    assert sao_tome.valid_to == date(2024, 12, 13), "the snapshot's stale flag is overridden"
    south_sudan = periods["SSD", LDC]
    assert (south_sudan.valid_from, south_sudan.valid_to) == (date(2012, 12, 18), None)
    nepal = periods["NPL", LDC]
    assert nepal.valid_to is None, "a scheduled graduation is not a fact"
    assert ("BTN", LLDC) in periods
    assert ("FJI", SIDS) in periods


@pytest.mark.parametrize(
    ("on", "count"), [(date(2025, 6, 30), 44), (date(2022, 6, 30), 46), (date(2010, 6, 30), 49)]
)
def test_ldc_counts_as_of_a_date(on: date, count: int) -> None:
    ldcs = {
        m.alpha3 for m in memberships(*read_reference()) if m.group is LDC and is_member_on(m, on)
    }
    assert len(ldcs) == count


async def test_bhutan_is_an_ldc_in_2022_and_not_in_2025(session: AsyncSession) -> None:
    assert LDC in (await groups_of(session, ["BTN"], date(2022, 6, 1)))["BTN"]
    assert (await groups_of(session, ["BTN"], date(2025, 6, 1)))["BTN"] == {LLDC}
    assert "BTN" in await countries_in_group(session, LDC, date(2023, 12, 12))
    assert "BTN" not in await countries_in_group(session, LDC, date(2023, 12, 13))
    assert len(await countries_in_group(session, LDC, date(2025, 6, 30))) == 44
    assert len(await countries_in_group(session, LLDC, date(2025, 6, 30))) == 32
    assert len(await countries_in_group(session, SIDS, date(2025, 6, 30))) == 53


async def test_scheduled_changes_are_kept_as_scheduled(session: AsyncSession) -> None:
    scheduled = await session.scalars(
        select(CountryGroupChange.country).where(
            CountryGroupChange.status == ChangeStatus.SCHEDULED
        )
    )
    assert sorted(scheduled) == ["BGD", "LAO", "NPL", "SLB"]
    assert "NPL" in await countries_in_group(session, LDC, date(2026, 12, 1))


async def test_loading_twice_changes_nothing(session: AsyncSession) -> None:
    before = set(await session.scalars(select(CountryGroupMembership.id)))
    again = await load_reference(session, *read_reference())
    assert (again.countries_added, again.countries_updated) == (0, 0)
    assert await session.scalar(select(func.count()).select_from(Country)) == 249
    assert set(await session.scalars(select(CountryGroupMembership.id))) == before


async def test_alpha2_codes_become_alpha3_and_unknown_ones_are_reported(
    session: AsyncSession,
) -> None:
    lookup = await alpha3_for_alpha2(session, ["CD", "np", "XX", "ZZ", "FJ"])
    assert lookup.found == {"CD": "COD", "np": "NPL", "FJ": "FJI"}
    assert lookup.unknown == ["XX", "ZZ"]


HEADER = (
    "ISO3166-1-Alpha-3,ISO3166-1-Alpha-2,ISO3166-1-numeric,official_name_en,official_name_fr,"
    "official_name_es,official_name_ru,official_name_cn,official_name_ar,"
    "Least Developed Countries (LDC),Land Locked Developing Countries (LLDC),"
    "Small Island Developing States (SIDS)"
)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("NP,NP,524,Nepal,,,,,,x,x,", "line 2: alpha-3 code 'NP'"),
        ("NPL,NPX,524,Nepal,,,,,,x,x,", "line 2: alpha-2 code 'NPX'"),
        ("NPL,NP,52a,Nepal,,,,,,x,x,", "line 2: numeric code '52a'"),
        ("NPL,NP,524,,,,,,,x,x,", "line 2: the English name is empty"),
    ],
)
def test_malformed_country_rows_are_reported_with_their_line(row: str, message: str) -> None:
    with pytest.raises(ReferenceDataError, match=message):
        parse_countries(f"{HEADER}\n{row}\n", "countries.csv")


def test_a_missing_column_is_reported() -> None:
    with pytest.raises(ReferenceDataError, match="missing column"):
        parse_countries("ISO3166-1-Alpha-3\nNPL\n")


def test_contradictory_changes_are_refused() -> None:
    countries = parse_countries(f"{HEADER}\nNPL,NP,524,Nepal,,,,,,x,x,\n")
    changes = parse_changes(
        "iso3,group,change,date,status\n"
        "NPL,LDC,left,2020-01-01,effective\nNPL,LDC,left,2021-01-01,effective\n"
    )
    with pytest.raises(ReferenceDataError, match="contradicts"):
        memberships(countries, changes)


def test_a_bad_change_date_is_reported_with_its_line() -> None:
    with pytest.raises(ReferenceDataError, match="line 3"):
        parse_changes(
            "iso3,group,change,date,status\n"
            "NPL,LDC,left,2026-11-24,scheduled\nBTN,LDC,left,13/12/2023,effective\n"
        )


def test_a_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    latin = tmp_path / "countries.csv"
    latin.write_bytes(f"{HEADER}\nCIV,CI,384,Côte d'Ivoire,,,,,,,,\n".encode("latin-1"))
    with pytest.raises(ReferenceDataError, match=r"countries\.csv is not UTF-8 text"):
        read_reference(latin, latin)
