"""One parsed IATI activity to what the hub would record: pure, no database, no I/O.

:func:`map_activity` takes the first outcome that applies:

| step | the activity goes on when | otherwise |
|---|---|---|
| key | it has an `iati-identifier`, else an `other-identifier` (1) | `Rejected`, with the reason |
| selection | `Options.selection` names its key, reporter, a DAC sector or a tag | `Skipped` |
| claim | its `reporting-org/@ref` is one of `Options.member`, not secondary (2) | `Unclaimed` |
| plan | always: a FINANCIAL pledge keyed by `(Options.source, key)`, led by the member | `Plan` |

(1) The first other-identifier, prefixed with its owner-ref and `-` as IATI identifiers are,
unless it starts so already. (2) A `secondary-reporter` republishes another organisation's
activity: never a pledge on another's behalf, as no other reporter's activity is.

| IATI transaction type | money flow | counts toward its kind's total |
|---|---|---|
| 2 / C outgoing commitment | COMMITMENT | yes: the pledged amount |
| 12 outgoing pledge | PLEDGE | only if the activity has no type 2: the plan is pledge-only |
| 3 / D disbursement | DISBURSEMENT | yes, and progress |
| 4 / E expenditure | EXPENDITURE | yes, and progress |
| 1 / IF, 11, 13 incoming funds, commitment, pledge | INCOMING | never: the member received it |
| 5 to 10 (interest, repayments, equity...), unknown | none | a rejected flow, with its reason |

Flows are signed as written: corrections are negative. The currency is `value/@currency`, else
the activity's `default-currency`, as IATI defines it; neither, or not three capital letters,
rejects the flow (the rest of the activity goes on), as do an unreadable value and a missing
date. The date is `value/@value-date` (the date the value is fixed at, so the one to convert
on), else `transaction-date`. The pledged amount is the counted sum when it is one currency's
and above zero (the hub holds one positive amount per pledge), else none, with a note;
`Plan.counted` gives each currency's sum. The pledge is announced on the earliest value date of
a counted flow, else on its start. Disbursements and expenditures add up per calendar year of
their value date and per currency, one report each from 1 January to 31 December (members
report yearly); a year whose sum is not above zero makes no report, with a note.

| IATI organisation role | on the member's own entry | on another's (INVITED) |
|---|---|---|
| 1 Funding, legacy `donor` | FUNDER | FUNDER |
| 2 Accountable, 3 Extending | nothing more: LEAD says it | CO_LEAD |
| 4 Implementing | IMPLEMENTER | IMPLEMENTER |
| legacy `beneficiary` (who benefits has no role), other | review | review |

The reporting organisation is the LEAD, ACCEPTED. Every other organisation identifier gets one
endorsement holding all its roles, INVITED: it did not say so itself. An organisation without
an identifier (``MULTIPLE AGENCIES``) goes to review, never into endorsements.

| IATI organisation type (code, or its version 1 name) | hub organisation type |
|---|---|
| 10 Government, 11 Local Government, 15 Other Public Sector | GOVERNMENT |
| 21, 22, 23, 24 International, National, Regional, Partner Country NGO | CIVIL_SOCIETY |
| 40 Multilateral | INTERNATIONAL_ORGANIZATION |
| 60 Foundation (non-profit, as the P2C constituencies count it) | CIVIL_SOCIETY |
| 70 Private Sector, 71, 72, 73 in provider, recipient, third country | PRIVATE_SECTOR |
| 80 Academic, Training and Research | ACADEMIA |
| 30 Public Private Partnership, 90 Other, unknown: no single constituency | none: review |

| IATI | hub |
|---|---|
| activity-status 1, 2, 3 and 4, 5, 6 | PIPELINE, IMPLEMENTATION, COMPLETED, CANCELLED, SUSPENDED |
| activity-date | start: actual, else planned; end: actual, else planned |
| recipient-country, alpha-2 | target country, alpha-3, through `Options.countries` |
| recipient-region vocabulary 2 (UN M49) 199, 432, 722 | target group LDC, LLDC, SIDS |
| any other recipient-region, an unknown country | review |
| sector 22010, 22011 communications policy, administration | ACCELERATE |
| sector 22020 telecommunications | ACCESS |
| sector 22030 radio, television, print media | ADOPTION |
| sector 22040 information and communication technology | ACCESS and ADOPTION |
| SDG target 9.c, indicators 9.c.1, 17.6.1 | ACCESS |
| SDG targets 5.b, 17.8, indicators 4.4.1, 5.b.1, 17.8.1 | ADOPTION |
| SDG goal, target or indicator (sectors 7-9, tags 2-3, indicators 9) | its goal, 1 to 17 |

A date in 1900 or before is a placeholder, noted and dropped. DAC regions cut across LDC, LLDC
and SIDS, so they go to review. Sectors count in DAC vocabulary 1 (or `DAC`, or none). Policy
and regulation (22010, 22011) is the enabling environment ACCELERATE stands for; 22020 is
networks, satellites and earth stations; 22030 is content people use; 22040 is "computer
hardware and software; internet access; IT training", both reaching and using. The SDG rows
are ITU's connectivity indicators: coverage and broadband, then use and skills. Not mapped, by
choice: 11330 vocational training, 16020 employment creation, 25010 business policy and 32182
technological research say nothing of connectivity by themselves; 32172 is the transport
equipment industry. An activity that maps to no focus area gets none and needs classification.

| IATI result | hub |
|---|---|
| indicator | target, indicator OTHER labelled with its title, cumulative |
| measure 1 unit, 2 percentage, 4 ordinal | QUANTITATIVE in `units`, `%`, `rank` |
| measure 3 nominal, 5 qualitative | QUALITATIVE in `category`, `qualitative` |
| any other measure | QUANTITATIVE in `units`, noted |
| `ascending="0"` | DESCENDING, else ASCENDING |
| the baseline of the whole (no dimensions) | baseline value and date |
| the whole's target in the period ending last | target value, and that period's end as deadline |
| the whole's actuals | one report per period, with each target's actual |
| `20,000` | 20000, noted |

Categories are no amounts, so nominal values become words, as qualitative ones are. An IATI
actual is the value at the end of its period, a level: targets are cumulative. Values by
dimension (`sex: female`) measure a slice, never the whole, so they are left out. A baseline's
date is its `iso-date`, else 1 January of its year; a year of 1900 or before is a placeholder:
noted, and neither date nor value trusted. A quantitative indicator with no target value goes
to review, not into targets. Commas that group digits by three are thousands separators (a
decimal comma would not group by three); any other unreadable actual is kept as a note.

| IATI | what the record names, kept as a link (see ``hub.imports.linking``) |
|---|---|
| incoming funds, commitment or pledge (1, 11, 13) `provider-org/@provider-activity-id` | PROVIDER |
| outgoing commitment, pledge or disbursement (2, 12, 3) `receiver-activity-id` | RECEIVER |
| `related-activity` type 1, 2, 3, 4, 5 | PARENT, CHILD, SIBLING, CO_FUNDED, THIRD_PARTY |

Links are taken from every selected activity, the member's or not: an activity another
organisation reports ties records together but makes no pledge. A link to the activity itself
(Bond's files name their own activity as provider of their disbursements) is no link.

A plan is SMART-complete when it has a focus area, a target country or group, a quantitative
target with a value and a deadline, and an amount; :class:`Gap` names what it lacks. Its
content hash is the SHA-256 of its canonical JSON (keys sorted, decimals by value), file
positions left out, so that it changes with the content and nothing else.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from connectors.iati.outcomes import (
    Amount,
    Endorsement,
    Flow,
    Gap,
    Options,
    Outcome,
    Plan,
    Rejected,
    RejectedFlow,
    Report,
    ReportedValue,
    ReviewItem,
    ReviewSubject,
    Selection,
    Skipped,
    Target,
    Unclaimed,
)
from connectors.iati.records import (
    Activity,
    ActivityDateType,
    ActivityStatus,
    Baseline,
    Indicator,
    Measurement,
    Narrative,
    OrganisationRole,
    ParsedActivity,
    ParticipatingOrg,
    Place,
    RelatedActivityType,
    Result,
    Transaction,
    TransactionType,
)
from connectors.values import content_hash
from hub.countries.models import CountryGroup
from hub.endorsements.models import EndorsementStatus, Role
from hub.imports.models import LinkRelation
from hub.imports.records import Linking, LinkRecord
from hub.money.models import TransactionKind
from hub.organisations.models import OrganisationType
from hub.pledges.models import Direction, FocusArea, ImplementationStatus, Measure, PledgeType
from hub.pledges.models import Indicator as HubIndicator

__all__ = ["map_activity"]

T = TransactionType
K = TransactionKind
KINDS = {
    T.OUTGOING_COMMITMENT: K.COMMITMENT,
    T.OUTGOING_PLEDGE: K.PLEDGE,
    T.DISBURSEMENT: K.DISBURSEMENT,
    T.EXPENDITURE: K.EXPENDITURE,
    T.INCOMING_FUNDS: K.INCOMING,
    T.INCOMING_COMMITMENT: K.INCOMING,
    T.INCOMING_PLEDGE: K.INCOMING,
}
# Whether each type counts toward its kind's total, and why; an outgoing pledge depends on
# whether the activity commits too (PLEDGE_COUNTED, PLEDGE_SUPERSEDED)
COUNTING = {
    T.OUTGOING_COMMITMENT: (True, "an outgoing commitment: the pledged amount"),
    T.DISBURSEMENT: (True, "disbursed under the pledge: counts toward what it disbursed"),
    T.EXPENDITURE: (True, "spent under the pledge: counts toward what it spent"),
    T.INCOMING_FUNDS: (False, "incoming funds: money the member received, never its pledge"),
    T.INCOMING_COMMITMENT: (False, "an incoming commitment: money promised to the member"),
    T.INCOMING_PLEDGE: (False, "an incoming pledge: money pledged to the member"),
}
PLEDGE_COUNTED = "an outgoing pledge, and the activity has no commitment: the pledged amount"
PLEDGE_SUPERSEDED = "an outgoing pledge, superseded by the activity's commitments"
RELATED = {
    RelatedActivityType.PARENT: LinkRelation.PARENT,
    RelatedActivityType.CHILD: LinkRelation.CHILD,
    RelatedActivityType.SIBLING: LinkRelation.SIBLING,
    RelatedActivityType.CO_FUNDED: LinkRelation.CO_FUNDED,
    RelatedActivityType.THIRD_PARTY: LinkRelation.THIRD_PARTY,
}
RECEIVED = frozenset({T.INCOMING_FUNDS, T.INCOMING_COMMITMENT, T.INCOMING_PLEDGE})
SENT = frozenset({T.OUTGOING_COMMITMENT, T.OUTGOING_PLEDGE, T.DISBURSEMENT})
PLEDGED = (K.COMMITMENT, K.PLEDGE)
SPENT = (K.DISBURSEMENT, K.EXPENDITURE)
CURRENCY = re.compile(r"[A-Z]{3}")

ROLES = {
    OrganisationRole.FUNDING: Role.FUNDER,
    OrganisationRole.ACCOUNTABLE: Role.CO_LEAD,
    OrganisationRole.EXTENDING: Role.CO_LEAD,
    OrganisationRole.IMPLEMENTING: Role.IMPLEMENTER,
}
LEGACY_ROLES = {"donor": Role.FUNDER}
NO_ROLE = {"beneficiary": "a beneficiary benefits from the pledge and holds no role in it"}

GOV, CIVIL, PRIVATE = (
    OrganisationType.GOVERNMENT,
    OrganisationType.CIVIL_SOCIETY,
    OrganisationType.PRIVATE_SECTOR,
)
ORGANISATION_TYPES: dict[str, OrganisationType | None] = {
    "10": GOV, "11": GOV, "15": GOV, "21": CIVIL, "22": CIVIL, "23": CIVIL, "24": CIVIL,
    "30": None, "40": OrganisationType.INTERNATIONAL_ORGANIZATION, "60": CIVIL,
    "70": PRIVATE, "71": PRIVATE, "72": PRIVATE, "73": PRIVATE,
    "80": OrganisationType.ACADEMIA, "90": None,
}  # fmt: skip
# Version 1 files may write the type's name instead of its code
ORGANISATION_TYPE_NAMES = {
    "government": "10", "local government": "11", "other public sector": "15",
    "international ngo": "21", "national ngo": "22", "regional ngo": "23",
    "partner country based ngo": "24", "public private partnership": "30",
    "multilateral": "40", "foundation": "60", "private sector": "70",
    "academic, training and research": "80", "other": "90",
}  # fmt: skip

IMPLEMENTATION = {
    ActivityStatus.PIPELINE: ImplementationStatus.PIPELINE,
    ActivityStatus.IMPLEMENTATION: ImplementationStatus.IMPLEMENTATION,
    ActivityStatus.FINALISATION: ImplementationStatus.COMPLETED,
    ActivityStatus.CLOSED: ImplementationStatus.COMPLETED,
    ActivityStatus.CANCELLED: ImplementationStatus.CANCELLED,
    ActivityStatus.SUSPENDED: ImplementationStatus.SUSPENDED,
}

DAC_VOCABULARIES = {None, "1", "DAC"}
SECTOR_FOCUS = {
    "22010": (FocusArea.ACCELERATE,),
    "22011": (FocusArea.ACCELERATE,),
    "22020": (FocusArea.ACCESS,),
    "22030": (FocusArea.ADOPTION,),
    "22040": (FocusArea.ACCESS, FocusArea.ADOPTION),
}
SDG_FOCUS = {
    "9.c": FocusArea.ACCESS,
    "9.c.1": FocusArea.ACCESS,
    "17.6.1": FocusArea.ACCESS,
    "5.b": FocusArea.ADOPTION,
    "17.8": FocusArea.ADOPTION,
    "4.4.1": FocusArea.ADOPTION,
    "5.b.1": FocusArea.ADOPTION,
    "17.8.1": FocusArea.ADOPTION,
}
M49_VOCABULARY = "2"
M49_GROUPS = {"199": CountryGroup.LDC, "432": CountryGroup.LLDC, "722": CountryGroup.SIDS}

QUANTITATIVE, QUALITATIVE = Measure.QUANTITATIVE, Measure.QUALITATIVE
MEASURES = {
    "1": (QUANTITATIVE, "units"), "unit": (QUANTITATIVE, "units"),
    "2": (QUANTITATIVE, "%"), "percentage": (QUANTITATIVE, "%"),
    "3": (QUALITATIVE, "category"), "nominal": (QUALITATIVE, "category"),
    "4": (QUANTITATIVE, "rank"), "ordinal": (QUANTITATIVE, "rank"),
    "5": (QUALITATIVE, "qualitative"), "qualitative": (QUALITATIVE, "qualitative"),
}  # fmt: skip
THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
PLACEHOLDER_YEAR = 1900  # publishers write 1900 (or 1900-01-01) for "no date"
MAX_LABEL = 300  # the hub's limit on a target's label
UNHASHED = frozenset({"place", "line", "content_hash"})  # positions in the file, and the hash


def map_activity(parsed: ParsedActivity, options: Options) -> Outcome:
    """What the hub would record for one activity, or why it records none."""
    activity, place = parsed.activity, parsed.place
    key = activity_key(activity)
    if key is None:
        reason = "no iati-identifier nor other-identifier to key the pledge by"
        return Rejected(options.source, place, reason)
    if not _selected(activity, key, options.selection):
        return Skipped(options.source, key, place)
    reporter = activity.reporting_org
    ref = reporter.ref if reporter is not None else None
    names = reporter.narratives if reporter is not None else ()
    planner = _Planner(activity, options)
    if ref is None:
        reason = "the reporting organisation gives no identifier"
    elif ref not in options.member:
        reason = f"reported by {ref}, which is not the member"
    elif reporter is not None and reporter.secondary_reporter:
        reason = f"{ref} reports it as a secondary reporter, for another organisation"
    else:
        plan = planner.plan(key, ref, place)
        return dataclasses.replace(plan, content_hash=content_hash(plan, UNHASHED))
    linking = planner.linking(key, planner.committed())
    return Unclaimed(options.source, key, place, ref, names, reason, linking)


def links_of(activity: Activity, key: str) -> tuple[LinkRecord, ...]:
    """The other activities ``activity`` names through its transactions and related
    activities, each once, in the order written."""
    found: dict[LinkRecord, None] = {}
    for transaction in activity.transactions:
        if transaction.type in RECEIVED and transaction.provider is not None:
            named, relation = transaction.provider.activity_id, LinkRelation.PROVIDER
        elif transaction.type in SENT and transaction.receiver is not None:
            named, relation = transaction.receiver.activity_id, LinkRelation.RECEIVER
        else:
            continue
        if named is not None and named.strip() and named.strip() != key:
            found[LinkRecord(relation, named.strip())] = None
    for related in activity.related_activities:
        ref = (related.ref or "").strip()
        if related.type in RELATED and ref and ref != key:
            found[LinkRecord(RELATED[related.type], ref)] = None
    return tuple(found)


def activity_key(activity: Activity) -> str | None:
    """What the activity is keyed by: its iati-identifier, else its first other-identifier."""
    if activity.identifier is not None:
        return activity.identifier
    if not activity.other_identifiers:
        return None
    other = activity.other_identifiers[0]
    if other.owner_ref is None or other.ref.startswith(f"{other.owner_ref}-"):
        return other.ref
    return f"{other.owner_ref}-{other.ref}"


def _selected(activity: Activity, key: str, selection: Selection) -> bool:
    reporter = activity.reporting_org
    return (
        key in selection.activity_ids
        or activity.identifier in selection.activity_ids
        or (reporter is not None and reporter.ref in selection.reporting_orgs)
        or any(code in selection.sectors for code in _dac_sectors(activity))
        or any((t.vocabulary or "1", t.code) in selection.tags for t in activity.tags)
    )


def _dac_sectors(activity: Activity) -> list[str]:
    return [s.code for s in activity.sectors if s.code and s.vocabulary in DAC_VOCABULARIES]


def _text(narratives: Sequence[Narrative], lang: str | None) -> str | None:
    """The narrative in ``lang``, else the first; None when there is none."""
    for narrative in narratives:
        if narrative.lang == lang:
            return narrative.text
    return narratives[0].text if narratives else None


def _whole(measurements: Sequence[Measurement]) -> Measurement | None:
    """The first stated measurement of the whole: one with dimensions measures a slice."""
    return next((m for m in measurements if m.raw is not None and not m.dimensions), None)


@dataclasses.dataclass
class _Partner:
    """What the participating entries of one organisation other than the member say."""

    names: tuple[Narrative, ...]
    type: str | None
    roles: set[Role]
    activity_ids: list[str]


class _Planner:
    """Builds one activity's plan, gathering review items and notes on the way."""

    def __init__(self, activity: Activity, options: Options) -> None:
        self.activity = activity
        self.options = options
        self.review: list[ReviewItem] = []
        self.notes: list[str] = []

    def plan(self, key: str, lead: str, place: Place) -> Plan:
        activity = self.activity
        flows, rejected = self._flows()
        counted = self._counted(flows)
        amount = self._amount(counted)
        focus_areas, sdgs = self._classification()
        countries, groups = self._countries(), self._groups()
        targets, reports = self._results()
        start, end = self._dates()
        title = activity.titles
        if not title:
            title = (Narrative(key, activity.default_language),)
            self.notes.append("no title: the identifier stands in for it")
        pledged = [f.value_date for f in flows if f.counts and f.kind in PLEDGED]
        return Plan(
            source=self.options.source,
            external_id=key,
            place=place,
            lead=lead,
            pledge_type=PledgeType.FINANCIAL,
            title=title,
            description=tuple(
                n for d in activity.descriptions if d.type in (None, "1") for n in d.narratives
            ),
            implementation_status=self._status(),
            announced_on=min(pledged, default=start),
            start_date=start,
            end_date=end,
            focus_areas=focus_areas,
            sdgs=sdgs,
            target_countries=countries,
            target_groups=groups,
            amount=amount,
            counted=counted,
            pledge_only=any(f.counts and f.kind is K.PLEDGE for f in flows),
            flows=flows,
            rejected_flows=rejected,
            endorsements=self._endorsements(lead),
            review=tuple(self.review),
            targets=targets,
            reports=self._disbursed(flows) + reports,
            problems=activity.problems,
            notes=tuple(self.notes),
            gaps=_gaps(focus_areas, countries, groups, targets, amount),
            content_hash="",
            linking=self.linking(key, amount),
        )

    def linking(self, key: str, reported: Amount | None) -> Linking:
        """The activity's id, the activities it names, and what it commits."""
        said = (reported.value, reported.currency) if reported is not None else None
        return Linking(key, links_of(self.activity, key), said)

    def committed(self) -> Amount | None:
        """What the activity commits, as a plan would state it (an unclaimed one's too)."""
        flows, _ = self._flows()
        return self._amount(self._counted(flows))

    # Money

    def _flows(self) -> tuple[tuple[Flow, ...], tuple[RejectedFlow, ...]]:
        transactions = self.activity.transactions
        committed = any(t.type is T.OUTGOING_COMMITMENT for t in transactions)
        flows: list[Flow] = []
        rejected: list[RejectedFlow] = []
        for position, transaction in enumerate(transactions, 1):
            flow = self._flow(position, transaction, committed)
            if isinstance(flow, Flow):
                flows.append(flow)
            else:
                rejected.append(flow)
        return tuple(flows), tuple(rejected)

    def _flow(self, position: int, t: Transaction, committed: bool) -> Flow | RejectedFlow:
        if t.type is None:
            written = f"{t.type_raw!r} is not an IATI transaction type" if t.type_raw else None
            return RejectedFlow(position, written or "no transaction type")
        kind = KINDS.get(t.type)
        if kind is None:
            name = t.type.name.lower().replace("_", " ")
            return RejectedFlow(position, f"type {t.type} ({name}) is no flow the hub records")
        if t.value is None:
            written = f"the value {t.value_raw!r} is not a number" if t.value_raw else None
            return RejectedFlow(position, written or "no value")
        currency = t.currency or self.activity.default_currency
        if currency is None:
            return RejectedFlow(position, "no currency: not on the value, no default-currency")
        if not CURRENCY.fullmatch(currency):
            return RejectedFlow(position, f"{currency!r} is not an ISO 4217 currency code")
        on = t.value_date or t.transaction_date
        if on is None:
            return RejectedFlow(position, "no value-date nor transaction-date")
        if t.type is T.OUTGOING_PLEDGE:
            counts, reason = (False, PLEDGE_SUPERSEDED) if committed else (True, PLEDGE_COUNTED)
        else:
            counts, reason = COUNTING[t.type]
        return Flow(
            position=position,
            ref=t.ref,
            kind=kind,
            amount=Amount(t.value, currency),
            value_date=on,
            counts=counts,
            reason=reason,
            description=t.description,
            provider=t.provider,
            receiver=t.receiver,
        )

    def _counted(self, flows: Sequence[Flow]) -> tuple[Amount, ...]:
        sums: defaultdict[str, Decimal] = defaultdict(Decimal)
        for flow in flows:
            if flow.counts and flow.kind in PLEDGED:
                sums[flow.amount.currency] += flow.amount.value
        return tuple(Amount(value, currency) for currency, value in sorted(sums.items()))

    def _amount(self, counted: Sequence[Amount]) -> Amount | None:
        if len(counted) > 1:
            currencies = ", ".join(a.currency for a in counted)
            self.notes.append(f"pledged in {currencies}: the hub holds one amount per pledge")
            return None
        if counted and counted[0].value <= 0:
            self.notes.append(f"the pledged flows sum to {counted[0].value}: no amount above 0")
            return None
        return counted[0] if counted else None

    def _disbursed(self, flows: Sequence[Flow]) -> tuple[Report, ...]:
        sums: defaultdict[tuple[int, str], Decimal] = defaultdict(Decimal)
        for flow in flows:
            if flow.kind in SPENT:
                sums[flow.value_date.year, flow.amount.currency] += flow.amount.value
        reports = []
        for (year, currency), total in sorted(sums.items()):
            if total > 0:
                start, end = date(year, 1, 1), date(year, 12, 31)
                reports.append(Report(start, end, Amount(total, currency), ()))
            else:
                self.notes.append(f"{year}: {total} {currency} disbursed and spent, no report")
        return tuple(reports)

    # Organisations

    def _endorsements(self, lead: str) -> tuple[Endorsement, ...]:
        lead_roles = {Role.LEAD}
        partners: dict[str, _Partner] = {}
        for org in self.activity.participating_orgs:
            role = self._role(org)
            if org.ref is None or role is None:
                continue
            if org.ref in self.options.member:
                if role is not Role.CO_LEAD:  # the lead is accountable and extending already
                    lead_roles.add(role)
                continue
            partner = partners.setdefault(org.ref, _Partner(org.narratives, org.type, set(), []))
            partner.roles.add(role)
            partner.type = partner.type or org.type
            if org.activity_id is not None and org.activity_id not in partner.activity_ids:
                partner.activity_ids.append(org.activity_id)
        reporter = self.activity.reporting_org
        names = reporter.narratives if reporter is not None else ()
        endorsements = [
            Endorsement(
                ref=lead,
                names=names,
                organisation_type=self._type(lead, names, reporter.type if reporter else None),
                roles=tuple(r for r in Role if r in lead_roles),
                status=EndorsementStatus.ACCEPTED,
                activity_ids=(),
            )
        ]
        for ref, partner in partners.items():
            endorsements.append(
                Endorsement(
                    ref=ref,
                    names=partner.names,
                    organisation_type=self._type(ref, partner.names, partner.type),
                    roles=tuple(r for r in Role if r in partner.roles),
                    status=EndorsementStatus.INVITED,
                    activity_ids=tuple(partner.activity_ids),
                )
            )
        return tuple(endorsements)

    def _role(self, org: ParticipatingOrg) -> Role | None:
        """The hub role of a participating entry, or None with a review item saying why."""
        raw = org.role_raw or ""
        if org.ref is None:
            reason = f"no IATI organisation identifier (role {raw or 'none'})"
            self._review(ReviewSubject.ORGANISATION, None, org.narratives, reason)
            return None
        role = ROLES[org.role] if org.role is not None else LEGACY_ROLES.get(raw.lower())
        if role is None:
            reason = NO_ROLE.get(raw.lower(), f"{raw!r} is not an IATI organisation role")
            self._review(ReviewSubject.ORGANISATION, org.ref, org.narratives, reason)
        return role

    def _type(
        self, ref: str, names: tuple[Narrative, ...], raw: str | None
    ) -> OrganisationType | None:
        if raw is None:
            return None
        code = ORGANISATION_TYPE_NAMES.get(raw.lower(), raw)
        found = ORGANISATION_TYPES.get(code)
        if found is None:
            known = code in ORGANISATION_TYPES
            reason = (
                f"organisation type {raw} fits no single P2C constituency"
                if known
                else f"{raw!r} is not an IATI organisation type"
            )
            self._review(ReviewSubject.ORGANISATION_TYPE, ref, names, reason)
        return found

    def _review(
        self, subject: ReviewSubject, code: str | None, names: tuple[Narrative, ...], reason: str
    ) -> None:
        self.review.append(ReviewItem(subject, code, names, reason))

    # Classification, places, status, dates

    def _classification(self) -> tuple[tuple[FocusArea, ...], tuple[int, ...]]:
        sectors = _dac_sectors(self.activity)
        areas = {area for code in sectors for area in SECTOR_FOCUS.get(code, ())}
        goals: set[int] = set()
        for sdg in self.activity.sdgs:
            if sdg.code in SDG_FOCUS:
                areas.add(SDG_FOCUS[sdg.code])
            goal = sdg.code.split(".")[0]
            if goal.isdigit() and 1 <= int(goal) <= 17:
                goals.add(int(goal))
            else:
                self.notes.append(f"SDG {sdg.level.lower()} {sdg.code!r} names no goal 1 to 17")
        if not areas:
            self.notes.append("no sector or SDG maps to a focus area: it needs classification")
        return tuple(a for a in FocusArea if a in areas), tuple(sorted(goals))

    def _countries(self) -> tuple[str, ...]:
        found: dict[str, None] = {}
        for country in self.activity.recipient_countries:
            alpha3 = self.options.countries.get(country.code.upper()) if country.code else None
            if alpha3 is None:
                reason = "not a country the hub knows" if country.code else "no country code"
                self._review(ReviewSubject.COUNTRY, country.code, country.narratives, reason)
            else:
                found[alpha3] = None
        return tuple(found)

    def _groups(self) -> tuple[CountryGroup, ...]:
        found: dict[CountryGroup, None] = {}
        for region in self.activity.recipient_regions:
            vocabulary = region.vocabulary or "1"
            group = M49_GROUPS.get(region.code or "") if vocabulary == M49_VOCABULARY else None
            if group is None:
                reason = f"region vocabulary {vocabulary} names none of the groups LDC, LLDC, SIDS"
                self._review(ReviewSubject.REGION, region.code, region.narratives, reason)
            else:
                found[group] = None
        return tuple(found)

    def _status(self) -> ImplementationStatus | None:
        if self.activity.status is None:
            self.notes.append("no activity status the hub can read")
            return None
        return IMPLEMENTATION[self.activity.status]

    def _dates(self) -> tuple[date | None, date | None]:
        start = self._date(ActivityDateType.ACTUAL_START) or self._date(
            ActivityDateType.PLANNED_START
        )
        end = self._date(ActivityDateType.ACTUAL_END) or self._date(ActivityDateType.PLANNED_END)
        if start is not None and end is not None and end < start:
            self.notes.append(f"the activity ends ({end}) before it starts: no end date")
            end = None
        return start, end

    def _date(self, kind: ActivityDateType) -> date | None:
        for found in self.activity.dates:
            if found.type is kind and found.iso_date is not None:
                if found.iso_date.year <= PLACEHOLDER_YEAR:
                    self.notes.append(f"{found.type_raw} {found.iso_date} is a placeholder")
                    continue
                return found.iso_date
        return None

    # Results

    def _results(self) -> tuple[tuple[Target, ...], tuple[Report, ...]]:
        targets: list[Target] = []
        periods: defaultdict[tuple[date, date], dict[str, ReportedValue]] = defaultdict(dict)
        for r, result in enumerate(self.activity.results, 1):
            for i, indicator in enumerate(result.indicators, 1):
                target = self._target(f"result {r} indicator {i}", result, indicator)
                if target is None:
                    continue
                targets.append(target)
                for period in indicator.periods:
                    actual = _whole(period.actuals)
                    if actual is None:
                        continue
                    if period.start is None or period.end is None or period.end < period.start:
                        self.notes.append(f"{target.key}: an actual outside a dated period")
                        continue
                    values = periods[period.start, period.end]
                    if target.key in values:
                        self.notes.append(f"{target.key}: a second actual for {period.end}")
                        continue
                    values[target.key] = self._reported(target, actual)
        reports = tuple(
            Report(start, end, None, tuple(values.values()))
            for (start, end), values in sorted(periods.items())
        )
        return tuple(targets), reports

    def _target(self, key: str, result: Result, indicator: Indicator) -> Target | None:
        lang = self.activity.default_language
        measure, unit = MEASURES.get((indicator.measure or "").lower(), (None, "units"))
        if measure is None:
            measure = QUANTITATIVE
            self.notes.append(f"{key}: measure {indicator.measure!r} read as a number of units")
        label = _text(indicator.title, lang) or _text(result.title, lang) or key
        if len(label) > MAX_LABEL:
            label = label[: MAX_LABEL - 1] + "…"
        baseline_value, baseline_date = self._baseline(key, indicator.baselines)
        aim: tuple[date | None, Decimal | None] | None = None
        for period in indicator.periods:
            measurement = _whole(period.targets)
            if measurement is None:
                continue
            value = self._number(key, measurement) if measure is QUANTITATIVE else None
            if measure is QUANTITATIVE and value is None:
                continue
            if aim is None or (period.end or date.min) >= (aim[0] or date.min):
                aim = (period.end, value)
        if measure is QUANTITATIVE and aim is None:
            reason = f"{key}: no target value for the whole, which a quantitative target needs"
            self._review(ReviewSubject.INDICATOR, key, indicator.title, reason)
            return None
        deadline, target_value = aim or (None, None)
        return Target(
            key=key,
            indicator=HubIndicator.OTHER,
            label=label,
            description=indicator.description or indicator.title or result.title,
            unit=unit,
            measure=measure,
            direction=Direction.DESCENDING if indicator.ascending is False else Direction.ASCENDING,
            cumulative=True,  # an IATI actual is the value at the end of its period: a level
            baseline_value=baseline_value if measure is QUANTITATIVE else None,
            baseline_date=baseline_date,
            target_value=target_value,
            deadline=deadline,
        )

    def _baseline(
        self, key: str, baselines: Sequence[Baseline]
    ) -> tuple[Decimal | None, date | None]:
        baseline = next((b for b in baselines if not b.measurement.dimensions), None)
        if baseline is None:
            return None, None
        year = baseline.iso_date.year if baseline.iso_date else baseline.year
        if year is not None and not PLACEHOLDER_YEAR < year <= date.max.year:
            written = baseline.iso_date or baseline.year
            self.notes.append(f"{key}: the baseline of {written} is a placeholder, not trusted")
            return None, None
        on = baseline.iso_date or (date(year, 1, 1) if year is not None else None)
        return self._number(key, baseline.measurement), on

    def _number(self, key: str, measurement: Measurement) -> Decimal | None:
        """The measured number; commas grouping digits by three read as thousands separators."""
        if measurement.value is not None:
            return measurement.value
        raw = measurement.raw
        if raw is None or not THOUSANDS.fullmatch(raw):
            return None
        value = Decimal(raw.replace(",", ""))
        self.notes.append(f"{key}: {raw!r} read as {value}, its commas as thousands separators")
        return value

    def _reported(self, target: Target, actual: Measurement) -> ReportedValue:
        if target.measure is QUALITATIVE:
            return ReportedValue(target.key, None, actual.raw)
        value = self._number(target.key, actual)
        note = None if value is not None else f"stated as {actual.raw!r}"
        return ReportedValue(target.key, value, note)


def _gaps(
    focus_areas: Sequence[FocusArea],
    countries: Sequence[str],
    groups: Sequence[CountryGroup],
    targets: Sequence[Target],
    amount: Amount | None,
) -> tuple[Gap, ...]:
    """What SMART-completeness still asks for, as the hub's submit check would name it."""
    measurable = any(
        t.measure is QUANTITATIVE and t.target_value is not None and t.deadline is not None
        for t in targets
    )
    missing = {
        Gap.FOCUS_AREA: not focus_areas,
        Gap.PLACE: not countries and not groups,
        Gap.TARGET: not measurable,
        Gap.AMOUNT: amount is None,
    }
    return tuple(gap for gap, lacking in missing.items() if lacking)
