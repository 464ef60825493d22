"""World Bank Projects API pages to the hub's import records: pure, no I/O, no database.

`GET {base}/api/v2/projects?format=json&rows=R&os=K` answers `{"total": N, "projects": {id:
project}}`; :func:`parse_page` reads it, :func:`project_work` maps one project. The World Bank
(IATI identifier `44000`) leads and funds every pledge; a connector for it acts for that member.

| Projects API | hub |
|---|---|
| key of `projects` (`P` and digits), `project_name` | external id, title; neither: UNMAPPABLE |
| `project_abstract.cdata` | description |
| `countrycode` (ISO alpha-2) | target country; a region code ("3A") or unknown: review |
| `boardapprovaldate` | start, announced on, and the commitment's date |
| `closingdate` (`2018-07-07T00:00:00Z` or `3/30/2017 12:00:00 AM`) | end |
| `totalcommamt`, else `totalamt` (US dollars) | amount in USD, one COMMITMENT flow |
| `status`, else `projectstatusdisplay` | Active, Closed, Pipeline, Dropped: see below |
| an ICT sector or major sector | focus area ACCESS; none: CLASSIFICATION review |
| `borrower`, `impagency` | ORGANISATION review: names without identifiers |

Status: a project is Active from board approval until its loan closes (the work is under way),
Closed once it has (finished: IATI's "closed" is COMPLETED too), Pipeline before approval, and
Dropped when it was abandoned before approval (CANCELLED). Anything else is PIPELINE, noted.

Focus areas rely on sector *names*, which the API writes next to every code: "Information and
communications" (the major sector in the data's taxonomy, with its sectors "Telecommunications",
"Information technology", "General information and communications sector") and "Information and
Communications Technologies" (the major sector in the taxonomy the Bank adopted in 2016, with
"ICT Infrastructure", "ICT Services", "Other ..." and "Public Administration - ..."). These are
the names as the Bank's taxonomies give them, not seen in the data here, whose projects are
education and public administration. Of the codes only the major sector's `CX` is read (major
sector codes end in X, as `EX` Education and `BX` Public Administration in the data do): sector
codes changed between taxonomies, names are kept. Every one is ACCESS, as DAC 22020 and 22040
are in the IATI mapping. Themes are not read: they name outcomes (education for all, social
safety nets), none of them connectivity by itself.

The project is the pledge the IATI activity `44000-P…` is (the World Bank publishes each
project to IATI under that identifier): the two records are linked as one pledge, and the IATI
activity, with its transactions and results, writes it (see ``hub.imports.linking``).

Amounts: 0 is a number (:func:`parse_amount` says so) but commits nothing: no amount, noted.
The content hash is the SHA-256 of the project's canonical JSON without `VOLATILE` fields: it
changes with the project only, so a change of the hub's countries or of this mapping reaches a
pledge when its project next changes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from connectors.errors import Malformed
from connectors.framework import Reject, Work
from connectors.iati.outcomes import Gap, ReviewSubject
from connectors.values import CLASSIFICATION, cut
from hub.endorsements.models import Role
from hub.imports.records import FlowRecord, Linking, PledgeRecord, ReviewRecord
from hub.money.models import TransactionKind
from hub.pledges.models import FocusArea, ImplementationStatus, PledgeType
from hub.pledges.rules import MAX_DESCRIPTION, MAX_TITLE, PledgeDraft

SOURCE = "worldbank"
WORLD_BANK = "44000"  # the World Bank's IATI organisation identifier
CURRENCY = "USD"  # the Projects API states every amount in US dollars
VOLATILE = frozenset({"_id", "projectdocs", "docty"})
"""Left out of the hash: the store's object id, and the documents filed through a project's
life (every status report), which the pledge does not hold."""

PROJECT_ID = re.compile(r"P[0-9]{1,20}")  # P129828: "P" and a number, not a run of digits
NUMBER = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")
ISO_DATE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[T ].*)?")
US_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})(?: .*)?")
ALPHA2 = re.compile(r"[A-Z]{2}")
SECTOR_KEYS = re.compile(r"(?:mj)?sector[0-9]*|(?:mj)?sector_namecode|majorsector_percent")
ICT_MAJOR_SECTOR = "CX"
ICT_SECTORS = frozenset({
    "information and communications", "telecommunications", "information technology",
    "general information and communications sector",
    "information and communications technologies", "ict infrastructure", "ict services",
    "other information and communications technologies",
    "public administration information and communications technologies",
})  # fmt: skip
S = ImplementationStatus
STATUSES = {"active": S.IMPLEMENTATION, "closed": S.COMPLETED, "pipeline": S.PIPELINE,
            "dropped": S.CANCELLED}  # fmt: skip
AMOUNT_FIELDS = ("totalcommamt", "totalamt")
CENT = Decimal("0.01")
PLACEHOLDER_YEAR = 1900  # "1900-01-01" stands for no date
PARTIES = (("borrower", "the borrower: it receives the financing, no role in the pledge"),
           ("impagency", "the implementing agency: an IMPLEMENTER"))  # fmt: skip
UNIDENTIFIED = "named without an identifier: link it to an organisation"
COMMITTED = "the World Bank's commitment to the project at board approval: the pledged amount"


@dataclass(frozen=True, slots=True)
class WorldBankPage:
    """One page of the API: projects in the API's order, and how many match in all."""

    projects: tuple[tuple[str, Mapping[str, Any]], ...]
    total: int


def parse_page(body: bytes) -> WorldBankPage:
    """One answer of the API, or :class:`Malformed` saying what about it is not one."""
    try:  # NaN and Infinity are no JSON; ValueError is also undecodable bytes
        page = json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:
        raise Malformed(f"the answer is not JSON: {error}") from None
    if not isinstance(page, dict):
        raise Malformed(f"the answer is {_kind(page)}, not an object")
    projects = page.get("projects")
    if projects == []:  # an encoder may write an empty map as an empty array
        projects = {}
    if not isinstance(projects, dict):
        raise Malformed("the answer has no object of projects")
    total = page.get("total")
    if isinstance(total, str) and re.fullmatch(r"\s*[0-9]+\s*", total):
        total = int(total)
    if isinstance(total, float) and total.is_integer():  # JSON has numbers, not integers
        total = int(total)
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise Malformed(f"the answer's total {total!r} is not a count")
    for key, project in projects.items():
        if not isinstance(project, dict):
            raise Malformed(f"project {key!r} is {_kind(project)}, not an object")
    return WorldBankPage(tuple(projects.items()), total)


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is no JSON value")


def _kind(value: object) -> str:
    kinds = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return kinds.get(type(value), "a number")


def parse_amount(value: object) -> Decimal | None:
    """An amount as the API writes it (a number, `"1,250,000"`), None when it is none; a
    float goes through its shortest repr, so 0.1 is 0.1, not the binary fraction near it."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        amount = Decimal(repr(value))
        return amount if amount.is_finite() else None
    if isinstance(value, str) and NUMBER.fullmatch(value.strip()):
        return Decimal(value.strip().replace(",", ""))
    return None


def content_hash(project: Mapping[str, Any]) -> str:
    """The SHA-256 of the project's canonical JSON but for its volatile fields."""
    kept = {key: value for key, value in project.items() if key not in VOLATILE}
    canonical = json.dumps(kept, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def project_work(
    project_id: str, project: Mapping[str, Any], countries: Mapping[str, str], place: str
) -> Work:
    """What the hub records of one project: a pledge of the World Bank's, or why none."""
    if not PROJECT_ID.fullmatch(project_id):
        return Reject(f"UNMAPPABLE: {place}: {project_id!r} is no World Bank project id")
    said = project.get("id", project_id)
    if said != project_id:
        return Reject(f"UNMAPPABLE: {place}: project {project_id} says its id is {said!r}")
    name = _text(project, "project_name")
    if name is None:
        return Reject(f"UNMAPPABLE: {place}: project {project_id} has no project_name")
    notes: list[str] = []
    review: list[ReviewRecord] = []
    title = cut(name, MAX_TITLE, "title", notes)
    abstract = project.get("project_abstract")
    abstract = abstract.get("cdata") if isinstance(abstract, Mapping) else abstract
    abstract = abstract.strip() if isinstance(abstract, str) else ""
    description = cut(abstract, MAX_DESCRIPTION, "description", notes)
    approved = _date(project, "boardapprovaldate", notes)
    closing = _date(project, "closingdate", notes)
    if approved is not None and closing is not None and closing < approved:
        notes.append(f"the project closes ({closing}) before its approval: no end date")
        closing = None
    amount = _amount(project, notes)
    flows: tuple[FlowRecord, ...] = ()
    if amount is not None and approved is not None:
        kind = TransactionKind.COMMITMENT
        flows = (FlowRecord("commitment", kind, amount, CURRENCY, approved, True, COMMITTED, None),)
    elif amount is not None:
        notes.append("no board approval date to date the commitment by: no flow")
    places = _countries(project, countries, notes, review)
    focus = _focus(project)
    if not focus:
        notes.append("no sector is an ICT one: it needs classification")
        reason = "no sector of the project maps to a focus area: choose one"
        review.append(ReviewRecord(CLASSIFICATION, project_id, title, reason))
    review += _parties(project)
    lacking = {Gap.FOCUS_AREA: not focus, Gap.PLACE: not places, Gap.AMOUNT: amount is None}
    lacking[Gap.TARGET] = True  # the API states no targets
    return PledgeRecord(
        source=SOURCE,
        external_id=project_id,
        content_hash=content_hash(project),
        place=place,
        draft=PledgeDraft(
            title=title,
            pledge_type=PledgeType.FINANCIAL,
            description=description,
            focus_areas=focus,
            target_countries=places,
            announced_on=approved,
            start_date=approved,
            end_date=closing,
            amount=amount,
            currency=CURRENCY if amount is not None else None,
            implementation_status=_status(project, notes),
        ),
        titles=(),
        descriptions=(),
        lead_roles=(Role.FUNDER,),  # the Bank lends or grants the money it commits
        endorsers=(),
        targets=(),
        flows=flows,
        reports=(),
        review=tuple(review),
        notes=tuple(notes),
        gaps=tuple(gap.value for gap in Gap if lacking[gap]),
        reporting_org=WORLD_BANK,
        linking=Linking(
            activity_id=f"{WORLD_BANK}-{project_id}",
            reported=(amount, CURRENCY) if amount is not None else None,
        ),
    )


def _text(project: Mapping[str, Any], field: str) -> str | None:
    value = project.get(field)
    return (value.strip() or None) if isinstance(value, str) else None


def _date(project: Mapping[str, Any], field: str, notes: list[str]) -> date | None:
    """The date of an ISO (`2018-07-07T00:00:00Z`) or US (`3/30/2017 12:00:00 AM`) stamp."""
    raw = project.get(field)
    if raw is None or raw == "":
        return None
    text = raw.strip() if isinstance(raw, str) else ""
    iso, us = ISO_DATE.fullmatch(text), US_DATE.fullmatch(text)
    try:
        found = date.fromisoformat(iso[1]) if iso else None
        found = date(int(us[3]), int(us[1]), int(us[2])) if us else found
    except ValueError:
        found = None
    if found is None or found.year <= PLACEHOLDER_YEAR:
        what = "a placeholder" if found else "no date"
        notes.append(f"{field} {raw!r} is {what}: dropped")
        return None
    return found


def _amount(project: Mapping[str, Any], notes: list[str]) -> Decimal | None:
    """The first amount field above zero, in cents; each one passed over is noted."""
    for field in AMOUNT_FIELDS:
        raw = project.get(field)
        value = parse_amount(raw)
        try:
            cents = value.quantize(CENT, ROUND_HALF_EVEN) if value is not None else None
        except InvalidOperation:  # more digits than a Decimal context holds
            cents, why = None, "is beyond what the hub holds"
        else:
            why = "is not a number" if cents is None else "commits nothing"
        if cents is not None and cents > 0:
            if cents != value:
                notes.append(f"{field} {raw!r} rounded to {cents}, whole cents")
            return cents
        if raw is not None and raw != "":
            notes.append(f"{field} {raw!r} {why}: no amount from it")
    return None


def _countries(
    project: Mapping[str, Any],
    countries: Mapping[str, str],
    notes: list[str],
    review: list[ReviewRecord],
) -> tuple[str, ...]:
    code = _text(project, "countrycode")
    name = _text(project, "countryname") or _text(project, "countryshortname")
    alpha3 = countries.get(code.upper()) if code else None
    if alpha3 is not None:
        return (alpha3,)
    if code is None and name is None:
        notes.append("no countrycode: no target country")
        return ()
    region = code is not None and not ALPHA2.fullmatch(code.upper())
    subject = ReviewSubject.REGION if region else ReviewSubject.COUNTRY
    reason = "no country code" if code is None else "not a country the hub knows"
    reason = "no ISO country code: a region, or several countries" if region else reason
    notes.append(f"countrycode {code!r} ({name or 'no name'}): {reason}, no target country")
    review.append(ReviewRecord(subject.value, (code or name or "")[:300], name or "", reason))
    return ()


def _focus(project: Mapping[str, Any]) -> tuple[FocusArea, ...]:
    """ACCESS when a sector or major sector is an ICT one, by name or major sector code."""
    for key, value in project.items():
        if not SECTOR_KEYS.fullmatch(key):
            continue
        for entry in value if isinstance(value, list) else [value]:
            if not isinstance(entry, Mapping):
                continue
            name = str(entry.get("Name", entry.get("name")))
            plain = " ".join(re.findall(r"[a-z0-9]+", name.lower()))
            major = key == "mjsector_namecode" and entry.get("code") == ICT_MAJOR_SECTOR
            if plain in ICT_SECTORS or major:
                return (FocusArea.ACCESS,)
    return ()


def _status(project: Mapping[str, Any], notes: list[str]) -> ImplementationStatus:
    said = _text(project, "status") or _text(project, "projectstatusdisplay")
    status = STATUSES.get(said.lower()) if said else None
    if status is None:
        notes.append(
            f"status {said!r} is not one the hub reads: PIPELINE" if said else "no status: PIPELINE"
        )
    return status or ImplementationStatus.PIPELINE


def _parties(project: Mapping[str, Any]) -> list[ReviewRecord]:
    """The borrower and the implementing agency, for a person to link: the API names them
    without identifiers. One item per name (a ministry may be both)."""
    roles: dict[str, list[str]] = {}
    for field, role in PARTIES:
        name = _text(project, field)
        if name is not None:
            roles.setdefault(name, []).append(role)
    subject = ReviewSubject.ORGANISATION.value
    return [
        ReviewRecord(subject, name[:300], name, f"{'; '.join(said)}; {UNIDENTIFIED}")
        for name, said in roles.items()
    ]
