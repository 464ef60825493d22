"""Client kinds and the scopes each may hold: the hub's authorization vocabulary.

A scope names a family of operations; a client kind says whom a client acts for and caps
the scopes it can ever be given, so a misconfigured client cannot exceed its kind.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from hub.errors import InvalidInput


class Scope(enum.StrEnum):
    """What a token allows, beyond reading the public graph."""

    PLEDGES_WRITE = "pledges:write"
    ENDORSEMENTS_WRITE = "endorsements:write"
    PROGRESS_WRITE = "progress:write"
    PLEDGES_PUBLISH = "pledges:publish"
    PROGRESS_VERIFY = "progress:verify"
    MEMBERS_ADMIN = "members:admin"
    AUDIT_READ = "audit:read"
    CONNECTORS_ADMIN = "connectors:admin"


class ClientKind(enum.StrEnum):
    """Whom a client acts for."""

    PARTNER = "PARTNER"
    """A partner organisation's system, acting for one member."""
    SECRETARIAT = "SECRETARIAT"
    """The coalition's secretariat: publishes, verifies and administers."""
    AUDITOR = "AUDITOR"
    """An auditor: reads the audit trail, changes nothing."""
    CONNECTOR = "CONNECTOR"
    """A sync job, acting for the member whose data it brings in."""


MEMBER_WRITES = frozenset({Scope.PLEDGES_WRITE, Scope.ENDORSEMENTS_WRITE, Scope.PROGRESS_WRITE})

KIND_SCOPES: dict[ClientKind, frozenset[Scope]] = {
    ClientKind.PARTNER: MEMBER_WRITES,
    ClientKind.CONNECTOR: MEMBER_WRITES | {Scope.PLEDGES_PUBLISH},
    ClientKind.SECRETARIAT: frozenset(
        {
            Scope.PLEDGES_PUBLISH,
            Scope.PROGRESS_VERIFY,
            Scope.MEMBERS_ADMIN,
            Scope.CONNECTORS_ADMIN,
            Scope.AUDIT_READ,
        }
    ),
    ClientKind.AUDITOR: frozenset({Scope.AUDIT_READ}),
}
"""The scopes each kind of client may hold; a client is never given others."""

MEMBER_KINDS = frozenset({ClientKind.PARTNER, ClientKind.CONNECTOR})
"""Kinds that act for one member, and must name it."""


def split_scopes(text: str) -> list[str]:
    """Scope names from a space- or comma-separated string, as written by people and IdPs."""
    return [part for part in text.replace(",", " ").split() if part]


def parse_scopes(
    names: Iterable[str], kind: ClientKind, *, field: str = "scopes"
) -> frozenset[Scope]:
    """The scopes named, refused if one is unknown or beyond what ``kind`` may hold."""
    chosen: set[Scope] = set()
    for name in names:
        try:
            scope = Scope(name)
        except ValueError:
            known = ", ".join(s.value for s in Scope)
            raise InvalidInput(
                f"unknown scope {name!r}; the scopes are {known}", field=[field]
            ) from None
        if scope not in KIND_SCOPES[kind]:
            allowed = ", ".join(sorted(s.value for s in KIND_SCOPES[kind]))
            raise InvalidInput(
                f"a {kind.value} client may not hold {scope.value}; it may hold {allowed}",
                code="SCOPE_NOT_ALLOWED",
                field=[field],
            )
        chosen.add(scope)
    if not chosen:
        raise InvalidInput("give at least one scope", field=[field])
    return frozenset(chosen)


def scope_string(scopes: Iterable[Scope]) -> str:
    """The space-separated form OAuth uses, in a stable order."""
    return " ".join(sorted(scope.value for scope in scopes))
