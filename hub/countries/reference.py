"""Reading the country reference files, and turning flags and changes into dated memberships.

Text in, typed rows out (``read_reference`` reads the files, the bundled ones by default).
A malformed row is reported with its line number.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from hub.countries.models import ChangeKind, ChangeStatus, CountryGroup
from hub.errors import InvalidInput

GROUP_COLUMNS = {
    CountryGroup.LDC: "Least Developed Countries (LDC)",
    CountryGroup.LLDC: "Land Locked Developing Countries (LLDC)",
    CountryGroup.SIDS: "Small Island Developing States (SIDS)",
}
NAME_COLUMNS = {
    "name": "official_name_en",
    "name_fr": "official_name_fr",
    "name_es": "official_name_es",
    "name_ru": "official_name_ru",
    "name_zh": "official_name_cn",
    "name_ar": "official_name_ar",
}


class ReferenceDataError(InvalidInput):
    """A reference file that cannot be read as it should be."""

    default_code = "INVALID_REFERENCE_DATA"


@dataclass(frozen=True, slots=True)
class CountryRow:
    """One country of the M49 file with the group flags of its snapshot."""

    alpha3: str
    alpha2: str
    numeric: str
    names: dict[str, str]
    region_code: str | None
    region_name: str | None
    sub_region_code: str | None
    sub_region_name: str | None
    flagged: frozenset[CountryGroup]


@dataclass(frozen=True, slots=True)
class GroupChange:
    """A country joining or leaving a group on a date, effective or only scheduled."""

    alpha3: str
    group: CountryGroup
    kind: ChangeKind
    on: date
    status: ChangeStatus
    note: str


@dataclass(frozen=True, slots=True)
class Membership:
    """A period of membership; ``None`` ends mean open (since ever known, or still)."""

    alpha3: str
    group: CountryGroup
    valid_from: date | None
    valid_to: date | None


def _rows(text: str, required: Sequence[str], source: str) -> Iterable[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = reader.fieldnames or []
    repeated = sorted({column for column in header if header.count(column) > 1})
    if repeated:
        raise ReferenceDataError(f"{source}: column(s) {', '.join(repeated)} appear twice")
    missing = [column for column in required if column not in header]
    if missing:
        raise ReferenceDataError(f"{source}: missing column(s) {', '.join(missing)}")
    for row in reader:
        if None in row:
            raise ReferenceDataError(
                f"{source}, line {reader.line_num}: more fields than the header"
            )
        yield reader.line_num, {key: (value or "").strip() for key, value in row.items() if key}


def _code(value: str, length: int, what: str, where: str) -> str:
    if len(value) != length or not value.isalpha() or not value.isupper():
        raise ReferenceDataError(f"{where}: {what} {value!r} is not {length} capital letters")
    return value


def parse_countries(text: str, source: str = "countries file") -> list[CountryRow]:
    """Countries from the M49 country-codes file."""
    required = ["ISO3166-1-Alpha-3", "ISO3166-1-Alpha-2", "ISO3166-1-numeric"]
    required += [*NAME_COLUMNS.values(), *GROUP_COLUMNS.values()]
    countries = []
    for line, row in _rows(text, required, source):
        where = f"{source}, line {line}"
        numeric = row["ISO3166-1-numeric"]
        if not numeric.isdigit() or len(numeric) > 3:
            raise ReferenceDataError(f"{where}: numeric code {numeric!r} is not 1 to 3 digits")
        names = {field: row[column] for field, column in NAME_COLUMNS.items()}
        if not names["name"]:
            raise ReferenceDataError(f"{where}: the English name is empty")
        countries.append(
            CountryRow(
                alpha3=_code(row["ISO3166-1-Alpha-3"], 3, "alpha-3 code", where),
                alpha2=_code(row["ISO3166-1-Alpha-2"], 2, "alpha-2 code", where),
                numeric=numeric.zfill(3),
                names={field: value or names["name"] for field, value in names.items()},
                region_code=row.get("Region Code") or None,
                region_name=row.get("Region Name") or None,
                sub_region_code=row.get("Sub-region Code") or None,
                sub_region_name=row.get("Sub-region Name") or None,
                flagged=frozenset(g for g, column in GROUP_COLUMNS.items() if row[column]),
            )
        )
    return countries


def parse_changes(text: str, source: str = "changes file") -> list[GroupChange]:
    """Dated group changes from the LDC changes file."""
    changes = []
    for line, row in _rows(text, ["iso3", "group", "change", "date", "status"], source):
        where = f"{source}, line {line}"
        try:
            changes.append(
                GroupChange(
                    alpha3=_code(row["iso3"], 3, "alpha-3 code", where),
                    group=CountryGroup(row["group"]),
                    kind=ChangeKind(row["change"].upper()),
                    on=date.fromisoformat(row["date"]),
                    status=ChangeStatus(row["status"].upper()),
                    note=row.get("note", ""),
                )
            )
        except ValueError as error:
            raise ReferenceDataError(f"{where}: {error}") from None
    return changes


def memberships(
    countries: Sequence[CountryRow], changes: Sequence[GroupChange]
) -> list[Membership]:
    """Dated memberships: effective changes applied over the snapshot's flags.

    A pair with effective changes takes its periods from them alone (the snapshot may be
    stale, as for São Tomé and Príncipe); a pair without any takes the snapshot's flag as an
    open period. Scheduled changes never make or end a membership.
    """
    known = {country.alpha3 for country in countries}
    effective: dict[tuple[str, CountryGroup], list[GroupChange]] = defaultdict(list)
    for change in changes:
        if change.alpha3 not in known:
            raise ReferenceDataError(f"the changes name {change.alpha3}, which is not a country")
        if change.status is ChangeStatus.EFFECTIVE:
            effective[change.alpha3, change.group].append(change)
    periods = []
    for country in countries:
        for group in CountryGroup:
            dated = sorted(effective.get((country.alpha3, group), []), key=lambda c: c.on)
            if not dated:
                if group in country.flagged:
                    periods.append(Membership(country.alpha3, group, None, None))
                continue
            periods.extend(_periods(country.alpha3, group, dated))
    return periods


def _periods(alpha3: str, group: CountryGroup, dated: Sequence[GroupChange]) -> list[Membership]:
    periods = []
    member = dated[0].kind is ChangeKind.LEFT
    start: date | None = None
    for change in dated:
        if (change.kind is ChangeKind.JOINED) == member:
            raise ReferenceDataError(
                f"{alpha3}: {change.kind} {group} on {change.on} contradicts the change before it"
            )
        if change.kind is ChangeKind.JOINED:
            start, member = change.on, True
        else:
            periods.append(Membership(alpha3, group, start, change.on))
            member = False
    if member:
        periods.append(Membership(alpha3, group, start, None))
    return periods


def is_member_on(membership: Membership, on: date) -> bool:
    """Whether ``membership`` holds on ``on`` (the leaving day is outside)."""
    started = membership.valid_from is None or membership.valid_from <= on
    return started and (membership.valid_to is None or on < membership.valid_to)


BUNDLED_COUNTRIES = files("hub.countries").joinpath("data", "country-codes.csv")
BUNDLED_CHANGES = files("hub.countries").joinpath("data", "ldc-changes.csv")


def read_reference(
    countries_file: Traversable | Path = BUNDLED_COUNTRIES,
    changes_file: Traversable | Path = BUNDLED_CHANGES,
) -> tuple[list[CountryRow], list[GroupChange]]:
    """Read and check the reference files (the bundled ones unless told otherwise)."""
    countries = parse_countries(_text(countries_file), countries_file.name)
    changes = parse_changes(_text(changes_file), changes_file.name)
    return countries, changes


def _text(file: Traversable | Path) -> str:
    try:
        return file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ReferenceDataError(f"{file.name} is not UTF-8 text") from None
