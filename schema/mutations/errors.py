"""User errors of the mutations: a code enum per domain, and the one mapping from ``HubError``.

A mutation refused for its input answers ``userErrors { field message code }``: ``field`` is
the path to the argument or input field that was wrong (``["input", "targets", "0",
"unit"]``), ``code`` a value of the domain's enum. Refusals of the credentials (no token, a
scope the token lacks) are not user errors: they fail the field with a GraphQL error (see
``schema.writes``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection
from typing import TypeVar

import strawberry

from hub.errors import HubError

COMMON = {
    "INVALID_INPUT": "The input is not acceptable as given; the message says why.",
    "REQUIRED": "A required value is missing.",
    "TOO_LONG": "A text or list is longer than its limit.",
    "DUPLICATE_VALUE": "A list names the same value twice.",
    "DUPLICATE": "Another record already has this unique value.",
    "INVALID_ID": "An id is not a global id of the expected type.",
    "NOT_FOUND": "No record with this id is visible to the caller (or none exists).",
    "NOT_PERMITTED": "The caller holds no role that allows this action on this record.",
    "INVALID_TRANSITION": "The record's status does not allow this action.",
    "CONSTRAINT_VIOLATED": "The database refused the write under one of its rules.",
    "REFERENCE_NOT_FOUND": "The write refers to a record that does not exist.",
    "VALUE_OUT_OF_RANGE": "A number is too large for the hub to store.",
    "TOO_MANY_DECIMALS": "A number has more decimal places than allowed.",
}
MONEY = {
    "INVALID_AMOUNT": "An amount is not a positive decimal number.",
    "AMOUNT_TOO_LARGE": "An amount is too large to store.",
    "UNKNOWN_CURRENCY": "Not an ISO 4217 currency code the hub knows.",
}
PLEDGE = {
    **COMMON,
    **MONEY,
    "STALE_VERSION": "The pledge changed since the version given was read; nothing was written.",
    "FOCUS_AREA_REQUIRED": "A pledge needs a focus area before it is submitted.",
    "PLACE_REQUIRED": "A pledge names countries or country groups before it is submitted.",
    "TARGET_REQUIRED": "A pledge needs a quantitative target with a value and a deadline.",
    "AMOUNT_REQUIRED": "A FINANCIAL pledge states its amount before it is submitted.",
    "LEAD_REQUIRED": "A pledge needs its lead's accepted LEAD endorsement.",
    "UNKNOWN_TARGET": "A target id is not one of this pledge's targets.",
    "TARGET_REPORTED": "A target with progress reported against it cannot be removed.",
    "UNKNOWN_COUNTRY": "Not an ISO 3166-1 alpha-3 country code the hub knows.",
    "NOT_A_MEMBER": "The organisation is not a coalition member now.",
}
ENDORSEMENT = {
    **COMMON,
    "LEAD_NOT_INVITED": "The LEAD role belongs to the pledge's lead and is not invited.",
    "LEAD_REQUIRED": "The lead's own endorsement cannot be revoked.",
    "PLEDGE_CLOSED": "The pledge is withdrawn or fulfilled: no invitations or acceptances.",
    "NOT_A_MEMBER": "Only a coalition member accepts an endorsement.",
}
PROGRESS = {
    **COMMON,
    **MONEY,
    "UNKNOWN_TARGET": "A target id is not one of this pledge's targets.",
    "PLEDGE_NOT_PUBLISHED": "Progress is reported on published (or fulfilled) pledges only.",
    "NOT_A_MEMBER": "Only a coalition member reports progress.",
}
ORGANISATION = {
    **COMMON,
    "UNKNOWN_COUNTRY": "Not an ISO 3166-1 alpha-3 country code the hub knows.",
    "INVALID_URL": "A website is an http(s) address.",
}
CONNECTOR = {
    **COMMON,
    "EMPTY_SELECTION": "An IATI connector names no activity, reporting organisation, sector or "
    "tag: it would select nothing.",
    "IDENTIFIER_OF_ANOTHER": "An identifier the member would also report as is another "
    "organisation's.",
    "NOT_A_MEMBER": "A connector acts for a coalition member; the organisation is not one now.",
    "UNREACHABLE": "The source did not answer as it should: its token endpoint gave no token, "
    "or its API no page, with the settings and secret given.",
    "BAD_MAPPING": "A JSON API's field mapping does not compile; the field says where.",
    "IN_USE": "The connector brought records, which name it as their provenance: it stays.",
}
REVIEW = {
    **COMMON,
    "ALREADY_RESOLVED": "The review item was resolved already; it is resolved once.",
    "IDENTIFIER_OF_ANOTHER": "The item's identifier is another organisation's already.",
}


def _code_enum(name: str, described: dict[str, str], what: str) -> type[enum.Enum]:
    codes = enum.Enum(name, {code: code for code in described})  # type: ignore[misc]
    strawberry.enum(codes, description=f"Why a {what} mutation refused its input.")
    for value in codes.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = described[value.name]
    return codes


PledgeErrorCode = _code_enum("PledgeErrorCode", PLEDGE, "pledge")
EndorsementErrorCode = _code_enum("EndorsementErrorCode", ENDORSEMENT, "endorsement")
ProgressErrorCode = _code_enum("ProgressErrorCode", PROGRESS, "progress")
OrganisationErrorCode = _code_enum("OrganisationErrorCode", ORGANISATION, "organisation")
ConnectorErrorCode = _code_enum("ConnectorErrorCode", CONNECTOR, "connector")
ReviewErrorCode = _code_enum("ReviewErrorCode", REVIEW, "review")

FIELD_DESCRIPTION = "The path to the argument or input field that was wrong, if one was."
MESSAGE_DESCRIPTION = "What was wrong, in words meant for a developer."
CODE_DESCRIPTION = "What was wrong, as a stable code."


@strawberry.type(description="Why a pledge mutation refused its input, and where.")
class PledgeUserError:
    field: list[str] | None = strawberry.field(description=FIELD_DESCRIPTION)
    message: str = strawberry.field(description=MESSAGE_DESCRIPTION)
    code: PledgeErrorCode = strawberry.field(description=CODE_DESCRIPTION)  # type: ignore[valid-type]


@strawberry.type(description="Why an endorsement mutation refused its input, and where.")
class EndorsementUserError:
    field: list[str] | None = strawberry.field(description=FIELD_DESCRIPTION)
    message: str = strawberry.field(description=MESSAGE_DESCRIPTION)
    code: EndorsementErrorCode = strawberry.field(description=CODE_DESCRIPTION)  # type: ignore[valid-type]


@strawberry.type(description="Why a progress mutation refused its input, and where.")
class ProgressUserError:
    field: list[str] | None = strawberry.field(description=FIELD_DESCRIPTION)
    message: str = strawberry.field(description=MESSAGE_DESCRIPTION)
    code: ProgressErrorCode = strawberry.field(description=CODE_DESCRIPTION)  # type: ignore[valid-type]


@strawberry.type(description="Why an organisation mutation refused its input, and where.")
class OrganisationUserError:
    field: list[str] | None = strawberry.field(description=FIELD_DESCRIPTION)
    message: str = strawberry.field(description=MESSAGE_DESCRIPTION)
    code: OrganisationErrorCode = strawberry.field(description=CODE_DESCRIPTION)  # type: ignore[valid-type]


@strawberry.type(description="Why a connector mutation refused its input, and where.")
class ConnectorUserError:
    field: list[str] | None = strawberry.field(description=FIELD_DESCRIPTION)
    message: str = strawberry.field(description=MESSAGE_DESCRIPTION)
    code: ConnectorErrorCode = strawberry.field(description=CODE_DESCRIPTION)  # type: ignore[valid-type]


@strawberry.type(description="Why a review mutation refused its input, and where.")
class ReviewUserError:
    field: list[str] | None = strawberry.field(description=FIELD_DESCRIPTION)
    message: str = strawberry.field(description=MESSAGE_DESCRIPTION)
    code: ReviewErrorCode = strawberry.field(description=CODE_DESCRIPTION)  # type: ignore[valid-type]


U = TypeVar(
    "U",
    PledgeUserError,
    EndorsementUserError,
    ProgressUserError,
    OrganisationUserError,
    ConnectorUserError,
    ReviewUserError,
)

CODES: dict[type, type[enum.Enum]] = {
    PledgeUserError: PledgeErrorCode,
    EndorsementUserError: EndorsementErrorCode,
    ProgressUserError: ProgressErrorCode,
    OrganisationUserError: OrganisationErrorCode,
    ConnectorUserError: ConnectorErrorCode,
    ReviewUserError: ReviewErrorCode,
}


def _camel(segment: str) -> str:
    head, *rest = segment.split("_")
    return head + "".join(part.title() for part in rest)


def field_path(field: Collection[str], arguments: Collection[str]) -> list[str] | None:
    """The GraphQL path of a hub field, camelCase: under the mutation's ``input`` argument,
    when it has one, unless the field names another of its arguments. Without an ``input``
    the field names a part of the record itself (what a submission lacks, say)."""
    if not field:
        return None
    path = [_camel(segment) if not re.fullmatch(r"\d+", segment) else segment for segment in field]
    if path[0] in arguments or "input" not in arguments:
        return path
    return ["input", *path]


def user_errors(error: HubError, kind: type[U], arguments: Collection[str]) -> list[U]:
    """The user errors for a refusal: one per problem it carries."""
    codes = CODES[kind]
    return [
        kind(
            field=field_path(problem.field, arguments),
            message=problem.message,
            code=codes[problem.code] if problem.code in codes.__members__ else codes.INVALID_INPUT,  # type: ignore[attr-defined]
        )
        for problem in (error.problems or (error,))
    ]
