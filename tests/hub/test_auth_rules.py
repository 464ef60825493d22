"""The pure rules of tokens and clients: scopes per kind, header and claim checks, and the
principal a token stands for."""

from __future__ import annotations

from typing import Any

import pytest

from hub.auth.claims import check_claims, check_header, principal_from_claims
from hub.auth.issuers import IssuerPolicy, normalise_type
from hub.auth.principal import ANONYMOUS
from hub.auth.scopes import ClientKind, Scope, parse_scopes, split_scopes
from hub.errors import InvalidInput, Unauthenticated
from hub.visibility import PUBLIC, Viewer

POLICY = IssuerPolicy(
    issuer="https://hub.example",
    jwks_url="https://hub.example/j",
    audience="hub",
    kinds=tuple(ClientKind),
)
NOW = 2_000_000_000.0


def claims(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "iss": "https://hub.example", "aud": "hub", "sub": "c1", "client_id": "c1",
        "iat": NOW - 10, "exp": NOW + 590, "jti": "j1", "scope": "pledges:write audit:read x",
        "client_kind": "PARTNER", "member_id": 7, **changes,
    }  # fmt: skip
    return {k: v for k, v in values.items() if v is not None}


def test_each_kind_holds_only_its_scopes() -> None:
    assert parse_scopes(["pledges:write"], ClientKind.PARTNER) == {Scope.PLEDGES_WRITE}
    assert parse_scopes(split_scopes("audit:read, members:admin"), ClientKind.SECRETARIAT) == {
        Scope.AUDIT_READ,
        Scope.MEMBERS_ADMIN,
    }
    with pytest.raises(InvalidInput, match="a PARTNER client may not hold audit:read") as beyond:
        parse_scopes(["audit:read"], ClientKind.PARTNER)
    assert beyond.value.code == "SCOPE_NOT_ALLOWED"
    with pytest.raises(InvalidInput, match="unknown scope 'pledges:read'"):
        parse_scopes(["pledges:read"], ClientKind.PARTNER)
    with pytest.raises(InvalidInput, match=r"may hold audit:read$"):
        parse_scopes(["pledges:write"], ClientKind.AUDITOR)
    with pytest.raises(InvalidInput, match="at least one scope"):
        parse_scopes([], ClientKind.AUDITOR)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ({"alg": "none", "typ": "at+jwt", "kid": "k"}, "algorithm 'none' is not accepted"),
        ({"alg": "HS256", "typ": "at+jwt", "kid": "k"}, "algorithm 'HS256' is not accepted"),
        ({"typ": "at+jwt", "kid": "k"}, "algorithm None is not accepted"),
        ({"alg": "ES256", "typ": "at+jwt", "kid": "k"}, "does not sign with ES256"),
        ({"alg": "RS256", "kid": "k"}, "no typ header"),
        ({"alg": "RS256", "typ": "JWT", "kid": "k"}, "typ is 'JWT'; at\\+jwt is required"),
        ({"alg": "RS256", "typ": "at+jwt"}, "no kid header"),
        ({"alg": "RS256", "typ": "at+jwt", "kid": "k", "crit": ["b64"]}, "critical header"),
    ],
)
def test_headers_are_refused_in_order(header: dict[str, Any], message: str) -> None:
    with pytest.raises(Unauthenticated, match=message):
        check_header(header, POLICY)


def test_typ_is_compared_as_a_media_type() -> None:
    for typ in ("at+jwt", "AT+JWT", "application/at+jwt"):
        assert check_header({"alg": "RS256", "typ": typ, "kid": "k"}, POLICY) == "k"
    assert normalise_type(" Application/JWT ") == "jwt"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"iss": "https://hub.example/"}, "issuer is not the one"),
        ({"aud": ["other"]}, "not meant for this hub"),
        ({"aud": None}, "not meant for this hub"),
        ({"exp": NOW - 31}, "has expired"),
        ({"exp": None}, "lacks its exp or iat"),
        ({"exp": "soon"}, "exp claim is not a number"),
        ({"exp": True}, "exp claim is not a number"),
        ({"exp": 10**400}, "exp claim is not a time"),
        ({"iat": float("nan")}, "iat claim is not a time"),
        ({"nbf": -1}, "nbf claim is not a time"),
        ({"nbf": NOW + 31}, "not valid yet"),
        ({"iat": NOW + 31}, "issued in the future"),
        ({"iat": NOW - 4000, "exp": NOW + 10}, "longer than an hour"),
        ({"jti": ""}, "no jti claim"),
        ({"sub": None}, "no sub claim"),
    ],
)
def test_claims_are_refused_with_the_reason(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(Unauthenticated, match=message):
        check_claims(claims(**changes), POLICY, NOW, leeway=30)


def test_leeway_and_audience_lists_are_honoured() -> None:
    check_claims(claims(exp=NOW - 29, iat=NOW - 600), POLICY, NOW, leeway=30)
    check_claims(claims(nbf=NOW + 29), POLICY, NOW, leeway=30)
    check_claims(claims(aud=["account", "hub"]), POLICY, NOW, leeway=30)


def test_a_partner_token_stands_for_its_member_with_the_scopes_its_kind_may_hold() -> None:
    principal = principal_from_claims(claims(), POLICY)
    assert (principal.kind, principal.client_id, principal.member_id) == (
        ClientKind.PARTNER,
        "c1",
        7,
    )
    assert principal.scopes == {Scope.PLEDGES_WRITE}  # audit:read is beyond a partner, x unknown
    assert principal.viewer == Viewer(member_id=7)
    assert principal_from_claims(claims(member_id="7"), POLICY).member_id == 7
    auditor = principal_from_claims(claims(client_kind="AUDITOR", member_id=None), POLICY)
    assert auditor.viewer == Viewer(sees_all=True)
    assert auditor.member_id is None
    assert ANONYMOUS.viewer == PUBLIC
    listed = principal_from_claims(claims(scope=["pledges:write", 3]), POLICY)
    assert listed.scopes == {Scope.PLEDGES_WRITE}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"client_id": None}, "no client_id claim"),
        ({"client_kind": "ROOT"}, "client_kind claim is not one of"),
        ({"member_id": "\u00b2"}, "member_id claim does not name a member"),
        ({"member_id": 2**31}, "member_id claim does not name a member"),
        ({"member_id": None}, "member_id claim does not name a member"),
        ({"member_id": "seven"}, "member_id claim does not name a member"),
        ({"member_id": -1}, "member_id claim does not name a member"),
        ({"scope": {"a": 1}}, "scope claim is not a list of scopes"),
    ],
)
def test_principals_need_a_client_a_kind_and_a_member(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(Unauthenticated, match=message):
        principal_from_claims(claims(**changes), POLICY)


def test_an_external_issuer_names_partners_and_connectors_unless_widened() -> None:
    external = IssuerPolicy(issuer="https://idp.example", jwks_url="https://idp/j", audience="hub")
    assert principal_from_claims(claims(iss="https://idp.example"), external).member_id == 7
    auditor = claims(client_kind="AUDITOR", member_id=None)
    with pytest.raises(Unauthenticated, match="not one of CONNECTOR, PARTNER, the kinds its"):
        principal_from_claims(auditor, external)
    widened = external.model_copy(update={"kinds": (ClientKind.AUDITOR,)})
    assert principal_from_claims(auditor, widened).viewer == Viewer(sees_all=True)
