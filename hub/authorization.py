"""The one authorization check: may this principal take this action on this record now?

Two steps, so a caller without the right token learns it before anything is read:
``require_scope`` (before loading: no token, or no scope that allows the action) and
``authorize`` (after loading: the caller's relation to the record and the record's status,
looked up in ``hub.lifecycle.TRANSITIONS``). ``step`` checks the status alone, for the
hub's own writes (demo data, connectors' records, the console).
"""

from __future__ import annotations

from collections.abc import Iterable

from hub.auth.principal import Principal
from hub.auth.scopes import ClientKind, Scope
from hub.errors import Conflict, Forbidden, Unauthenticated
from hub.lifecycle import Action, Actor, Entity, Transition, scopes_for, transitions_for

WHO = {
    Actor.MEMBER: "a coalition member",
    Actor.LEAD: "the pledge's lead member",
    Actor.INVITEE: "the invited organisation",
    Actor.REPORTER: "a lead, co-lead or implementer that accepted its role",
    Actor.SECRETARIAT: "the secretariat",
}

DONE = {
    Action.CREATE: "created",
    Action.EDIT: "edited",
    Action.SUBMIT: "submitted",
    Action.RETURN: "returned for changes",
    Action.PUBLISH: "published",
    Action.WITHDRAW: "withdrawn",
    Action.FULFIL: "marked fulfilled",
    Action.INVITE: "invited",
    Action.ACCEPT: "accepted",
    Action.DECLINE: "declined",
    Action.REVOKE: "revoked",
    Action.RESET: "reset",
    Action.REPORT: "reported",
    Action.VERIFY: "verified",
    Action.REJECT: "rejected",
    Action.APPROVE: "approved",
}


def require_scope(principal: Principal, entity: Entity, action: Action) -> None:
    """Refuse an anonymous caller, or one whose token holds no scope allowing ``action``."""
    require_any_scope(principal, scopes_for(entity, action))


def require_any_scope(principal: Principal, needed: frozenset[Scope]) -> None:
    """Refuse an anonymous caller, or one whose token holds none of ``needed``: for what is
    not an action on a record (reading the audit trail)."""
    if principal.anonymous:
        raise Unauthenticated(
            "this needs an access token: see the README's 'For partners' section", bearer=False
        )
    if not holds_any_scope(principal, needed):
        names = " or ".join(sorted(scope.value for scope in needed))
        raise Forbidden(
            f"this client's token lacks the scope {names}",
            code="MISSING_SCOPE",
            field=("scope",),
        )


def holds_any_scope(principal: Principal, needed: frozenset[Scope]) -> bool:
    """Whether the principal's token holds one of ``needed`` (for what is hidden, not refused,
    from other callers: an audit event asked for by its global id)."""
    return bool(principal.scopes & needed)


def actors(
    principal: Principal,
    *,
    lead_member_id: int | None = None,
    invitee_id: int | None = None,
    reporter: bool = False,
) -> frozenset[Actor]:
    """What the principal is to a record: ``reporter`` is whether its member accepted a
    reporting role in the pledge (the caller looks that up)."""
    found: set[Actor] = set()
    if principal.kind is ClientKind.SECRETARIAT:
        found.add(Actor.SECRETARIAT)
    member = principal.member_id
    if member is not None:
        found.add(Actor.MEMBER)
        if member == lead_member_id:
            found.add(Actor.LEAD)
        if member == invitee_id:
            found.add(Actor.INVITEE)
        if reporter:
            found.add(Actor.REPORTER)
    return frozenset(found)


def authorize(
    principal: Principal,
    entity: Entity,
    action: Action,
    source: str | None,
    held: Iterable[Actor],
) -> Transition:
    """The transition the principal may take from ``source``; ``Forbidden`` when it holds no
    role that may ever do this, ``Conflict`` when the record's status does not allow it."""
    held = frozenset(held)
    rows = transitions_for(entity, action)
    permitted = [row for row in rows if row.actor in held and row.scope in principal.scopes]
    if not permitted:
        who = " or ".join(dict.fromkeys(WHO[row.actor] for row in rows))
        raise Forbidden(
            f"only {who} may have this {entity.lower()} {DONE[action]}",
            code="NOT_PERMITTED",
            field=("id",),
        )
    for row in permitted:
        if row.source == source:
            return row
    if any(row.source == source for row in rows):
        who = " or ".join(dict.fromkeys(WHO[row.actor] for row in rows if row.source == source))
        raise Forbidden(
            f"a {source} {entity.lower()} may be {DONE[action]} only by {who}",
            code="NOT_PERMITTED",
            field=("id",),
        )
    raise _refused(entity, action, source)


def step(entity: Entity, action: Action, source: str | None) -> Transition:
    """The transition from ``source``, whoever asks: the table's status rule alone."""
    for row in transitions_for(entity, action):
        if row.source == source:
            return row
    raise _refused(entity, action, source)


def _refused(entity: Entity, action: Action, source: str | None) -> Conflict:
    state = source or "new"
    return Conflict(
        f"a {state} {entity.lower()} cannot be {DONE[action]}",
        code="INVALID_TRANSITION",
        field=("id",),
    )
