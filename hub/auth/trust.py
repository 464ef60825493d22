"""Composing the validator: the hub's own keys from its database, external issuers' keys
fetched from their JWKS URLs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.endpoints import JWKS_PATH
from hub.auth.issuers import IssuerPolicy
from hub.auth.keysets import Fetch, RefreshingKeySet
from hub.auth.scopes import ClientKind
from hub.auth.validation import TokenValidator
from hub.keys.service import SIGNING_ALGORITHM, published_token_jwks
from hub.settings import Settings
from hub.types import utcnow

MAX_JWKS_BYTES = 512 * 1024
FETCH_SECONDS = 5.0


class JwksError(Exception):
    """An issuer's key set could not be fetched or read."""


def own_keys(
    session_factory: async_sessionmaker[AsyncSession], clock: Callable[[], datetime] = utcnow
) -> Fetch:
    """The hub's published signing keys, read from its database."""

    async def fetch() -> list[dict[str, Any]]:
        async with session_factory() as session:
            return await published_token_jwks(session, clock())

    return fetch


def remote_keys(http: httpx.AsyncClient, url: str, *, seconds: float = FETCH_SECONDS) -> Fetch:
    """An external issuer's keys, fetched from its JWKS URL within ``seconds`` (the whole
    fetch, not each read) and ``MAX_JWKS_BYTES``."""

    async def download() -> bytes:
        body = bytearray()
        async with http.stream("GET", url, headers={"Accept": "application/json"}) as response:
            if response.status_code != 200:
                raise JwksError(f"{url} answered {response.status_code}")
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise JwksError(f"{url} sent more than {MAX_JWKS_BYTES} bytes")
        return bytes(body)

    async def fetch() -> list[dict[str, Any]]:
        async with asyncio.timeout(seconds):
            body = await download()
        try:
            keys = json.loads(body)["keys"]
        except (ValueError, KeyError, TypeError, RecursionError):
            raise JwksError(f"{url} did not send a JWK set") from None
        if not isinstance(keys, list):
            raise JwksError(f"{url} did not send a list of keys")
        return [key for key in keys if isinstance(key, dict)]

    return fetch


def build_validator(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
) -> TokenValidator:
    """The validator trusting the hub itself and every configured external issuer."""

    def keyset(issuer: str, fetch: Fetch) -> RefreshingKeySet:
        return RefreshingKeySet(
            issuer,
            fetch,
            max_age=settings.jwks_max_age_seconds,
            refresh_interval=settings.jwks_refresh_interval_seconds,
        )

    own = IssuerPolicy(
        issuer=settings.issuer,
        jwks_url=f"{settings.issuer}{JWKS_PATH}",
        audience=settings.audience,
        algorithms=(SIGNING_ALGORITHM,),
        kinds=tuple(ClientKind),
    )
    return TokenValidator(
        (own, keyset(own.issuer, own_keys(session_factory))),
        [
            (policy, keyset(policy.issuer, remote_keys(http, policy.jwks_url)))
            for policy in settings.external_issuers
        ],
        session_factory,
        leeway=settings.token_leeway_seconds,
    )
