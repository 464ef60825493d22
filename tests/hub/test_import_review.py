"""Resolving review items in the hub (``hub.imports.review``): an unknown organisation
created, an identifier that is another's refused, other items answered with a note."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.audit.ledger import Trail, trail
from hub.auth.principal import CONSOLE, Principal
from hub.auth.scopes import ClientKind, Scope
from hub.errors import Conflict, Forbidden, InvalidInput
from hub.imports.models import ReviewStatus
from hub.imports.review import ORGANISATION_MATCH, ORGANISATION_TYPE, resolve_review
from hub.organisations.matching import organisation_by_iati
from hub.organisations.models import MembershipStatus, OrganisationType
from tests.fixtures.factories import add_member, add_review_item

OPERATOR = Principal(
    kind=ClientKind.SECRETARIAT, client_id="ops", scopes=frozenset({Scope.CONNECTORS_ADMIN})
)


async def test_an_unknown_organisation_is_created_as_a_non_member(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        trail(session, Trail(operator="ana"))
        member = await add_member(session)
        entry = await add_review_item(session, member.id, "gf", subject=ORGANISATION_TYPE,
                                      code="XM-DAC-7", names="Smart Africa")  # fmt: skip
        with pytest.raises(Forbidden):
            await resolve_review(session, OPERATOR, entry.id, create=OrganisationType.ACADEMIA)
        resolved = await resolve_review(
            session, CONSOLE, entry.id, create=OrganisationType.ACADEMIA, note="A university"
        )
        created = await organisation_by_iati(session, "XM-DAC-7")
        assert created is not None
        assert (created.name, created.organisation_type, created.membership_status) == (
            "Smart Africa", OrganisationType.ACADEMIA, MembershipStatus.NONE
        )  # fmt: skip
        assert (resolved.status, resolved.organisation_id) == (ReviewStatus.RESOLVED, created.id)
        assert resolved.resolved_by == "SECRETARIAT console by operator ana"
        assert resolved.resolution is not None
        assert resolved.resolution.endswith(": A university")


async def test_an_identifier_that_is_another_organisations_is_refused(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        member = await add_member(session, iati_identifier="XM-DAC-7")
        other = await add_member(session, "Beta Foundation")
        entry = await add_review_item(session, member.id, "gf", subject=ORGANISATION_MATCH,
                                      code="XM-DAC-7", names="Alpha")  # fmt: skip
        with pytest.raises(Conflict) as chosen:
            await resolve_review(session, CONSOLE, entry.id, organisation_id=other.id)
        assert (chosen.value.code, chosen.value.field) == ("IDENTIFIER_OF_ANOTHER",
                                                          ("organisation_id",))  # fmt: skip
        with pytest.raises(Conflict) as created:
            await resolve_review(session, CONSOLE, entry.id, create=OrganisationType.MEDIA)
        assert created.value.field == ("create",)
        resolved = await resolve_review(session, CONSOLE, entry.id, organisation_id=member.id)
        assert resolved.organisation_id == member.id  # its own identifier: no alias needed


async def test_an_item_not_about_an_organisation_takes_a_note(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        member = await add_member(session)
        entry = await add_review_item(session, member.id, "gf")
        with pytest.raises(InvalidInput) as silent:
            await resolve_review(session, CONSOLE, entry.id, note="  ")
        assert (silent.value.code, silent.value.field) == ("REQUIRED", ("note",))
        with pytest.raises(InvalidInput) as placed:
            await resolve_review(session, CONSOLE, entry.id, organisation_id=member.id)
        assert placed.value.field == ("organisation_id",)
        resolved = await resolve_review(session, CONSOLE, entry.id, note="Mapped to Africa.")
        assert (resolved.resolution, resolved.organisation_id) == ("Mapped to Africa.", None)
        with pytest.raises(Conflict) as twice:
            await resolve_review(session, CONSOLE, entry.id, note="Again.")
        assert twice.value.code == "ALREADY_RESOLVED"
