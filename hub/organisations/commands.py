"""What the secretariat does to organisations: record them, correct them, admit members."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.ledger import record, snapshot
from hub.auth.principal import Principal
from hub.authorization import actors, authorize, require_scope
from hub.lifecycle import Action, Entity
from hub.organisations.models import Organisation
from hub.organisations.service import (
    OrganisationDraft,
    admit_member,
    check_organisation,
    create_organisation,
    get_organisation,
    update_organisation,
)


async def add(
    session: AsyncSession, principal: Principal, draft: OrganisationDraft
) -> Organisation:
    """Record an organisation (not yet a member)."""
    require_scope(principal, Entity.ORGANISATION, Action.CREATE)
    authorize(principal, Entity.ORGANISATION, Action.CREATE, None, actors(principal))
    check_organisation(draft)
    organisation = await create_organisation(
        session,
        name=draft.name,
        organisation_type=draft.organisation_type,
        headquarters_country=draft.headquarters_country,
        iati_identifier=draft.iati_identifier,
        website=draft.website,
    )
    await record(session, principal, "organisation.create", organisation)
    return organisation


async def correct(
    session: AsyncSession, principal: Principal, organisation_id: int, draft: OrganisationDraft
) -> Organisation:
    """Replace what is recorded about an organisation."""
    require_scope(principal, Entity.ORGANISATION, Action.EDIT)
    organisation = await get_organisation(session, organisation_id, field="id", lock=True)
    held = actors(principal)
    authorize(principal, Entity.ORGANISATION, Action.EDIT, organisation.membership_status, held)
    before = snapshot(organisation)
    corrected = await update_organisation(session, organisation, draft)
    await record(session, principal, "organisation.edit", corrected, before)
    return corrected


async def approve(
    session: AsyncSession, principal: Principal, organisation_id: int
) -> Organisation:
    """Admit an organisation as a coalition member."""
    require_scope(principal, Entity.ORGANISATION, Action.APPROVE)
    organisation = await get_organisation(session, organisation_id, field="id", lock=True)
    held = actors(principal)
    authorize(principal, Entity.ORGANISATION, Action.APPROVE, organisation.membership_status, held)
    before = snapshot(organisation)
    admitted = await admit_member(session, organisation.id)
    await record(session, principal, "organisation.approve", admitted, before)
    return admitted
