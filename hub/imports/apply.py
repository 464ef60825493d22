"""Writing an imported pledge through the hub's commands, as the connector's principal.

One call per source record, inside the caller's transaction (a savepoint of it, so that a
refusal undoes this record alone). The record's ``(source, external_id)`` finds what an
earlier run made; an unchanged content hash writes nothing and adds no audit event. Every
change goes through the same commands a partner's request does (authorization, rules,
audit events with the principal), so an import can do nothing its member could not.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.ledger import record, snapshot
from hub.auth.principal import Principal
from hub.columns import Provenance
from hub.endorsements import service as endorsement_service
from hub.endorsements.models import EndorsementRole, EndorsementStatus, Role
from hub.endorsements.service import endorsement_of
from hub.errors import Conflict, InvalidInput
from hub.imports.linking import (
    Group,
    co_funded,
    group_of,
    hand_lead,
    pledge_of_group,
    release,
    settle,
    store_linking,
)
from hub.imports.models import LinkRole, SourceRecord, SourceState, SyncRun
from hub.imports.parts import (
    remove_vanished_reports,
    write_endorsers,
    write_flows,
    write_reports,
    write_review,
    write_texts,
)
from hub.imports.records import Linking, PledgeRecord, TargetRecord
from hub.integrity import flush
from hub.lifecycle import OPEN
from hub.money.service import RateCache
from hub.pledges import commands as pledge_commands
from hub.pledges.models import Pledge, PublicationStatus, Target
from hub.pledges.service import TargetChange, target_draft
from hub.progress.models import ProgressValue
from hub.types import utcnow


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
    linking: Linking,
    principal: Principal,
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
    await store_linking(session, kept, linking)
    await co_funded(session, run, kept)
    group = await group_of(session, kept)
    await settle(session, principal, run, group, await pledge_of_group(session, group))
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
    """Create or update the pledge ``pledge_record`` states, led by the principal's member, or
    join the pledge another record leads (``hub.imports.linking`` says which).

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
    new_record = kept is None
    if kept is None:
        kept = SourceRecord(
            source=pledge_record.source, external_id=pledge_record.external_id, parts="{}"
        )
        session.add(kept)
    kept.state, kept.connector_id, kept.sync_run_id = SourceState.PLEDGE, run.connector_id, run.id
    kept.content_hash, kept.reporting_org = pledge_record.content_hash, pledge_record.reporting_org
    await store_linking(session, kept, pledge_record.linking)
    await co_funded(session, run, kept)
    group = await group_of(session, kept)
    grouped = await pledge_of_group(session, group)
    own = kept.pledge_id if kept.link_role is LinkRole.LEAD else None
    conflict = group.lead is not kept and own is not None and own != getattr(grouped, "id", None)
    if group.lead is not kept and not conflict:
        return await _join(session, principal, run, kept, pledge_record, group, new_record)
    joined = kept.pledge_id if kept.link_role not in (None, LinkRole.LEAD) else None
    if joined is not None and joined != getattr(grouped, "id", None):  # it leaves that pledge
        await release(session, principal, kept, joined)
        kept.pledge_id = kept.link_role = None
    if conflict:  # it goes on writing its own pledge; ``settle`` asks a person about the two
        pledge = await _led_pledge(session, principal, kept, await session.get(Pledge, own))
    else:
        grouped = pledge = await _led_pledge(session, principal, kept, grouped)
    if pledge is not None:
        await remove_vanished_reports(session, principal, pledge, pledge_record)
    parts: dict[str, dict[str, int]] = json.loads(kept.parts)
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
    await write_texts(session, principal, pledge, pledge_record, fresh=fresh)
    await write_flows(session, principal, pledge, pledge_record, fetched, rates, fresh=fresh)
    invited, waiting = await write_endorsers(
        session, principal, pledge, pledge_record, parts.get("endorsers", {}), fetched
    )
    await write_reports(session, principal, pledge, pledge_record, targets, fetched, fresh=fresh)
    review = (*pledge_record.review, *waiting)
    await write_review(session, run, pledge, pledge_record.source, pledge_record.external_id,
                        review, fresh=fresh)  # fmt: skip
    gaps = await _advance(session, principal, pledge, pledge_record.gaps, publish=publish)
    kept.pledge_id, kept.link_role = pledge.id, LinkRole.LEAD
    _describe(kept, pledge_record, bool(waiting))
    kept.parts = json.dumps(
        {"targets": targets, "endorsers": invited, "roles": _roles(pledge_record)}, sort_keys=True
    )
    kept.gaps = json.dumps(gaps)
    await flush(session)
    await settle(session, principal, run, group, pledge if grouped is None else grouped)
    return applied


def _roles(pledge_record: PledgeRecord) -> list[str]:
    return sorted(role.value for role in pledge_record.lead_roles)


def _describe(kept: SourceRecord, pledge_record: PledgeRecord, pending: bool) -> None:
    kept.reporting_org, kept.place = pledge_record.reporting_org, pledge_record.place
    kept.content_hash, kept.pending = pledge_record.content_hash, pending
    kept.notes = json.dumps(list(pledge_record.notes))
    kept.payload, kept.pledge_only = None, pledge_record.pledge_only


async def _join(
    session: AsyncSession,
    principal: Principal,
    run: SyncRun,
    kept: SourceRecord,
    pledge_record: PledgeRecord,
    group: Group,
    new_record: bool,
) -> Applied:
    """A claimed record another record of its group leads: it writes no pledge of its own,
    and its member endorses the lead's (``settle``)."""
    _describe(kept, pledge_record, pending=False)
    kept.parts = json.dumps({"roles": _roles(pledge_record)}, sort_keys=True)
    kept.gaps = json.dumps(list(pledge_record.gaps))
    await flush(session)
    await settle(session, principal, run, group, await pledge_of_group(session, group))
    return Applied.CREATED if new_record else Applied.UPDATED


async def _led_pledge(
    session: AsyncSession, principal: Principal, kept: SourceRecord, pledge: Pledge | None
) -> Pledge | None:
    """The pledge the record leads: its own, or its group's, handed to its member when another
    member led it (the rules made this record its lead since). Another member's pledge
    reached through the record itself is refused: no import writes on another's behalf."""
    if pledge is None:
        return None
    theirs = pledge.lead_member_id != principal.member_id
    if theirs and kept.pledge_id == pledge.id and kept.link_role is LinkRole.LEAD:
        raise Conflict(
            f"{kept.source} record {kept.external_id} is pledge {pledge.id} of another member",
            code="CLAIMED_BY_ANOTHER_MEMBER",
        )
    _under_review(pledge)
    if kept.pledge_id != pledge.id or kept.link_role is not LinkRole.LEAD:
        await _take_over(session, principal, pledge)
    if pledge.lead_member_id != principal.member_id:
        assert principal.member_id is not None
        await hand_lead(session, principal, pledge, principal.member_id)
    return pledge


def _under_review(pledge: Pledge) -> None:
    if pledge.publication_status is PublicationStatus.SUBMITTED:
        raise Conflict(
            f"pledge {pledge.id} is under the secretariat's review: it is updated once it is "
            "published or returned (retry this dead letter then)",
            code="UNDER_REVIEW",
        )


async def _take_over(session: AsyncSession, principal: Principal, pledge: Pledge) -> None:
    """A record takes over the pledge another record led: what the former lead record said
    (its invitations, the lead's roles) goes, and the new record's words replace it, so that
    the pledge is the same in any import order."""
    former = await session.scalar(
        select(SourceRecord).where(
            SourceRecord.pledge_id == pledge.id, SourceRecord.link_role == LinkRole.LEAD
        )
    )
    if former is None:
        return
    parts = json.loads(former.parts)
    for organisation_id in parts.pop("endorsers", {}).values():
        held = await endorsement_of(session, pledge.id, organisation_id)
        if held is not None and held.status is EndorsementStatus.INVITED:
            before = snapshot(held)
            await endorsement_service.revoke(session, held.id)
            await record(session, principal, "endorsement.withdraw", held, before)
    said = [Role(role) for role in parts.get("roles", [])]
    if said:
        await session.execute(
            delete(EndorsementRole).where(
                EndorsementRole.pledge_id == pledge.id,
                EndorsementRole.organisation_id == pledge.lead_member_id,
                EndorsementRole.role.in_(said),
            )
        )
    former.parts = json.dumps(parts, sort_keys=True)
    await flush(session)


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
    invited, waiting = await write_endorsers(
        session, principal, pledge, pledge_record, before, utcnow()
    )
    kept.pending = bool(waiting)
    if invited == before:
        return Applied.UNCHANGED
    kept.parts = json.dumps({**parts, "endorsers": invited}, sort_keys=True)
    await flush(session)
    return Applied.UPDATED


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
