"""IATI activity files into the hub: each activity's outcome as a record the framework takes.

Pure but for :func:`options_for` (which reads the connector's member and the hub's
countries): a parsed activity goes through :func:`connectors.iati.mapping.map_activity`,
and its outcome becomes an :class:`~connectors.framework.Incoming` whose work is a
``PledgeRecord`` in the hub's vocabulary, an unclaimed record, a skip or a rejection.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from decimal import ROUND_HALF_EVEN, Decimal
from typing import BinaryIO

from sqlalchemy.ext.asyncio import AsyncSession

from connectors.framework import Incoming, Reject, Skip, UnclaimedRecord, Work
from connectors.iati.mapping import activity_key, map_activity
from connectors.iati.outcomes import (
    Flow,
    Options,
    Plan,
    Rejected,
    Report,
    Selection,
    Skipped,
    Target,
    Unclaimed,
)
from connectors.iati.parse import activities
from connectors.iati.records import Narrative, ParsedActivity, Unreadable
from connectors.values import CLASSIFICATION, cut
from hub.countries.service import alpha3_by_alpha2
from hub.endorsements.models import Role
from hub.errors import InvalidInput
from hub.imports.connectors import ConnectorConfig, member_identifiers
from hub.imports.models import Connector
from hub.imports.records import (
    EndorserRecord,
    FlowRecord,
    Linking,
    PledgeRecord,
    ReportRecord,
    ReviewRecord,
    TargetRecord,
    Translation,
    ValueRecord,
)
from hub.money.currencies import get_currency
from hub.pledges.models import ImplementationStatus
from hub.pledges.rules import MAX_DESCRIPTION, MAX_TITLE, PledgeDraft, TargetDraft

SOURCE = "iati"
MAX_LABEL = 300
MAX_TARGET_DESCRIPTION = 5_000


async def options_for(session: AsyncSession, connector: Connector) -> Options:
    """The mapping's options for ``connector``: its member's identifiers, its selection,
    and the hub's countries by alpha-2 code."""
    config = ConnectorConfig.from_json(connector.config)
    countries = await alpha3_by_alpha2(session)
    tags = frozenset(tuple(tag.split(":", 1)) for tag in config.tags)
    return Options(
        member=await member_identifiers(session, connector),
        selection=Selection(
            activity_ids=frozenset(config.activity_ids),
            reporting_orgs=frozenset(config.reporting_orgs),
            sectors=frozenset(config.sectors),
            tags=frozenset((vocabulary, code) for vocabulary, code in tags),
        ),
        countries=countries,
        source=SOURCE,
    )


def incoming(
    stream: BinaryIO | bytes, label: str, options: Options, after: int = 0
) -> Iterator[Incoming]:
    """Every activity of a file as a record for the framework, from position ``after + 1``
    (the ones before are parsed past, not mapped); an unreadable rest of the file is one
    rejected record of its own."""
    position = 0
    seen: dict[str, int] = {}
    for parsed in activities(stream):
        if isinstance(parsed, Unreadable):
            line = f" line {parsed.line}" if parsed.line else ""
            yield Incoming(
                position=position + 1,
                source=SOURCE,
                place=f"{label}{line}",
                external_id=None,
                payload=None,
                work=Reject(
                    f"UNREADABLE: the file cannot be read on: {parsed.message}", ends_run=True
                ),
            )
            return
        position = parsed.place.position
        key = activity_key(parsed.activity)
        earlier = seen.setdefault(key, position) if key is not None else position
        if position <= after:
            continue
        if earlier != position:
            yield _repeated(parsed, label, key, earlier)
        else:
            yield record_of(parsed, label, options)


def _repeated(parsed: ParsedActivity, label: str, key: str | None, earlier: int) -> Incoming:
    """An activity whose identifier an earlier one in the same file has: the publisher's
    mistake, which no import may settle by overwriting one with the other on every run."""
    line = f" line {parsed.place.line}" if parsed.place.line else ""
    return Incoming(
        parsed.place.position,
        SOURCE,
        f"{label}{line} (activity {parsed.place.position})",
        f"{key}@{parsed.place.position}",
        parsed.xml.decode(),
        Reject(f"DUPLICATE: activity {earlier} of this file has the identifier {key} too"),
    )


def record_of(
    parsed: ParsedActivity, label: str, options: Options, place: str | None = None
) -> Incoming:
    """One parsed activity as a record: what the mapping made of it, in the hub's terms;
    ``place`` where it was read when not this file (a dead letter's)."""
    outcome = map_activity(parsed, options)
    line = f" line {parsed.place.line}" if parsed.place.line else ""
    place = place or f"{label}{line} (activity {parsed.place.position})"
    payload = parsed.xml.decode()
    work: Work
    if isinstance(outcome, Plan):
        work, external_id = pledge_record(outcome, place), outcome.external_id
    elif isinstance(outcome, Unclaimed):
        digest = hashlib.sha256(parsed.xml).hexdigest()
        linking = _rounded(outcome.linking)
        work = UnclaimedRecord(outcome.reporting_org, digest, outcome.reason, linking)
        external_id = outcome.external_id
    elif isinstance(outcome, Skipped):
        work, external_id = Skip(), outcome.external_id
    else:
        assert isinstance(outcome, Rejected)
        work, external_id = Reject(f"UNMAPPABLE: {outcome.reason}"), None
    return Incoming(parsed.place.position, SOURCE, place, external_id, payload, work)


def _by_language(narratives: Sequence[Narrative]) -> dict[str, str]:
    texts: dict[str, list[str]] = {}
    for narrative in narratives:
        if narrative.lang and narrative.text.strip():
            texts.setdefault(narrative.lang.strip().lower(), []).append(narrative.text.strip())
    return {language: "\n\n".join(parts) for language, parts in texts.items()}


def _first(narratives: Sequence[Narrative]) -> str:
    """The text in the first narrative's language (the file's own, as IATI writes first)."""
    if not narratives:
        return ""
    lang = narratives[0].lang
    return "\n\n".join(n.text.strip() for n in narratives if n.lang == lang and n.text.strip())


def pledge_record(plan: Plan, place: str) -> PledgeRecord:
    """A plan in the hub's vocabulary."""
    notes = list(plan.notes)
    notes += [f"{p.where}: {p.message}" for p in plan.problems]
    notes += [f"transaction {r.position}: {r.reason}" for r in plan.rejected_flows]
    flows = _flows(plan.flows, notes)
    lead, *others = plan.endorsements
    title = cut(_first(plan.title) or plan.external_id, MAX_TITLE, "title", notes)
    amount = _pledged(plan, notes)
    description = cut(_first(plan.description), MAX_DESCRIPTION, "description", notes)
    return PledgeRecord(
        source=plan.source,
        external_id=plan.external_id,
        content_hash=plan.content_hash,
        place=place,
        draft=PledgeDraft(
            title=title,
            pledge_type=plan.pledge_type,
            description=description,
            focus_areas=plan.focus_areas,
            target_countries=plan.target_countries,
            target_groups=plan.target_groups,
            sdgs=plan.sdgs,
            announced_on=plan.announced_on,
            start_date=plan.start_date,
            end_date=plan.end_date,
            amount=amount,
            currency=plan.amount.currency if plan.amount and amount is not None else None,
            implementation_status=plan.implementation_status or ImplementationStatus.PIPELINE,
        ),
        titles=tuple(
            Translation(language, text[:MAX_TITLE])
            for language, text in _by_language(plan.title).items()
        ),
        descriptions=tuple(
            Translation(language, text[:MAX_DESCRIPTION])
            for language, text in _by_language(plan.description).items()
        ),
        lead_roles=tuple(role for role in lead.roles if role is not Role.LEAD),
        endorsers=tuple(
            EndorserRecord(
                identifier=e.ref,
                name=(_first(e.names) or e.ref)[:300],
                organisation_type=e.organisation_type,
                roles=e.roles,
            )
            for e in others
        ),
        targets=tuple(_target(t) for t in plan.targets),
        flows=flows,
        reports=_reports(plan.reports),
        review=tuple(
            ReviewRecord(
                subject=item.subject.value,
                code=(item.code or _first(item.names) or "(no name)")[:300],
                names=_first(item.names),
                reason=item.reason,
            )
            for item in plan.review
        )
        + _classification(plan, title),
        notes=tuple(notes),
        gaps=tuple(gap.value for gap in plan.gaps),
        reporting_org=plan.lead,
        pledge_only=plan.pledge_only,
        linking=_rounded(plan.linking),
    )


def _rounded(linking: Linking) -> Linking:
    """What the record commits in its currency's smallest unit, as its pledge would hold it;
    nothing in a currency the hub does not know."""
    if linking.reported is None:
        return linking
    value, currency = linking.reported
    amount = _in_minor_units(value, currency)
    return replace(linking, reported=(amount, currency) if amount is not None else None)


def _pledged(plan: Plan, notes: list[str]) -> Decimal | None:
    """The pledged amount in the currency's smallest unit (its flows are rounded so too);
    none, noted, in a currency the hub does not know."""
    if plan.amount is None:
        return None
    amount = _in_minor_units(plan.amount.value, plan.amount.currency)
    if amount is None:
        notes.append(f"pledged in {plan.amount.currency!r}, which is no ISO 4217 currency")
    return amount


def _classification(plan: Plan, title: str) -> tuple[ReviewRecord, ...]:
    """A pledge no sector or SDG classifies is listed for a person to choose its focus area."""
    if not plan.needs_classification:
        return ()
    reason = "no sector or SDG of the activity maps to a focus area: choose one"
    return (ReviewRecord(CLASSIFICATION, plan.external_id[:300], title, reason),)


def _flows(flows: Sequence[Flow], notes: list[str]) -> tuple[FlowRecord, ...]:
    """Flows keyed by their ``ref`` when it is unique in the activity, else by what they
    say (kind, date, currency, value) and a count among identical ones: a key that stays
    when transactions are added or reordered."""
    refs = Counter(flow.ref for flow in flows if flow.ref)
    seen: Counter[str] = Counter()
    records = []
    for flow in flows:
        amount = _in_minor_units(flow.amount.value, flow.amount.currency)
        if amount is None:
            notes.append(f"transaction {flow.position}: {flow.amount.currency!r} is no currency")
            continue
        if amount != flow.amount.value:
            notes.append(
                f"transaction {flow.position}: {flow.amount.value} {flow.amount.currency} "
                f"rounded to {amount}, the currency's smallest unit"
            )
        if flow.ref and refs[flow.ref] == 1:
            key = f"ref:{flow.ref}"
        else:
            said = f"{flow.kind.value}:{flow.value_date}:{flow.amount.currency}:{amount}"
            seen[said] += 1
            key = f"{said}#{seen[said]}"
        records.append(
            FlowRecord(
                key=key[:400],
                kind=flow.kind,
                amount=amount,
                currency=flow.amount.currency,
                value_date=flow.value_date,
                counts=flow.counts,
                reason=flow.reason,
                description=_first(flow.description) or None,
            )
        )
    return tuple(records)


def _in_minor_units(value: Decimal, currency: str) -> Decimal | None:
    """``value`` rounded half-even to the currency's smallest unit; None for no currency."""
    try:
        exponent = get_currency(currency).exponent
    except InvalidInput:
        return None
    return value.quantize(Decimal(1).scaleb(-exponent), ROUND_HALF_EVEN)


def _target(target: Target) -> TargetRecord:
    description = _first(target.description)
    return TargetRecord(
        key=target.key,
        draft=TargetDraft(
            indicator=target.indicator,
            unit=target.unit,
            measure=target.measure,
            direction=target.direction,
            cumulative=target.cumulative,
            label=target.label[:MAX_LABEL] or target.key,
            description=description[:MAX_TARGET_DESCRIPTION] or None,
            baseline_value=target.baseline_value,
            baseline_date=target.baseline_date,
            target_value=target.target_value,
            deadline=target.deadline,
        ),
    )


def _reports(reports: Sequence[Report]) -> tuple[ReportRecord, ...]:
    """Disbursements per year and currency, and results per period, keyed by what they
    cover."""
    records = []
    seen: Counter[str] = Counter()
    for report in reports:
        if report.disbursed is not None:
            key = f"disbursed/{report.period_start.year}/{report.disbursed.currency}"
            narrative = f"Disbursed and spent in {report.period_start.year}, as published in IATI."
        else:
            key = f"results/{report.period_start}/{report.period_end}"
            narrative = (
                f"Results from {report.period_start} to {report.period_end}, as published in IATI."
            )
        seen[key] += 1
        disbursed = (
            _in_minor_units(report.disbursed.value, report.disbursed.currency)
            if report.disbursed
            else None
        )
        records.append(
            ReportRecord(
                key=key if seen[key] == 1 else f"{key}#{seen[key]}",
                period_start=report.period_start,
                period_end=report.period_end,
                narrative=narrative,
                disbursed_amount=disbursed,
                disbursed_currency=(
                    report.disbursed.currency
                    if report.disbursed and disbursed is not None
                    else None
                ),
                values=tuple(ValueRecord(v.target, v.value, v.note) for v in report.values),
            )
        )
    return tuple(records)
