"""One pledge across the organisations that report it, and each commitment counted once.

Every kept source record, claimed or not, stands for an activity (``activity_id``) and names
others (``source_links``), kept by id whether or not the hub holds them yet. Records that are
the *same pledge* form a group, whatever order they arrived in:

| tie | same pledge? |
|---|---|
| one activity id in two sources of one member (``P…``, IATI ``44000-P…``) | yes: TWIN |
| a commitment naming the receiver-activity-id, incoming money the provider-activity-id | yes (1) |
| related-activity 5, a third party's report on the same activity | yes: THIRD_PARTY |
| related-activity 1 and 2, parent and child | no: a hierarchy of distinct pledges (2) |
| related-activity 3, sibling | no: a plain relation |
| related-activity 4, co-funded | no: a CO_FUNDED review item, one per pair |

Of a group's claimed records (those a member reported through its own connector) the lead is
the one no other claimed record is under (a receiver is under its funder, a third party's
report under the activity it reports on, a World Bank project under its IATI activity, which
carries transactions and results); should that leave several, or none (two reports naming each
other), the one leading already, then an IATI activity, then by source and external id.
The lead record writes the pledge, and its member leads it: when a better lead arrives later
(the funder after its implementer), the pledge is handed to it, so the outcome is the same in
any import order. Every other claimed record's member endorses the pledge, ACCEPTED, in the
roles the lead record gives it and those its own record gives itself (ENDORSER when none): it
said so itself. Unclaimed records (reported by non-members) join the group and are shown on
the pledge, but make no one a pledger. A group with no claimed record has no pledge.

(1) An implementer funded by several activities the hub holds joins the first by activity id:
a receiver never merges its funders' pledges. Between two members' records a tie holds only
when the record it puts under the other says so itself (the implementer names the funder's
activity; the third party's report names the activity it reports on): no member's file takes
another member's pledge, or its endorsement, by naming it. An unclaimed record joins one
pledge and ties no further, so it never joins two.

(2) A pledge whose ancestor carries a commitment is counted in that ancestor:
``counted_elsewhere`` names every such ancestor, and totals leave its amount out for a viewer
who sees one of them (a viewer who sees none counts it where it is). When a parent carries
none, its children are counted. Between two members, a hierarchy holds only when the child's
record names its parent.

Two pledges that a new link would join are never merged: a LINK_CONFLICT review item names them.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hub.audit.ledger import record, snapshot
from hub.auth.principal import Principal
from hub.authorization import step
from hub.endorsements.models import EndorsementRole, EndorsementStatus, Role
from hub.endorsements.service import (
    add_roles,
    endorsement_of,
    invite,
    lead_endorsement,
    respond,
    revoke,
    roles_of,
)
from hub.imports.models import (
    Connector,
    CountedElsewhere,
    LinkRelation,
    LinkRole,
    ReviewEntry,
    ReviewStatus,
    SourceLink,
    SourceRecord,
    SourceState,
    SyncRun,
)
from hub.imports.records import Linking
from hub.integrity import flush
from hub.lifecycle import Action, Entity
from hub.money.amounts import money
from hub.pledges.models import Pledge
from hub.types import utcnow

SAME_PLEDGE = (LinkRelation.PROVIDER, LinkRelation.RECEIVER, LinkRelation.THIRD_PARTY)
HIERARCHY = (LinkRelation.PARENT, LinkRelation.CHILD)
IATI = "iati"
MAX_DEPTH = 20  # a hierarchy deeper than this is a cycle in someone's data
PENDING = "hub.imports.linking.pending"
"""The session's pledges whose hierarchy is to be counted before its commit."""


async def store_linking(session: AsyncSession, kept: SourceRecord, linking: Linking) -> None:
    """Keep what the record ties itself to (replacing what an earlier version said)."""
    kept.activity_id = linking.activity_id
    if linking.reported is not None:
        value, currency = linking.reported
        kept.reported_minor = money(value, currency, field="reported").amount_minor
        kept.reported_currency = currency
    else:
        kept.reported_minor = kept.reported_currency = None
    await flush(session)
    wanted = {(link.relation, link.activity_id) for link in linking.links}
    held = {
        (link.relation, link.activity_id): link
        for link in await session.scalars(select(SourceLink).where(SourceLink.record_id == kept.id))
    }
    for key, link in held.items():
        if key not in wanted:
            await session.delete(link)
    session.add_all(
        SourceLink(record_id=kept.id, relation=relation, activity_id=activity_id)
        for relation, activity_id in sorted(wanted - held.keys())
    )
    await flush(session)


@dataclass
class Group:
    """The records that are one pledge, the lead among them, and what each is to it."""

    records: list[SourceRecord]
    lead: SourceRecord | None
    roles: dict[int, LinkRole]
    reasons: dict[int, str]


class _Graph:
    """The records around one record and the links among them, read breadth first."""

    def __init__(self) -> None:
        self.records: dict[int, SourceRecord] = {}
        self.links: dict[int, list[SourceLink]] = defaultdict(list)
        self.by_activity: dict[str, list[SourceRecord]] = defaultdict(list)
        self.members: dict[int, int] = {}
        """The member behind each claimed record (its connector's)."""
        self.named: dict[tuple[LinkRelation, str], list[SourceRecord]] = defaultdict(list)
        """The records naming each activity, by how."""

    async def explore(self, session: AsyncSession, start: SourceRecord) -> None:
        frontier = [start]
        self._add(start)
        while frontier:
            ids = [r.id for r in frontier]
            named = list(
                await session.scalars(
                    select(SourceLink).where(
                        SourceLink.record_id.in_(ids), SourceLink.relation.in_(SAME_PLEDGE)
                    )
                )
            )
            for link in named:
                self.links[link.record_id].append(link)
            activities = {r.activity_id for r in frontier if r.activity_id}
            wanted = activities | {link.activity_id for link in named}
            namers = select(SourceLink.record_id).where(
                SourceLink.activity_id.in_(activities), SourceLink.relation.in_(SAME_PLEDGE)
            )
            found = await session.scalars(
                select(SourceRecord).where(
                    or_(SourceRecord.activity_id.in_(wanted), SourceRecord.id.in_(namers))
                )
            )
            frontier = [r for r in found if r.id not in self.records]
            for r in frontier:
                self._add(r)
        claimed = {r.connector_id for r in self.records.values() if r.state is SourceState.PLEDGE}
        rows = await session.execute(
            select(Connector.id, Connector.member_id).where(Connector.id.in_(claimed))
        )
        by_connector = {connector: member for connector, member in rows}
        for record_id, links in self.links.items():
            for link in links:
                self.named[link.relation, link.activity_id].append(self.records[record_id])
        self.members = {
            r.id: by_connector[r.connector_id]
            for r in self.records.values()
            if r.state is SourceState.PLEDGE
        }

    def _names(self, kept: SourceRecord, relation: LinkRelation, other: SourceRecord) -> bool:
        return any(
            link.relation is relation and link.activity_id == other.activity_id
            for link in self.links[kept.id]
        )

    def _trusted(
        self, loser: SourceRecord, winner: SourceRecord, relation: LinkRelation | None
    ) -> bool:
        """Whether a tie that puts ``loser``'s record under ``winner``'s holds: always, but
        between two members, where the loser's own record must say it (``relation``; twins:
        never): no member's record takes another member's pledge, or its endorsement, on its
        own word."""
        one, two = self.members.get(loser.id), self.members.get(winner.id)
        if one is None or two is None or one == two:
            return True
        return relation is not None and self._names(loser, relation, winner)

    def _add(self, kept: SourceRecord) -> None:
        self.records[kept.id] = kept
        if kept.activity_id:
            self.by_activity[kept.activity_id].append(kept)

    def providers(self, kept: SourceRecord) -> list[SourceRecord]:
        """The records whose money ``kept`` receives, as either end says it, that may tie it."""
        found = {
            p.id: p
            for link in self.links[kept.id]
            if link.relation is LinkRelation.PROVIDER
            for p in self.by_activity.get(link.activity_id, [])
        }
        if kept.activity_id:
            found |= {p.id: p for p in self.naming(LinkRelation.RECEIVER, kept.activity_id)}
        found.pop(kept.id, None)
        trusted = [p for p in found.values() if self._trusted(kept, p, LinkRelation.PROVIDER)]
        return sorted(trusted, key=_order)

    def naming(self, relation: LinkRelation, activity_id: str) -> list[SourceRecord]:
        """The records that name ``activity_id`` so."""
        return self.named.get((relation, activity_id), [])

    def ties(self) -> list[Tie]:
        """Every tie among the records: twins, a receiver and the first of its providers, a
        third party's report and the activity it reports on."""
        ties: list[Tie] = []
        for twins in self.by_activity.values():
            upper = min(twins, key=lambda r: (r.source != IATI, *_order(r)))
            for twin in twins:
                if twin is not upper and self._trusted(twin, upper, None):
                    ties.append(Tie(twin.id, upper.id, LinkRole.TWIN, LinkRole.TWIN))
        for kept in self.records.values():
            providers = self.providers(kept)
            if providers:
                ties.append(Tie(kept.id, providers[0].id, LinkRole.RECEIVER, LinkRole.PROVIDER))
            for link in self.links[kept.id]:
                if link.relation is not LinkRelation.THIRD_PARTY:
                    continue
                for report in self.by_activity.get(link.activity_id, []):
                    if report is not kept and self._trusted(report, kept, LinkRelation.THIRD_PARTY):
                        role = LinkRole.THIRD_PARTY
                        ties.append(Tie(report.id, kept.id, role, role))
        return ties


@dataclass(frozen=True, slots=True)
class Tie:
    """Two records that are one pledge: ``lower``'s money or report is ``upper``'s, so lower
    never leads while upper can; each end's role when the other leads."""

    lower: int
    upper: int
    lower_is: LinkRole
    upper_is: LinkRole


def _order(kept: SourceRecord) -> tuple[str, str]:
    return kept.source, kept.external_id


async def group_of(session: AsyncSession, start: SourceRecord) -> Group:
    """The records that are one pledge with ``start``, and the one that leads it."""
    graph = _Graph()
    await graph.explore(session, start)
    around: dict[int, list[tuple[int, LinkRole]]] = defaultdict(list)
    ties = graph.ties()
    for tie in ties:
        around[tie.lower].append((tie.upper, tie.upper_is))
        around[tie.upper].append((tie.lower, tie.lower_is))
    root = start
    if start.state is not SourceState.PLEDGE:  # it joins one pledge, never bridges two
        claimed = [graph.records[o] for o, _ in around[start.id] if o in graph.members]
        root = min(claimed, key=_order) if claimed else start
    members = _reach(graph, around, root)
    claimed = [r for r in members.values() if r.id in graph.members]
    under = {t.lower for t in ties if t.lower in members and t.upper in graph.members}
    tops = [r for r in claimed if r.id not in under] or claimed  # none: each names the other

    def rank(kept: SourceRecord) -> tuple[bool, bool, str, str]:
        return (kept.link_role is not LinkRole.LEAD, kept.source != IATI, *_order(kept))

    lead = min(tops, key=rank) if tops else None
    roles: dict[int, LinkRole] = {}
    if lead is not None:
        roles[lead.id] = LinkRole.LEAD
        queue = deque([lead.id])
        while queue:
            at = queue.popleft()
            if at != lead.id and at not in graph.members:
                continue
            for other, role in around[at]:
                if other in members and other not in roles:
                    roles[other] = role
                    queue.append(other)
    reasons = {key: _reason(role, members[key], lead) for key, role in roles.items() if lead}
    return Group(sorted(members.values(), key=_order), lead, roles, reasons)


def _reach(
    graph: _Graph, around: dict[int, list[tuple[int, LinkRole]]], root: SourceRecord
) -> dict[int, SourceRecord]:
    """The records tied to ``root``, through claimed records only: an unclaimed record ties
    no further, and joins the pledge of the first claimed record (by source and id) it is tied
    to, whichever arrived first."""

    def home(unclaimed: int) -> int:
        claimed = [graph.records[o] for o, _ in around[unclaimed] if o in graph.members]
        return min(claimed, key=_order).id if claimed else unclaimed

    members: dict[int, SourceRecord] = {root.id: root}
    queue = deque([root.id])
    while queue:
        at = queue.popleft()
        if at != root.id and at not in graph.members:
            continue
        for other, _ in around[at]:
            if other in members or (other not in graph.members and home(other) != at):
                continue
            members[other] = graph.records[other]
            queue.append(other)
    return members


def _reason(role: LinkRole, kept: SourceRecord, lead: SourceRecord) -> str:
    """Why what a record reports is counted in totals, or is not."""
    named = f"{lead.source} {lead.external_id}"
    return {
        LinkRole.LEAD: "it writes the pledge: its commitment is the pledge's amount",
        LinkRole.RECEIVER: f"incoming money from {named}'s commitment: counted there once",
        LinkRole.PROVIDER: (
            f"reported by {kept.reporting_org or 'an organisation'}, which pledged nothing "
            f"through the hub: {named} holds the pledge"
        ),
        LinkRole.THIRD_PARTY: f"a third party's report on the same activity: {named} counts",
        LinkRole.TWIN: f"the same activity as {named}, which is counted",
    }[role]


async def pledge_of_group(session: AsyncSession, group: Group) -> Pledge | None:
    """The pledge a record of the group wrote as its lead: the group's lead's own, else the
    first made (a record that joined another's pledge never brings that pledge along)."""
    led = [r for r in group.records if r.link_role is LinkRole.LEAD and r.pledge_id is not None]
    lead = group.lead
    if lead is not None and lead.link_role is LinkRole.LEAD and lead.pledge_id is not None:
        return await session.get(Pledge, lead.pledge_id)
    ids = sorted({r.pledge_id for r in led if r.pledge_id is not None})
    return await session.get(Pledge, ids[0]) if ids else None


async def hand_lead(
    session: AsyncSession, principal: Principal, pledge: Pledge, member_id: int
) -> None:
    """Make ``member_id`` the pledge's lead: the linking rules chose its record to write the
    pledge. The former lead keeps an accepted endorsement (its roles come from ``settle``)."""
    before = snapshot(pledge)
    await session.execute(
        delete(EndorsementRole).where(
            EndorsementRole.pledge_id == pledge.id, EndorsementRole.role == Role.LEAD
        )
    )
    await flush(session)
    pledge.lead_member_id = member_id
    await flush(session)
    held = await endorsement_of(session, pledge.id, member_id)
    if held is None:
        made = lead_endorsement(member_id, utcnow())
        made.pledge_id = pledge.id
        session.add(made)
    else:
        if held.status is not EndorsementStatus.ACCEPTED:
            held.status, held.accepted_at = EndorsementStatus.ACCEPTED, utcnow()
            held.declined_at = held.revoked_at = None
        await session.execute(  # its roles are what its own record says, added after this
            delete(EndorsementRole).where(
                EndorsementRole.pledge_id == pledge.id, EndorsementRole.organisation_id == member_id
            )
        )
        session.add(
            EndorsementRole(
                pledge_id=pledge.id, organisation_id=member_id, role=Role.LEAD,
                lead_member_id=member_id,
            )
        )  # fmt: skip
    await flush(session)
    await record(session, principal, "pledge.lead", pledge, before)


async def settle(
    session: AsyncSession, principal: Principal, run: SyncRun, group: Group, pledge: Pledge | None
) -> None:
    """Point every record of the group at its pledge with its role and reason, endorse the
    pledge for each other claimed record's member, release what a record that left a pledge
    had endorsed on the link's account, and count the hierarchy around it."""
    others: dict[int, int] = {}
    leaving: list[tuple[SourceRecord, int]] = []
    target = pledge.id if pledge is not None else None
    for kept in group.records:
        if kept.pledge_id is not None and kept.pledge_id != target:
            if kept.link_role is LinkRole.LEAD:  # another pledge it writes: never merged
                others[kept.pledge_id] = kept.id
                continue
            leaving.append((kept, kept.pledge_id))
        kept.pledge_id = target
        kept.link_role = group.roles.get(kept.id) if target is not None else None
        kept.count_reason = group.reasons.get(kept.id) if target is not None else None
    await flush(session)
    if pledge is not None:
        gone = await session.scalars(  # records whose tie to the pledge their sources dropped
            select(SourceRecord).where(
                SourceRecord.pledge_id == pledge.id,
                SourceRecord.id.not_in([kept.id for kept in group.records]),
                SourceRecord.link_role != LinkRole.LEAD,
            )
        )
        for kept in gone:
            leaving.append((kept, pledge.id))
            kept.pledge_id = kept.link_role = kept.count_reason = None
        await flush(session)
    for kept, left in leaving:
        await release(session, principal, kept, left)
    if pledge is None:
        return
    joined = [
        r for r in group.records if r.state is SourceState.PLEDGE and r.pledge_id == pledge.id
    ]
    members = await _members(session, joined)
    for kept in joined:
        member = members[kept.connector_id]
        if member != pledge.lead_member_id:
            await _endorse(session, principal, pledge, member, _own_roles(kept))
            _mark(kept, pledge.id)
    for other in sorted(others):
        await _conflict(session, run, pledge, other, group)
    count_later(session, pledge.id)


def count_later(session: AsyncSession, pledge_id: int) -> None:
    """Count the pledge's hierarchy again before the batch commits (``count_pending``): once
    for a batch's pledges, not once a record."""
    session.info.setdefault(PENDING, set()).add(pledge_id)


async def count_pending(session: AsyncSession) -> None:
    """Count the hierarchies of the pledges written since the last commit (a pledge a
    savepoint undid has no links left to count: it counts nothing)."""
    pending: set[int] = session.info.pop(PENDING, set())
    if pending:
        await recount(session, sorted(pending))


async def _members(session: AsyncSession, records: Sequence[SourceRecord]) -> dict[int, int]:
    """The member each record's connector acts for, by connector."""
    rows = await session.execute(
        select(Connector.id, Connector.member_id).where(
            Connector.id.in_({r.connector_id for r in records})
        )
    )
    return {connector: member for connector, member in rows}


def _mark(kept: SourceRecord, pledge_id: int | None) -> None:
    """Remember (``None``: forget) the pledge a record's member endorses on the link's account."""
    parts = json.loads(kept.parts)
    if pledge_id is None:
        parts.pop("endorsed", None)
    else:
        parts["endorsed"] = pledge_id
    kept.parts = json.dumps(parts, sort_keys=True)


async def release(
    session: AsyncSession, principal: Principal, kept: SourceRecord, left: int
) -> None:
    """A claimed record left a pledge its member endorsed on the link's account: the
    endorsement goes back to INVITED when the pledge's lead record still names the member,
    else it is revoked. An answer the member gave itself stands."""
    if json.loads(kept.parts).get("endorsed") != left:
        return
    _mark(kept, None)
    member = (await _members(session, [kept]))[kept.connector_id]
    held = await endorsement_of(session, left, member)
    if held is None or held.status is not EndorsementStatus.ACCEPTED:
        return
    lead = await session.scalar(
        select(SourceRecord).where(
            SourceRecord.pledge_id == left, SourceRecord.link_role == LinkRole.LEAD
        )
    )
    named = lead is not None and member in json.loads(lead.parts).get("endorsers", {}).values()
    before = snapshot(held)
    if named:
        step(Entity.ENDORSEMENT, Action.RESET, held.status)
        held.status, held.invited_at, held.accepted_at = EndorsementStatus.INVITED, utcnow(), None
        await flush(session)
    else:
        await revoke(session, held.id)
    await record(session, principal, "endorsement.unlink", held, before)


def _own_roles(kept: SourceRecord) -> tuple[Role, ...]:
    """The roles a record's member gives itself in its own activity."""
    return tuple(Role(role) for role in json.loads(kept.parts).get("roles", []))


async def _endorse(
    session: AsyncSession,
    principal: Principal,
    pledge: Pledge,
    member_id: int,
    own: Sequence[Role],
) -> None:
    """The member reported the activity itself: its endorsement is ACCEPTED, in the roles the
    lead gives it and those it gives itself. An answer it gave itself (declined, revoked)
    stands."""
    held = await endorsement_of(session, pledge.id, member_id)
    roles = set(own)
    if held is not None and not roles and not await roles_of(session, pledge.id, member_id):
        roles = {Role.ENDORSER}  # a former lead that held no role but LEAD
    if held is None:
        made = await invite(
            session, pledge.id, member_id, sorted(roles or {Role.ENDORSER}),
            invited_by_id=pledge.lead_member_id,
        )  # fmt: skip
        await record(session, principal, "endorsement.link", made)
        held = made
    if held.status is EndorsementStatus.REVOKED:  # an earlier link's release, or a withdrawal
        before = snapshot(held)
        held = await invite(
            session, pledge.id, member_id, sorted(roles or {Role.ENDORSER}),
            invited_by_id=pledge.lead_member_id,
        )  # fmt: skip
        await record(session, principal, "endorsement.link", held, before)
    if held.status is EndorsementStatus.DECLINED:  # its own answer stands
        return
    before = snapshot(held)
    added = await add_roles(session, pledge.id, member_id, sorted(roles))
    if held.status is EndorsementStatus.INVITED:
        await respond(session, held.id, accept=True)
    if added or before["status"] != held.status:
        await record(session, principal, "endorsement.link", held, before)


async def _conflict(
    session: AsyncSession, run: SyncRun, pledge: Pledge, other: int, group: Group
) -> None:
    lead = group.lead
    assert lead is not None  # a group with a pledge has a claimed lead
    reason = (
        f"pledges {pledge.id} and {other} report the same activity by the linking rules: a "
        "person decides whether to withdraw one (they are never merged by an import)"
    )
    await add_review(session, run, lead, "LINK_CONFLICT", str(other), f"pledge {other}", reason)


async def add_review(
    session: AsyncSession,
    run: SyncRun,
    kept: SourceRecord,
    subject: str,
    code: str,
    names: str,
    reason: str,
) -> None:
    """One open review item for the record, unless it was raised (or resolved) before."""
    held = await session.scalar(
        select(ReviewEntry.id).where(
            ReviewEntry.source == kept.source,
            ReviewEntry.external_id == kept.external_id,
            ReviewEntry.subject == subject,
            ReviewEntry.code == code,
        )
    )
    if held is None:
        session.add(
            ReviewEntry(
                source=kept.source, external_id=kept.external_id, pledge_id=kept.pledge_id,
                subject=subject, code=code[:300], names=names, reason=reason,
                status=ReviewStatus.OPEN, sync_run_id=run.id,
            )
        )  # fmt: skip
        await flush(session)


async def co_funded(session: AsyncSession, run: SyncRun, kept: SourceRecord) -> None:
    """One CO_FUNDED review item per pair of records that name each other (either way) as
    co-funded, on the first of the two by source and id, once both are held."""
    if not kept.activity_id:
        return
    named = select(SourceLink.activity_id).where(
        SourceLink.record_id == kept.id, SourceLink.relation == LinkRelation.CO_FUNDED
    )
    namers = select(SourceLink.record_id).where(
        SourceLink.activity_id == kept.activity_id, SourceLink.relation == LinkRelation.CO_FUNDED
    )
    pairs = await session.scalars(
        select(SourceRecord).where(
            or_(SourceRecord.activity_id.in_(named), SourceRecord.id.in_(namers)),
            SourceRecord.id != kept.id,
        )
    )
    for other in pairs:
        first, second = sorted((kept, other), key=_order)
        reason = (
            f"{first.external_id} and {second.external_id} are co-funded (IATI related-activity "
            "4): each counts its own commitment; say whether they are one pledge"
        )
        names = f"{second.source} {second.external_id}"
        await add_review(session, run, first, "CO_FUNDED", second.external_id, names, reason)


async def hierarchy(
    session: AsyncSession, pledge_ids: Iterable[int], *, up: bool
) -> dict[int, set[int]]:
    """Each pledge's parents (``up``) or children, in two statements for any number of
    pledges. A tie holds when a claimed record of the child names its parent, or a claimed
    record of the parent names its child and one member leads both: no member's file takes
    another's amount out of the totals by calling it a child."""
    ids = list(pledge_ids)
    sayer, named = aliased(SourceRecord), aliased(SourceRecord)
    sayer_pledge, named_pledge = aliased(Pledge), aliased(Pledge)
    columns = (
        sayer.pledge_id, SourceLink.relation, named.pledge_id,
        sayer_pledge.lead_member_id == named_pledge.lead_member_id,
    )  # fmt: skip
    base = (
        select(*columns)
        .join(SourceLink, SourceLink.record_id == sayer.id)
        .join(named, named.activity_id == SourceLink.activity_id)
        .join(sayer_pledge, sayer_pledge.id == sayer.pledge_id)
        .join(named_pledge, named_pledge.id == named.pledge_id)
        .where(
            SourceLink.relation.in_(HIERARCHY),
            sayer.state == SourceState.PLEDGE,
            named.state == SourceState.PLEDGE,
            sayer.pledge_id != named.pledge_id,
        )
    )
    found: dict[int, set[int]] = defaultdict(set)
    wanted = set(ids)
    for side in (sayer, named):
        for said_by, relation, about, same_lead in await session.execute(
            base.where(side.pledge_id.in_(wanted))
        ):
            if said_by is None or about is None:  # joined on both pledges: never
                continue
            by_child = relation is LinkRelation.PARENT
            parent, child = (about, said_by) if by_child else (said_by, about)
            if not (by_child or same_lead):
                continue
            key, other = (child, parent) if up else (parent, child)
            if key in wanted:
                found[key].add(other)
    return found


async def recount(session: AsyncSession, pledge_ids: Sequence[int]) -> None:
    """Which ancestors hold the amount of each pledge around ``pledge_ids`` (their
    descendants, and whatever was counted in them before: a link may have gone), in a few
    statements per level of the hierarchy, whatever the number of pledges."""
    if not await _in_a_hierarchy(session, pledge_ids):
        return
    around: set[int] = set(pledge_ids)
    layer = set(pledge_ids)
    for _ in range(MAX_DEPTH):  # every descendant's count may hang on these pledges
        before = await session.scalars(
            select(CountedElsewhere.pledge_id).where(CountedElsewhere.counted_in_id.in_(layer))
        )
        below = await hierarchy(session, layer, up=False)
        layer = ({c for children in below.values() for c in children} | set(before)) - around
        if not layer:
            break
        around |= layer
    parents: dict[int, set[int]] = {}
    layer = set(around)
    for _ in range(MAX_DEPTH):
        above = await hierarchy(session, layer, up=True)
        parents |= {pledge: above.get(pledge, set()) for pledge in layer}
        layer = {parent for found in above.values() for parent in found} - parents.keys()
        if not layer:
            break
    ancestors = {pledge: _up(parents, pledge) for pledge in around}
    everyone = {a for found in ancestors.values() for a in found}
    carrying = set(
        await session.scalars(
            select(Pledge.id).where(Pledge.id.in_(everyone), Pledge.amount_minor.is_not(None))
        )
    )
    looped = {pledge for pledge, found in ancestors.items() if pledge in found}
    keys = await _lead_keys(session, everyone | around) if looped else {}
    await session.execute(delete(CountedElsewhere).where(CountedElsewhere.pledge_id.in_(around)))
    for pledge in sorted(around):
        for holder, depth in sorted(ancestors[pledge].items()):
            if holder == pledge or holder not in carrying:
                continue
            later = pledge in looped and keys.get(holder, "") > keys.get(pledge, "")
            if later and pledge in _up(parents, holder):  # in its loop: the first by key counts
                continue
            session.add(
                CountedElsewhere(
                    pledge_id=pledge, counted_in_id=holder, depth=depth,
                    reason="an ancestor pledge's commitment holds it (countedIn): counted there",
                )
            )  # fmt: skip
    await flush(session)


def _up(parents: dict[int, set[int]], pledge: int) -> dict[int, int]:
    """Every ancestor of the pledge with its distance (the pledge itself among them when the
    hierarchy loops back to it)."""
    found: dict[int, int] = {}
    layer = {pledge}
    for depth in range(1, MAX_DEPTH + 1):
        layer = {p for child in layer for p in parents.get(child, ())} - found.keys()
        if not layer:
            break
        found |= dict.fromkeys(layer, depth)
    return found


async def _lead_keys(session: AsyncSession, pledge_ids: set[int]) -> dict[int, str]:
    """Each pledge's lead record as ``source external_id``: an order no import changes."""
    leads = await session.execute(
        select(SourceRecord.pledge_id, SourceRecord.source, SourceRecord.external_id).where(
            SourceRecord.pledge_id.in_(pledge_ids), SourceRecord.link_role == LinkRole.LEAD
        )
    )
    return {pledge: f"{source} {external_id}" for pledge, source, external_id in leads if pledge}


async def _in_a_hierarchy(session: AsyncSession, pledge_ids: Sequence[int]) -> bool:
    """Whether any of the pledges has a parent or child link, either way, or a count to
    undo: most have none, and one statement says so."""
    records = select(SourceRecord.id).where(SourceRecord.pledge_id.in_(pledge_ids))
    activities = select(SourceRecord.activity_id).where(SourceRecord.pledge_id.in_(pledge_ids))
    hierarchy = SourceLink.relation.in_(HIERARCHY)
    found = await session.scalar(
        select(
            or_(
                exists().where(hierarchy, SourceLink.record_id.in_(records)),
                exists().where(hierarchy, SourceLink.activity_id.in_(activities)),
                exists().where(
                    or_(
                        CountedElsewhere.pledge_id.in_(pledge_ids),
                        CountedElsewhere.counted_in_id.in_(pledge_ids),
                    )
                ),
            )
        )
    )
    return bool(found)
