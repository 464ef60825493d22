"""Every (status, action, principal) of the lifecycle table, walked against the commands.

``hub.lifecycle.TRANSITIONS`` is the one statement of who may move which record from which
status to which. This test works out what each combination should do from the table itself,
plus the few rules that live beside it (what a principal may see, ``PLEDGE_OPEN_FOR``, the
services' own checks), without asking ``hub.authorization``; then it puts a fresh record into
the status, runs the command as the principal and compares the outcome and the record's status
afterwards. Statuses, actions and actors come from the enums and the table, so a new row or a
new Action is walked without touching this file; an Action without rows or without a command
here, or a status without a set-up here, fails.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.principal import ANONYMOUS, Principal
from hub.auth.scopes import KIND_SCOPES, MEMBER_WRITES, ClientKind, Scope
from hub.endorsements import commands as endorsement_commands
from hub.endorsements.models import Endorsement, EndorsementStatus, Role
from hub.endorsements.service import invite, respond, revoke
from hub.errors import Conflict, Forbidden, HubError, InvalidInput, NotFound, Unauthenticated
from hub.lifecycle import (
    PLEDGE_OPEN_FOR,
    REPORTING_ROLES,
    TRANSITIONS,
    Action,
    Actor,
    Entity,
    Transition,
)
from hub.organisations import commands as organisation_commands
from hub.organisations.models import MembershipStatus, Organisation, OrganisationType
from hub.organisations.service import (
    OrganisationDraft,
    admit_member,
    apply_for_membership,
    create_organisation,
    suspend_member,
)
from hub.pledges import commands as pledge_commands
from hub.pledges.models import (
    FocusArea,
    Indicator,
    Pledge,
    PledgeType,
    PublicationStatus,
    Target,
)
from hub.pledges.rules import PledgeDraft, TargetDraft
from hub.pledges.service import (
    TargetChange,
    create_pledge,
    fulfil_pledge,
    publish_pledge,
    submit_pledge,
    withdraw_pledge,
)
from hub.progress import commands as progress_commands
from hub.progress.models import ProgressReport, ReportStatus
from hub.progress.rules import ReportDraft, ReportedValue
from hub.progress.service import report_progress, review_report
from tests.fixtures.factories import add_member

NEW = "new"
"""The status of a record an action makes (a row whose ``source`` is None)."""

STATUSES: dict[Entity, type[enum.StrEnum]] = {
    Entity.PLEDGE: PublicationStatus,
    Entity.ENDORSEMENT: EndorsementStatus,
    Entity.REPORT: ReportStatus,
    Entity.ORGANISATION: MembershipStatus,
}

# ---------------------------------------------------------------------------------------------
# What the table says, worked out here from TRANSITIONS alone

Outcome = tuple[str, str]
"""("ok", the record's status afterwards), or (the error's class name, its code)."""

OK = "ok"


def ok(status: str) -> Outcome:
    return (OK, str(status))


def refused(error: type[HubError], code: str) -> Outcome:
    return (error.__name__, code)


NOT_PERMITTED = refused(Forbidden, "NOT_PERMITTED")
INVALID_TRANSITION = refused(Conflict, "INVALID_TRANSITION")


def rows_for(entity: Entity, action: Action) -> list[Transition]:
    return [row for row in TRANSITIONS if row.entity is entity and row.action is action]


def creates(entity: Entity, action: Action) -> bool:
    """Whether the action makes a record (some row starts from nothing)."""
    return any(row.source is None for row in rows_for(entity, action))


def moves(entity: Entity, action: Action) -> bool:
    """Whether the action changes an existing record (some row starts from a status)."""
    return any(row.source is not None for row in rows_for(entity, action))


def walked_statuses(entity: Entity) -> list[str]:
    creating = any(creates(entity, action) for action in Action)
    return [*([NEW] if creating else []), *(str(status) for status in STATUSES[entity])]


def actions_from(entity: Entity, status: str) -> list[Action]:
    """The actions walked from ``status``: every action of the entity in the table, from its
    statuses if it moves records and from nothing if it makes them."""
    return [
        action
        for action in Action
        if (creates(entity, action) if status == NEW else moves(entity, action))
    ]


def needed_scopes(entity: Entity, action: Action) -> frozenset[Scope]:
    """The scopes the action's command asks for before it reads anything; a material edit
    (RESET) is made through the pledge's EDIT."""
    scopes = {row.scope for row in rows_for(entity, action)}
    if action is Action.RESET:
        scopes |= {row.scope for row in rows_for(Entity.PLEDGE, Action.EDIT)}
    return frozenset(scopes)


def by_table(
    rows: list[Transition], source: str, held: frozenset[Actor], scopes: frozenset[Scope]
) -> Outcome:
    """Allowed iff a row matches the status, an actor held and a scope held. Refused as
    NOT_PERMITTED when no row ever lets this principal do it, or someone else could do it
    from this status; as INVALID_TRANSITION when nobody may do it from this status."""
    start = None if source == NEW else source
    mine = [row for row in rows if row.actor in held and row.scope in scopes]
    targets = {str(row.target) for row in mine if row.source == start}
    assert len(targets) <= 1, f"the table is ambiguous from {source}: {targets}"
    if targets:
        return ok(targets.pop())
    if not mine or any(row.source == start for row in rows):
        return NOT_PERMITTED
    return INVALID_TRANSITION


# ---------------------------------------------------------------------------------------------
# The records, put into each status through the services


@dataclass(frozen=True, slots=True)
class Members:
    lead: int
    invitee: int
    reporter: int
    stranger: int


@dataclass(slots=True)
class Scene:
    """What a set-up made: the record walked and the facts its expectations depend on."""

    members: Members
    invitee: int
    """The organisation the invitee's partner acts for."""
    subject: int | None = None
    """The record walked: the pledge, the endorsing organisation, the report or the
    organisation; None when the action makes it."""
    baseline: int = 0
    """When the action makes the record: the highest id before it."""
    pledge_id: int | None = None
    pledge_status: PublicationStatus | None = None
    published: bool = False
    smart: bool = True
    target_id: int | None = None
    endorsements: dict[int, tuple[EndorsementStatus, frozenset[Role]]] = field(default_factory=dict)
    membership: dict[int, MembershipStatus] = field(default_factory=dict)
    reporting_member: int | None = None


Step = Callable[[AsyncSession, int], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class PledgeSetup:
    label: str
    status: PublicationStatus
    path: tuple[Step, ...]
    smart: bool = True
    """SMART-complete (it has a quantitative target with a deadline)."""


PLEDGE_SETUPS = (
    PledgeSetup("draft", PublicationStatus.DRAFT, ()),
    PledgeSetup("draft without target", PublicationStatus.DRAFT, (), smart=False),
    PledgeSetup("submitted", PublicationStatus.SUBMITTED, (submit_pledge,)),
    PledgeSetup(
        "submitted without target", PublicationStatus.SUBMITTED, (submit_pledge,), smart=False
    ),
    PledgeSetup("published", PublicationStatus.PUBLISHED, (submit_pledge, publish_pledge)),
    PledgeSetup(
        "fulfilled", PublicationStatus.FULFILLED, (submit_pledge, publish_pledge, fulfil_pledge)
    ),
    PledgeSetup("withdrawn draft", PublicationStatus.WITHDRAWN, (withdraw_pledge,)),
    PledgeSetup(
        "withdrawn after publication",
        PublicationStatus.WITHDRAWN,
        (submit_pledge, publish_pledge, withdraw_pledge),
    ),
)
"""Pledges in every status, some twice: a withdrawn pledge is public only if it was published,
and only a SMART-complete draft may be submitted or published by a command."""

SMART_SETUPS = tuple(setup for setup in PLEDGE_SETUPS if setup.smart)
PUBLIC_SETUPS = tuple(setup for setup in SMART_SETUPS if publish_pledge in setup.path)


async def _accept(session: AsyncSession, endorsement_id: int) -> object:
    return await respond(session, endorsement_id, accept=True)


async def _decline(session: AsyncSession, endorsement_id: int) -> object:
    return await respond(session, endorsement_id, accept=False)


async def _verify(session: AsyncSession, report_id: int) -> object:
    return await review_report(session, report_id, verified=True, note="checked")


async def _reject(session: AsyncSession, report_id: int) -> object:
    return await review_report(session, report_id, verified=False, note="no evidence")


ENDORSEMENT_STEPS: dict[str, tuple[Step, ...] | None] = {
    NEW: None,
    EndorsementStatus.INVITED: (),
    EndorsementStatus.ACCEPTED: (_accept,),
    EndorsementStatus.DECLINED: (_decline,),
    EndorsementStatus.REVOKED: (revoke,),
}
"""After the invitation (None: not invited at all)."""

REPORT_STEPS: dict[str, tuple[Step, ...] | None] = {
    NEW: None,
    ReportStatus.SUBMITTED: (),
    ReportStatus.VERIFIED: (_verify,),
    ReportStatus.REJECTED: (_reject,),
}
"""After the report is made (None: no report yet)."""

ORGANISATION_STEPS: dict[str, tuple[Step, ...] | None] = {
    NEW: None,
    MembershipStatus.NONE: (),
    MembershipStatus.APPLIED: (apply_for_membership,),
    MembershipStatus.MEMBER: (admit_member,),
    MembershipStatus.SUSPENDED: (admit_member, suspend_member),
}
"""After the organisation is recorded (None: not recorded yet)."""


class Subject(enum.Enum):
    """Whose endorsement an ENDORSEMENT case walks."""

    INVITEE = "the invitee's"
    SUSPENDED = "a suspended invitee's"
    LEAD = "the lead's own"


@dataclass(frozen=True, slots=True)
class Context:
    label: str
    pledge: PledgeSetup | None = None
    subject: Subject = Subject.INVITEE


def contexts(entity: Entity, status: str) -> tuple[Context, ...]:
    """The set-ups of a record in ``status``; none means the walk has a gap."""
    if entity is Entity.PLEDGE:
        if status == NEW:
            return (Context("no pledge yet"),)
        return tuple(
            Context(setup.label, setup) for setup in PLEDGE_SETUPS if setup.status == status
        )
    if entity is Entity.ENDORSEMENT:
        if status not in ENDORSEMENT_STEPS:
            return ()
        found = [
            Context(f"{subject.value}, {setup.label} pledge", setup, subject)
            for subject in (Subject.INVITEE, Subject.SUSPENDED)
            for setup in SMART_SETUPS
        ]
        if status == EndorsementStatus.ACCEPTED:  # made with the pledge, in no other status
            found += [
                Context(f"{Subject.LEAD.value}, {setup.label} pledge", setup, Subject.LEAD)
                for setup in SMART_SETUPS
            ]
        return tuple(found)
    if entity is Entity.REPORT:
        if status not in REPORT_STEPS:
            return ()
        setups = SMART_SETUPS if status == NEW else PUBLIC_SETUPS
        return tuple(Context(f"{setup.label} pledge", setup) for setup in setups)
    if entity is Entity.ORGANISATION and status in ORGANISATION_STEPS:
        return (Context("organisation"),)
    return ()


CONTENT = PledgeDraft(
    title="Connect 1,000 schools",
    pledge_type=PledgeType.PROGRAMMATIC,
    focus_areas=(FocusArea.ACCESS,),
    target_countries=("NPL",),
    start_date=date(2024, 1, 1),
    end_date=date(2027, 12, 31),
)
REWORDED = replace(CONTENT, title="Connect a thousand schools")
"""An edit of wording only."""
MATERIAL = replace(CONTENT, target_countries=("NPL", "BTN"))
"""A material edit: co-endorsers stood behind other countries."""
TARGET = TargetDraft(
    indicator=Indicator.SCHOOLS_CONNECTED,
    unit="schools",
    target_value=Decimal(1000),
    deadline=date(2027, 12, 31),
)
REPORT = ReportDraft(period_start=date(2024, 1, 1), period_end=date(2024, 6, 30))
ORGANISATION = OrganisationDraft(name="Giga", organisation_type=OrganisationType.CIVIL_SOCIETY)


async def max_id(session: AsyncSession, column: object) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(column), 0))) or 0)


async def endorse(
    session: AsyncSession, scene: Scene, organisation: int, status: str, roles: set[Role]
) -> None:
    """Give ``organisation`` an endorsement of the scene's pledge in ``status``."""
    steps = ENDORSEMENT_STEPS[status]
    assert scene.pledge_id is not None
    if steps is None:
        return
    endorsement = await invite(
        session, scene.pledge_id, organisation, sorted(roles), invited_by_id=scene.members.lead
    )
    for step in steps:
        await step(session, endorsement.id)
    scene.endorsements[organisation] = (EndorsementStatus(status), frozenset(roles))


async def make_scene(
    session: AsyncSession, members: Members, entity: Entity, status: str, context: Context
) -> Scene:
    scene = Scene(members=members, invitee=members.invitee)
    scene.membership = {
        member: MembershipStatus.MEMBER
        for member in (members.lead, members.invitee, members.reporter, members.stranger)
    }
    if entity is Entity.ORGANISATION:
        steps = ORGANISATION_STEPS[status]
        if steps is None:
            scene.baseline = await max_id(session, Organisation.id)
            return scene
        organisation = await create_organisation(
            session,
            name="Alliance for Affordable Internet",
            organisation_type=OrganisationType.CIVIL_SOCIETY,
        )
        for step in steps:
            await step(session, organisation.id)
        scene.subject = organisation.id
        return scene
    setup = context.pledge
    if setup is None:
        scene.baseline = await max_id(session, Pledge.id)
        return scene

    targets = [TargetChange(TARGET)] if setup.smart else []
    pledge = await create_pledge(session, members.lead, CONTENT, targets)
    scene.pledge_id, scene.smart = pledge.id, setup.smart
    scene.target_id = await session.scalar(select(Target.id).where(Target.pledge_id == pledge.id))
    scene.endorsements[members.lead] = (EndorsementStatus.ACCEPTED, frozenset({Role.LEAD}))
    await endorse(session, scene, members.reporter, EndorsementStatus.ACCEPTED, {Role.CO_LEAD})
    suspended: int | None = None
    if entity is Entity.REPORT:
        await endorse(session, scene, members.invitee, EndorsementStatus.ACCEPTED, {Role.FUNDER})
    elif entity is Entity.ENDORSEMENT and context.subject is not Subject.LEAD:
        if context.subject is Subject.SUSPENDED:
            suspended = (await add_member(session, "Suspended Telecom")).id
            scene.invitee = suspended
            scene.membership[suspended] = MembershipStatus.MEMBER
        await endorse(session, scene, scene.invitee, status, {Role.IMPLEMENTER})
        scene.subject = scene.invitee
    else:
        await endorse(session, scene, members.invitee, EndorsementStatus.INVITED, {Role.ENDORSER})
    for step in setup.path:
        await step(session, pledge.id)
    scene.pledge_status, scene.published = setup.status, publish_pledge in setup.path
    if suspended is not None:
        await suspend_member(session, suspended)
        scene.membership[suspended] = MembershipStatus.SUSPENDED
    if entity is Entity.PLEDGE:
        scene.subject = pledge.id
    elif entity is Entity.ENDORSEMENT and context.subject is Subject.LEAD:
        scene.subject = members.lead
    elif entity is Entity.REPORT:
        steps = REPORT_STEPS[status]
        if steps is None:
            scene.baseline = await max_id(session, ProgressReport.id)
        else:
            report = await report_progress(session, pledge.id, members.reporter, REPORT)
            for step in steps:
                await step(session, report.id)
            scene.subject, scene.reporting_member = report.id, members.reporter
    return scene


async def observe(session: AsyncSession, entity: Entity, scene: Scene) -> str:
    """The walked record's status as stored, ``NEW`` when there is none (yet)."""
    if entity is Entity.ENDORSEMENT:
        found = await session.scalar(
            select(Endorsement.status).where(
                Endorsement.pledge_id == scene.pledge_id,
                Endorsement.organisation_id == scene.subject,
            )
        )
        return NEW if found is None else str(found)
    column, key = {
        Entity.PLEDGE: (Pledge.publication_status, Pledge.id),
        Entity.REPORT: (ProgressReport.status, ProgressReport.id),
        Entity.ORGANISATION: (Organisation.membership_status, Organisation.id),
    }[entity]
    where = key == scene.subject if scene.subject is not None else key > scene.baseline
    statuses = [str(status) for status in await session.scalars(select(column).where(where))]
    if len(statuses) > 1:
        return f"{len(statuses)} new records"
    return statuses[0] if statuses else NEW


# ---------------------------------------------------------------------------------------------
# The principals, and what each is to the record


def partner(member: int, scopes: frozenset[Scope]) -> Principal:
    return Principal(
        kind=ClientKind.PARTNER, client_id=f"partner-{member}", member_id=member, scopes=scopes
    )


def principals(scene: Scene, needed: frozenset[Scope]) -> list[tuple[str, Principal]]:
    members = scene.members
    return [
        ("anonymous", ANONYMOUS),
        ("lead", partner(members.lead, MEMBER_WRITES)),
        ("invitee", partner(scene.invitee, MEMBER_WRITES)),
        ("reporter", partner(members.reporter, MEMBER_WRITES)),
        ("stranger", partner(members.stranger, MEMBER_WRITES)),
        ("lead lacking the scope", partner(members.lead, MEMBER_WRITES - needed)),
        (
            "secretariat",
            Principal(
                kind=ClientKind.SECRETARIAT,
                client_id="secretariat",
                scopes=KIND_SCOPES[ClientKind.SECRETARIAT],
            ),
        ),
        (
            "auditor",
            Principal(
                kind=ClientKind.AUDITOR, client_id="auditor", scopes=KIND_SCOPES[ClientKind.AUDITOR]
            ),
        ),
    ]


def relations(who: Principal, entity: Entity, scene: Scene) -> frozenset[Actor]:
    """What the principal is to the record, from the scene's facts."""
    held: set[Actor] = set()
    if who.kind is ClientKind.SECRETARIAT:
        held.add(Actor.SECRETARIAT)
    member = who.member_id
    if member is None:
        return frozenset(held)
    held.add(Actor.MEMBER)
    if entity is Entity.ORGANISATION or scene.pledge_id is None:
        return frozenset(held)
    if member == scene.members.lead:
        held.add(Actor.LEAD)
    if entity is Entity.ENDORSEMENT and member == scene.subject:
        held.add(Actor.INVITEE)
    status, roles = scene.endorsements.get(member, (None, frozenset()))
    if status is EndorsementStatus.ACCEPTED and roles & REPORTING_ROLES:
        held.add(Actor.REPORTER)
    return frozenset(held)


def sees_all(who: Principal) -> bool:
    return who.kind in (ClientKind.SECRETARIAT, ClientKind.AUDITOR)


def sees_pledge(who: Principal, scene: Scene) -> bool:
    """Public pledges (a withdrawn one if it was published), and a member's own: those it
    leads and those it is invited to or endorses."""
    if sees_all(who) or scene.pledge_status in (
        PublicationStatus.PUBLISHED,
        PublicationStatus.FULFILLED,
    ):
        return True
    if scene.pledge_status is PublicationStatus.WITHDRAWN and scene.published:
        return True
    member = who.member_id
    taking_part = (EndorsementStatus.INVITED, EndorsementStatus.ACCEPTED)
    return member is not None and (
        member == scene.members.lead or scene.endorsements.get(member, (None,))[0] in taking_part
    )


def sees(entity: Entity, action: Action, who: Principal, scene: Scene, source: str) -> bool:
    """Whether the command finds what it acts on: the pledge, or the endorsement or report."""
    if entity is Entity.ORGANISATION or scene.pledge_id is None or sees_all(who):
        return True
    member = who.member_id
    if entity is Entity.PLEDGE or creates(entity, action) or action is Action.RESET:
        return sees_pledge(who, scene)
    if entity is Entity.ENDORSEMENT:  # one that counts, or the member's own whatever the pledge
        counts = source == EndorsementStatus.ACCEPTED
        return (sees_pledge(who, scene) and counts) or member in (scene.subject, scene.members.lead)
    counts = source != ReportStatus.REJECTED
    return (
        (sees_pledge(who, scene) and counts)
        or member == scene.reporting_member
        or member == scene.members.lead
    )


PLEDGE_CLOSED = {
    Entity.ENDORSEMENT: refused(Conflict, "PLEDGE_CLOSED"),
    Entity.REPORT: refused(Conflict, "PLEDGE_NOT_PUBLISHED"),
}


def service_rule(entity: Entity, action: Action, who: Principal, scene: Scene) -> Outcome | None:
    """The services' own refusals of a move the table allows."""
    if entity is Entity.PLEDGE and action in (Action.SUBMIT, Action.PUBLISH) and not scene.smart:
        return refused(InvalidInput, "TARGET_REQUIRED")
    acting_member = {
        (Entity.PLEDGE, Action.CREATE): who.member_id,
        (Entity.ENDORSEMENT, Action.ACCEPT): scene.subject,
        (Entity.REPORT, Action.REPORT): who.member_id,
    }.get((entity, action))
    if acting_member is not None and scene.membership[acting_member] is not MembershipStatus.MEMBER:
        return refused(Conflict, "NOT_A_MEMBER")  # only members pledge, accept and report
    if entity is Entity.ENDORSEMENT and action is Action.REVOKE and lead_endorsement(scene):
        return refused(Conflict, "LEAD_REQUIRED")  # the pledge is withdrawn instead
    return None


def lead_endorsement(scene: Scene) -> bool:
    assert scene.subject is not None
    return Role.LEAD in scene.endorsements.get(scene.subject, (None, frozenset()))[1]


def expect(entity: Entity, action: Action, source: str, who: Principal, scene: Scene) -> Outcome:
    """What the command should do, from the table and the rules beside it."""
    if action is Action.RESET:
        return expect_reset(source, who, scene)
    rows = rows_for(entity, action)
    if who.anonymous:
        return refused(Unauthenticated, "UNAUTHENTICATED")
    if not who.scopes & {row.scope for row in rows}:
        return refused(Forbidden, "MISSING_SCOPE")
    if not sees(entity, action, who, scene, source):
        return refused(NotFound, "NOT_FOUND")
    verdict = by_table(rows, source, relations(who, entity, scene), who.scopes)
    if verdict[0] != OK:
        return verdict
    if action in PLEDGE_OPEN_FOR and entity in PLEDGE_CLOSED:
        assert scene.pledge_status is not None
        if scene.pledge_status not in PLEDGE_OPEN_FOR[action]:
            return PLEDGE_CLOSED[entity]
    return service_rule(entity, action, who, scene) or verdict


def expect_reset(source: str, who: Principal, scene: Scene) -> Outcome:
    """A material edit of the pledge: refused as the EDIT is; when it is made, an endorsement
    the table resets is reset, others (and the lead's own) stay as they are."""
    assert scene.pledge_status is not None
    edit = expect(Entity.PLEDGE, Action.EDIT, scene.pledge_status, who, scene)
    if edit[0] != OK:
        return edit
    rows = rows_for(Entity.ENDORSEMENT, Action.RESET)
    verdict = by_table(rows, source, relations(who, Entity.ENDORSEMENT, scene), who.scopes)
    if verdict == INVALID_TRANSITION or (verdict[0] == OK and lead_endorsement(scene)):
        return ok(source)
    return verdict


# ---------------------------------------------------------------------------------------------
# The commands, one per (entity, action) in the table

Command = Callable[[AsyncSession, Principal, Scene], Awaitable[str | None]]
"""Runs the action as the principal; the status the returned record has, if it returns it."""


def pledge_of(scene: Scene) -> int:
    assert scene.pledge_id is not None
    return scene.pledge_id


def subject_of(scene: Scene) -> int:
    assert scene.subject is not None
    return scene.subject


async def _edit(session: AsyncSession, who: Principal, scene: Scene, draft: PledgeDraft) -> str:
    pledge_id = pledge_of(scene)
    version = await session.scalar(select(Pledge.version).where(Pledge.id == pledge_id))
    assert version is not None
    targets = [] if scene.target_id is None else [TargetChange(TARGET, scene.target_id)]
    pledge, _, _ = await pledge_commands.update(session, who, pledge_id, version, draft, targets)
    return str(pledge.publication_status)


async def create_pledge_as(session: AsyncSession, who: Principal, scene: Scene) -> str:
    pledge = await pledge_commands.create(session, who, CONTENT, [TargetChange(TARGET)])
    return str(pledge.publication_status)


async def edit_pledge_as(session: AsyncSession, who: Principal, scene: Scene) -> str:
    return await _edit(session, who, scene, REWORDED)


async def reset_as(session: AsyncSession, who: Principal, scene: Scene) -> None:
    await _edit(session, who, scene, MATERIAL)


def move_pledge(
    command: Callable[[AsyncSession, Principal, int], Awaitable[Pledge]],
) -> Command:
    async def run(session: AsyncSession, who: Principal, scene: Scene) -> str:
        return str((await command(session, who, pledge_of(scene))).publication_status)

    return run


async def return_pledge_as(session: AsyncSession, who: Principal, scene: Scene) -> str:
    pledge = await pledge_commands.send_back(session, who, pledge_of(scene), "Name the schools")
    return str(pledge.publication_status)


async def invite_as(session: AsyncSession, who: Principal, scene: Scene) -> str:
    endorsement = await endorsement_commands.invite_endorser(
        session, who, pledge_of(scene), subject_of(scene), [Role.IMPLEMENTER]
    )
    return str(endorsement.status)


async def _endorsement_id(session: AsyncSession, scene: Scene) -> int:
    found = await session.scalar(
        select(Endorsement.id).where(
            Endorsement.pledge_id == pledge_of(scene),
            Endorsement.organisation_id == subject_of(scene),
        )
    )
    assert found is not None
    return found


async def accept_as(session: AsyncSession, who: Principal, scene: Scene) -> str:
    endorsement_id = await _endorsement_id(session, scene)
    found = await endorsement_commands.answer(session, who, endorsement_id, accept=True)
    return str(found.status)


async def decline_as(session: AsyncSession, who: Principal, scene: Scene) -> str:
    endorsement_id = await _endorsement_id(session, scene)
    found = await endorsement_commands.answer(session, who, endorsement_id, accept=False)
    return str(found.status)


async def revoke_as(session: AsyncSession, who: Principal, scene: Scene) -> str:
    endorsement_id = await _endorsement_id(session, scene)
    found = await endorsement_commands.withdraw_endorsement(session, who, endorsement_id)
    return str(found.status)


async def report_as(session: AsyncSession, who: Principal, scene: Scene) -> str:
    assert scene.target_id is not None
    draft = replace(REPORT, values=[ReportedValue(scene.target_id, Decimal(120))])
    return str((await progress_commands.report(session, who, pledge_of(scene), draft)).status)


async def verify_as(session: AsyncSession, who: Principal, scene: Scene) -> str:
    found = await progress_commands.review(
        session, who, subject_of(scene), verified=True, note="seen the list"
    )
    return str(found.status)


async def reject_as(session: AsyncSession, who: Principal, scene: Scene) -> str:
    found = await progress_commands.review(
        session, who, subject_of(scene), verified=False, note="no evidence"
    )
    return str(found.status)


async def add_organisation_as(session: AsyncSession, who: Principal, scene: Scene) -> str:
    return str((await organisation_commands.add(session, who, ORGANISATION)).membership_status)


async def correct_organisation_as(session: AsyncSession, who: Principal, scene: Scene) -> str:
    found = await organisation_commands.correct(session, who, subject_of(scene), ORGANISATION)
    return str(found.membership_status)


async def approve_organisation_as(session: AsyncSession, who: Principal, scene: Scene) -> str:
    found = await organisation_commands.approve(session, who, subject_of(scene))
    return str(found.membership_status)


COMMANDS: dict[tuple[Entity, Action], Command] = {
    (Entity.PLEDGE, Action.CREATE): create_pledge_as,
    (Entity.PLEDGE, Action.EDIT): edit_pledge_as,
    (Entity.PLEDGE, Action.SUBMIT): move_pledge(pledge_commands.submit),
    (Entity.PLEDGE, Action.RETURN): return_pledge_as,
    (Entity.PLEDGE, Action.PUBLISH): move_pledge(pledge_commands.publish),
    (Entity.PLEDGE, Action.WITHDRAW): move_pledge(pledge_commands.withdraw),
    (Entity.PLEDGE, Action.FULFIL): move_pledge(pledge_commands.fulfil),
    (Entity.ENDORSEMENT, Action.INVITE): invite_as,
    (Entity.ENDORSEMENT, Action.ACCEPT): accept_as,
    (Entity.ENDORSEMENT, Action.DECLINE): decline_as,
    (Entity.ENDORSEMENT, Action.REVOKE): revoke_as,
    (Entity.ENDORSEMENT, Action.RESET): reset_as,
    (Entity.REPORT, Action.REPORT): report_as,
    (Entity.REPORT, Action.VERIFY): verify_as,
    (Entity.REPORT, Action.REJECT): reject_as,
    (Entity.ORGANISATION, Action.CREATE): add_organisation_as,
    (Entity.ORGANISATION, Action.EDIT): correct_organisation_as,
    (Entity.ORGANISATION, Action.APPROVE): approve_organisation_as,
}


# ---------------------------------------------------------------------------------------------
# The walk


def coverage_gaps() -> list[str]:
    """Whatever the walk would miss: actions without rows or commands, statuses without a
    set-up, rows naming statuses their entity does not have."""
    gaps = [
        f"{action} has no row in TRANSITIONS"
        for action in Action
        if not any(row.action is action for row in TRANSITIONS)
    ]
    for entity in Entity:
        if entity not in STATUSES:
            gaps.append(f"{entity} has no status enum here")
            continue
        known = {str(status) for status in STATUSES[entity]}
        for row in TRANSITIONS:
            if (
                row.entity is entity
                and not {str(row.target), str(row.source or row.target)} <= known
            ):
                gaps.append(f"{row} names a status {entity} does not have")
        for action in Action:
            if rows_for(entity, action) and (entity, action) not in COMMANDS:
                gaps.append(f"no command walks {entity} {action}")
        for status in walked_statuses(entity):
            if actions_from(entity, status) and not contexts(entity, status):
                gaps.append(f"no set-up puts a {entity} in status {status}")
    gaps += [f"{key} has a command but no row" for key in COMMANDS if not rows_for(*key)]
    gaps += [
        f"PLEDGE_OPEN_FOR names {action}, which no row has"
        for action in PLEDGE_OPEN_FOR
        if not any(row.action is action for row in TRANSITIONS)
    ]
    return gaps


@dataclass(frozen=True, slots=True)
class Case:
    entity: Entity
    status: str
    context: Context
    action: Action


def cases() -> Iterator[Case]:
    for entity in Entity:
        for status in walked_statuses(entity):
            for context in contexts(entity, status):
                for action in actions_from(entity, status):
                    yield Case(entity, status, context, action)


def test_the_walk_covers_the_whole_table() -> None:
    assert coverage_gaps() == []
    walked = {(case.entity, case.status, case.action) for case in cases()}
    for row in TRANSITIONS:
        assert (row.entity, str(row.source or NEW), row.action) in walked, row


async def attempt(
    session: AsyncSession, case: Case, who: Principal, scene: Scene
) -> tuple[Outcome, str | None]:
    try:
        returned = await COMMANDS[case.entity, case.action](session, who, scene)
    except HubError as error:
        return (type(error).__name__, error.code), None
    return ok(returned or ""), returned


async def test_every_status_action_and_principal_does_what_the_table_says(
    session: AsyncSession,
) -> None:
    assert coverage_gaps() == []
    members = Members(
        lead=(await add_member(session, "Nepal Telecom")).id,
        invitee=(await add_member(session, "Bhutan Telecom")).id,
        reporter=(await add_member(session, "Ncell")).id,
        stranger=(await add_member(session, "Airtel Africa")).id,
    )
    await session.commit()

    walked: set[tuple[Entity, str, Action, str]] = set()
    mismatches: list[str] = []
    grouped: dict[tuple[Entity, str, Context], list[Case]] = {}
    for case in cases():
        grouped.setdefault((case.entity, case.status, case.context), []).append(case)
    count = 0
    for (entity, status, context), group in grouped.items():
        setup = await session.begin_nested()
        scene = await make_scene(session, members, entity, status, context)
        assert await observe(session, entity, scene) == status, (entity, status, context)
        session.expunge_all()
        for case in group:
            needed = needed_scopes(entity, case.action)
            for name, who in principals(scene, needed):
                count += 1
                walked.add((entity, status, case.action, name))
                expected = expect(entity, case.action, status, who, scene)
                step = await session.begin_nested()
                try:
                    actual, returned = await attempt(session, case, who, scene)
                    await session.flush()
                    after = await observe(session, entity, scene)
                except Exception as error:  # a crash is a finding too; keep walking
                    actual, returned, after = ("crash", repr(error)), None, "?"
                await step.rollback()
                session.expunge_all()
                if expected[0] == OK:
                    expected_after = expected[1]
                    good = actual[0] == OK and returned in (None, expected_after)
                else:
                    expected_after, good = status, actual == expected
                if not good or after != expected_after:
                    mismatches.append(
                        f"{entity} {status} ({context.label}) {case.action} by {name}: "
                        f"expected {expected} leaving {expected_after}, "
                        f"got {actual} leaving {after}"
                    )
        await setup.rollback()
        session.expunge_all()

    triples = {(case.entity, case.status, case.action) for case in cases()}
    assert len(walked) == 8 * len(triples)  # every principal on every (entity, status, action)
    assert not mismatches, f"{len(mismatches)} of {count} cases differ:\n" + "\n".join(mismatches)
