"""The lifecycle of pledges, endorsements, progress reports and memberships, kept as data.

``TRANSITIONS`` is the one table of what may happen: which action moves a record from which
status to which, done by which actor holding which scope. The commands check every caller's
action here (``hub.authorization.authorize``), the services every status move
(``hub.authorization.step``), and a test walks every (status, action, actor) against it.
Decisions the table records (docs/lifecycle.md says why):

- The lead edits its pledge while it is a DRAFT or PUBLISHED; a SUBMITTED pledge is under
  the secretariat's review and is not edited until it is published or returned; FULFILLED
  and WITHDRAWN pledges are final.
- A material edit (amount, currency, targets, countries, groups, dates) puts every ACCEPTED
  co-endorsement back to INVITED (``RESET``): no organisation stands behind terms it did not
  see. The lead's own LEAD endorsement stays.
- Only the secretariat publishes, returns for changes, and marks a pledge FULFILLED (a claim
  that the commitment was met is verified, not self-declared); the lead or the secretariat
  withdraws. The one exception: the lead's own connector, when the secretariat granted it
  ``pledges:publish`` (only a CONNECTOR client may hold it besides the secretariat),
  publishes the SMART-complete pledges it imports.
- An endorsement is answered only by the organisation it names; the lead withdraws an
  invitation, and either the lead or the endorser ends an accepted endorsement, while the
  pledge is open (``PLEDGE_OPEN_FOR``).
- Progress is reported on a PUBLISHED or FULFILLED pledge by an organisation that accepted
  the LEAD, CO_LEAD or IMPLEMENTER role in it; the secretariat verifies or rejects.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hub.auth.scopes import Scope
from hub.endorsements.models import EndorsementStatus, Role
from hub.organisations.models import MembershipStatus
from hub.pledges.models import PublicationStatus
from hub.progress.models import ReportStatus


class Entity(enum.StrEnum):
    """The kinds of record with a lifecycle."""

    PLEDGE = "PLEDGE"
    ENDORSEMENT = "ENDORSEMENT"
    REPORT = "REPORT"
    ORGANISATION = "ORGANISATION"


class Action(enum.StrEnum):
    """What a caller (or, for RESET, a material edit) does to a record."""

    CREATE = "CREATE"
    EDIT = "EDIT"
    SUBMIT = "SUBMIT"
    RETURN = "RETURN"
    PUBLISH = "PUBLISH"
    WITHDRAW = "WITHDRAW"
    FULFIL = "FULFIL"
    INVITE = "INVITE"
    ACCEPT = "ACCEPT"
    DECLINE = "DECLINE"
    REVOKE = "REVOKE"
    RESET = "RESET"
    REPORT = "REPORT"
    VERIFY = "VERIFY"
    REJECT = "REJECT"
    APPROVE = "APPROVE"


class Actor(enum.StrEnum):
    """Who the caller is to the record; one caller may be several."""

    MEMBER = "MEMBER"
    """Any member acting through its own partner or connector client."""
    LEAD = "LEAD"
    """The member that leads the pledge."""
    INVITEE = "INVITEE"
    """The organisation an endorsement names."""
    REPORTER = "REPORTER"
    """A member that accepted the LEAD, CO_LEAD or IMPLEMENTER role in the pledge."""
    SECRETARIAT = "SECRETARIAT"
    """The coalition's secretariat."""


REPORTING_ROLES = frozenset({Role.LEAD, Role.CO_LEAD, Role.IMPLEMENTER})


@dataclass(frozen=True, slots=True)
class Transition:
    """One allowed move: ``action`` by ``actor`` with ``scope`` takes ``source`` to ``target``
    (``source`` None: the record is made by the action)."""

    entity: Entity
    action: Action
    source: str | None
    target: str
    actor: Actor
    scope: Scope


P, E, R, ORG = Entity.PLEDGE, Entity.ENDORSEMENT, Entity.REPORT, Entity.ORGANISATION
PS, ES, RS, MS = PublicationStatus, EndorsementStatus, ReportStatus, MembershipStatus

TRANSITIONS: tuple[Transition, ...] = (
    Transition(P, Action.CREATE, None, PS.DRAFT, Actor.MEMBER, Scope.PLEDGES_WRITE),
    Transition(P, Action.EDIT, PS.DRAFT, PS.DRAFT, Actor.LEAD, Scope.PLEDGES_WRITE),
    Transition(P, Action.EDIT, PS.PUBLISHED, PS.PUBLISHED, Actor.LEAD, Scope.PLEDGES_WRITE),
    Transition(P, Action.SUBMIT, PS.DRAFT, PS.SUBMITTED, Actor.LEAD, Scope.PLEDGES_WRITE),
    Transition(P, Action.RETURN, PS.SUBMITTED, PS.DRAFT, Actor.SECRETARIAT, Scope.PLEDGES_PUBLISH),
    Transition(
        P, Action.PUBLISH, PS.SUBMITTED, PS.PUBLISHED, Actor.SECRETARIAT, Scope.PLEDGES_PUBLISH
    ),
    Transition(P, Action.PUBLISH, PS.SUBMITTED, PS.PUBLISHED, Actor.LEAD, Scope.PLEDGES_PUBLISH),
    *(
        Transition(P, Action.WITHDRAW, source, PS.WITHDRAWN, actor, scope)
        for source in (PS.DRAFT, PS.SUBMITTED, PS.PUBLISHED)
        for actor, scope in (
            (Actor.LEAD, Scope.PLEDGES_WRITE),
            (Actor.SECRETARIAT, Scope.PLEDGES_PUBLISH),
        )
    ),
    Transition(
        P, Action.FULFIL, PS.PUBLISHED, PS.FULFILLED, Actor.SECRETARIAT, Scope.PLEDGES_PUBLISH
    ),
    *(
        Transition(E, Action.INVITE, source, ES.INVITED, Actor.LEAD, Scope.ENDORSEMENTS_WRITE)
        for source in (None, ES.DECLINED, ES.REVOKED)
    ),
    Transition(E, Action.ACCEPT, ES.INVITED, ES.ACCEPTED, Actor.INVITEE, Scope.ENDORSEMENTS_WRITE),
    Transition(E, Action.DECLINE, ES.INVITED, ES.DECLINED, Actor.INVITEE, Scope.ENDORSEMENTS_WRITE),
    Transition(E, Action.REVOKE, ES.INVITED, ES.REVOKED, Actor.LEAD, Scope.ENDORSEMENTS_WRITE),
    Transition(E, Action.REVOKE, ES.ACCEPTED, ES.REVOKED, Actor.LEAD, Scope.ENDORSEMENTS_WRITE),
    Transition(E, Action.REVOKE, ES.ACCEPTED, ES.REVOKED, Actor.INVITEE, Scope.ENDORSEMENTS_WRITE),
    Transition(E, Action.RESET, ES.ACCEPTED, ES.INVITED, Actor.LEAD, Scope.PLEDGES_WRITE),
    Transition(R, Action.REPORT, None, RS.SUBMITTED, Actor.REPORTER, Scope.PROGRESS_WRITE),
    Transition(
        R, Action.VERIFY, RS.SUBMITTED, RS.VERIFIED, Actor.SECRETARIAT, Scope.PROGRESS_VERIFY
    ),
    Transition(
        R, Action.REJECT, RS.SUBMITTED, RS.REJECTED, Actor.SECRETARIAT, Scope.PROGRESS_VERIFY
    ),
    Transition(ORG, Action.CREATE, None, MS.NONE, Actor.SECRETARIAT, Scope.MEMBERS_ADMIN),
    *(
        Transition(ORG, Action.EDIT, source, source, Actor.SECRETARIAT, Scope.MEMBERS_ADMIN)
        for source in MS
    ),
    *(
        Transition(ORG, Action.APPROVE, source, MS.MEMBER, Actor.SECRETARIAT, Scope.MEMBERS_ADMIN)
        for source in (MS.NONE, MS.APPLIED, MS.SUSPENDED)
    ),
)
"""Every allowed move. Anything not listed is refused."""

OPEN = frozenset({PS.DRAFT, PS.SUBMITTED, PS.PUBLISHED})

PLEDGE_OPEN_FOR: dict[Action, frozenset[PublicationStatus]] = {
    Action.INVITE: OPEN,
    Action.ACCEPT: OPEN,
    Action.REVOKE: OPEN,
    Action.REPORT: frozenset({PS.PUBLISHED, PS.FULFILLED}),
}
"""The pledge statuses in which an endorsement or report action may happen at all: a
withdrawn or fulfilled pledge's endorsements are final (no one is invited, accepts or is
revoked; declining stays possible), and progress is reported on public pledges only."""


def transitions_for(entity: Entity, action: Action) -> tuple[Transition, ...]:
    """The rows of the table for one action on one kind of record."""
    return tuple(t for t in TRANSITIONS if t.entity is entity and t.action is action)


def scopes_for(entity: Entity, action: Action) -> frozenset[Scope]:
    """The scopes that allow ``action`` on ``entity`` for some actor in some status."""
    return frozenset(t.scope for t in transitions_for(entity, action))
