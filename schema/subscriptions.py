"""Subscriptions over graphql-transport-ws: new published pledges and progress reports for
everyone, and a member's endorsements for its own token.

Each event is loaded afresh as the subscriber may see it (the one visibility rule); ``since``
first delivers what the subscriber missed (see ``hub.live.follow``).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated, TypeVar

import strawberry
from strawberry import relay

from hub.errors import Forbidden, Unauthenticated
from hub.live.announcements import Topic
from hub.live.feeds import Interest
from hub.live.follow import MAX_AGE, follow
from schema.context import Info
from schema.organisations import Endorsement
from schema.pagination import key_of
from schema.pledges import Pledge
from schema.progress import ProgressReport

N = TypeVar("N", Pledge, ProgressReport, Endorsement)

Since = Annotated[
    datetime | None,
    strawberry.argument(
        description="First deliver what happened at or after this moment (at most "
        f"{MAX_AGE.days} days ago), then what happens next: pass the time of the last event "
        "received to catch up after a reconnect. Events at that very moment may come again."
    ),
]

PledgeId = Annotated[
    relay.GlobalID | None,
    strawberry.argument(description="Only events of this pledge."),
]


async def _events(
    info: Info, interest: Interest, since: datetime | None, node: type[N]
) -> AsyncGenerator[N, None]:
    context = info.context
    if context.live is None:
        raise RuntimeError("a subscription ran outside a serving hub")
    async for batch in follow(context.live, interest, context.caller, since):
        context.refresh()
        for found in await node.load_nodes(info, [str(subject_id) for subject_id in batch]):
            if found is not None:
                yield found


def _pledge_key(pledge_id: relay.GlobalID | None) -> int | None:
    return None if pledge_id is None else key_of(pledge_id, "Pledge", ("pledgeId",))


@strawberry.type(description="Live events, over the graphql-transport-ws protocol at /graphql.")
class Subscription:
    @strawberry.subscription(
        description="Each pledge as it is published (and, with since, those published since)."
    )
    async def pledge_published(
        self, info: Info, since: Since = None
    ) -> AsyncGenerator[Pledge, None]:
        interest = Interest(Topic.PLEDGE_PUBLISHED, info.context.viewer)
        async for pledge in _events(info, interest, since, Pledge):
            yield pledge

    @strawberry.subscription(
        description="Each progress report as it is submitted on a published pledge, as the "
        "caller may see it (a member also gets its own reports and those on its pledges)."
    )
    async def progress_reported(
        self, info: Info, pledge_id: PledgeId = None, since: Since = None
    ) -> AsyncGenerator[ProgressReport, None]:
        interest = Interest(
            Topic.PROGRESS_REPORTED, info.context.viewer, pledge_id=_pledge_key(pledge_id)
        )
        async for report in _events(info, interest, since, ProgressReport):
            yield report

    @strawberry.subscription(
        description="Each change to the endorsements of the caller's member and to those of "
        "the pledges it leads: an invitation sent or answered, an endorsement revoked, or put "
        "back to INVITED by a material edit. Needs a partner's or a connector's token in "
        "connection_init."
    )
    async def endorsement_changed(
        self, info: Info, pledge_id: PledgeId = None, since: Since = None
    ) -> AsyncGenerator[Endorsement, None]:
        principal = info.context.principal
        if principal.anonymous:
            raise Unauthenticated(
                "endorsementChanged follows a member's endorsements: send a partner's or a "
                "connector's token in connection_init as "
                '{"authorization": "Bearer TOKEN"}',
                bearer=False,
            )
        if principal.member_id is None:
            raise Forbidden(
                "endorsementChanged follows a member's endorsements, and this token acts for "
                "no member",
                code="NOT_PERMITTED",
            )
        interest = Interest(
            Topic.ENDORSEMENT_CHANGED,
            info.context.viewer,
            member_id=principal.member_id,
            pledge_id=_pledge_key(pledge_id),
        )
        async for endorsement in _events(info, interest, since, Endorsement):
            yield endorsement
