"""OAuth clients: created, listed, revoked and given new secrets by the secretariat.

A secret is shown once, when it is made; the hub keeps its SHA-256 digest and compares
digests in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.models import OAuthClient
from hub.auth.scopes import MEMBER_KINDS, ClientKind, parse_scopes, scope_string
from hub.errors import Conflict, InvalidInput, NotFound
from hub.integrity import flush
from hub.organisations.models import Organisation
from hub.organisations.service import find_organisation, require_member


def new_client_id() -> str:
    """A client id: public, unique, recognisable in logs."""
    return f"p2c-{secrets.token_hex(8)}"


def new_secret() -> str:
    """256 random bits, url-safe; the prefix lets secret scanners spot a leaked one."""
    return f"p2cs_{secrets.token_urlsafe(32)}"


def secret_digest(secret: str) -> str:
    """What the hub stores of a secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(secret: str, digest: str) -> bool:
    """Whether ``secret`` is the one ``digest`` was made from, in constant time."""
    return hmac.compare_digest(secret_digest(secret).encode(), digest.encode())


@dataclass(frozen=True, slots=True)
class Credentials:
    """A client and its new secret, which is never shown again."""

    client: OAuthClient
    secret: str


async def _member(session: AsyncSession, reference: str) -> Organisation:
    """A member named by its hub id or its IATI organisation identifier."""
    found = await find_organisation(session, reference, field="member")
    return await require_member(session, found.id, field="member")


async def create_client(
    session: AsyncSession,
    *,
    name: str,
    kind: ClientKind,
    scopes: Iterable[str],
    member: str | None,
    now: datetime,
) -> Credentials:
    """A new client of ``kind``; partners and connectors act for the ``member`` named."""
    if not name.strip():
        raise InvalidInput("give the client a name", field=("name",))
    if kind in MEMBER_KINDS and member is None:
        raise InvalidInput(f"a {kind.value} client acts for a member: name it", field=("member",))
    if kind not in MEMBER_KINDS and member is not None:
        raise InvalidInput(f"a {kind.value} client acts for no member", field=("member",))
    granted = parse_scopes(scopes, kind)
    member_id = (await _member(session, member)).id if member is not None else None
    secret = new_secret()
    client = OAuthClient(
        client_id=new_client_id(),
        name=name.strip(),
        kind=kind,
        member_id=member_id,
        scopes=scope_string(granted),
        secret_hash=secret_digest(secret),
        secret_set_at=now,
    )
    session.add(client)
    await flush(session)
    return Credentials(client, secret)


async def list_clients(session: AsyncSession, *, include_revoked: bool) -> list[OAuthClient]:
    """Clients in the order they were made."""
    query = select(OAuthClient).order_by(OAuthClient.id)
    if not include_revoked:
        query = query.where(OAuthClient.revoked_at.is_(None))
    return list(await session.scalars(query))


async def get_client(session: AsyncSession, client_id: str) -> OAuthClient:
    """The client with this id, revoked or not, or ``NotFound``."""
    client = await session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if client is None:
        raise NotFound(f"there is no client {client_id}", field=("clientId",))
    return client


async def find_active_client(session: AsyncSession, client_id: str) -> OAuthClient | None:
    """The client with this id unless it is unknown or revoked."""
    return await session.scalar(
        select(OAuthClient).where(
            OAuthClient.client_id == client_id, OAuthClient.revoked_at.is_(None)
        )
    )


async def revoke_client(session: AsyncSession, client_id: str, now: datetime) -> OAuthClient:
    """Revoke a client: it gets no more tokens, and the tokens it holds are refused."""
    client = await get_client(session, client_id)
    if client.revoked_at is not None:
        raise Conflict(f"client {client_id} was revoked already", code="ALREADY_REVOKED")
    client.revoked_at = now
    await flush(session)
    return client


async def rotate_secret(session: AsyncSession, client_id: str, now: datetime) -> Credentials:
    """A new secret for a client; the old one stops working at once (tokens it got live on)."""
    client = await get_client(session, client_id)
    if client.revoked_at is not None:
        raise Conflict(f"client {client_id} is revoked", code="CLIENT_REVOKED")
    secret = new_secret()
    client.secret_hash = secret_digest(secret)
    client.secret_set_at = now
    await flush(session)
    return Credentials(client, secret)
