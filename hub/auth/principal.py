"""Who a request acts for, built once per request from its token (or its absence)."""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.auth.scopes import ClientKind, Scope
from hub.visibility import PUBLIC, Viewer


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: anonymous (no ``kind``), or a client of one kind, acting for a member
    when it is a partner or a connector."""

    kind: ClientKind | None = None
    client_id: str | None = None
    member_id: int | None = None
    scopes: frozenset[Scope] = field(default_factory=frozenset)
    issuer: str | None = None
    token_id: str | None = None
    expires: float | None = None
    """When the token expires (``exp``, seconds since the epoch): a subscription ends then."""

    @property
    def anonymous(self) -> bool:
        return self.kind is None

    @property
    def viewer(self) -> Viewer:
        """What this principal may see of the pledge graph: the one visibility rule's input."""
        if self.kind in (ClientKind.SECRETARIAT, ClientKind.AUDITOR):
            return Viewer(sees_all=True)
        if self.member_id is not None:
            return Viewer(member_id=self.member_id)
        return PUBLIC


ANONYMOUS = Principal()

CONSOLE = Principal(
    kind=ClientKind.SECRETARIAT,
    client_id="console",
    scopes=frozenset({Scope.MEMBERS_ADMIN}),
)
"""The secretariat at the console (``p2c-hub members``): administers members, nothing else."""
