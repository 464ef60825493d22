"""The ``jti`` deny-list: revoked access tokens, kept until they would have expired."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.models import RevokedToken


async def deny(
    session: AsyncSession, *, jti: str, client_id: str, expires_at: datetime, now: datetime
) -> bool:
    """Refuse the token ``jti`` from now on; revoking twice, even at once, changes nothing
    (the answer is whether this call revoked it).

    Entries whose tokens have expired are dropped on the way: an expired token is refused
    anyway, so the list only ever holds tokens that could still be used.
    """
    await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    added = await session.execute(
        insert(RevokedToken)
        .values(jti=jti, client_id=client_id, expires_at=expires_at, revoked_at=now)
        .on_conflict_do_nothing(index_elements=[RevokedToken.jti])
    )
    return bool(getattr(added, "rowcount", 0))
