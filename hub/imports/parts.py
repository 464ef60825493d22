"""The parts of an imported pledge beside its own fields: translations, money flows,
endorsements, progress reports and review items, each written by its key so that what the
source still says stays, what it no longer says goes, and what is new comes.

Called by ``hub.imports.apply`` inside the record's savepoint, with the connector's principal:
every change is the hub's command or service, and recorded in the audit ledger.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.ledger import changes_between, record, record_change, snapshot
from hub.auth.principal import Principal
from hub.columns import Provenance
from hub.endorsements import commands as endorsement_commands
from hub.endorsements.models import Endorsement, EndorsementStatus
from hub.endorsements.service import add_roles, endorsement_of, roles_of
from hub.imports.models import ReviewEntry, ReviewStatus, SyncRun
from hub.imports.records import (
    EndorserRecord,
    FlowRecord,
    PledgeRecord,
    ReportRecord,
    ReviewRecord,
)
from hub.imports.review import ORGANISATION_MATCH, ORGANISATION_TYPE
from hub.integrity import flush
from hub.money.amounts import money
from hub.money.flows import FlowDraft, record_flows
from hub.money.models import MoneyFlow
from hub.money.service import RateCache
from hub.organisations.matching import Match, match_organisation
from hub.organisations.models import Organisation
from hub.organisations.service import create_organisation
from hub.pledges.models import Pledge, PledgeText, TextField
from hub.progress.models import ProgressReport, ReportStatus
from hub.progress.rules import ReportDraft, ReportedValue
from hub.progress.service import remove_report, report_progress, revise_report

T = TypeVar("T")


async def _held(session: AsyncSession, query: Select[T], fresh: bool) -> Sequence[T]:
    """What ``query`` finds of a record's parts; nothing, unread, for a record made just now."""
    return [] if fresh else list(await session.scalars(query))


async def write_texts(
    session: AsyncSession,
    principal: Principal,
    pledge: Pledge,
    pledge_record: PledgeRecord,
    *,
    fresh: bool,
) -> None:
    """The title and description in each language the source wrote them in, replaced
    together when any changed (``fresh``: the pledge was made just now, nothing is held)."""
    wanted = {(TextField.TITLE, t.language): t.text for t in pledge_record.titles} | {
        (TextField.DESCRIPTION, t.language): t.text for t in pledge_record.descriptions
    }
    rows = await _held(session, select(PledgeText).where(PledgeText.pledge_id == pledge.id), fresh)
    held = {(row.field, row.language): row.text for row in rows}
    if held == wanted:
        return
    if held:
        await session.execute(delete(PledgeText).where(PledgeText.pledge_id == pledge.id))
    session.add_all(
        PledgeText(pledge_id=pledge.id, field=field, language=language, text=text)
        for (field, language), text in wanted.items()
    )
    await flush(session)

    def named(texts: dict[tuple[TextField, str], str]) -> dict[str, str]:
        return {f"{field.lower()}.{language}": text for (field, language), text in texts.items()}

    parts = changes_between(named(held), named(wanted))
    await record(session, principal, "pledge.translate", pledge, snapshot(pledge), parts)


def _gone(row: MoneyFlow | ProgressReport) -> dict[str, Any]:
    """The changes of removing a record: every field to null."""
    return {
        name: {"before": change["after"], "after": None}
        for name, change in changes_between(None, snapshot(row)).items()
    }


def _flow_id(pledge_record: PledgeRecord, flow: FlowRecord) -> str:
    return f"{pledge_record.external_id}#{flow.key}"


def _same_flow(row: MoneyFlow, flow: FlowRecord, amount_minor: int) -> bool:
    return (
        row.kind is flow.kind
        and row.amount_minor == amount_minor
        and row.currency == flow.currency
        and row.value_date == flow.value_date
        and row.counts_toward_total == flow.counts
        and row.count_reason == flow.reason
        and row.description == flow.description
    )


async def write_flows(
    session: AsyncSession,
    principal: Principal,
    pledge: Pledge,
    pledge_record: PledgeRecord,
    fetched: datetime,
    rates: RateCache | None,
    *,
    fresh: bool,
) -> None:
    """Flows by key: unchanged ones stay, changed and vanished ones go, new ones come; the
    flows of an earlier lead record (its twin from another source) go too, as the pledge's
    money is what its lead record says, counted once."""
    rows = await _held(
        session,
        select(MoneyFlow).where(
            MoneyFlow.pledge_id == pledge.id, MoneyFlow.source_system.is_not(None)
        ),
        fresh,
    )
    held = {row.external_id or "": row for row in rows}
    wanted = {_flow_id(pledge_record, flow): flow for flow in pledge_record.flows}
    keep: set[str] = set()
    for external_id, flow in wanted.items():
        row = held.get(external_id)
        amount = money(flow.amount, flow.currency, field="flows")
        if row is not None and _same_flow(row, flow, amount.amount_minor):
            keep.add(external_id)
    for external_id, row in held.items():
        if external_id not in keep:
            record_change(session, principal, "flow.remove", "MoneyFlow", str(row.id), _gone(row))
            await session.execute(delete(MoneyFlow).where(MoneyFlow.id == row.id))
    drafts = [
        FlowDraft(
            kind=flow.kind,
            amount=money(flow.amount, flow.currency, field="flows"),
            value_date=flow.value_date,
            counts_toward_total=flow.counts,
            count_reason=flow.reason,
            description=flow.description,
            provenance=Provenance(pledge_record.source, external_id, fetched),
        )
        for external_id, flow in wanted.items()
        if external_id not in keep
    ]
    for created in await record_flows(session, pledge.id, drafts, rates=rates):
        await record(session, principal, "flow.import", created)


async def _organisation_for(
    session: AsyncSession,
    principal: Principal,
    endorser: EndorserRecord,
    source: str,
    fetched: datetime,
) -> Organisation | ReviewRecord:
    """The organisation the endorser is, by identifier and then by name
    (``hub.organisations.matching``), created as a non-member when the hub knows none and its
    type is known; else the review item that makes its endorsement wait for a person: an
    uncertain match is never merged silently."""
    match = await match_organisation(session, endorser.identifier, endorser.name)
    if match.organisation is not None:
        return match.organisation
    if not match.certain:
        return _uncertain_organisation(endorser, match)
    if endorser.organisation_type is None:
        return _unknown_organisation(endorser)
    created = await create_organisation(
        session,
        name=endorser.name,
        organisation_type=endorser.organisation_type,
        iati_identifier=endorser.identifier,
        provenance=Provenance(source, f"organisation/{endorser.identifier}", fetched),
    )
    await record(session, principal, "organisation.create", created)
    return created


async def write_endorsers(
    session: AsyncSession,
    principal: Principal,
    pledge: Pledge,
    pledge_record: PledgeRecord,
    invited_before: dict[str, int],
    fetched: datetime,
) -> tuple[dict[str, int], list[ReviewRecord]]:
    """Invite each organisation named (once: its answer is its own), add the lead's roles,
    and withdraw invitations the source no longer makes; returns who was invited and the
    organisations a person has to create first."""
    assert principal.member_id is not None
    if pledge_record.lead_roles:
        added = await add_roles(session, pledge.id, principal.member_id, pledge_record.lead_roles)
        if added:
            lead = await endorsement_of(session, pledge.id, principal.member_id)
            assert lead is not None  # a pledge always has its lead's endorsement
            parts = {"roles": {"before": None, "after": sorted(added)}}
            await record(session, principal, "endorsement.roles", lead, snapshot(lead), parts)
    invited: dict[str, int] = {}
    waiting: list[ReviewRecord] = []
    for endorser in pledge_record.endorsers:
        organisation = await _organisation_for(
            session, principal, endorser, pledge_record.source, fetched
        )
        if isinstance(organisation, ReviewRecord):
            waiting.append(organisation)
            continue
        if organisation.id == principal.member_id:
            continue
        invited[endorser.identifier] = organisation.id
        held = await endorsement_of(session, pledge.id, organisation.id)
        await _invite(session, principal, pledge, organisation.id, endorser, held,
                      dropped=endorser.identifier not in invited_before)  # fmt: skip
    for identifier, organisation_id in invited_before.items():
        if identifier in invited:
            continue
        gone = await endorsement_of(session, pledge.id, organisation_id)
        if gone is not None and gone.status is EndorsementStatus.INVITED:
            await endorsement_commands.withdraw_endorsement(session, principal, gone.id)
    return invited, waiting


async def _invite(
    session: AsyncSession,
    principal: Principal,
    pledge: Pledge,
    organisation_id: int,
    endorser: EndorserRecord,
    held: Endorsement | None,
    *,
    dropped: bool,
) -> None:
    """Invite the organisation in the roles the source gives it: anew when it has no
    endorsement, or the import withdrew it when an earlier version left it out (``dropped``);
    again with its new roles while it has not answered. Its answer is its own: an accepted
    or declined endorsement, or one it ended itself, stays."""
    if held is None or (held.status is EndorsementStatus.REVOKED and dropped):
        await endorsement_commands.invite_endorser(
            session, principal, pledge.id, organisation_id, endorser.roles
        )
        return
    if held.status is not EndorsementStatus.INVITED:
        return
    if set(await roles_of(session, pledge.id, organisation_id)) != set(endorser.roles):
        await endorsement_commands.withdraw_endorsement(session, principal, held.id)
        await endorsement_commands.invite_endorser(
            session, principal, pledge.id, organisation_id, endorser.roles
        )


def _unknown_organisation(endorser: EndorserRecord) -> ReviewRecord:
    return ReviewRecord(
        subject=ORGANISATION_TYPE,
        code=endorser.identifier,
        names=endorser.name,
        reason=(
            f"{endorser.identifier} is not known to the hub and no constituency fits what the "
            f"source says of it: record it (p2c-hub members add --iati {endorser.identifier}), "
            "or resolve this item with resolveReviewItem (scope members:admin) naming the "
            "organisation it is or the constituency to create it in; the next import invites it"
        ),
    )


def _uncertain_organisation(endorser: EndorserRecord, match: Match) -> ReviewRecord:
    """The review item of an endorser the hub may know under another identifier or as one
    of several of its name: which it is, a person says."""
    return ReviewRecord(
        subject=ORGANISATION_MATCH,
        code=endorser.identifier or endorser.name,
        names=endorser.name,
        reason=(
            f"{endorser.name} ({endorser.identifier}) may be an organisation the hub knows: "
            f"{match.reason}. Resolve this item with resolveReviewItem (scope members:admin) "
            "naming the organisation it is (organisationId) or the constituency to create it in "
            "(create); the next import invites it"
        ),
        candidates=match.candidates,
    )


def _report_draft(report: ReportRecord, targets: dict[str, int]) -> ReportDraft:
    return ReportDraft(
        period_start=report.period_start,
        period_end=report.period_end,
        narrative=report.narrative,
        values=[
            ReportedValue(targets[v.target_key], v.value, v.note)
            for v in report.values
            if v.target_key in targets
        ],
        disbursed_amount=report.disbursed_amount,
        disbursed_currency=report.disbursed_currency,
    )


def _report_hash(draft: ReportDraft) -> str:
    """What a report says, to tell whether an imported one changed."""
    said = json.dumps(
        [
            str(draft.period_start),
            str(draft.period_end),
            draft.narrative,
            [[v.target_id, str(v.value), v.note] for v in draft.values],
            str(draft.disbursed_amount),
            draft.disbursed_currency,
        ]
    )
    return hashlib.sha256(said.encode()).hexdigest()


async def write_reports(
    session: AsyncSession,
    principal: Principal,
    pledge: Pledge,
    pledge_record: PledgeRecord,
    targets: dict[str, int],
    fetched: datetime,
    *,
    fresh: bool,
) -> None:
    """Reports by key, from the lead; a changed one is revised, and one the source no longer
    states removed, while the secretariat has not reviewed it (a reviewed report stays as it
    was reviewed)."""
    assert principal.member_id is not None
    rows = await _held(
        session,
        select(ProgressReport).where(
            ProgressReport.pledge_id == pledge.id,
            ProgressReport.source_system == pledge_record.source,
        ),
        fresh,
    )
    held = {row.external_id: row for row in rows}
    for report in pledge_record.reports:
        external_id = f"{pledge_record.external_id}#{report.key}"
        draft = _report_draft(report, targets)
        digest = _report_hash(draft)
        provenance = Provenance(pledge_record.source, external_id, fetched, digest)
        row = held.get(external_id)
        if row is None:
            created = await report_progress(
                session, pledge.id, principal.member_id, draft, provenance=provenance
            )
            await record(session, principal, "progress.import", created)
        elif row.payload_hash != provenance.payload_hash and row.status is ReportStatus.SUBMITTED:
            before = snapshot(row)
            await revise_report(session, row, draft)
            provenance.stamp(row)
            await record(session, principal, "progress.revise", row, before)


async def remove_vanished_reports(
    session: AsyncSession, principal: Principal, pledge: Pledge, pledge_record: PledgeRecord
) -> None:
    """Remove the imported reports the source no longer states (before the targets change, so
    that a target whose only progress they were goes with them); reviewed ones stay."""
    wanted = {f"{pledge_record.external_id}#{report.key}" for report in pledge_record.reports}
    rows = await session.scalars(
        select(ProgressReport).where(
            ProgressReport.pledge_id == pledge.id,
            ProgressReport.source_system == pledge_record.source,
            ProgressReport.status == ReportStatus.SUBMITTED,
        )
    )
    for row in rows:
        if row.external_id not in wanted:
            record_change(
                session, principal, "progress.remove", "ProgressReport", str(row.id), _gone(row)
            )
            await remove_report(session, row)


async def write_review(
    session: AsyncSession,
    run: SyncRun,
    pledge: Pledge,
    source: str,
    external_id: str,
    items: Sequence[ReviewRecord],
    *,
    fresh: bool,
) -> None:
    """Add what a person has to look at; an item resolved before stays resolved."""
    rows = await _held(
        session,
        select(ReviewEntry).where(
            ReviewEntry.source == source, ReviewEntry.external_id == external_id
        ),
        fresh,
    )
    held = {(row.subject, row.code) for row in rows}
    for item in items:
        if (item.subject, item.code) in held:
            continue
        held.add((item.subject, item.code))
        session.add(
            ReviewEntry(
                source=source,
                external_id=external_id,
                pledge_id=pledge.id,
                subject=item.subject,
                code=item.code,
                names=item.names,
                reason=item.reason,
                status=ReviewStatus.OPEN,
                sync_run_id=run.id,
                candidates=json.dumps(list(item.candidates)),
            )
        )
    await flush(session)
