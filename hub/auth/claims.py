"""The checks of RFC 9068 section 4 that need no I/O: header, claims, and the principal.

Each check refuses with ``Unauthenticated`` and a message saying what was wrong, in the
order RFC 8725 asks for: the algorithm before anything else is trusted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hub.auth.issuers import (
    ASYMMETRIC_ALGORITHMS,
    MAX_LIFETIME_SECONDS,
    IssuerPolicy,
    normalise_type,
)
from hub.auth.principal import Principal
from hub.auth.scopes import KIND_SCOPES, MEMBER_KINDS, ClientKind, Scope, split_scopes
from hub.errors import Unauthenticated

MAX_TIME = 2**53
"""Claims of time beyond this (year 285 million) are not times."""

MAX_MEMBER_ID = 2**31 - 1


def shown(value: object) -> str:
    """A value from an unverified token, as a refusal may quote it: short, ASCII."""
    text = ascii(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def check_algorithm(header: Mapping[str, Any]) -> str:
    """The header's ``alg``, refused unless it is a public-key signature algorithm."""
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ASYMMETRIC_ALGORITHMS:
        raise Unauthenticated(f"the token's algorithm {shown(alg)} is not accepted")
    return alg


def check_header(header: Mapping[str, Any], policy: IssuerPolicy) -> str:
    """The ``kid`` to verify with, once ``alg``, ``typ`` and ``crit`` suit the issuer."""
    alg = check_algorithm(header)
    if alg not in policy.algorithms:
        raise Unauthenticated(f"the token's issuer does not sign with {alg}")
    typ = header.get("typ")
    if not isinstance(typ, str):
        raise Unauthenticated("the token has no typ header; an access token has typ at+jwt")
    if normalise_type(typ) not in policy.token_types:
        accepted = " or ".join(policy.token_types)
        raise Unauthenticated(f"the token's typ is {shown(typ)}; {accepted} is required")
    if "crit" in header:
        raise Unauthenticated("the token has critical header parameters the hub does not know")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Unauthenticated("the token has no kid header naming its key")
    return kid


def _time(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unauthenticated(f"the token's {name} claim is not a number")
    if not (isinstance(value, int) or math.isfinite(value)) or not 0 <= value <= MAX_TIME:
        raise Unauthenticated(f"the token's {name} claim is not a time")
    return float(value)


def check_claims(
    claims: Mapping[str, Any], policy: IssuerPolicy, now: float, leeway: float
) -> None:
    """Issuer, audience, times and identifiers, per RFC 9068 section 4."""
    if claims.get("iss") != policy.issuer:
        raise Unauthenticated("the token's issuer is not the one its key belongs to")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or policy.audience not in audiences:
        raise Unauthenticated(
            f"the token is not meant for this hub (aud must include {policy.audience})"
        )
    expires, issued, not_before = (_time(claims, name) for name in ("exp", "iat", "nbf"))
    if expires is None or issued is None:
        raise Unauthenticated("the token lacks its exp or iat claim")
    if now > expires + leeway:
        raise Unauthenticated("the token has expired")
    if not_before is not None and now + leeway < not_before:
        raise Unauthenticated("the token is not valid yet (nbf)")
    if issued > now + leeway:
        raise Unauthenticated("the token was issued in the future (iat)")
    if expires - issued > MAX_LIFETIME_SECONDS:
        raise Unauthenticated("the token lives longer than an hour; the hub refuses it")
    for name in ("jti", "sub"):
        if not isinstance(claims.get(name), str) or not claims[name]:
            raise Unauthenticated(f"the token has no {name} claim")


def _member(claims: Mapping[str, Any], policy: IssuerPolicy) -> int:
    value = claims.get(policy.member_claim)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_MEMBER_ID:
        raise Unauthenticated(f"the token's {policy.member_claim} claim does not name a member")
    return value


def principal_from_claims(claims: Mapping[str, Any], policy: IssuerPolicy) -> Principal:
    """The principal a checked token stands for.

    Scopes are those the token lists that its client kind may hold; scopes the hub does not
    know (``profile``, ``email`` from an identity provider) are ignored.
    """
    client_id = claims.get(policy.client_id_claim)
    if not isinstance(client_id, str) or not client_id:
        raise Unauthenticated(f"the token has no {policy.client_id_claim} claim")
    kind = claims.get(policy.kind_claim)
    if kind not in policy.kinds:
        kinds = ", ".join(policy.kinds)
        raise Unauthenticated(
            f"the token's {policy.kind_claim} claim is not one of {kinds}, "
            "the kinds its issuer may name"
        )
    kind = ClientKind(kind)
    listed = claims.get(policy.scope_claim, "")
    names = split_scopes(listed) if isinstance(listed, str) else listed
    if not isinstance(names, list):
        raise Unauthenticated(f"the token's {policy.scope_claim} claim is not a list of scopes")
    known = {scope.value for scope in KIND_SCOPES[kind]}
    scopes = frozenset(Scope(n) for n in names if isinstance(n, str) and n in known)
    return Principal(
        kind=kind,
        client_id=client_id,
        member_id=_member(claims, policy) if kind in MEMBER_KINDS else None,
        scopes=scopes,
        issuer=policy.issuer,
        token_id=str(claims["jti"]),
        expires=_time(claims, "exp"),
    )
