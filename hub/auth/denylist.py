"""The ``jti`` deny-list: revoked access tokens, kept until they would have expired."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.models import RevokedToken
from hub.integrity import flush


async def deny(
    session: AsyncSession, *, jti: str, client_id: str, expires_at: datetime, now: datetime
) -> None:
    """Refuse the token ``jti`` from now on; revoking twice changes nothing.

    Entries whose tokens have expired are dropped on the way: an expired token is refused
    anyway, so the list only ever holds tokens that could still be used.
    """
    await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    known = await session.scalar(select(RevokedToken.jti).where(RevokedToken.jti == jti))
    if known is None:
        session.add(
            RevokedToken(jti=jti, client_id=client_id, expires_at=expires_at, revoked_at=now)
        )
        await flush(session)
