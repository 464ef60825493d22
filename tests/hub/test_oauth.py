"""The authorization server over real HTTP: tokens, their use, introspection, revocation,
rotation, limits, and every way a token or a client must be refused."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import httpx
import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from joserfc import jws
from joserfc.jwk import RSAKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.clients import revoke_client, rotate_secret
from hub.auth.models import OAuthClient
from hub.keys.models import ServerKey
from hub.keys.service import rotate_token_key
from hub.types import utcnow
from tests.fixtures.oauth import (
    ISSUER,
    VAULT,
    Clients,
    basic,
    claims_for,
    get_token,
    hub_http,
    hub_signing_key,
    make_clients_with_draft,
    oauth_settings,
    sign,
    unsigned,
)

PLEDGES = "{ pledges(first: 20) { edges { node { title } } } }"


@pytest.fixture
async def clients(session_factory: async_sessionmaker[AsyncSession]) -> Clients:
    return await make_clients_with_draft(session_factory)


async def graphql(http: httpx.AsyncClient, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return await http.post("/graphql", json={"query": PLEDGES}, headers=headers)


def titles(response: httpx.Response) -> list[str]:
    body = response.json()
    assert "errors" not in body, body
    return [edge["node"]["title"] for edge in body["data"]["pledges"]["edges"]]


def refusal(response: httpx.Response, *, bearer: bool = True) -> str:
    """The message of an UNAUTHENTICATED refusal, checked to be one with RFC 6750's challenge
    (with no error code for a request that sent no bearer token)."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("data") is None, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED", body
    challenge = response.headers["www-authenticate"]
    if bearer:
        assert challenge.startswith('Bearer realm="p2c-hub", error="invalid_token"'), challenge
    else:
        assert challenge == 'Bearer realm="p2c-hub"'
    return str(error["message"])


async def test_a_partner_gets_a_token_uses_it_has_it_introspected_and_revokes_it(
    database_url: str, clients: Clients
) -> None:
    async with hub_http(oauth_settings(database_url)) as http:
        by_basic = await get_token(http, clients.partner)
        by_post = await get_token(http, clients.partner, post=True)
        token = by_basic["access_token"]

        anonymous = titles(await graphql(http, None))
        as_partner = titles(await graphql(http, token))
        as_post = titles(await graphql(http, by_post["access_token"]))

        own = await http.post(
            "/oauth/introspect", data={"token": token}, auth=basic(clients.partner)
        )
        foreign = await http.post(
            "/oauth/introspect", data={"token": token}, auth=basic(clients.other_partner)
        )
        overseen = await http.post(
            "/oauth/introspect", data={"token": token}, auth=basic(clients.auditor)
        )
        revoked = await http.post(
            "/oauth/revoke", data={"token": token}, auth=basic(clients.partner)
        )
        again = await http.post("/oauth/revoke", data={"token": token}, auth=basic(clients.partner))
        after = await graphql(http, token)
        inactive = await http.post(
            "/oauth/introspect", data={"token": token}, auth=basic(clients.partner)
        )
        still = titles(await graphql(http, by_post["access_token"]))

    assert by_basic["token_type"] == "Bearer"
    assert by_basic["expires_in"] == 900
    assert by_basic["scope"] == "endorsements:write pledges:write progress:write"
    header = jws.extract_compact(token.encode()).protected
    claims = json.loads(jws.extract_compact(token.encode()).payload)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "RS256"
    assert header["kid"]
    client_id = clients.partner.client.client_id
    assert claims["iss"] == ISSUER
    assert claims["aud"] == ISSUER
    assert claims["sub"] == client_id
    assert claims["client_id"] == client_id
    assert claims["exp"] - claims["iat"] == 900
    assert (
        claims["jti"]
        != json.loads(jws.extract_compact(by_post["access_token"].encode()).payload)["jti"]
    )
    assert claims["scope"] == by_basic["scope"]
    assert claims["client_kind"] == "PARTNER"
    assert claims["member_id"] == clients.member_id

    assert "Alpha's draft" not in anonymous
    assert "Alpha's draft" in as_partner
    assert as_post == as_partner

    assert own.status_code == 200
    assert own.json() | {"jti": "", "iat": 0, "exp": 0} == {
        "active": True, "token_type": "Bearer", "scope": by_basic["scope"],
        "client_id": client_id, "sub": client_id, "aud": ISSUER, "iss": ISSUER,
        "client_kind": "PARTNER", "member_id": clients.member_id, "jti": "", "iat": 0, "exp": 0,
    }  # fmt: skip
    assert foreign.json() == {"active": False}
    assert overseen.json()["active"] is True
    assert (revoked.status_code, revoked.json()) == (200, {})
    assert again.status_code == 200
    assert refusal(after) == "the token was revoked"
    assert inactive.json() == {"active": False}
    assert "Alpha's draft" in still


async def test_the_hub_publishes_its_keys_and_its_metadata(
    database_url: str, clients: Clients
) -> None:
    async with hub_http(oauth_settings(database_url)) as http:
        token = (await get_token(http, clients.partner))["access_token"]
        jwks = await http.get("/.well-known/jwks.json")
        metadata = await http.get("/.well-known/oauth-authorization-server")
    kid = jws.extract_compact(token.encode()).protected["kid"]
    (key,) = jwks.json()["keys"]
    assert key["kid"] == kid
    assert (key["kty"], key["use"], key["alg"]) == ("RSA", "sig", "RS256")
    assert "d" not in key
    assert "p" not in key
    assert jwks.headers["cache-control"] == "public, max-age=300"
    jws.deserialize_compact(token, RSAKey.import_key(key), algorithms=["RS256"])

    published = metadata.json()
    assert published["issuer"] == ISSUER
    assert published["token_endpoint"] == f"{ISSUER}/oauth/token"
    assert published["grant_types_supported"] == ["client_credentials"]
    assert "audit:read" in published["scopes_supported"]
    checked = AuthorizationServerMetadata(published)
    for name in checked.REGISTRY_KEYS:
        if name != "response_types_supported":  # REQUIRED by RFC 8414, empty without an
            getattr(checked, f"validate_{name}")()  # authorization endpoint


async def test_rotated_keys_keep_old_and_new_tokens_valid_until_the_old_expire(
    database_url: str, clients: Clients, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    settings = oauth_settings(database_url, jwks_max_age_seconds=0)
    async with hub_http(settings) as http:
        old = (await get_token(http, clients.partner))["access_token"]
        async with session_factory() as session:
            new_key = await rotate_token_key(
                session, VAULT, utcnow(), publish_ahead=timedelta(0), keep_after=timedelta(hours=1)
            )
            await session.commit()
        new = (await get_token(http, clients.partner))["access_token"]
        both = [titles(await graphql(http, token)) for token in (old, new)]
        jwks = (await http.get("/.well-known/jwks.json")).json()["keys"]
    old_kid = jws.extract_compact(old.encode()).protected["kid"]
    assert jws.extract_compact(new.encode()).protected["kid"] == new_key.kid != old_kid
    assert both[0] == both[1]
    assert {key["kid"] for key in jwks} == {old_kid, new_key.kid}
    async with session_factory() as session:
        retired = await session.get_one(ServerKey, old_kid)
    assert retired.retires_at == new_key.signs_from + timedelta(hours=1)


async def test_a_refused_token_is_refused_with_the_reason(
    database_url: str, clients: Clients, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    key = (await hub_signing_key(session_factory)).key
    partner = clients.partner
    public_pem = key.as_pem(private=False)
    stranger = RSAKey.generate_key(2048, private=True, parameters={"kid": str(key.kid)})
    hs256_header = {"alg": "HS256", "typ": "at+jwt", "kid": key.kid}
    hs256_input = unsigned(hs256_header, claims_for(partner)).rsplit(".", 1)[0]
    hs256 = hmac.new(public_pem, hs256_input.encode(), hashlib.sha256).digest()
    cases: dict[str, tuple[str, str]] = {
        "malformed": ("not.a.jwt", "the token is not a signed JWT"),
        "expired": (
            sign(claims_for(partner, iat=1_000_000, exp=1_000_600), key),
            "the token has expired",
        ),
        "not yet valid": (
            sign(claims_for(partner, nbf=4_000_000_000), key),
            "the token is not valid yet (nbf)",
        ),
        "wrong issuer": (
            sign(claims_for(partner, iss="https://evil.example"), key),
            "the token's issuer 'https://evil.example' is not trusted by this hub",
        ),
        "wrong audience": (
            sign(claims_for(partner, aud="https://other.example"), key),
            f"the token is not meant for this hub (aud must include {ISSUER})",
        ),
        "typ missing": (
            sign(claims_for(partner), key, typ=None),
            "the token has no typ header; an access token has typ at+jwt",
        ),
        "typ JWT": (
            sign(claims_for(partner), key, typ="JWT"),
            "the token's typ is 'JWT'; at+jwt is required",
        ),
        "alg none": (
            unsigned({"alg": "none", "typ": "at+jwt", "kid": key.kid}, claims_for(partner)),
            "the token's algorithm 'none' is not accepted",
        ),
        "HS256 with the public key": (
            f"{hs256_input}.{unsigned({}, {}, hs256).rsplit('.', 1)[1]}",
            "the token's algorithm 'HS256' is not accepted",
        ),
        "unknown kid": (
            sign(claims_for(partner), key, kid="no-such-key"),
            "the token's key 'no-such-key' is not published by its issuer",
        ),
        "foreign key": (
            sign(claims_for(partner), stranger),
            "the token's signature does not verify",
        ),
        "revoked jti": ("", "the token was revoked"),
        "revoked client": ("", "the token's client was revoked"),
        "too long a life": (
            sign(claims_for(partner, exp=claims_for(partner)["iat"] + 7200), key),
            "the token lives longer than an hour; the hub refuses it",
        ),
        "no jti": (sign(claims_for(partner, jti=None), key), "the token has no jti claim"),
        "not bearer": ("", "send the access token as Authorization: Bearer TOKEN"),
    }
    async with hub_http(oauth_settings(database_url)) as http:
        revoked = (await get_token(http, partner))["access_token"]
        await http.post("/oauth/revoke", data={"token": revoked}, auth=basic(partner))
        cases["revoked jti"] = (revoked, cases["revoked jti"][1])
        held = (await get_token(http, clients.other_partner))["access_token"]
        async with session_factory() as session:
            await revoke_client(session, clients.other_partner.client.client_id, utcnow())
            await session.commit()
        cases["revoked client"] = (held, cases["revoked client"][1])
        found: dict[str, str] = {}
        for name, (token, _) in cases.items():
            if name == "not bearer":
                response = await http.post(
                    "/graphql", json={"query": PLEDGES}, headers={"Authorization": "Basic eDp5"}
                )
                found[name] = refusal(response, bearer=False)
            else:
                found[name] = refusal(await graphql(http, token))
    assert found == {name: message for name, (_, message) in cases.items()}


async def test_clients_that_cannot_authenticate_get_no_token(
    database_url: str, clients: Clients, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    partner = clients.partner
    client_id = partner.client.client_id
    grant = {"grant_type": "client_credentials"}
    async with hub_http(oauth_settings(database_url)) as http:
        wrong = await http.post("/oauth/token", data=grant, auth=(client_id, "p2cs_wrong"))
        unknown = await http.post("/oauth/token", data=grant, auth=("p2c-nobody", "secret"))
        no_credentials = await http.post("/oauth/token", data=grant)
        async with session_factory() as session:
            rotated = await rotate_secret(session, client_id, utcnow())
            await session.commit()
        old_secret = await http.post("/oauth/token", data=grant, auth=basic(partner))
        new_secret = await http.post("/oauth/token", data=grant, auth=basic(rotated))
        async with session_factory() as session:
            await revoke_client(session, client_id, utcnow())
            await session.commit()
        revoked = await http.post("/oauth/token", data=grant, auth=basic(rotated))
        introspect = await http.post("/oauth/introspect", data={"token": "x"}, auth=basic(rotated))
    for response in (wrong, unknown, old_secret, revoked, introspect):
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_client"
        assert response.headers["www-authenticate"].startswith("Basic")
    assert no_credentials.status_code in (400, 401)
    assert no_credentials.json()["error"] == "invalid_client"
    assert new_secret.status_code == 200
    async with session_factory() as session:
        stored = await session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    assert stored is not None
    assert rotated.secret not in stored.secret_hash
    assert len(stored.secret_hash) == 64


async def test_bad_token_requests_are_told_what_is_wrong(
    database_url: str, clients: Clients
) -> None:
    partner = clients.partner
    auth = basic(partner)
    async with hub_http(oauth_settings(database_url)) as http:
        beyond = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": "audit:read"},
            auth=auth,
        )
        narrower = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": "pledges:write"},
            auth=auth,
        )
        password = await http.post(
            "/oauth/token",
            data={"grant_type": "password", "username": "u", "password": "p"},
            auth=auth,
        )
        as_json = await http.post(
            "/oauth/token", json={"grant_type": "client_credentials"}, auth=auth
        )
        twice = await http.post(
            "/oauth/token", content="grant_type=client_credentials&grant_type=client_credentials",
            headers={"Content-Type": "application/x-www-form-urlencoded"}, auth=auth,
        )  # fmt: skip
        both_ways = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": partner.client.client_id,
                  "client_secret": partner.secret},
            auth=auth,
        )  # fmt: skip
        get = await http.get("/oauth/token")
    assert (beyond.status_code, beyond.json()["error"]) == (400, "invalid_scope")
    assert "does not hold audit:read" in beyond.json()["error_description"]
    assert narrower.json()["scope"] == "pledges:write"
    assert (password.status_code, password.json()["error"]) == (400, "unsupported_grant_type")
    assert as_json.json() == {
        "error": "invalid_request",
        "error_description": "send the parameters as application/x-www-form-urlencoded",
    }
    assert twice.json()["error_description"] == "grant_type given more than once"
    assert both_ways.json()["error"] == "invalid_request"
    assert get.status_code == 405


async def test_token_requests_are_limited_per_client_and_per_address(
    database_url: str, clients: Clients
) -> None:
    settings = oauth_settings(
        database_url, token_requests_per_client_per_hour=2, token_requests_per_address_per_hour=5
    )
    async with hub_http(settings) as http:
        grant = {"grant_type": "client_credentials"}
        mine = [
            await http.post("/oauth/token", data=grant, auth=basic(clients.partner))
            for _ in range(3)
        ]
        other = await http.post("/oauth/token", data=grant, auth=basic(clients.secretariat))
        wrong = [await http.post("/oauth/token", data=grant, auth=("x", "y")) for _ in range(2)]
    assert [r.status_code for r in mine] == [200, 200, 429]
    assert mine[2].json()["error"] == "slow_down"
    assert 0 < int(mine[2].headers["retry-after"]) <= 3600
    assert other.status_code == 200
    assert [r.status_code for r in wrong] == [401, 429]


async def test_token_endpoint_logs_say_what_happened_without_secrets(
    database_url: str, clients: Clients, capsys: pytest.CaptureFixture[str]
) -> None:
    async with hub_http(oauth_settings(database_url)) as http:
        token = (await get_token(http, clients.partner))["access_token"]
        await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(clients.partner.client.client_id, "p2cs_not-the-secret"),
        )
    logged = capsys.readouterr().out
    assert "oauth.refused" in logged
    assert "invalid_client" in logged
    assert clients.partner.client.client_id in logged
    for secret in (clients.partner.secret, "p2cs_not-the-secret", token):
        assert secret not in logged


async def test_a_hub_without_a_signing_key_says_it_cannot_sign(
    database_url: str, clients: Clients
) -> None:
    async with hub_http(oauth_settings(database_url, key_encryption_keys=[])) as http:
        response = await http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=basic(clients.partner)
        )
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
