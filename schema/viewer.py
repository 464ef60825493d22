"""``viewer``: who the caller is, and what awaits its member."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from hub.auth.scopes import ClientKind
from hub.inbox import pending_invitations, reports_due, returned_pledges
from hub.pagination import window
from schema.context import Info
from schema.organisations import Endorsement, Organisation
from schema.pagination import After, Before, First, Last, build_connection, slice_of
from schema.pledges import Pledge, PledgeConnection

strawberry.enum(ClientKind, description="Whom an OAuth client acts for.")
for _value in ClientKind.__strawberry_definition__.values:  # type: ignore[attr-defined]
    _value.description = ClientKind[_value.name].__doc__ or _value.name


@strawberry.type(description="A page of endorsements.")
class EndorsementConnection(relay.Connection[Endorsement]):
    total_count: int = strawberry.field(description="How many there are, on all pages.")


@strawberry.type(description="The caller, as its token says, and what awaits its member.")
class Viewer:
    kind: ClientKind = strawberry.field(description="Whom the client acts for.")
    client_id: str = strawberry.field(description="The OAuth client id the token was issued to.")
    scopes: list[str] = strawberry.field(description="The scopes the token holds, sorted.")
    member_id: strawberry.Private[int | None]

    async def _ids(
        self, info: Info, fetch: Callable[[AsyncSession, int], Awaitable[list[int]]]
    ) -> list[int]:
        """Ids of what awaits the member, in order; none for a client without a member."""
        if self.member_id is None:
            return []
        async with info.context.session_factory() as session:
            return await fetch(session, self.member_id)

    @strawberry.field(description="The member the client acts for; null for the secretariat.")
    async def member(self, info: Info) -> Organisation | None:
        if self.member_id is None:
            return None
        return await Organisation.load(info, self.member_id)

    @strawberry.field(
        description="Invitations to the member not answered yet, on pledges still open, "
        "oldest first."
    )
    async def pending_invitations(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> EndorsementConnection:
        kind = "viewer-invitations"
        request = slice_of(kind, first, after, last, before)
        ids = await self._ids(info, pending_invitations)
        span = window(request, len(ids))
        views = await info.context.loaders.endorsement.load_many(ids[span.start : span.end])
        return build_connection(
            EndorsementConnection,
            [view for view in views if view is not None],
            span,
            kind=kind,
            to_node=Endorsement.from_view,
        )

    @strawberry.field(
        description="Published pledges the member reports on (an accepted LEAD, CO_LEAD or "
        "IMPLEMENTER role) whose report is DUE or OVERDUE (see Pledge.reportingStatus), the "
        "longest waiting first."
    )
    async def reports_due(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> PledgeConnection:
        kind = "viewer-reports-due"
        request = slice_of(kind, first, after, last, before)

        async def due(session: AsyncSession, member_id: int) -> list[int]:
            return await reports_due(session, member_id, info.context.today)

        ids = await self._ids(info, due)
        return await Pledge.connection_of(info, PledgeConnection, ids, request, kind)

    @strawberry.field(
        description="The member's drafts the secretariat returned for changes (see "
        "Pledge.returnNote), latest first."
    )
    async def returned_pledges(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> PledgeConnection:
        kind = "viewer-returned"
        request = slice_of(kind, first, after, last, before)
        ids = await self._ids(info, returned_pledges)
        return await Pledge.connection_of(info, PledgeConnection, ids, request, kind)


@strawberry.type
class ViewerQueries:
    @strawberry.field(
        description="Who the caller is, from its token, and what awaits its member; null "
        "without a token."
    )
    def viewer(self, info: Info) -> Viewer | None:
        principal = info.context.principal
        if principal.kind is None or principal.client_id is None:
            return None
        return Viewer(
            kind=principal.kind,
            client_id=principal.client_id,
            scopes=sorted(scope.value for scope in principal.scopes),
            member_id=principal.member_id,
        )
