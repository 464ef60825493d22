"""A person's answer to what an import left for review (``ReviewEntry``), once, by the
secretariat (scope ``members:admin``), recorded in the audit ledger.

An item about an organisation the import could not place is answered with exactly one of:

- ``organisation_id``: the organisation it is. When the item's code is an IATI identifier
  that no organisation has, it becomes an alias of that organisation, so that imports find
  it by that identifier from now on; one that belongs to another organisation is refused.
- ``create``: it is a new organisation, of that constituency: a non-member with the item's
  identifier and name.

Its endorsement waited (the source record is ``pending``), so the next import run of the
record invites the organisation. Any other item (a country, a region, an indicator) is
answered with a ``note`` saying what was done; an organisation's may carry one too.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.ledger import actor, record, snapshot
from hub.auth.principal import Principal
from hub.auth.scopes import Scope
from hub.authorization import require_any_scope
from hub.errors import Conflict, InvalidInput, NotFound
from hub.imports.models import ReviewEntry, ReviewStatus
from hub.integrity import flush
from hub.organisations import commands as organisation_commands
from hub.organisations.matching import organisation_by_iati
from hub.organisations.models import Organisation, OrganisationAlias, OrganisationType
from hub.organisations.service import OrganisationDraft, get_organisation
from hub.pledges.rules import check_length
from hub.types import utcnow

ORGANISATION_TYPE = "ORGANISATION_TYPE"
"""An organisation the hub does not know, and no constituency fits what the source says."""
ORGANISATION_MATCH = "ORGANISATION_MATCH"
"""An organisation whose name is that of organisations the hub knows, which it may or may
not be (``hub.organisations.matching``)."""
ABOUT_ORGANISATIONS = frozenset({ORGANISATION_TYPE, ORGANISATION_MATCH})
"""The subjects resolved to an organisation; the code of such an item is the organisation's
IATI identifier, or its name when the source gave none."""

REVIEWERS = frozenset({Scope.MEMBERS_ADMIN})
"""Who resolves review items: the secretariat, which administers members."""

MAX_NOTE = 2000


def _identifier(entry: ReviewEntry) -> str | None:
    """The item's code when it is an IATI identifier (which has no spaces), else None."""
    code = entry.code.strip()
    if not code or len(code) > 200 or any(c.isspace() for c in code):
        return None
    return code


async def resolve_review(
    session: AsyncSession,
    principal: Principal,
    entry_id: int,
    *,
    organisation_id: int | None = None,
    create: OrganisationType | None = None,
    note: str | None = None,
) -> ReviewEntry:
    """Resolve an open review item as this module's docstring says, naming who did it."""
    require_any_scope(principal, REVIEWERS)
    entry = await session.get(ReviewEntry, entry_id, with_for_update=True, populate_existing=True)
    if entry is None:
        raise NotFound(f"review item {entry_id} does not exist", field=("id",))
    if entry.status is ReviewStatus.RESOLVED:
        raise Conflict(
            f"review item {entry_id} was resolved already ({entry.resolution})",
            code="ALREADY_RESOLVED",
            field=("id",),
        )
    said = (note or "").strip() or None
    check_length(said, MAX_NOTE, ("note",))
    before = snapshot(entry)
    parts: dict[str, object] = {}
    if entry.subject in ABOUT_ORGANISATIONS:
        organisation, done, alias = await _place(session, principal, entry, organisation_id, create)
        if alias is not None:
            parts["alias"] = {"before": None, "after": alias}
        entry.organisation_id = organisation.id
        resolution = f"{done}: {said}" if said else done
    else:
        if organisation_id is not None or create is not None:
            raise InvalidInput(
                f"a {entry.subject} item is not about an organisation: say what was done (note)",
                field=("organisation_id",) if organisation_id is not None else ("create",),
            )
        if said is None:
            raise InvalidInput(
                "say what was done about it (note)", code="REQUIRED", field=("note",)
            )
        resolution = said
    entry.status = ReviewStatus.RESOLVED
    entry.resolved_at = utcnow()
    entry.resolved_by = actor(session, principal)
    entry.resolution = resolution
    await flush(session)
    await record(session, principal, "review.resolve", entry, before, parts)
    return entry


async def _place(
    session: AsyncSession,
    principal: Principal,
    entry: ReviewEntry,
    organisation_id: int | None,
    create: OrganisationType | None,
) -> tuple[Organisation, str, str | None]:
    """The organisation an item is resolved to, what was done in words, and the identifier
    recorded as its alias, if one was."""
    if organisation_id is not None and create is not None:
        raise InvalidInput(
            "choose the organisation it is (organisationId) or create one (create), not both",
            field=("create",),
        )
    if organisation_id is None and create is None:
        raise InvalidInput(
            "choose the organisation it is (organisationId) or create one (create)",
            code="REQUIRED",
            field=("organisation_id",),
        )
    identifier = _identifier(entry)
    owner = await organisation_by_iati(session, identifier) if identifier is not None else None
    if create is not None:
        if owner is not None:
            raise _taken(identifier, owner, ("create",))
        draft = OrganisationDraft(
            name=(entry.names.strip() or entry.code)[:300],
            organisation_type=create,
            iati_identifier=identifier,
        )
        created = await organisation_commands.add(session, principal, draft)
        return created, f"created {created.name} (organisation {created.id}) as {create}", None
    assert organisation_id is not None
    chosen = await get_organisation(session, organisation_id, field="organisation_id")
    if owner is not None and owner.id != chosen.id:
        raise _taken(identifier, owner, ("organisation_id",))
    if identifier is None or owner is not None:
        return chosen, f"it is {chosen.name} (organisation {chosen.id})", None
    session.add(OrganisationAlias(identifier=identifier, organisation_id=chosen.id))
    await flush(session)
    done = f"it is {chosen.name} (organisation {chosen.id}); {identifier} recorded as its alias"
    return chosen, done, identifier


def _taken(identifier: str | None, owner: Organisation, field: tuple[str, ...]) -> Conflict:
    return Conflict(
        f"{identifier} is already the identifier of {owner.name} (organisation {owner.id})",
        code="IDENTIFIER_OF_ANOTHER",
        field=field,
    )
