"""The public pledge graph rendered as JSON by PostgreSQL, one statement a request.

The compiled fast path (``schema.fastpath``) hands over what an anonymous operation selects,
as a tree of ``Selected`` fields in the schema's names; this module turns it into SQL that
builds the response's JSON with ``json_build_object``/``json_agg`` (as PostGraphile does),
and runs it. Anything it does not render raises ``Unsupported``, and the operation is then
answered by the ordinary resolvers, which remain the reference: the tests run every public
query both ways and require the same JSON.

The visibility rule is the public one, from ``hub.visibility`` itself: which pledges are seen
comes from ``pledge_visible(PUBLIC)`` and the filters of ``hub.pledges.queries``; under a
pledge it admitted, what counts of its endorsements and reports from ``endorsement_counts``
and ``report_measures``, compiled onto this module's table aliases.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Text,
    cast,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.util import ClauseAdapter

from hub.endorsements.models import Endorsement
from hub.imports.models import counted_amount, counted_usd
from hub.organisations.models import Organisation
from hub.pledges.models import Direction, Measure
from hub.pledges.models import Pledge as PledgeModel
from hub.pledges.queries import PledgeFilter, PledgeOrder, conditions, order_clauses
from hub.progress.models import ProgressReport
from hub.stats import StatsGroupBy, key_query
from hub.visibility import PUBLIC, endorsement_counts, pledge_visible, report_measures

MAX_KEYS = 50
"""PostgreSQL functions take at most 100 arguments: a key and a value for each of 50 fields."""


class Unsupported(Exception):
    """A selection this module does not render; the resolvers answer the operation."""


@dataclass(frozen=True, slots=True)
class Selected:
    """A field an operation selects: its response key, its name in the schema, and what it
    selects in turn (empty for a scalar)."""

    key: str
    name: str
    fields: tuple[Selected, ...] = ()


def _rule(model: Any, alias: str, rule: ColumnElement[bool]) -> str:
    """A condition of ``hub.visibility`` as SQL on the row ``alias`` of ``model``'s table."""
    adapted = ClauseAdapter(model.__table__.alias(alias)).traverse(rule)
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return f"({adapted.compile(dialect=dialect, compile_kwargs={'literal_binds': True})})"


def _public_pledge(alias: str) -> str:
    return _rule(PledgeModel, alias, pledge_visible(PUBLIC))


def _endorsement_counts(alias: str) -> str:
    return _rule(Endorsement, alias, endorsement_counts())


def _report_measures(alias: str) -> str:
    return _rule(ProgressReport, alias, report_measures())


EMPTY = "'[]'::json"


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _global_id(type_name: str, column: str) -> str:
    return f"encode(convert_to({_text(type_name + ':')} || {column}, 'UTF8'), 'base64')"


def _plain(column: str) -> str:
    """A decimal as ``schema.common.plain`` writes it: no trailing zeros."""
    return f"trim_scale({column})::text"


def _major(minor: str, exponent: str) -> str:
    return f"round({minor}::numeric / (10::numeric ^ {exponent}), {exponent})::text"


class _Names:
    """Fresh table aliases, so that nested subqueries never shadow one another."""

    def __init__(self) -> None:
        self._count = itertools.count()

    def __call__(self, stem: str) -> str:
        return f"{stem}{next(self._count)}"


Scalar = Callable[[str], str]
Nested = Callable[[str, tuple[Selected, ...], _Names], str]


def _object(
    type_name: str,
    scalars: dict[str, Scalar],
    nested: dict[str, Nested],
    alias: str,
    fields: tuple[Selected, ...],
    names: _Names,
) -> str:
    if len(fields) > MAX_KEYS:
        raise Unsupported(f"more than {MAX_KEYS} fields of one {type_name}")
    parts = []
    for field in fields:
        if field.name == "__typename":
            value = _text(type_name)
        elif field.name in scalars and not field.fields:
            value = scalars[field.name](alias)
        elif field.name in nested and field.fields:
            value = nested[field.name](alias, field.fields, names)
        else:
            raise Unsupported(f"{type_name}.{field.name}")
        parts.append(f"{_text(field.key)}, {value}")
    return f"json_build_object({', '.join(parts)})"


def _list(element: str, source: str, order: str) -> str:
    return f"COALESCE((SELECT json_agg({element} ORDER BY {order}) {source}), {EMPTY})"


def _column(name: str) -> Scalar:
    return lambda alias: f"{alias}.{name}"


COUNTRY: dict[str, Scalar] = {
    "id": lambda c: _global_id("Country", f"{c}.alpha3"),
    "alpha3": _column("alpha3"),
    "alpha2": _column("alpha2"),
    "numeric": _column("numeric"),
    "name": _column("name"),
}

ORGANISATION: dict[str, Scalar] = {
    "id": lambda o: _global_id("Organisation", f"{o}.id"),
    "name": _column("name"),
    "organisationType": _column("organisation_type"),
    "iatiIdentifier": _column("iati_identifier"),
    "website": _column("website"),
    "membershipStatus": _column("membership_status"),
}


def _organisation(key: str) -> Nested:
    def render(alias: str, fields: tuple[Selected, ...], names: _Names) -> str:
        o = names("o")
        built = _object("Organisation", ORGANISATION, {}, o, fields, names)
        return f"(SELECT {built} FROM organisations {o} WHERE {o}.id = {alias}.{key})"

    return render


def _latest_value(t: str, names: _Names) -> str:
    """``Target.latestValue`` (``hub.progress.measures.reached``) from the reports that count."""
    v, r = names("v"), names("r")
    counted = (
        f"FROM progress_values {v} JOIN progress_reports {r} ON {r}.id = {v}.report_id "
        f"WHERE {v}.target_id = {t}.id AND {_report_measures(r)} "
        f"AND {v}.value IS NOT NULL"
    )
    return f"""CASE
  WHEN {t}.measure = {_text(Measure.QUALITATIVE.value)} THEN NULL
  WHEN {t}.cumulative THEN (SELECT {_plain(f"{v}.value")} {counted}
    ORDER BY {r}.period_end DESC, {r}.id DESC LIMIT 1)
  WHEN {t}.baseline_value IS NULL AND {t}.direction = {_text(Direction.DESCENDING.value)}
    THEN NULL
  ELSE (SELECT {_plain(f"COALESCE({t}.baseline_value, 0) + sum({v}.value)")} {counted}
    HAVING count(*) > 0)
END"""


TARGET: dict[str, Scalar] = {
    "id": lambda t: _global_id("Target", f"{t}.id"),
    "indicator": _column("indicator"),
    "label": _column("label"),
    "description": _column("description"),
    "unit": _column("unit"),
    "measure": _column("measure"),
    "direction": _column("direction"),
    "cumulative": _column("cumulative"),
    "baseline": lambda t: _plain(f"{t}.baseline_value"),
    "baselineDate": _column("baseline_date"),
    "targetValue": lambda t: _plain(f"{t}.target_value"),
    "deadline": _column("deadline"),
}

REPORT: dict[str, Scalar] = {
    "id": lambda r: _global_id("ProgressReport", f"{r}.id"),
    "periodStart": _column("period_start"),
    "periodEnd": _column("period_end"),
    "status": _column("status"),
    "narrative": _column("narrative"),
}


def _endorsements(p: str, fields: tuple[Selected, ...], names: _Names) -> str:
    e, er = names("e"), names("er")
    roles_of = (
        f"FROM endorsement_roles {er} WHERE {er}.pledge_id = {e}.pledge_id "
        f"AND {er}.organisation_id = {e}.organisation_id"
    )
    scalars: dict[str, Scalar] = {
        "id": lambda e: _global_id("Endorsement", f"{e}.id"),
        "status": _column("status"),
        "roles": lambda e: _list(f"{er}.role", roles_of, f"{er}.role"),
    }
    element = _object(
        "Endorsement", scalars, {"organisation": _organisation("organisation_id")}, e, fields, names
    )
    source = (
        f"FROM endorsements {e} WHERE {e}.pledge_id = {p}.id "
        f"AND {_endorsement_counts(e)} AND EXISTS (SELECT 1 {roles_of})"
    )
    return _list(element, source, f"{e}.id")


def _targets(p: str, fields: tuple[Selected, ...], names: _Names) -> str:
    t = names("t")
    scalars = {**TARGET, "latestValue": lambda t: _latest_value(t, names)}
    element = _object("Target", scalars, {}, t, fields, names)
    return _list(element, f"FROM targets {t} WHERE {t}.pledge_id = {p}.id", f"{t}.id")


def _reports(p: str, fields: tuple[Selected, ...], names: _Names) -> str:
    r = names("r")
    element = _object("ProgressReport", REPORT, {}, r, fields, names)
    source = f"FROM progress_reports {r} WHERE {r}.pledge_id = {p}.id AND {_report_measures(r)}"
    return _list(element, source, f"{r}.period_end, {r}.id")


def _countries(p: str, fields: tuple[Selected, ...], names: _Names) -> str:
    tc, c = names("tc"), names("c")
    element = _object("Country", COUNTRY, {}, c, fields, names)
    source = (
        f"FROM pledge_target_countries {tc} JOIN countries {c} ON {c}.alpha3 = {tc}.country "
        f"WHERE {tc}.pledge_id = {p}.id"
    )
    return _list(element, source, f"{tc}.country")


def _values(table: str, column: str) -> Scalar:
    def render(p: str) -> str:
        return _list(f"x.{column}", f"FROM {table} x WHERE x.pledge_id = {p}.id", f"x.{column}")

    return render


def _usd(p: str, fields: tuple[Selected, ...], names: _Names) -> str:
    scalars: dict[str, Scalar] = {
        "amount": lambda p: _major(f"{p}.usd_amount_minor", "2"),
        "rate": lambda p: _plain(f"{p}.usd_rate"),
        "rateDate": _column("usd_rate_date"),
        "source": _column("usd_rate_source"),
    }
    built = _object("UsdEquivalent", scalars, {}, p, fields, names)
    return f"CASE WHEN {p}.usd_amount_minor IS NOT NULL THEN {built} END"


def _money(p: str, fields: tuple[Selected, ...], names: _Names) -> str:
    cur = names("cur")
    scalars: dict[str, Scalar] = {
        "amount": lambda p: _major(f"{p}.amount_minor", f"{cur}.exponent"),
        "currency": _column("currency"),
        "usdMissingReason": _column("usd_missing_reason"),
    }
    built = _object("Money", scalars, {"usd": _usd}, p, fields, names)
    return (
        f"CASE WHEN {p}.amount_minor IS NOT NULL AND {p}.currency IS NOT NULL THEN "
        f"(SELECT {built} FROM currencies {cur} WHERE {cur}.code = {p}.currency) END"
    )


PLEDGE: dict[str, Scalar] = {
    "id": lambda p: _global_id("Pledge", f"{p}.id"),
    "title": _column("title"),
    "description": _column("description"),
    "pledgeType": _column("pledge_type"),
    "publicationStatus": _column("publication_status"),
    "implementationStatus": _column("implementation_status"),
    "announcedOn": _column("announced_on"),
    "startDate": _column("start_date"),
    "endDate": _column("end_date"),
    "returnNote": _column("return_note"),
    "version": _column("version"),
    "focusAreas": _values("pledge_focus_areas", "focus_area"),
    "targetGroups": _values("pledge_target_groups", "country_group"),
    "beneficiaryGroups": _values("pledge_beneficiary_groups", "beneficiary_group"),
    "sdgs": _values("pledge_sdgs", "sdg"),
}

PLEDGE_NESTED: dict[str, Nested] = {
    "pledgedAmount": _money,
    "lead": _organisation("lead_member_id"),
    "endorsements": _endorsements,
    "targets": _targets,
    "progressReports": _reports,
    "targetCountries": _countries,
}


def _pledge_json(alias: str, fields: tuple[Selected, ...], names: _Names | None = None) -> str:
    """SQL for the JSON of the pledge row ``alias`` (a public one) as ``fields`` select it."""
    return _object("Pledge", PLEDGE, PLEDGE_NESTED, alias, fields, names or _Names())


def _cursor(kind: str, position: str) -> str:
    """``schema.pagination.encode_cursor``: URL-safe base64 of ``kind:position``."""
    encoded = f"encode(convert_to({kind} || ':' || ({position}), 'UTF8'), 'base64')"
    return f"translate({encoded}, E'+/\\n', '-_')"


@dataclass(frozen=True, slots=True)
class Listing:
    """A root ``pledges`` field: its CTE names, and the connection's JSON over them."""

    matched: str
    bounds: str
    json: str


def listing_json(index: int, fields: tuple[Selected, ...]) -> Listing:
    """SQL for a pledge connection over the CTEs ``matched_cte`` and ``bounds_cte`` make
    for it: ``matched``
    numbers the matching pledges in order, ``bounds`` holds the cursors' kind and the slice
    asked for; the window is Relay's (``hub.pagination.window``) for ``first``/``after``."""
    matched, bounds = f"matched_{index}", f"bounds_{index}"
    names = _Names()

    def edges(w: str, edge_fields: tuple[Selected, ...]) -> str:
        m, p = names("m"), names("p")
        scalars: dict[str, Scalar] = {"cursor": lambda _: _cursor(f"{w}.kind", f"{m}.pos - 1")}
        nested: dict[str, Nested] = {"node": lambda _, node, names: _pledge_json(p, node, names)}
        element = _object("PledgeEdge", scalars, nested, m, edge_fields, names)
        source = (
            f"FROM {matched} {m} JOIN pledges {p} ON {p}.id = {m}.id "
            f"WHERE {m}.pos > {w}.start AND {m}.pos <= {w}.stop"
        )
        return _list(element, source, f"{m}.pos")

    def page_info(w: str, info_fields: tuple[Selected, ...], names: _Names) -> str:
        scalars: dict[str, Scalar] = {
            "hasNextPage": lambda w: f"{w}.stop < {w}.total",
            "hasPreviousPage": lambda w: f"{w}.start > 0",
            "startCursor": lambda w: (
                f"CASE WHEN {w}.stop > {w}.start THEN {_cursor(f'{w}.kind', f'{w}.start')} END"
            ),
            "endCursor": lambda w: (
                f"CASE WHEN {w}.stop > {w}.start THEN {_cursor(f'{w}.kind', f'{w}.stop - 1')} END"
            ),
        }
        return _object("PageInfo", scalars, {}, w, info_fields, names)

    w = names("w")
    built = _object(
        "PledgeConnection",
        {"totalCount": lambda w: f"{w}.total"},
        {"edges": lambda w, f, _: edges(w, f), "pageInfo": page_info},
        w,
        fields,
        names,
    )
    window = (
        f"SELECT least(b.lo, t.n) AS start, least(t.n, least(b.lo, t.n) + b.size) AS stop, "
        f"t.n AS total, b.kind FROM {bounds} b, (SELECT count(*) AS n FROM {matched}) t"
    )
    return Listing(matched, bounds, f"(SELECT {built} FROM ({window}) {w})")


def matched_cte(listing: Listing, criteria: PledgeFilter, order: PledgeOrder) -> Any:
    """The CTE numbering the public pledges that match ``criteria`` in ``order``: the hub's
    own filter and visibility rule."""
    numbered = func.row_number().over(order_by=order_clauses(order))
    return (
        select(PledgeModel.id.label("id"), numbered.label("pos"))
        .where(*conditions(PUBLIC, criteria))
        .cte(listing.matched)
    )


def bounds_cte(listing: Listing, kind: str, start: int, size: int) -> Any:
    """The CTE holding the cursors' kind and the slice asked for: from position ``start``,
    ``size`` long."""
    return select(
        literal(kind, String).label("kind"),
        literal(start, Integer).label("lo"),
        literal(size, Integer).label("size"),
    ).cte(listing.bounds)


def pledge_by_id_json(index: int, fields: tuple[Selected, ...]) -> tuple[str, str]:
    """The name of the CTE holding the id asked for, and SQL for that pledge's JSON (null
    when it is not public)."""
    wanted, p = f"wanted_{index}", "p"
    built = _pledge_json(p, fields)
    where = f"{p}.id = (SELECT id FROM {wanted}) AND {_public_pledge(p)}"
    return wanted, f"(SELECT {built} FROM pledges {p} WHERE {where})"


def wanted_cte(name: str, pledge_id: int) -> Any:
    """The CTE ``pledge_by_id_json`` reads."""
    return select(literal(pledge_id, Integer).label("id")).cte(name)


@dataclass(frozen=True, slots=True)
class Stats:
    """A root ``pledgeStats`` field: its CTE names, and its JSON over them, grouped by member
    type (whose member counts keep the members of the group's type) or by anything else."""

    matching: str
    keys: str
    endorsers: str
    json: str
    json_by_member_type: str


def _without_usd(m: str) -> str:
    return f"{m}.usd IS NULL AND {m}.amount IS NOT NULL AND {m}.currency IS NOT NULL"


def _stats_row(
    row: str,
    fields: tuple[Selected, ...],
    names: _Names,
    amounts_source: Callable[[str], str],
) -> str:
    def amounts(row: str, amount_fields: tuple[Selected, ...], names: _Names) -> str:
        x, cur = names("x"), names("cur")
        scalars: dict[str, Scalar] = {
            "amount": lambda x: _major(f"{x}.minor", f"{cur}.exponent"),
            "currency": _column("currency"),
        }
        element = _object("CurrencyAmount", scalars, {}, x, amount_fields, names)
        source = (
            f"FROM ({amounts_source(row)}) {x} JOIN currencies {cur} ON {cur}.code = {x}.currency"
        )
        return _list(element, source, f'{x}.currency COLLATE "C"')

    scalars: dict[str, Scalar] = {
        "key": _column("key"),
        "pledgeCount": _column("pledges"),
        "memberCount": _column("members"),
        "totalUsd": lambda g: _major(f"{g}.usd", "2"),
        "pledgesWithoutUsd": _column("without"),
    }
    return _object("PledgeStatsGroup", scalars, {"amountsWithoutUsd": amounts}, row, fields, names)


def stats_json(index: int, fields: tuple[Selected, ...]) -> Stats:
    """SQL for pledge statistics (``hub.stats.pledge_stats``) over the CTEs ``stats_ctes``
    makes: the matching pledges with the amounts that count, their (pledge, key) pairs, and
    their accepted endorsers with their types."""
    matching, keys, endorsers = f"stats_m_{index}", f"stats_k_{index}", f"stats_e_{index}"

    def render(member_type: bool) -> str:
        names = _Names()
        of_type = " AND {e}.kind = {k}.key" if member_type else ""

        def group_rows() -> str:
            k, m, e, k2 = names("k"), names("m"), names("e"), names("k")
            counts = (
                f"SELECT {k}.key, count(*) AS pledges, COALESCE(sum({m}.usd), 0) AS usd, "
                f"count(*) FILTER (WHERE {_without_usd(m)}) AS without "
                f"FROM {keys} {k} JOIN {matching} {m} ON {m}.id = {k}.pledge_id GROUP BY {k}.key"
            )
            members = (
                f"SELECT {k2}.key, count(DISTINCT {e}.organisation_id) AS members "
                f"FROM {keys} {k2} JOIN {endorsers} {e} ON {e}.pledge_id = {k2}.pledge_id"
                f"{of_type.format(e=e, k=k2)} GROUP BY {k2}.key"
            )
            c, gm = names("c"), names("gm")
            return (
                f"SELECT {c}.*, COALESCE({gm}.members, 0) AS members FROM ({counts}) {c} "
                f"LEFT JOIN ({members}) {gm} ON {gm}.key = {c}.key"
            )

        def group_amounts(row: str) -> str:
            k, m = names("k"), names("m")
            return (
                f"SELECT {m}.currency, sum({m}.amount) AS minor FROM {keys} {k} "
                f"JOIN {matching} {m} ON {m}.id = {k}.pledge_id "
                f"WHERE {k}.key = {row}.key AND {_without_usd(m)} GROUP BY {m}.currency"
            )

        def total_amounts(row: str) -> str:
            m = names("m")
            return (
                f"SELECT {m}.currency, sum({m}.amount) AS minor FROM {matching} {m} "
                f"WHERE {_without_usd(m)} GROUP BY {m}.currency"
            )

        def groups(_: str, row_fields: tuple[Selected, ...], names: _Names) -> str:
            g = names("g")
            element = _stats_row(g, row_fields, names, group_amounts)
            return _list(element, f"FROM ({group_rows()}) {g}", f'{g}.key COLLATE "C"')

        def total(_: str, row_fields: tuple[Selected, ...], names: _Names) -> str:
            t, m, e = names("t"), names("m"), names("e")
            row = (
                f"SELECT 'ALL'::text AS key, count(*) AS pledges, "
                f"COALESCE(sum({m}.usd), 0) AS usd, "
                f"count(*) FILTER (WHERE {_without_usd(m)}) AS without, "
                f"(SELECT count(DISTINCT {e}.organisation_id) FROM {endorsers} {e}) AS members "
                f"FROM {matching} {m}"
            )
            element = _stats_row(t, row_fields, names, total_amounts)
            return f"(SELECT {element} FROM ({row}) {t})"

        k = names("k")
        overlap = f"EXISTS (SELECT 1 FROM {keys} {k} GROUP BY {k}.pledge_id HAVING count(*) > 1)"
        return _object(
            "PledgeStats",
            {"groupsOverlap": lambda _: overlap},
            {"groups": groups, "total": total},
            "",
            fields,
            names,
        )

    return Stats(matching, keys, endorsers, render(False), render(True))


def stats_ctes(stats: Stats, criteria: PledgeFilter, group_by: StatsGroupBy) -> list[Any]:
    """The CTEs ``stats_json`` reads, for the public pledges matching ``criteria``: under
    them, an endorsement counts as ``hub.visibility.endorsement_counts`` says."""
    matching = (
        select(
            PledgeModel.id.label("id"),
            counted_usd(PUBLIC).label("usd"),
            counted_amount(PUBLIC).label("amount"),
            PledgeModel.currency.label("currency"),
        )
        .where(*conditions(PUBLIC, criteria))
        .cte(stats.matching)
    )
    pairs = key_query(PUBLIC, group_by, matching).subquery()
    pledge_id, key = list(pairs.c)
    keys = select(pledge_id.label("pledge_id"), cast(key, Text).label("key"))
    endorsers = (
        select(
            Endorsement.pledge_id.label("pledge_id"),
            Endorsement.organisation_id.label("organisation_id"),
        )
        .join(matching, matching.c.id == Endorsement.pledge_id)
        .where(endorsement_counts())
    )
    if group_by is StatsGroupBy.MEMBER_TYPE:  # several endorsers of a type give one key
        keys = keys.distinct()
        endorsers = endorsers.add_columns(
            cast(Organisation.organisation_type, Text).label("kind")
        ).join(Organisation, Organisation.id == Endorsement.organisation_id)
    return [matching, keys.cte(stats.keys), endorsers.cte(stats.endorsers)]


def statement(roots: Sequence[tuple[str, str]], ctes: Sequence[Any]) -> Select[Any]:
    """One statement whose one value is the text of the operation's ``data`` object."""
    parts = ", ".join(f"{_text(key)}, {json}" for key, json in roots)
    data: ColumnElement[Any] = literal_column(f"json_build_object({parts})::text")
    return select(data).add_cte(*ctes)


async def run(connection: AsyncConnection, query: Select[Any]) -> str:
    """Run the statement on an autocommit connection (``hub.db.autocommit``): one
    statement, no BEGIN or ROLLBACK."""
    data = await connection.scalar(query)
    assert isinstance(data, str)
    return data
