"""Trusting an external identity provider: Keycloak-shaped tokens checked against a key set
served by a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hub.organisations.models import Organisation
from tests.fixtures.factories import add_member, add_pledge
from tests.fixtures.oauth import oauth_settings, sign
from tests.fixtures.server import running_app, running_hub

QUERY = "{ pledges(first: 20) { edges { node { title } } } }"


@dataclass
class IdentityProvider:
    """A Keycloak realm as far as the hub sees it: a JWKS endpoint and its signing keys."""

    keys: list[RSAKey] = field(default_factory=list)
    fetches: int = 0
    base: str = ""

    @property
    def issuer(self) -> str:
        return f"{self.base}/realms/p2c"

    def rotate(self) -> RSAKey:
        key = RSAKey.generate_key(2048, private=True, auto_kid=True)
        self.keys.append(key)
        return key

    async def certs(self, request: Request) -> JSONResponse:
        self.fetches += 1
        published = [
            {**key.as_dict(private=False), "use": "sig", "alg": "RS256"} for key in self.keys
        ]
        encryption = {**self.keys[0].as_dict(private=False), "kid": "enc-key", "use": "enc"}
        return JSONResponse({"keys": [*published, encryption]})

    def token(self, key: RSAKey, member: str, **changes: Any) -> str:
        """A client-credentials token as Keycloak issues it, with the coalition's mappers."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "exp": now + 300, "iat": now, "jti": str(uuid.uuid4()), "iss": self.issuer,
            "aud": ["p2c-hub", "account"], "sub": str(uuid.uuid4()), "typ": "Bearer",
            "azp": "alpha-erp", "acr": "1", "scope": "profile email pledges:write audit:read",
            "clientHost": "127.0.0.1", "p2c_kind": "PARTNER", "p2c_member": member,
            **changes,
        }  # fmt: skip
        return sign({k: v for k, v in claims.items() if v is not None}, key, typ="JWT")


@asynccontextmanager
async def identity_provider() -> AsyncIterator[IdentityProvider]:
    idp = IdentityProvider()
    idp.rotate()
    app = Starlette(
        routes=[Route("/realms/p2c/protocol/openid-connect/certs", idp.certs, methods=["GET"])]
    )
    async with running_app(app) as base:
        idp.base = base
        yield idp


def policy(idp: IdentityProvider, **changes: Any) -> dict[str, Any]:
    return {
        "issuer": idp.issuer,
        "jwks_url": f"{idp.base}/realms/p2c/protocol/openid-connect/certs",
        "audience": "p2c-hub",
        "client_id_claim": "azp",
        "kind_claim": "p2c_kind",
        "member_claim": "p2c_member",
        **changes,
    }


@pytest.fixture
async def member(session_factory: async_sessionmaker[AsyncSession]) -> Organisation:
    async with session_factory() as session:
        member = await add_member(session, "Alpha Telecom")
        await add_pledge(session, member, title="Alpha's draft")
        await session.commit()
    return member


async def ask(base: str, token: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.post(
            "/graphql", json={"query": QUERY}, headers={"Authorization": f"Bearer {token}"}
        )
    body: dict[str, Any] = response.json()
    return body


def refused(body: dict[str, Any]) -> str:
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body
    return str(body["errors"][0]["message"])


async def test_keycloak_tokens_need_typ_jwt_allowed_on_purpose(
    database_url: str, member: Organisation
) -> None:
    async with identity_provider() as idp:
        token = idp.token(idp.keys[0], str(member.id))
        strict = oauth_settings(database_url, external_issuers=[policy(idp)])
        relaxed = oauth_settings(
            database_url, external_issuers=[policy(idp, token_types=["at+jwt", "JWT"])]
        )
        async with running_hub(strict) as base:
            refused_strictly = await ask(base, token)
        async with running_hub(relaxed) as base:
            accepted = await ask(base, token)
            wrong_audience = await ask(base, idp.token(idp.keys[0], str(member.id), aud="account"))
            unknown_member = await ask(base, idp.token(idp.keys[0], "999999"))
            no_kind = await ask(base, idp.token(idp.keys[0], str(member.id), p2c_kind=None))
            bad_kind = await ask(base, idp.token(idp.keys[0], str(member.id), p2c_kind="ROOT"))
            secretariat = await ask(
                base, idp.token(idp.keys[0], str(member.id), p2c_kind="SECRETARIAT")
            )
    assert refused(refused_strictly) == "the token's typ is 'JWT'; at+jwt is required"
    titles = [edge["node"]["title"] for edge in accepted["data"]["pledges"]["edges"]]
    assert "Alpha's draft" in titles
    assert (
        refused(wrong_audience) == "the token is not meant for this hub (aud must include p2c-hub)"
    )
    assert refused(unknown_member) == (
        "the token names member 999999, which is not a coalition member"
    )
    kinds = "the token's p2c_kind claim is not one of CONNECTOR, PARTNER, the kinds its issuer"
    assert refused(no_kind) == f"{kinds} may name"
    assert refused(bad_kind) == f"{kinds} may name"
    assert refused(secretariat) == f"{kinds} may name"  # not unless the policy says so


async def test_a_key_the_provider_rotated_in_is_fetched_when_a_token_names_it(
    database_url: str, member: Organisation
) -> None:
    async with identity_provider() as idp:
        settings = oauth_settings(
            database_url,
            jwks_max_age_seconds=3600,
            jwks_refresh_interval_seconds=0,
            external_issuers=[policy(idp, token_types=["JWT"])],
        )
        async with running_hub(settings) as base:
            first = await ask(base, idp.token(idp.keys[0], str(member.id)))
            again = await ask(base, idp.token(idp.keys[0], str(member.id)))
            after_two = idp.fetches
            with_new_key = await ask(base, idp.token(idp.rotate(), str(member.id)))
            after_rotation = idp.fetches
    assert "errors" not in first
    assert "errors" not in again
    assert "errors" not in with_new_key
    assert after_two == 1  # the key set is cached
    assert after_rotation == 2  # the new kid caused one refresh


async def test_a_jwks_outage_keeps_the_keys_already_known(
    database_url: str, member: Organisation
) -> None:
    async with identity_provider() as idp:
        settings = oauth_settings(
            database_url,
            jwks_max_age_seconds=0,
            jwks_refresh_interval_seconds=0,
            external_issuers=[policy(idp, token_types=["JWT"])],
        )
        key = idp.keys[0]
        async with running_hub(settings) as base:
            before = await ask(base, idp.token(key, str(member.id)))
            idp.keys.clear()  # the provider now publishes only its encryption key
            idp.keys.append(RSAKey.generate_key(2048, private=True, parameters={"kid": "other"}))
            gone = await ask(base, idp.token(key, str(member.id)))
    assert "errors" not in before
    assert refused(gone) == f"the token's key {key.kid!r} is not published by its issuer"
