"""Writing an imported pledge through the hub's commands, as the connector's principal.

One call per source record, inside the caller's transaction (a savepoint of it, so that a
refusal undoes this record alone). The record's ``(source, external_id)`` finds what an
earlier run made; an unchanged content hash writes nothing and adds no audit event. Every
change goes through the same commands a partner's request does (authorization, rules,
audit events with the principal), so an import can do nothing its member could not.
"""

from __future__ import annotations

import enum
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
from hub.errors import Conflict, InvalidInput
from hub.imports.models import ReviewEntry, ReviewStatus, SourceRecord, SourceState, SyncRun
from hub.imports.records import (
    EndorserRecord,
    FlowRecord,
    PledgeRecord,
    ReportRecord,
    ReviewRecord,
    TargetRecord,
)
from hub.integrity import flush
from hub.lifecycle import OPEN
from hub.money.amounts import money
from hub.money.flows import FlowDraft, record_flows
from hub.money.models import MoneyFlow
from hub.money.service import RateCache
from hub.organisations.models import Organisation
from hub.organisations.service import create_organisation
from hub.pledges import commands as pledge_commands
from hub.pledges.models import Pledge, PledgeText, PublicationStatus, Target, TextField
from hub.pledges.service import TargetChange, target_draft
from hub.progress.models import ProgressReport, ProgressValue, ReportStatus
from hub.progress.rules import ReportDraft, ReportedValue
from hub.progress.service import remove_report, report_progress, revise_report
from hub.types import utcnow

T = TypeVar("T")


class Applied(enum.StrEnum):
    """What applying a record did."""

    CREATED = "CREATED"
    UPDATED = "UPDATED"
    UNCHANGED = "UNCHANGED"


async def source_record(
    session: AsyncSession, source: str, external_id: str
) -> SourceRecord | None:
    """The source record, locked for this transaction (PostgreSQL), if one was kept."""
    return await session.scalar(
        select(SourceRecord)
        .where(SourceRecord.source == source, SourceRecord.external_id == external_id)
        .with_for_update()
    )


async def keep_unclaimed(
    session: AsyncSession,
    run: SyncRun,
    *,
    source: str,
    external_id: str,
    reporting_org: str | None,
    content_hash: str,
    place: str,
    note: str,
    payload: str | None,
) -> Applied:
    """Keep a record someone else reported, for linking; a pledge made of it stays a pledge."""
    kept = await source_record(session, source, external_id)
    if kept is not None and (kept.state is SourceState.PLEDGE or kept.content_hash == content_hash):
        return Applied.UNCHANGED
    created = kept is None
    if kept is None:
        kept = SourceRecord(source=source, external_id=external_id, state=SourceState.UNCLAIMED)
        session.add(kept)
    kept.connector_id, kept.sync_run_id = run.connector_id, run.id
    kept.reporting_org, kept.content_hash, kept.place = reporting_org, content_hash, place
    kept.notes, kept.payload = json.dumps([note]), payload
    await flush(session)
    return Applied.CREATED if created else Applied.UPDATED


async def apply_pledge(
    session: AsyncSession,
    principal: Principal,
    run: SyncRun,
    pledge_record: PledgeRecord,
    *,
    publish: bool = False,
    rates: RateCache | None = None,
) -> Applied:
    """Create or update the pledge ``pledge_record`` states, led by the principal's member.

    Lands SUBMITTED when the record has no gaps (the hub's own check agreeing), else DRAFT;
    PUBLISHED only with ``publish`` (a connector granted ``pledges:publish``).
    """
    assert principal.member_id is not None  # a connector acts for one member
    kept = await source_record(session, pledge_record.source, pledge_record.external_id)
    if (
        kept is not None
        and kept.state is SourceState.PLEDGE
        and kept.content_hash == pledge_record.content_hash
        and kept.pledge_id is not None
    ):
        return await _complete(session, principal, kept, pledge_record)
    pledge = await _claimed_pledge(session, principal, kept)
    if pledge is not None:
        await _remove_vanished_reports(session, principal, pledge, pledge_record)
    parts: dict[str, dict[str, int]] = json.loads(kept.parts) if kept is not None else {}
    known, reported = await _known_targets(
        session, pledge, parts.get("targets", {}), {t.key for t in pledge_record.targets}
    )
    changes = [TargetChange(t.draft, known.get(t.key)) for t in pledge_record.targets]
    changes += [TargetChange(target_draft(target), target.id) for target in reported]
    fetched = utcnow()
    provenance = Provenance(
        pledge_record.source, pledge_record.external_id, fetched, pledge_record.content_hash
    )
    if pledge is None:
        pledge = await pledge_commands.create(
            session, principal, pledge_record.draft, changes, provenance=provenance
        )
        applied = Applied.CREATED
    else:
        pledge, _, _ = await pledge_commands.update(
            session, principal, pledge.id, pledge.version, pledge_record.draft, changes
        )
        provenance.stamp(pledge)
        applied = Applied.UPDATED
    targets = await _target_ids(session, pledge.id, pledge_record.targets, known, reported)
    fresh = applied is Applied.CREATED  # nothing of it is held yet: nothing to read first
    await _write_texts(session, principal, pledge, pledge_record, fresh=fresh)
    await _write_flows(session, principal, pledge, pledge_record, fetched, rates, fresh=fresh)
    invited, waiting = await _write_endorsers(
        session, principal, pledge, pledge_record, parts.get("endorsers", {}), fetched
    )
    await _write_reports(session, principal, pledge, pledge_record, targets, fetched, fresh=fresh)
    review = (*pledge_record.review, *waiting)
    await _write_review(session, run, pledge, pledge_record.source, pledge_record.external_id,
                        review, fresh=fresh)  # fmt: skip
    gaps = await _advance(session, principal, pledge, pledge_record.gaps, publish=publish)
    if kept is None:
        kept = SourceRecord(
            source=pledge_record.source, external_id=pledge_record.external_id, parts="{}"
        )
        session.add(kept)
    kept.state, kept.pledge_id = SourceState.PLEDGE, pledge.id
    kept.connector_id, kept.sync_run_id = run.connector_id, run.id
    kept.reporting_org, kept.place = pledge_record.reporting_org, pledge_record.place
    kept.content_hash, kept.pending = pledge_record.content_hash, bool(waiting)
    kept.parts = json.dumps({"targets": targets, "endorsers": invited}, sort_keys=True)
    kept.notes, kept.gaps = json.dumps(list(pledge_record.notes)), json.dumps(gaps)
    kept.payload, kept.pledge_only = None, pledge_record.pledge_only
    await flush(session)
    return applied


async def _complete(
    session: AsyncSession, principal: Principal, kept: SourceRecord, pledge_record: PledgeRecord
) -> Applied:
    """An unchanged record: nothing to write, unless an endorsement waited for an
    organisation a person has since created."""
    if not kept.pending:
        return Applied.UNCHANGED
    pledge = await session.get(Pledge, kept.pledge_id)
    assert pledge is not None  # the source record's pledge is set null if it goes
    if pledge.publication_status not in OPEN:  # withdrawn or fulfilled: no one is invited
        kept.pending = False
        return Applied.UNCHANGED
    parts: dict[str, dict[str, int]] = json.loads(kept.parts)
    before = parts.get("endorsers", {})
    invited, waiting = await _write_endorsers(
        session, principal, pledge, pledge_record, before, utcnow()
    )
    kept.pending = bool(waiting)
    if invited == before:
        return Applied.UNCHANGED
    kept.parts = json.dumps({**parts, "endorsers": invited}, sort_keys=True)
    await flush(session)
    return Applied.UPDATED


async def _claimed_pledge(
    session: AsyncSession, principal: Principal, kept: SourceRecord | None
) -> Pledge | None:
    """The pledge an earlier import made of this record, if it is the principal's member's."""
    if kept is None or kept.pledge_id is None:
        return None
    pledge = await session.get(Pledge, kept.pledge_id)
    if pledge is None:
        return None
    if pledge.lead_member_id != principal.member_id:
        raise Conflict(
            f"{kept.source} record {kept.external_id} is pledge {pledge.id} of another member",
            code="CLAIMED_BY_ANOTHER_MEMBER",
        )
    if pledge.publication_status is PublicationStatus.SUBMITTED:
        raise Conflict(
            f"pledge {pledge.id} is under the secretariat's review: it is updated once it is "
            "published or returned (retry this dead letter then)",
            code="UNDER_REVIEW",
        )
    return pledge


async def _held(session: AsyncSession, query: Select[T], fresh: bool) -> Sequence[T]:
    """What ``query`` finds of a record's parts; nothing, unread, for a record made just now."""
    return [] if fresh else list(await session.scalars(query))


async def _known_targets(
    session: AsyncSession, pledge: Pledge | None, known: dict[str, int], named: set[str]
) -> tuple[dict[str, int], list[Target]]:
    """The ids an earlier import gave the record's targets, of those the pledge still has (its
    member may have removed one), and the targets to keep though the source no longer names
    them: those with progress reported against them, which the hub never drops."""
    if pledge is None:
        return {}, []
    held = {
        target.id: target
        for target in await session.scalars(select(Target).where(Target.pledge_id == pledge.id))
    }
    reported = set(
        await session.scalars(
            select(ProgressValue.target_id).where(ProgressValue.target_id.in_(held))
        )
    )
    still = {key: target_id for key, target_id in known.items() if target_id in held}
    listed = {target_id for key, target_id in still.items() if key in named}
    return still, [held[target_id] for target_id in sorted(reported - listed)]


async def _target_ids(
    session: AsyncSession,
    pledge_id: int,
    targets: Sequence[TargetRecord],
    known: dict[str, int],
    kept: Sequence[Target],
) -> dict[str, int]:
    """Each target key's id: the ids known before, and new targets in the order they were
    written (ids rise in that order); targets kept for their progress keep their keys."""
    ids = list(await session.scalars(select(Target.id).where(Target.pledge_id == pledge_id)))
    before = {*known.values(), *(target.id for target in kept)}
    fresh = iter(sorted(set(ids) - before))
    keys = {target_id: key for key, target_id in known.items()}
    return {
        **{keys.get(target.id, f"kept/{target.id}"): target.id for target in kept},
        **{t.key: known[t.key] if t.key in known else next(fresh) for t in targets},
    }


async def _write_texts(
    session: AsyncSession,
    principal: Principal,
    pledge: Pledge,
    pledge_record: PledgeRecord,
    *,
    fresh: bool,
) -> None:
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


async def _write_flows(
    session: AsyncSession,
    principal: Principal,
    pledge: Pledge,
    pledge_record: PledgeRecord,
    fetched: datetime,
    rates: RateCache | None,
    *,
    fresh: bool,
) -> None:
    """Flows by key: unchanged ones stay, changed and vanished ones go, new ones come."""
    rows = await _held(
        session,
        select(MoneyFlow).where(
            MoneyFlow.pledge_id == pledge.id, MoneyFlow.source_system == pledge_record.source
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


async def organisation_by_identifier(session: AsyncSession, identifier: str) -> Organisation | None:
    """The organisation with this IATI organisation identifier, if the hub knows it."""
    return await session.scalar(
        select(Organisation).where(Organisation.iati_identifier == identifier)
    )


async def _organisation_for(
    session: AsyncSession,
    principal: Principal,
    endorser: EndorserRecord,
    source: str,
    fetched: datetime,
) -> Organisation | None:
    """The organisation by identifier, created as a non-member when unknown and its type is
    known; None when a person has to say what it is."""
    found = await organisation_by_identifier(session, endorser.identifier)
    if found is not None or endorser.organisation_type is None:
        return found
    created = await create_organisation(
        session,
        name=endorser.name,
        organisation_type=endorser.organisation_type,
        iati_identifier=endorser.identifier,
        provenance=Provenance(source, f"organisation/{endorser.identifier}", fetched),
    )
    await record(session, principal, "organisation.create", created)
    return created


async def _write_endorsers(
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
        if organisation is None:
            waiting.append(_unknown_organisation(endorser))
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
        subject="ORGANISATION_TYPE",
        code=endorser.identifier,
        names=endorser.name,
        reason=(
            f"{endorser.identifier} is not known to the hub and no constituency fits what the "
            f"source says of it: record it (p2c-hub members add --iati {endorser.identifier}) "
            "and the next import invites it"
        ),
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


async def _write_reports(
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


async def _remove_vanished_reports(
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


async def _write_review(
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
            )
        )
    await flush(session)


async def _advance(
    session: AsyncSession,
    principal: Principal,
    pledge: Pledge,
    gaps: Sequence[str],
    *,
    publish: bool,
) -> list[str]:
    """Submit a SMART-complete draft (publish it too when allowed); the gaps that remain."""
    if gaps:
        return list(gaps)
    if pledge.publication_status is PublicationStatus.DRAFT:
        try:
            async with session.begin_nested():
                await pledge_commands.submit(session, principal, pledge.id)
        except InvalidInput as refused:
            return [problem.code for problem in refused.problems or (refused,)]
    if publish and pledge.publication_status is PublicationStatus.SUBMITTED:
        await pledge_commands.publish(session, principal, pledge.id)
    return []
