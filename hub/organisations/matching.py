"""Which known organisation an import means, when it names one by IATI identifier and name.

Partners' data names organisations the hub may know under another spelling, or under another
identifier. Guessing wrong would merge two organisations (two members, perhaps) without anyone
saying so, so a match is *certain* only where nothing contradicts it; an uncertain one goes to
the review queue for a person (``hub.imports.review``), never merged silently.

| the hub finds                                            | organisation | certain | candidates |
| -------------------------------------------------------- | ------------ | ------- | ---------- |
| the identifier, as an organisation's ``iati_identifier`` | that one     | yes     | none       |
| or as an alias a person recorded                         |              |         |            |
| else one organisation of the normalised name, with no    | that one     | yes     | none       |
| IATI identifier (or the import gives none)               |              |         |            |
| else one of that name with another identifier, or more   | none         | no      | their ids  |
| else nothing                                             | none         | yes     | none       |

The identifier is never written onto an organisation matched by name: that would be a merge
nobody confirmed. A certain "nothing" lets the caller create a non-member organisation.

Names are compared by ``normalise_name``; the lookup is one statement on the indexed
``organisations.name_key``, which holds every organisation's normalised name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.organisations.models import Organisation, OrganisationAlias

LEGAL_FORMS = frozenset(
    {"ltd", "limited", "inc", "incorporated", "llc", "plc", "gmbh", "sa", "ag", "bv", "co"}
    | {"corp", "corporation", "company", "the"}
)
"""Words that say what kind of legal person an organisation is, not which one."""

MAX_KEY = 300
MAX_CANDIDATES = 20
"""An uncertain match lists at most this many organisations of the same name."""

_JOINED = re.compile(r"[.'\u2019]")
_SEPARATOR = re.compile(r"[\W_]+")


def normalise_name(name: str) -> str:
    """The name as compared: without case, accents, punctuation or legal forms.

    Compatibility-decomposed (NFKD) and case-folded, accents dropped; ``&`` reads "and";
    dots and apostrophes join what they separate (``S.A.`` is ``sa``, ``Children's`` is
    ``childrens``), every other non-letter, non-digit is a space; the words of
    ``LEGAL_FORMS`` go, unless nothing else is left. Words in brackets stay: they often
    tell organisations apart ("Save the Children (UK)"), so "Department for International
    Development (DFID)" is not "DEPARTMENT FOR INTERNATIONAL DEVELOPMENT".
    """
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    joined = _JOINED.sub("", plain.replace("&", " and "))
    words = [word for word in _SEPARATOR.split(joined) if word]
    kept = [word for word in words if word not in LEGAL_FORMS] or words
    return " ".join(kept)[:MAX_KEY].rstrip()


@dataclass(frozen=True, slots=True)
class Match:
    """What ``match_organisation`` found: the organisation meant (None: none, or unsure);
    whether that is certain; the organisations it might be, by id, when it is not; and why,
    in words for a review item."""

    organisation: Organisation | None
    certain: bool
    candidates: tuple[int, ...]
    reason: str


async def organisation_by_iati(session: AsyncSession, identifier: str) -> Organisation | None:
    """The organisation with this IATI organisation identifier, its own or an alias a person
    recorded, if the hub knows it."""
    own = await session.scalar(
        select(Organisation).where(Organisation.iati_identifier == identifier)
    )
    if own is not None:
        return own
    return await session.scalar(
        select(Organisation)
        .join(OrganisationAlias, OrganisationAlias.organisation_id == Organisation.id)
        .where(OrganisationAlias.identifier == identifier)
    )


async def match_organisation(session: AsyncSession, identifier: str | None, name: str) -> Match:
    """The organisation an import names, by the rules of this module's table."""
    if identifier:
        known = await organisation_by_iati(session, identifier)
        if known is not None:
            return Match(known, True, (), f"{identifier} is {known.name}'s identifier")
    key = normalise_name(name)
    named = (
        list(
            await session.scalars(
                select(Organisation)
                .where(Organisation.name_key == key)
                .order_by(Organisation.id)
                .limit(MAX_CANDIDATES)
            )
        )
        if key
        else []
    )
    if not named:
        return Match(None, True, (), f"no organisation is named {name!r} or has its identifier")
    if len(named) == 1 and (identifier is None or named[0].iati_identifier is None):
        return Match(named[0], True, (), f"{named[0].name} is the only organisation so named")
    if len(named) == 1:
        why = f"its name is that of {_described(named[0])}, which has another identifier"
    else:
        listed = ", ".join(_described(o) for o in named)
        why = f"its name is that of {len(named)} organisations: {listed}"
    return Match(None, False, tuple(o.id for o in named), why)


def _described(organisation: Organisation) -> str:
    identifier = organisation.iati_identifier
    told = f", identifier {identifier}" if identifier is not None else ""
    return f"organisation {organisation.id} ({organisation.name}{told})"
