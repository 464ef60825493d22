"""Stream IATI activity files into records: bytes in, typed records out, nothing else.

Files run to hundreds of megabytes, so they are read with lxml's ``iterparse`` one
``iati-activity`` at a time, and each activity (with whatever preceded it) is dropped from the
tree once read: memory stays flat however long the file. Versions 1.0x and 2.0x are read alike,
since their spellings never collide (``C`` or ``2``, ``Funding`` or ``1``), and a file whose
root is a single ``iati-activity`` is read too. Elements and attributes in other namespaces
(registry records, publishers' extensions) are ignored.

Parsing is safe on hostile input: no entity is resolved, nothing is fetched, no node may grow
huge, and a document that declares entities (the only way to XXE or a billion laughs) is
refused. A file that is not well-formed, not IATI or refused ends in an :class:`Unreadable`,
never an exception.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any, BinaryIO, TypeVar
from xml.sax.saxutils import escape

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information

from connectors.iati.reader import XML_LANG, Reader, attribute, own_text
from connectors.iati.records import (
    Activity,
    ActivityDate,
    ActivityDateType,
    ActivityStatus,
    Description,
    OrganisationRole,
    OtherIdentifier,
    ParsedActivity,
    ParticipatingOrg,
    Place,
    Problem,
    RecipientCountry,
    RecipientRegion,
    RelatedActivity,
    RelatedActivityType,
    ReportingOrg,
    Sector,
    Tag,
    Transaction,
    TransactionOrg,
    TransactionType,
    Unreadable,
)
from connectors.iati.results import ResultReader

__all__ = ["activities"]

ROOTS = ("iati-activities", "iati-activity")

E = TypeVar("E", bound=StrEnum)


def _codes(enum: type[E], aliases: Mapping[str, E]) -> dict[str, E]:
    """Version 2 codes, plus the version 1 spellings, lower-cased for a forgiving lookup."""
    return {member.value: member for member in enum} | {k.lower(): v for k, v in aliases.items()}


T = TransactionType
TRANSACTION_TYPES = _codes(
    T,
    {"C": T.OUTGOING_COMMITMENT, "D": T.DISBURSEMENT, "E": T.EXPENDITURE, "IF": T.INCOMING_FUNDS,
     "IR": T.INTEREST_PAYMENT, "LR": T.LOAN_REPAYMENT, "R": T.REIMBURSEMENT,
     "QP": T.PURCHASE_OF_EQUITY, "QS": T.SALE_OF_EQUITY, "CG": T.CREDIT_GUARANTEE},
)  # fmt: skip
# Names, for transactions that give no code (pre-1.0 files write type="commitment")
TRANSACTION_TYPE_NAMES = _codes(
    T,
    {"Incoming Funds": T.INCOMING_FUNDS, "Commitment": T.OUTGOING_COMMITMENT,
     "Outgoing Commitment": T.OUTGOING_COMMITMENT, "Disbursement": T.DISBURSEMENT,
     "Expenditure": T.EXPENDITURE, "Interest Repayment": T.INTEREST_PAYMENT,
     "Interest Payment": T.INTEREST_PAYMENT, "Loan Repayment": T.LOAN_REPAYMENT,
     "Reimbursement": T.REIMBURSEMENT, "Purchase of Equity": T.PURCHASE_OF_EQUITY,
     "Sale of Equity": T.SALE_OF_EQUITY, "Credit Guarantee": T.CREDIT_GUARANTEE,
     "Incoming Commitment": T.INCOMING_COMMITMENT, "Outgoing Pledge": T.OUTGOING_PLEDGE,
     "Incoming Pledge": T.INCOMING_PLEDGE},
)  # fmt: skip
ROLES = _codes(OrganisationRole, {role.name: role for role in OrganisationRole})
D = ActivityDateType
DATE_TYPES = _codes(
    D,
    {"start-planned": D.PLANNED_START, "start-actual": D.ACTUAL_START,
     "end-planned": D.PLANNED_END, "end-actual": D.ACTUAL_END},
)  # fmt: skip
STATUSES = _codes(ActivityStatus, {})
RELATED_TYPES = _codes(RelatedActivityType, {})

CURRENCY = re.compile(r"[A-Z]{3}")
COUNTRY = re.compile(r"[A-Z]{2}")


def activities(source: BinaryIO | bytes) -> Iterator[ParsedActivity | Unreadable]:
    """Every activity of an IATI activity file, in order; an :class:`Unreadable` ends it early.

    ``source`` is the file's bytes or a binary stream, read once and never closed here.
    """
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    events = etree.iterparse(
        stream,
        events=("end",),
        tag="iati-activity",
        huge_tree=False,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
    )
    position = 0
    try:
        for _event, element in events:
            root = element.getroottree().getroot()
            if position == 0 and (refusal := _refusal(root)) is not None:
                yield refusal
                return
            position += 1
            version = attribute(element, "version") or attribute(root, "version")
            lang = attribute(element, XML_LANG) or attribute(root, XML_LANG)
            activity = ActivityReader(version, lang).read(element)
            xml = _standalone(element, version, lang)
            yield ParsedActivity(Place(element.sourceline, position), activity, xml)
            element.clear()
            parent = element.getparent()
            if parent is not None:
                while element.getprevious() is not None:
                    del parent[0]
    except etree.ParseError as error:
        yield Unreadable(error.lineno or None, error.msg)  # libxml2 says line 0 for no line
        return
    if position == 0 and events.root is not None:
        refusal = _refusal(events.root)
        if refusal is not None:
            yield refusal


def _standalone(element: Any, version: str | None, lang: str | None) -> bytes:
    """The activity as a document of its own, keeping what it inherits from its file."""
    inherited = "".join(
        f' {name}="{escape(value, {chr(34): "&quot;"})}"'
        for name, value in (("version", version), ("xml:lang", lang))
        if value is not None
    )
    body: bytes = etree.tostring(element, encoding="utf-8", with_tail=False)
    return f"<iati-activities{inherited}>".encode() + body + b"</iati-activities>"


def _refusal(root: Any) -> Unreadable | None:
    """Why a document is not read on, judged from its root and DTD, or None."""
    if root.tag not in ROOTS:
        return Unreadable(root.sourceline, f"the root element is <{root.tag}>, not {ROOTS[0]}")
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        return Unreadable(None, "the document declares entities, which IATI files never need")
    return None


class ActivityReader(Reader):
    """Reads one ``iati-activity`` element into an :class:`Activity`."""

    def __init__(self, version: str | None, default_lang: str | None) -> None:
        super().__init__(default_lang)
        self.version = version

    def read(self, element: Any) -> Activity:
        """The activity ``element`` holds; problems are noted, never raised."""
        own: list[Problem] = []
        identifier_element = self.one(element, "iati-identifier", own)
        identifier = own_text(identifier_element) if identifier_element is not None else None
        others = tuple(self._other_identifiers(element, own))
        if identifier is None and not others:
            self.note(own, element, "iati-identifier", "no iati-identifier nor other-identifier")
        currency = attribute(element, "default-currency")
        if currency is not None and not CURRENCY.fullmatch(currency):
            self.note(own, element, "@default-currency", f"not a currency code: {currency!r}")
        hierarchy = self.integer(own, element, "@hierarchy", attribute(element, "hierarchy"))
        status_element = self.one(element, "activity-status", own)
        status_raw = attribute(status_element, "code") if status_element is not None else None
        status = self.code(own, status_element, "activity-status/@code", status_raw, STATUSES)
        results = ResultReader(self)
        return Activity(
            identifier=identifier,
            other_identifiers=others,
            version=self.version,
            default_currency=currency,
            default_language=self.default_lang,
            hierarchy=hierarchy,
            reporting_org=self._reporting_org(element, own),
            titles=tuple(n for title in element.iterfind("title") for n in self.narratives(title)),
            descriptions=tuple(
                Description(attribute(d, "type"), self.narratives(d))
                for d in element.iterfind("description")
            ),
            status=status,
            status_raw=status_raw,
            dates=self.each(element, "activity-date", self._date),
            participating_orgs=self.each(element, "participating-org", self._participating_org),
            transactions=self.each(element, "transaction", self._transaction),
            sectors=self.each(element, "sector", self._sector),
            recipient_countries=self.each(element, "recipient-country", self._country),
            recipient_regions=self.each(element, "recipient-region", self._region),
            tags=tuple(
                Tag(attribute(t, "vocabulary"), attribute(t, "code"), self.narratives(t))
                for t in element.iterfind("tag")
            ),
            related_activities=self.each(element, "related-activity", self._related),
            results=self.each(element, "result", results.result),
            problems=tuple(sorted(self.problems, key=lambda p: p.line or 0)),
        )

    def _other_identifiers(self, element: Any, own: list[Problem]) -> Iterator[OtherIdentifier]:
        for other in element.iterfind("other-identifier"):
            # version 1 writes the identifier as text and its owner as attributes
            ref = attribute(other, "ref") or own_text(other)
            if ref is None:
                self.note(own, other, "other-identifier", "other-identifier without a value")
                continue
            owner = other.find("owner-org")
            if owner is None:  # version 1
                owner_ref = attribute(other, "owner-ref")
                owner_name = attribute(other, "owner-name")
            else:
                names = self.narratives(owner)
                owner_ref = attribute(owner, "ref")
                owner_name = names[0].text if names else None
            yield OtherIdentifier(ref, attribute(other, "type"), owner_ref, owner_name)

    def _reporting_org(self, element: Any, own: list[Problem]) -> ReportingOrg | None:
        org = self.one(element, "reporting-org", own)
        if org is None:
            return None
        return ReportingOrg(
            ref=attribute(org, "ref"),
            type=attribute(org, "type"),
            narratives=self.narratives(org),
            secondary_reporter=self.boolean(
                own, org, "reporting-org/@secondary-reporter", attribute(org, "secondary-reporter")
            ),
        )

    def _date(self, element: Any, where: str) -> ActivityDate:
        own: list[Problem] = []
        raw = attribute(element, "type")
        return ActivityDate(
            type=self.code(own, element, f"{where}/@type", raw, DATE_TYPES),
            type_raw=raw,
            iso_date=self.date_of(own, element, where),
            problems=tuple(own),
        )

    def _participating_org(self, element: Any, where: str) -> ParticipatingOrg:
        own: list[Problem] = []
        raw = attribute(element, "role")
        return ParticipatingOrg(
            ref=attribute(element, "ref"),
            type=attribute(element, "type"),
            role=self.code(own, element, f"{where}/@role", raw, ROLES),
            role_raw=raw,
            activity_id=attribute(element, "activity-id"),
            narratives=self.narratives(element),
            problems=tuple(own),
        )

    def _transaction(self, element: Any, where: str) -> Transaction:
        own: list[Problem] = []
        kind, raw = self._transaction_type(element, own, where)
        value = self.one(element, "value", own, where)
        value_raw = own_text(value) if value is not None else None
        if value_raw is None:
            self.note(own, element, where, "no value")
        currency = attribute(value, "currency") if value is not None else None
        if currency is not None and not CURRENCY.fullmatch(currency):
            self.note(own, value, f"{where}/value", f"not a currency code: {currency!r}")
        value_date = attribute(value, "value-date") if value is not None else None
        return Transaction(
            ref=attribute(element, "ref"),
            type=kind,
            type_raw=raw,
            value=self.number(own, value, f"{where}/value", value_raw),
            value_raw=value_raw,
            currency=currency,
            value_date=self.date_from(own, value, f"{where}/value/@value-date", value_date),
            transaction_date=self.date_of(
                own, self.one(element, "transaction-date", own, where), f"{where}/transaction-date"
            ),
            provider=self._transaction_org(element, "provider", own, where),
            receiver=self._transaction_org(element, "receiver", own, where),
            description=tuple(
                n for d in element.iterfind("description") for n in self.narratives(d)
            ),
            problems=tuple(own),
        )

    def _transaction_type(
        self, element: Any, own: list[Problem], where: str
    ) -> tuple[TransactionType | None, str | None]:
        """The transaction's type, and how the file wrote it: a code, else a name."""
        type_element = self.one(element, "transaction-type", own, where)
        if type_element is None:  # pre-1.0 files put the type's name in transaction/@type
            at, path, raw = element, f"{where}/@type", attribute(element, "type")
        else:
            at, path = type_element, f"{where}/transaction-type"
            raw = attribute(type_element, "code")
            if raw is not None:
                return self.code(own, at, path, raw, TRANSACTION_TYPES), raw
            raw = own_text(type_element)
        if raw is None:
            self.note(own, at, path, "no transaction type")
        return self.code(own, at, path, raw, TRANSACTION_TYPE_NAMES), raw

    def _transaction_org(
        self, element: Any, side: str, own: list[Problem], where: str
    ) -> TransactionOrg | None:
        org = self.one(element, f"{side}-org", own, where)
        if org is None:
            return None
        return TransactionOrg(
            ref=attribute(org, "ref"),
            type=attribute(org, "type"),
            activity_id=attribute(org, f"{side}-activity-id"),
            narratives=self.narratives(org),
        )

    def _sector(self, element: Any, where: str) -> Sector:
        own: list[Problem] = []
        return Sector(
            vocabulary=attribute(element, "vocabulary"),
            # pre-1.0 files put the code in @ref
            code=attribute(element, "code") or attribute(element, "ref"),
            percentage=self.number(
                own, element, f"{where}/@percentage", attribute(element, "percentage")
            ),
            narratives=self.narratives(element),
            problems=tuple(own),
        )

    def _country(self, element: Any, where: str) -> RecipientCountry:
        own: list[Problem] = []
        code = attribute(element, "code")
        if code is None:
            self.note(own, element, f"{where}/@code", "no country code")
        elif not COUNTRY.fullmatch(code):
            self.note(own, element, f"{where}/@code", f"not an ISO 3166-1 alpha-2 code: {code!r}")
        return RecipientCountry(
            code=code,
            percentage=self.number(
                own, element, f"{where}/@percentage", attribute(element, "percentage")
            ),
            narratives=self.narratives(element),
            problems=tuple(own),
        )

    def _region(self, element: Any, where: str) -> RecipientRegion:
        own: list[Problem] = []
        return RecipientRegion(
            vocabulary=attribute(element, "vocabulary"),
            code=attribute(element, "code"),
            percentage=self.number(
                own, element, f"{where}/@percentage", attribute(element, "percentage")
            ),
            narratives=self.narratives(element),
            problems=tuple(own),
        )

    def _related(self, element: Any, where: str) -> RelatedActivity:
        own: list[Problem] = []
        raw = attribute(element, "type")
        return RelatedActivity(
            type=self.code(own, element, f"{where}/@type", raw, RELATED_TYPES),
            type_raw=raw,
            ref=attribute(element, "ref"),
            problems=tuple(own),
        )
