"""One pledge across the organisations that report it, and each commitment counted once.

Every kept source record, claimed or not, stands for an activity (``activity_id``) and names
others (``source_links``), kept by id whether or not the hub holds them yet. Records that are
the *same pledge* form a group, whatever order they arrived in:

| tie | same pledge? |
|---|---|
| one activity id in two sources (World Bank ``P…``, IATI ``44000-P…``) | yes: TWIN |
| a commitment naming the receiver-activity-id, incoming money the provider-activity-id | yes (1) |
| related-activity 5, a third party's report on the same activity | yes: THIRD_PARTY |
| related-activity 1 and 2, parent and child | no: a hierarchy of distinct pledges (2) |
| related-activity 3, sibling | no: a plain relation |
| related-activity 4, co-funded | no: a CO_FUNDED review item, one per pair |

Of a group's claimed records (those a member reported through its own connector) the lead is
the first by: not the receiving end of a flow; not named as a third party's report; IATI before
other sources (the activity carries transactions and results); then source and external id.
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
pledge and ties no further, so it never joins two. (2) A pledge whose ancestor carries a commitment
is counted in that ancestor: ``counted_elsewhere`` names the topmost one, and totals leave its
amount out. When a parent carries none, its children are counted.

Two pledges that a new link would join are never merged: a LINK_CONFLICT review item names them.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.ledger import record, snapshot
from hub.auth.principal import Principal
from hub.endorsements.models import EndorsementRole, EndorsementStatus, Role
from hub.endorsements.service import (
    add_roles,
    endorsement_of,
    invite,
    lead_endorsement,
    respond,
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
from hub.money.amounts import money
from hub.pledges.models import Pledge
from hub.types import utcnow

SAME_PLEDGE = (LinkRelation.PROVIDER, LinkRelation.RECEIVER, LinkRelation.THIRD_PARTY)
HIERARCHY = (LinkRelation.PARENT, LinkRelation.CHILD)
IATI = "iati"
MAX_DEPTH = 20  # a hierarchy deeper than this is a cycle in someone's data


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

    def _trusted(self, loser: SourceRecord, winner: SourceRecord, relation: LinkRelation) -> bool:
        """Whether a tie that puts ``loser``'s record under ``winner``'s holds: always, but
        between two members, where the loser's own record must say it (``relation``): no
        member's record takes another member's pledge, or its endorsement, on its own word."""
        one, two = self.members.get(loser.id), self.members.get(winner.id)
        if one is None or two is None or one == two:
            return True
        return self._names(loser, relation, winner)

    def _add(self, kept: SourceRecord) -> None:
        self.records[kept.id] = kept
        if kept.activity_id:
            self.by_activity[kept.activity_id].append(kept)

    def providers(self, kept: SourceRecord) -> list[SourceRecord]:
        """The records whose money ``kept`` receives, as either end says it."""
        found = {
            p.id: p
            for link in self.links[kept.id]
            if link.relation is LinkRelation.PROVIDER
            for p in self.by_activity.get(link.activity_id, [])
        }
        for other in self.records.values():
            if kept.activity_id and any(
                link.relation is LinkRelation.RECEIVER and link.activity_id == kept.activity_id
                for link in self.links[other.id]
            ):
                found[other.id] = other
        found.pop(kept.id, None)
        trusted = [p for p in found.values() if self._trusted(kept, p, LinkRelation.PROVIDER)]
        return sorted(trusted, key=_order)

    def edges(self) -> dict[int, list[tuple[int, LinkRole, LinkRole]]]:
        """Each record's neighbours in its pledge, with what each end is to the other: a
        receiver keeps the first of its providers only."""
        edges: dict[int, list[tuple[int, LinkRole, LinkRole]]] = defaultdict(list)

        def tie(a: SourceRecord, b: SourceRecord, a_is: LinkRole, b_is: LinkRole) -> None:
            edges[a.id].append((b.id, b_is, a_is))
            edges[b.id].append((a.id, a_is, b_is))

        for twins in self.by_activity.values():
            for twin in twins[1:]:
                tie(twins[0], twin, LinkRole.TWIN, LinkRole.TWIN)
        for kept in self.records.values():
            providers = self.providers(kept)
            if providers:
                tie(kept, providers[0], LinkRole.RECEIVER, LinkRole.PROVIDER)
            for link in self.links[kept.id]:
                if link.relation is LinkRelation.THIRD_PARTY:
                    for other in self.by_activity.get(link.activity_id, []):
                        if self._trusted(other, kept, LinkRelation.THIRD_PARTY):
                            tie(kept, other, LinkRole.THIRD_PARTY, LinkRole.THIRD_PARTY)
        return edges

    def third_parties(self) -> set[int]:
        """Records another names as a third party's report on its activity."""
        return {
            other.id
            for links in self.links.values()
            for link in links
            if link.relation is LinkRelation.THIRD_PARTY
            for other in self.by_activity.get(link.activity_id, [])
        }


def _order(kept: SourceRecord) -> tuple[str, str]:
    return kept.source, kept.external_id


async def group_of(session: AsyncSession, start: SourceRecord) -> Group:
    """The records that are one pledge with ``start``, and the one that leads it."""
    graph = _Graph()
    await graph.explore(session, start)
    edges = graph.edges()
    root = start
    if start.state is not SourceState.PLEDGE:  # it joins one pledge, never bridges two
        claimed = [graph.records[o] for o, _, _ in edges[start.id] if o in graph.members]
        root = min(claimed, key=_order) if claimed else start
    members: dict[int, SourceRecord] = {root.id: root}
    queue = deque([root.id])
    while queue:
        at = queue.popleft()
        if at != root.id and at not in graph.members:
            continue  # an unclaimed record ties no further
        for other, _, _ in edges[at]:
            if other not in members:
                members[other] = graph.records[other]
                queue.append(other)
    named = graph.third_parties()
    receiving = {r.id for r in members.values() if graph.providers(r)}

    def rank(kept: SourceRecord) -> tuple[bool, bool, bool, str, str]:
        return (kept.id in receiving, kept.id in named, kept.source != IATI, *_order(kept))

    claimed = [r for r in members.values() if r.state is SourceState.PLEDGE]
    lead = min(claimed, key=rank) if claimed else None
    roles: dict[int, LinkRole] = {}
    reasons: dict[int, str] = {}
    if lead is not None:
        roles[lead.id] = LinkRole.LEAD
        queue = deque([lead.id])
        while queue:
            at = queue.popleft()
            for other, role, _ in edges[at]:
                if other not in roles:
                    roles[other] = role
                    queue.append(other)
        reasons = {key: _reason(role, members[key], lead) for key, role in roles.items()}
    return Group(sorted(members.values(), key=_order), lead, roles, reasons)


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
    pledge for each other claimed record's member, and count the hierarchy around it."""
    if pledge is None:
        for kept in group.records:
            if kept.link_role is not LinkRole.LEAD:
                kept.pledge_id = kept.link_role = kept.count_reason = None
        await flush(session)
        return
    others: dict[int, int] = {}
    for kept in group.records:
        if kept.link_role is LinkRole.LEAD and kept.pledge_id not in (None, pledge.id):
            others[kept.pledge_id or 0] = kept.id
            continue
        kept.pledge_id = pledge.id
        kept.link_role = group.roles.get(kept.id)
        kept.count_reason = group.reasons.get(kept.id)
    await flush(session)
    gone = await session.scalars(  # records whose tie to the pledge their sources dropped
        select(SourceRecord).where(
            SourceRecord.pledge_id == pledge.id,
            SourceRecord.id.not_in([kept.id for kept in group.records]),
            SourceRecord.link_role != LinkRole.LEAD,
        )
    )
    for kept in gone:
        kept.pledge_id = kept.link_role = kept.count_reason = None
    await flush(session)
    joined = [
        r for r in group.records if r.state is SourceState.PLEDGE and r.pledge_id == pledge.id
    ]
    rows = await session.execute(
        select(Connector.id, Connector.member_id).where(
            Connector.id.in_({r.connector_id for r in joined})
        )
    )
    members = {connector: member for connector, member in rows}
    for kept in joined:
        member = members[kept.connector_id]
        if member != pledge.lead_member_id:
            await _endorse(session, principal, pledge, member, _own_roles(kept))
    for other in sorted(others):
        await _conflict(session, run, pledge, other, group)
    await recount(session, [pledge.id])


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
    if held.status in (EndorsementStatus.DECLINED, EndorsementStatus.REVOKED):
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
    session: AsyncSession, pledge_ids: Iterable[int], up: bool
) -> dict[int, set[int]]:
    """Each pledge's parents (``up``) or children, as either end's records say it, in two
    statements for any number of pledges."""
    ids = list(pledge_ids)
    mine = select(SourceRecord.id, SourceRecord.pledge_id, SourceRecord.activity_id).where(
        SourceRecord.pledge_id.in_(ids)
    )
    rows = list(await session.execute(mine))
    if not rows:
        return {}
    pledge_by_record: dict[int, int] = {row[0]: row[1] for row in rows if row[1] is not None}
    activities: dict[str, int] = {row[2]: row[1] for row in rows if row[2] and row[1]}
    toward, back = (LinkRelation.PARENT, LinkRelation.CHILD)[:: 1 if up else -1]
    found: dict[int, set[int]] = defaultdict(set)
    said = await session.execute(
        select(SourceLink.record_id, SourceRecord.pledge_id)
        .join(SourceRecord, SourceRecord.activity_id == SourceLink.activity_id)
        .where(
            SourceLink.record_id.in_(pledge_by_record),
            SourceLink.relation == toward,
            SourceRecord.pledge_id.is_not(None),
        )
    )
    for record_id, other in said:
        if other is not None:
            found[pledge_by_record[record_id]].add(other)
    told = await session.execute(
        select(SourceLink.activity_id, SourceRecord.pledge_id)
        .join(SourceRecord, SourceRecord.id == SourceLink.record_id)
        .where(
            SourceLink.activity_id.in_(activities),
            SourceLink.relation == back,
            SourceRecord.pledge_id.is_not(None),
        )
    )
    for activity_id, other in told:
        if other is not None:
            found[activities[activity_id]].add(other)
    return {key: value - {key} for key, value in found.items()}


async def recount(session: AsyncSession, pledge_ids: Sequence[int]) -> None:
    """Whether each pledge around ``pledge_ids`` in their hierarchies counts its own amount: not
    when an ancestor carries one (the topmost such ancestor holds it)."""
    around: set[int] = set(pledge_ids)
    layer = set(pledge_ids)
    for _ in range(MAX_DEPTH):  # every descendant's count may hang on these pledges
        below = await hierarchy(session, layer, up=False)
        layer = {child for children in below.values() for child in children} - around
        if not layer:
            break
        around |= layer
    for pledge_id in sorted(around):
        holder = await _topmost_with_amount(session, pledge_id)
        held = await session.get(CountedElsewhere, pledge_id)
        if holder is None:
            if held is not None:
                await session.delete(held)
            continue
        reason = "an ancestor pledge's commitment holds it (countedIn): counted there"
        if held is None:
            session.add(CountedElsewhere(pledge_id=pledge_id, counted_in_id=holder, reason=reason))
        else:
            held.counted_in_id, held.reason = holder, reason
    await flush(session)


async def _topmost_with_amount(session: AsyncSession, pledge_id: int) -> int | None:
    """The furthest ancestor of the pledge that carries an amount, if any."""
    seen = {pledge_id}
    layer = {pledge_id}
    holder = None
    for _ in range(MAX_DEPTH):
        above = await hierarchy(session, layer, up=True)
        layer = {parent for parents in above.values() for parent in parents} - seen
        if not layer:
            break
        seen |= layer
        amounts = await session.execute(
            select(Pledge.id).where(Pledge.id.in_(layer), Pledge.amount_minor.is_not(None))
        )
        carrying = sorted(amounts.scalars())
        if carrying:
            holder = carrying[0]
    return holder
