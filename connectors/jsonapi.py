"""Operators' JSON APIs into the hub: a declarative mapping from their records to pledges.

Pure (no I/O, no database): the connector fetches the pages; this module says where the
records, the next page and each pledge field are, and what a record becomes for the
framework. The secretariat writes the mapping (the object under ``"mapping"`` in the
connector's configuration) and :func:`compile_mapping` checks all of it on save::

    {"records": "data",                    # the list of records in a page (required)
     "next": "links.next",                 # the next page's link, absolute or relative; or
     "cursor": null, "cursorParam": null,  # the next cursor, sent as this query parameter
     "sinceParam": "updated_since",        # optional: asks for records changed since the watermark
     "fields": {"id": "id", "title": "attributes.name",              # both required
                "description": "…", "type": "…", "status": "…", "focusAreas": "…",
                "countries": "…", "amount": "…", "currency": "…",
                "startDate": "…", "endDate": "…", "announcedOn": "…", "updated": "…"},
     "values": {"type": {"capex": "FINANCIAL"}, "status": {"live": "IMPLEMENTATION"},
                "focusAreas": {"coverage": "ACCESS", "inclusion": ["ACCESS", "ADOPTION"]},
                "indicator": {"pop4g": "PEOPLE_CONNECTED"}, "measure": {…}, "direction": {…}},
     "targets": {"list": "attributes.kpis", "key": "code",           # both required
                 "label": "name", "description": "…", "indicator": "indicator",
                 "unit": "unit", "measure": "…", "direction": "…", "cumulative": "…",
                 "baseline": "baseline", "baselineDate": "baselineDate",
                 "target": "goal", "deadline": "due"},
     "progress": {"list": "attributes.reports", "start": "from", "end": "to",  # required
                  "key": "…", "narrative": "text", "values": "measures",
                  "valueTarget": "kpi", "value": "value", "valueNote": "comment"}}

Expressions are JMESPath, or JSON pointers when they start with ``/`` (RFC 6901, resolved
here: no library for them is installed); ``targets`` and ``progress`` entries are read from one
item of their ``list``, ``value*`` from one entry of a report's ``values``. Null, missing and
blank are absent; one value where a list is expected is a list of one. Give ``next`` or
``cursor`` (with ``cursorParam``), not both. A next link to another origin (scheme, host,
port) or to the page itself, and a cursor the page was asked with, are ``Malformed``: the
partner's token goes nowhere else, and paging ends. ``updated`` is the record's last change
for the since-watermark (ISO 8601, a time without offset read as UTC; unreadable, it is
None and the record is read).

A word goes through its ``values`` table (``focusAreas`` may map to a list, or to none), else
it must be the hub's own value. Rejected, ``UNMAPPABLE: <field>: <why>`` (``targets[2].key``,
``progress[1].values[3].value``, counted from 1): no id or title, a type, status, focus area,
measure or direction no table knows, a date that is not ISO 8601, a number that is not one
(or beyond 10^30), a target without key or with another's key, ``cumulative`` that is no
boolean, and money the hub cannot hold (no ISO 4217 currency, no currency, nothing above zero
once rounded, 10^15 minor units or more). Left out with a note, as the pledge stands without
them: a country the hub does not know (with a COUNTRY review item), a currency without an
amount, a report without its period, a value for no target or a second for one, a qualitative
target's values. A record with no focus area gets a CLASSIFICATION review item, a quantitative
target without a target value an INDICATOR one instead of a place among the targets; gaps are
named as the hub's submit check names them (AMOUNT only for FINANCIAL pledges). Texts too long
for the hub are cut, noted.

Defaults: type FINANCIAL when the record states an amount, else PROGRAMMATIC (noted when the
mapping reads a type the record lacks); status PIPELINE; announced on the day the hub first
records it. Targets: indicator OTHER, labelled with the label else the key, for a word no table
knows (operators' KPIs are their own); unit ``units``; QUANTITATIVE, ASCENDING, cumulative (a
KPI is reported as a level). A report's key is ``<start>/<end>`` unless mapped; a reported
value in words is kept as its note. Numbers are ``Decimal(str(value))``, never float
arithmetic; an amount is rounded half-even to its currency's minor unit (noted) and makes a
counted COMMITMENT flow keyed ``commitment``, dated ``announcedOn`` else ``startDate``. The
content hash is the SHA-256 of the mapped record's canonical JSON, without ``place``: fields
the mapping does not read, and ``updated``, never cause a rewrite.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import partial
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import jmespath
from jmespath.exceptions import JMESPathError

from connectors.errors import Malformed
from connectors.framework import Reject, Work
from connectors.iati.outcomes import Gap, ReviewSubject
from connectors.values import CLASSIFICATION, content_hash, cut
from hub.errors import InvalidInput
from hub.imports.records import (
    FlowRecord,
    PledgeRecord,
    ReportRecord,
    ReviewRecord,
    TargetRecord,
    ValueRecord,
)
from hub.money.amounts import MAX_AMOUNT_MINOR, MAX_DIGITS
from hub.money.currencies import get_currency
from hub.money.models import TransactionKind
from hub.pledges.models import (
    Direction,
    FocusArea,
    ImplementationStatus,
    Indicator,
    Measure,
    PledgeType,
)
from hub.pledges.rules import (
    MAX_DESCRIPTION,
    MAX_LABEL,
    MAX_TARGET_DESCRIPTION,
    MAX_TITLE,
    MAX_UNIT,
    PledgeDraft,
    TargetDraft,
)
from hub.progress.rules import MAX_NARRATIVE, MAX_NOTE

SOURCE = "jsonapi"
MAX_ID = 400  # the source record's key holds 500, with room for "#commitment" and report keys
COMMITTED = "the operator's stated budget: the pledged amount"

UNHASHED = frozenset({"place", "content_hash"})
"""Where a record was read, and its hash, are not what it says."""
TOP: tuple[str, ...] = ("records", "next", "cursor", "cursorParam", "sinceParam", "fields")
TOP += ("values", "targets", "progress")
FIELDS: tuple[str, ...] = ("id", "title", "description", "type", "status", "focusAreas")
FIELDS += ("countries", "amount", "currency", "startDate", "endDate", "announcedOn", "updated")
TARGET: tuple[str, ...] = ("list", "key", "label", "description", "indicator", "unit")
TARGET += ("measure", "direction", "cumulative", "baseline", "baselineDate", "target", "deadline")
PROGRESS: tuple[str, ...] = ("list", "key", "start", "end", "narrative", "values")
PROGRESS += ("valueTarget", "value", "valueNote")
TABLES: dict[str, type[enum.StrEnum]] = {
    "type": PledgeType,
    "status": ImplementationStatus,
    "focusAreas": FocusArea,
    "indicator": Indicator,
    "measure": Measure,
    "direction": Direction,
}
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
INDEX = re.compile(r"0|[1-9][0-9]*")
DATES = {"startDate", "endDate", "announcedOn", "baselineDate", "deadline", "start", "end"}
NUMBERS = {"baseline", "target"}
TEXTS = {"title", "description", "key", "label", "unit", "narrative", "valueTarget", "valueNote"}
E = TypeVar("E", bound=enum.StrEnum)
OTHER, QUANTITATIVE = Indicator.OTHER, Measure.QUANTITATIVE


@dataclass(frozen=True, slots=True)
class Expr:
    """A compiled expression with its text, for messages."""

    text: str
    search: Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class JsonMapping:
    """A checked mapping: compiled expressions, and each table's words to hub values."""

    records: Expr
    next: Expr | None
    cursor: Expr | None
    cursor_param: str | None
    since_param: str | None
    """The query parameter the first page asks for records changed since the watermark by."""
    fields: Mapping[str, Expr]
    values: Mapping[str, Mapping[str, tuple[str, ...]]]
    targets: Mapping[str, Expr] | None
    progress: Mapping[str, Expr] | None


# The mapping


def _bad(path: Sequence[str], message: str) -> InvalidInput:
    return InvalidInput(message, code="BAD_MAPPING", field=("mapping", *path))


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _object(value: object, path: Sequence[str], allowed: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _bad(path, f"an object is expected, not {_kind(value)}")
    for key in value:
        if key not in allowed:
            raise _bad((*path, str(key)), f"unknown entry {key!r}: one of {', '.join(allowed)}")
    return value


def _resolve(tokens: tuple[str, ...], document: Any) -> Any:
    """A JSON pointer's value, or None where it leads nowhere (as JMESPath answers)."""
    node = document
    for token in tokens:
        if isinstance(node, Mapping) and token in node:
            node = node[token]
        elif isinstance(node, list) and INDEX.fullmatch(token) and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node


def _expr(value: object, path: Sequence[str], required: bool = False) -> Expr | None:
    if value is None:
        if required:
            raise _bad(path, "required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise _bad(path, "a JMESPath expression, or a JSON pointer starting with /, is a string")
    if value.startswith("/"):
        tokens = value.split("/")[1:]
        if any(re.search("~(?![01])", token) for token in tokens):
            raise _bad(path, f"{value!r}: in a JSON pointer ~ is followed by 0 or 1 (RFC 6901)")
        unescaped = tuple(t.replace("~1", "/").replace("~0", "~") for t in tokens)
        return Expr(value, partial(_resolve, unescaped))
    try:
        compiled = jmespath.compile(value)
    except JMESPathError as error:
        why = str(error).splitlines()[0].removesuffix(", for expression:")
        raise _bad(path, f"{value!r} is no JMESPath expression: {why}") from None
    return Expr(value, compiled.search)


def _section(
    config: Mapping[str, Any], name: str, allowed: Sequence[str], required: Sequence[str]
) -> dict[str, Expr] | None:
    if config.get(name) is None:
        return None
    section = _object(config[name], (name,), allowed)
    exprs = {key: _expr(section.get(key), (name, key), key in required) for key in allowed}
    return {key: expr for key, expr in exprs.items() if expr is not None}


def _tables(config: Mapping[str, Any]) -> dict[str, dict[str, tuple[str, ...]]]:
    tables: dict[str, dict[str, tuple[str, ...]]] = {}
    for name, table in _object(config.get("values") or {}, ("values",), tuple(TABLES)).items():
        allowed = [member.value for member in TABLES[name]]
        if not isinstance(table, Mapping):
            raise _bad(("values", name), f"an object is expected, not {_kind(table)}")
        entries = tables.setdefault(name, {})
        for word, said in table.items():
            hub = said if name == "focusAreas" and isinstance(said, list) else [said]
            for value in hub:
                if value not in allowed:
                    raise _bad(
                        ("values", name, word),
                        f"{value!r} is no {name} value of the hub: one of {', '.join(allowed)}",
                    )
            entries[word] = tuple(hub)
    return tables


def compile_mapping(config: Mapping[str, Any]) -> JsonMapping:
    """The mapping ``config`` states, checked whole: an ``InvalidInput`` (``BAD_MAPPING``)
    names the first entry that is wrong, so the secretariat learns it on save, not mid-run."""
    config = _object(config, (), TOP)
    records = _expr(config.get("records"), ("records",), required=True)
    next_link = _expr(config.get("next"), ("next",))
    cursor = _expr(config.get("cursor"), ("cursor",))
    if next_link is None and cursor is None:
        raise _bad(("next",), "required: next (where the next link is) or cursor")
    if next_link is not None and cursor is not None:
        raise _bad(("cursor",), "give next or cursor, not both")
    param = config.get("cursorParam")
    if cursor is not None and (not isinstance(param, str) or not param.strip()):
        raise _bad(("cursorParam",), "required with cursor: the query parameter it is sent as")
    since = config.get("sinceParam")
    if since is not None and (not isinstance(since, str) or not since.strip()):
        raise _bad(("sinceParam",), "the query parameter a change time is asked by, or null")
    fields = _section(config, "fields", FIELDS, ("id", "title"))
    if since is not None and (fields is None or "updated" not in fields):
        raise _bad(("fields", "updated"), "required with sinceParam: each record's last change")
    if fields is None:
        raise _bad(("fields",), "required")
    progress = _section(config, "progress", PROGRESS, ("list", "start", "end"))
    targets = _section(config, "targets", TARGET, ("list", "key"))
    if progress is not None and "values" in progress:
        if "valueTarget" not in progress:
            raise _bad(("progress", "valueTarget"), "required with values: the target it is of")
        if "value" not in progress and "valueNote" not in progress:
            raise _bad(("progress", "value"), "required with values: value or valueNote")
        if targets is None:
            raise _bad(("targets",), "required with progress values: the targets they are of")
    assert records is not None
    return JsonMapping(
        records, next_link, cursor, param if cursor else None, since, fields, _tables(config),
        targets, progress,
    )  # fmt: skip


# Pages


def _on_page(expr: Expr, page: Any) -> Any:
    try:
        return expr.search(page)
    except JMESPathError as error:
        raise Malformed(f"{expr.text!r} cannot be read on this page: {error}") from None


def page_records(page: Any, mapping: JsonMapping) -> list[Any]:
    """The records of one page; anything but a list means the API answered something else."""
    records = _on_page(mapping.records, page)
    if not isinstance(records, list):
        raise Malformed(f"the records at {mapping.records.text!r} are {_kind(records)}, not a list")
    return records


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:
        raise Malformed(f"{url!r} has no valid port") from None
    return parts.scheme.lower(), parts.hostname, port


def next_request(
    page: Any, mapping: JsonMapping, page_url: str
) -> tuple[str, dict[str, str]] | None:
    """The next page's URL and query parameters; None when the API says there is no more.
    A link to another origin, or back to this very page, is refused (a token sent elsewhere,
    a run that never ends)."""
    if mapping.next is not None:
        link = _on_page(mapping.next, page)
        if link is None or link == "":
            return None
        if not isinstance(link, str):
            raise Malformed(f"the next link at {mapping.next.text!r} is {_kind(link)}, not a URL")
        url = urljoin(page_url, link.strip())
        if _origin(url) != _origin(page_url) or _origin(url)[0] not in ("http", "https"):
            raise Malformed(f"the next link {link!r} leads away from {_origin(page_url)[1]}")
        if url == page_url:
            raise Malformed(f"the next link {link!r} is this page's own: the paging never ends")
        return url, {}
    assert mapping.cursor is not None
    assert mapping.cursor_param is not None
    cursor = _on_page(mapping.cursor, page)
    if cursor is None or cursor == "":
        return None
    if isinstance(cursor, bool) or not isinstance(cursor, str | int):
        raise Malformed(f"the cursor at {mapping.cursor.text!r} is {_kind(cursor)}")
    parts = urlsplit(page_url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if (mapping.cursor_param, str(cursor)) in query:
        raise Malformed(f"the cursor {cursor!r} is this page's own: the paging never ends")
    kept = urlencode([(key, value) for key, value in query if key != mapping.cursor_param])
    return urlunsplit(parts._replace(query=kept)), {mapping.cursor_param: str(cursor)}


def record_updated(item: Any, mapping: JsonMapping) -> datetime | None:
    """When the record last changed (UTC; a time without offset is read as UTC); None when
    the mapping or the record does not say, or not in ISO 8601: then it is always read."""
    expr = mapping.fields.get("updated")
    try:
        raw = _on_item(expr, item, "updated") if expr else None
        moment = datetime.fromisoformat(raw.strip()) if isinstance(raw, str) else None
    except (_Unmappable, ValueError):
        return None
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


# Records


class _Unmappable(Exception):
    """A record the mapping cannot take, and the field that is why."""


def _on_item(expr: Expr, item: Any, field: str) -> Any:
    try:
        return expr.search(item)
    except JMESPathError as error:
        raise _Unmappable(f"{field}: {expr.text!r} cannot be read: {error}") from None


def _many(raw: Any) -> list[Any]:
    return [] if raw is None else raw if isinstance(raw, list) else [raw]


def _text(raw: Any, field: str) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise _Unmappable(f"{field}: {_kind(raw)} is not text")
    return str(raw).strip() or None


def _number(raw: Any, field: str) -> Decimal | None:
    """Exact: a JSON number read by ``str`` (``0.1`` is 0.1, ``1e-7`` is 1E-7), never float
    arithmetic."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        raise _Unmappable(f"{field}: {_kind(raw)} is not a number")
    text = str(raw).strip()
    if not NUMBER.fullmatch(text):
        raise _Unmappable(f"{field}: {raw!r} is not a number")
    value = Decimal(text)
    if not value.is_zero() and abs(value.adjusted()) > MAX_DIGITS:
        raise _Unmappable(f"{field}: {text} is beyond any number the hub holds")
    return value if not value.is_zero() else Decimal(0)


def _date(raw: Any, field: str) -> date | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, str):
        for parse in (date.fromisoformat, lambda text: datetime.fromisoformat(text).date()):
            try:
                return parse(raw.strip())
            except ValueError:
                pass
    raise _Unmappable(f"{field}: {raw!r} is not an ISO 8601 date")


def record_work(
    item: Any,
    mapping: JsonMapping,
    countries: Mapping[str, str],
    *,
    source: str,
    reporting_org: str,
    place: str,
) -> tuple[str | None, Work]:
    """One record as the framework's work: its id and a pledge, or a rejection naming the
    field. Never raises for what the record holds: a bad record is a dead letter."""
    try:
        external_id = _text(_on_item(mapping.fields["id"], item, "id"), "id")
    except _Unmappable as error:
        return None, Reject(f"UNMAPPABLE: {error}")
    if external_id is None:
        return None, Reject("UNMAPPABLE: id: missing")
    if len(external_id) > MAX_ID:
        return None, Reject(f"UNMAPPABLE: id: {len(external_id)} characters, at most {MAX_ID}")
    try:
        record = _Mapper(mapping, countries).record(item, external_id, source, reporting_org)
    except _Unmappable as error:
        return external_id, Reject(f"UNMAPPABLE: {error}")
    record = dataclasses.replace(record, place=place)
    return external_id, dataclasses.replace(record, content_hash=content_hash(record, UNHASHED))


def _read(exprs: Mapping[str, Expr], item: Any, at: str, names: Sequence[str]) -> dict[str, Any]:
    """The named entries of ``item``: texts, dates and numbers converted, the rest as found."""
    said: dict[str, Any] = {}
    for name in names:
        raw = _on_item(exprs[name], item, at + name) if name in exprs else None
        convert = _date if name in DATES else _number if name in NUMBERS else _text
        said[name] = convert(raw, at + name) if name in DATES | NUMBERS | TEXTS else raw
    return said


class _Mapper:
    """Maps one record, gathering the notes and review items on the way."""

    def __init__(self, mapping: JsonMapping, countries: Mapping[str, str]) -> None:
        self.mapping, self.countries = mapping, countries
        self.notes: list[str] = []
        self.review: list[ReviewRecord] = []

    def _words(
        self, table: str, kind: type[E], raw: Any, field: str, other: E | None = None
    ) -> list[E]:
        """The hub values a word stands for: through its table, else the hub's own value,
        else ``other``; none of these makes the record unmappable."""
        word = _text(raw, field)
        said = self.mapping.values.get(table, {}).get(word or "")
        if word is None or said is not None:
            return [kind(value) for value in said or ()]
        if word in kind.__members__.values():
            return [kind(word)]
        if other is not None:
            return [other]
        raise _Unmappable(f"{field}: {word!r} is not in values.{table} nor a hub value")

    def _one(
        self, table: str, kind: type[E], raw: Any, field: str, other: E | None = None
    ) -> E | None:
        return next(iter(self._words(table, kind, raw, field, other)), None)

    def _list(self, name: str, spec: Mapping[str, Expr] | None, item: Any) -> list[tuple[str, Any]]:
        """The items of a ``targets`` or ``progress`` list, each with its place for reasons."""
        found = _on_item(spec["list"], item, f"{name}.list") if spec else None
        return [(f"{name}[{n}].", raw) for n, raw in enumerate(_many(found), 1)]

    def record(self, item: Any, external_id: str, source: str, reporting_org: str) -> PledgeRecord:
        v, notes = _read(self.mapping.fields, item, "", FIELDS[1:-1]), self.notes
        if v["title"] is None:
            raise _Unmappable("title: missing")
        money = self._amount(v["amount"], v["currency"])
        pledge_type = self._one("type", PledgeType, v["type"], "type")
        if pledge_type is None:
            pledge_type = PledgeType.FINANCIAL if money else PledgeType.PROGRAMMATIC
            if "type" in self.mapping.fields:
                notes.append(f"no type: {pledge_type.value}, by whether it states an amount")
        focus: dict[FocusArea, None] = {}
        for raw in _many(v["focusAreas"]):
            focus.update(dict.fromkeys(self._words("focusAreas", FocusArea, raw, "focusAreas")))
        status = self._one("status", ImplementationStatus, v["status"], "status")
        countries = self._places(v["countries"])
        targets = self._targets(item)
        flows: tuple[FlowRecord, ...] = ()
        if money and (dated := v["announcedOn"] or v["startDate"]):
            kind = TransactionKind.COMMITMENT
            flows = (FlowRecord("commitment", kind, *money, dated, True, COMMITTED, None),)
        elif money:
            notes.append("no announcement or start date to date the commitment flow by")
        if not focus:
            reason = "the record states no focus area the mapping knows: choose one"
            self.review.append(
                ReviewRecord(CLASSIFICATION, external_id[:300], v["title"][:300], reason)
            )
        missing = {
            Gap.FOCUS_AREA: not focus,
            Gap.PLACE: not countries,
            Gap.TARGET: all(t.draft.target_value is None or not t.draft.deadline for t in targets),
            Gap.AMOUNT: pledge_type is PledgeType.FINANCIAL and not money,
        }
        draft = PledgeDraft(
            title=cut(v["title"], MAX_TITLE, "title", notes),
            pledge_type=pledge_type,
            description=cut(v["description"] or "", MAX_DESCRIPTION, "description", notes),
            focus_areas=tuple(focus),
            target_countries=countries,
            announced_on=v["announcedOn"],
            start_date=v["startDate"],
            end_date=v["endDate"],
            amount=money[0] if money else None,
            currency=money[1] if money else None,
            implementation_status=status or ImplementationStatus.PIPELINE,
        )
        reports = self._reports(item, {target.key for target in targets})
        gaps = tuple(gap.value for gap, lacking in missing.items() if lacking)
        return PledgeRecord(
            source, external_id, "", "", draft, (), (), (), (), targets, flows, reports,
            tuple(self.review), tuple(notes), gaps, reporting_org,
        )  # fmt: skip

    def _amount(self, raw: Any, code: Any) -> tuple[Decimal, str] | None:
        """A positive amount, rounded half-even to its currency's minor unit (noted)."""
        value, currency = _number(raw, "amount"), _text(code, "currency")
        if value is None:
            if currency is not None:
                self.notes.append(f"currency: {currency} without an amount, left out")
            return None
        if currency is None:
            raise _Unmappable("currency: missing, and the amount needs one")
        try:
            exponent = get_currency(currency := currency.upper()).exponent
        except InvalidInput:
            raise _Unmappable(f"currency: {currency!r} is no ISO 4217 currency") from None
        if value.scaleb(exponent) >= MAX_AMOUNT_MINOR:
            raise _Unmappable(f"amount: {value} {currency} is more than the hub holds")
        rounded = value.quantize(Decimal(1).scaleb(-exponent), ROUND_HALF_EVEN)
        if rounded <= 0:
            raise _Unmappable(f"amount: {value} {currency} is not above zero")
        if rounded != value:
            self.notes.append(f"amount: {value} rounded to {rounded}, the currency's minor unit")
        return rounded, currency

    def _places(self, codes: Any) -> tuple[str, ...]:
        """Countries by alpha-3 or alpha-2 code; one the hub does not know is noted and listed
        for review, and the pledge goes on without it."""
        known, found = set(self.countries.values()), dict[str, None]()
        for raw in _many(codes):
            code = raw.strip().upper() if isinstance(raw, str) else ""
            alpha3 = self.countries.get(code, "") if len(code) == 2 else code
            if alpha3 in known:
                found[alpha3] = None
                continue
            said = raw.strip() if isinstance(raw, str) else repr(raw)
            self.notes.append(f"countries: {said!r} is not a country the hub knows, left out")
            why = f"{said!r} is not a country code the hub knows"
            self.review.append(ReviewRecord(ReviewSubject.COUNTRY, said[:300], "", why))
        return tuple(found)

    def _targets(self, item: Any) -> tuple[TargetRecord, ...]:
        records: dict[str, TargetRecord] = {}
        for at, raw in self._list("targets", self.mapping.targets, item):
            assert self.mapping.targets is not None
            t = _read(self.mapping.targets, raw, at, TARGET[1:])
            if t["key"] is None or t["key"] in records:
                said = "missing" if t["key"] is None else f"{t['key']!r} again"
                raise _Unmappable(f"{at}key: {said}, and reports name a target by its key")
            if (target := self._target(t, at)) is not None:
                records[t["key"]] = TargetRecord(t["key"], target)
        return tuple(records.values())

    def _target(self, t: dict[str, Any], at: str) -> TargetDraft | None:
        notes, label = self.notes, t["label"] or t["key"]
        indicator = self._one("indicator", Indicator, t["indicator"], at + "indicator", OTHER)
        measure = self._one("measure", Measure, t["measure"], at + "measure") or QUANTITATIVE
        direction = self._one("direction", Direction, t["direction"], at + "direction")
        if t["cumulative"] is not None and not isinstance(t["cumulative"], bool):
            raise _Unmappable(f"{at}cumulative: {t['cumulative']!r} is not true or false")
        baseline, value, description = t["baseline"], t["target"], t["description"]
        if measure is Measure.QUALITATIVE:
            if baseline is not None or value is not None:
                notes.append(f"{at[:-1]}: a qualitative target keeps no values, left out")
            baseline, value, description = None, None, description or label
        elif value is None:
            why = f"{t['key']}: no target value, which a quantitative target needs"
            self.review.append(ReviewRecord(ReviewSubject.INDICATOR, t["key"][:300], label, why))
            return None
        if description:
            description = cut(description, MAX_TARGET_DESCRIPTION, at + "description", notes)
        return TargetDraft(
            indicator=indicator or OTHER,
            unit=cut(t["unit"] or "units", MAX_UNIT, at + "unit", notes),
            measure=measure,
            direction=direction or Direction.ASCENDING,
            cumulative=t["cumulative"] is not False,
            label=cut(label, MAX_LABEL, at + "label", notes),
            description=description,
            baseline_value=baseline,
            baseline_date=t["baselineDate"],
            target_value=value,
            deadline=t["deadline"],
        )

    def _reports(self, item: Any, targets: set[str]) -> tuple[ReportRecord, ...]:
        records: dict[str, ReportRecord] = {}
        for at, raw in self._list("progress", self.mapping.progress, item):
            assert self.mapping.progress is not None
            r = _read(self.mapping.progress, raw, at, PROGRESS[1:6])
            start, end = r["start"], r["end"]
            if start is None or end is None:
                self.notes.append(f"{at[:-1]}: a report without its period, left out")
                continue
            key = said = r["key"] or f"{start}/{end}"
            while key in records:
                key = f"{said}#{sum(k.startswith(f'{said}#') for k in records) + 2}"
            narrative = r["narrative"] or f"Progress from {start} to {end}, as published."
            narrative = cut(narrative, MAX_NARRATIVE, at + "narrative", self.notes)
            values = self._values(r["values"], at, targets)
            records[key] = ReportRecord(key, start, end, narrative, values=values)
        return tuple(records.values())

    def _values(self, said: Any, at: str, targets: set[str]) -> tuple[ValueRecord, ...]:
        """What a report says of each target; words where a number was expected are kept as
        the value's note, as the hub holds a value in words."""
        assert self.mapping.progress is not None
        values: dict[str, ValueRecord] = {}
        for n, raw in enumerate(_many(said), 1):
            where = f"{at}values[{n}]."
            v = _read(self.mapping.progress, raw, where, PROGRESS[-3:])
            target, value, note = v["valueTarget"], None, v["valueNote"]
            if target not in targets or target in values:
                why = "a second value for" if target in values else "no target is keyed"
                self.notes.append(f"{where[:-1]}: {why} {target!r}, left out")
                continue
            try:
                value = _number(v["value"], where + "value")
            except _Unmappable:
                note = "; ".join(p for p in (_text(v["value"], where + "value"), note) if p)
            if value is None and not note:
                self.notes.append(f"{where[:-1]}: neither a value nor a note, left out")
                continue
            values[target] = ValueRecord(target, value, note[:MAX_NOTE] if note else None)
        return tuple(values.values())
