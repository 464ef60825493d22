"""Organisations an import names, matched by identifier and then by normalised name: one test
per row of ``hub.organisations.matching``'s table, and the names it compares."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.organisations.matching import match_organisation, normalise_name
from hub.organisations.models import Organisation, OrganisationAlias, OrganisationType
from hub.organisations.service import OrganisationDraft, create_organisation, update_organisation

GOVERNMENT = OrganisationType.GOVERNMENT


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ("DEPARTMENT FOR INTERNATIONAL DEVELOPMENT", "department for international development"),
        ("Department for International Development (DFID)", "department for international "
         "development dfid"),
        ("Bond", "bond"),
        ("BOND", "bond"),
        ("Société Générale S.A.", "societe generale"),
        ("Médecins Sans Frontières", "medecins sans frontieres"),
        ("AT&T Inc.", "at and t"),
        ("Johnson & Johnson", "johnson and johnson"),
        ("The Global Fund to Fight AIDS, Tuberculosis and Malaria",
         "global fund to fight aids tuberculosis and malaria"),
        ("Vodafone Group Plc", "vodafone group"),
        ("Siemens AG", "siemens"),
        ("Deutsche Gesellschaft für Internationale Zusammenarbeit (GIZ) GmbH",
         "deutsche gesellschaft fur internationale zusammenarbeit giz"),
        ("Save the Children's Fund", "save childrens fund"),
        ("  Smart   Africa\tAlliance ", "smart africa alliance"),
        ("\uff29\uff34\uff35", "itu"),  # full-width letters, as some sources write them
        ("Straße Ltd", "strasse"),
        ("The Company", "the company"),  # nothing but legal forms: they stay
    ],
)  # fmt: skip
def test_names_are_compared_without_case_accents_punctuation_or_legal_forms(
    name: str, normalised: str
) -> None:
    assert normalise_name(name) == normalised


def test_a_bracketed_acronym_tells_names_apart() -> None:
    assert normalise_name("Department for International Development (DFID)") != normalise_name(
        "DEPARTMENT FOR INTERNATIONAL DEVELOPMENT"
    )


async def organisation(
    session: AsyncSession, name: str, identifier: str | None = None
) -> Organisation:
    return await create_organisation(
        session, name=name, organisation_type=GOVERNMENT, iati_identifier=identifier
    )


async def test_each_row_of_the_matching_table(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        dfid = await organisation(session, "Department for International Development", "GB-1")
        bond = await organisation(session, "Bond")
        twins = [await organisation(session, "Smart Africa"), await organisation(session, "SMART "
                 "AFRICA LTD")]  # fmt: skip
        session.add(OrganisationAlias(identifier="GB-GOV-1", organisation_id=dfid.id))
        await session.flush()

        # the identifier, its own or an alias: that organisation, whatever the name says
        for identifier in ("GB-1", "GB-GOV-1"):
            found = await match_organisation(session, identifier, "Another name")
            assert (found.organisation, found.certain, found.candidates) == (dfid, True, ())
        # one organisation of the name, without an identifier: that one; the import's
        # identifier is not written onto it
        found = await match_organisation(session, "XM-BOND", "BOND")
        assert (found.organisation, found.certain) == (bond, True)
        assert bond.iati_identifier is None
        # one of the name with another identifier: unsure, it is the candidate
        found = await match_organisation(session, "GB-COH-2", "Department for International "
                                         "Development Ltd")  # fmt: skip
        assert (found.organisation, found.certain, found.candidates) == (None, False, (dfid.id,))
        assert "GB-1" in found.reason
        # ...unless the import gives no identifier: nothing contradicts the name
        found = await match_organisation(session, None, "department for international development")
        assert (found.organisation, found.certain) == (dfid, True)
        # several of the name: unsure, all of them candidates, named in the reason
        found = await match_organisation(session, "XM-SA", "Smart Africa")
        assert (found.organisation, found.certain) == (None, False)
        assert found.candidates == tuple(t.id for t in twins)
        assert all(f"organisation {t.id} ({t.name}" in found.reason for t in twins)
        # nothing: certain that there is none
        found = await match_organisation(session, "XM-NEW", "Brand New Foundation")
        assert (found.organisation, found.certain, found.candidates) == (None, True, ())


async def test_a_renamed_organisation_is_found_by_its_new_name(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        renamed = await organisation(session, "Department for International Development")
        draft = OrganisationDraft(name="Foreign, Commonwealth & Development Office",
                                  organisation_type=GOVERNMENT)  # fmt: skip
        await update_organisation(session, renamed, draft)
        assert renamed.name_key == "foreign commonwealth and development office"
        found = await match_organisation(session, None, "FOREIGN COMMONWEALTH AND DEVELOPMENT "
                                         "OFFICE")  # fmt: skip
        assert found.organisation == renamed
        gone = await match_organisation(session, None, "Department for International Development")
        assert gone.organisation is None
