"""Resolving what imports left for review, for the secretariat (scope members:admin): the
organisation an import could not place is chosen or created, anything else is answered with
a note. The rules are ``hub.imports.review``'s."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from hub.auth.principal import Principal
from hub.authorization import require_any_scope
from hub.errors import HubError
from hub.imports.models import ReviewEntry
from hub.imports.review import MAX_NOTE, REVIEWERS, resolve_review
from schema.context import Info
from schema.enums import OrganisationType
from schema.imports import ReviewItem
from schema.mutations.errors import ReviewUserError, user_errors
from schema.pagination import key_of
from schema.writes import in_savepoint


@strawberry.input(
    description="A person's answer to a review item. An ORGANISATION_MATCH or "
    "ORGANISATION_TYPE item takes exactly one of `organisationId` and `create`; any other "
    "item takes a `note`."
)
class ResolveReviewItemInput:
    id: relay.GlobalID = strawberry.field(description="The review item's id.")
    organisation_id: relay.GlobalID | None = strawberry.field(
        default=None,
        description="The organisation it is (an Organisation's id). The item's IATI identifier, "
        "when no organisation has it, becomes that organisation's alias: imports find it by "
        "that identifier from now on.",
    )
    create: OrganisationType | None = strawberry.field(
        default=None,
        description="It is an organisation the hub does not know: create it, not a member, in "
        "this constituency, with the item's identifier and name.",
    )
    note: str | None = strawberry.field(
        default=None,
        description=f"What was done, in words (at most {MAX_NOTE} characters): required for "
        "an item not about an organisation.",
    )


@strawberry.type(description="The review item a mutation resolved, or why it resolved nothing.")
class ResolveReviewItemPayload:
    review_item: ReviewItem | None = strawberry.field(
        description="The item as it is now; null on error."
    )
    user_errors: list[ReviewUserError] = strawberry.field(
        description="Why nothing was written; empty on success."
    )


def _payload(done: ReviewEntry | HubError) -> ResolveReviewItemPayload:
    if isinstance(done, HubError):
        errors = user_errors(done, ReviewUserError, ("input",))
        return ResolveReviewItemPayload(review_item=None, user_errors=errors)
    return ResolveReviewItemPayload(review_item=ReviewItem.from_model(done), user_errors=[])


@strawberry.type
class ReviewMutations:
    @strawberry.mutation(
        description="Resolve a review item, once (scope members:admin): name the organisation "
        "an import could not place, or create it; the next import run of its record invites "
        "it. ALREADY_RESOLVED for an item resolved before; IDENTIFIER_OF_ANOTHER when its "
        "identifier is another organisation's."
    )
    async def resolve_review_item(
        self,
        info: Info,
        input: Annotated[
            ResolveReviewItemInput, strawberry.argument(description="The item and the answer.")
        ],
    ) -> ResolveReviewItemPayload | None:
        require_any_scope(info.context.principal, REVIEWERS)
        try:
            entry_id = key_of(input.id, "ReviewItem", ("id",))
            organisation_id = (
                key_of(input.organisation_id, "Organisation", ("organisation_id",))
                if input.organisation_id is not None
                else None
            )
        except HubError as refused:
            return _payload(refused)

        async def work(session: AsyncSession, principal: Principal) -> ReviewEntry:
            return await resolve_review(
                session,
                principal,
                entry_id,
                organisation_id=organisation_id,
                create=input.create,
                note=input.note,
            )

        return _payload(await in_savepoint(info, work))
