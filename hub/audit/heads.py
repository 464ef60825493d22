"""Signed tree heads: the log's size and root, signed with the hub's audit key, kept in
``audit_tree_heads`` and sent to the export targets (docs/audit.md).

``p2c-hub serve`` signs one every ``HUB_AUDIT_HEAD_INTERVAL_SECONDS`` when the log has grown
or its newest head is older than ``HUB_AUDIT_HEAD_MAX_AGE_SECONDS``, and when asked with
SIGUSR1 (``run``); ``p2c-hub audit head`` signs one at once. One signer
at a time: a PostgreSQL advisory lock, SQLite's write lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.delivery import Sessions, Target, deliver_pending
from hub.audit.models import TreeHead
from hub.audit.notes import Checkpoint, NoteError, read, sign
from hub.audit.tree import root_at, tree_size
from hub.errors import HubError
from hub.keys.service import open_audit_key
from hub.keys.vault import Vault
from hub.types import utcnow

log = structlog.get_logger("hub.audit")

LOCK = 0x50324348  # "P2CH": one signer at a time on PostgreSQL


async def newest_head(session: AsyncSession, size: int | None = None) -> TreeHead | None:
    """The newest head (of ``size`` leaves, when given)."""
    query = select(TreeHead).order_by(TreeHead.id.desc()).limit(1)
    if size is not None:
        query = query.where(TreeHead.tree_size == size)
    return await session.scalar(query)


async def sign_head(
    session: AsyncSession, vault: Vault, now: datetime, max_age: timedelta | None = None
) -> TreeHead | None:
    """Sign a head of the log as it stands, unless the newest head has its size already and is
    younger than ``max_age`` (then that one stands: a fresh head of a quiet log tells it from a
    frozen one); None when the hub has no audit key (p2c-hub keys init makes one)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(LOCK)))
    size = await tree_size(session)
    newest = await newest_head(session)
    fresh = newest is not None and (max_age is None or now - newest.signed_at < max_age)
    if newest is not None and newest.tree_size == size and fresh:
        return newest
    signer = await open_audit_key(session, vault, now)
    if signer is None:
        return None
    if newest is not None:
        await _extends(session, newest, size)
    checkpoint = Checkpoint(signer.name, size, await root_at(session, size), now)
    head = TreeHead(
        tree_size=size,
        root_hash=checkpoint.root_hash.hex(),
        signed_at=checkpoint.time.replace(microsecond=0),
        key_id=signer.kid,
        note=sign(checkpoint, signer.name, signer.key),
    )
    session.add(head)
    await session.flush()
    return head


async def _extends(session: AsyncSession, newest: TreeHead, size: int) -> None:
    """Refuse to sign a log that does not extend the newest head: the hub never attests a log
    that lost or changed what it attested before (someone changed the database)."""
    try:
        signed, _, _ = read(newest.note)
    except NoteError as error:
        raise HubError(
            f"tree head {newest.id} is not a signed tree head ({error}): the table was changed "
            "in the database; no head is signed (run p2c-hub audit verify)",
            code="LOG_NOT_EXTENDED",
        ) from None
    if size < signed.tree_size or await root_at(session, signed.tree_size) != signed.root_hash:
        raise HubError(
            f"the log no longer extends tree head {newest.id} ({signed.tree_size} leaves): it "
            "was changed in the database; no head is signed (run p2c-hub audit verify)",
            code="LOG_NOT_EXTENDED",
        )


async def run(
    sessions: Sessions,
    vault: Vault,
    targets: Sequence[Target],
    interval: float,
    stop: asyncio.Event,
    asked: asyncio.Event | None = None,
    max_age: timedelta | None = None,
) -> None:
    """Sign a head (``sign_head``) and deliver what is pending every ``interval`` seconds, and
    at once when ``asked`` is set (serve sets it on SIGUSR1), until ``stop``."""
    asked = asked if asked is not None else asyncio.Event()
    warned = False
    while not stop.is_set():
        try:
            async with sessions() as session:
                head = await sign_head(session, vault, utcnow(), max_age)
                await session.commit()
            if head is None and not warned:
                log.warning("audit.no_signing_key", hint="run p2c-hub keys init")
            warned = head is None
        except HubError as error:
            log.error("audit.head_refused", error=error.message, code=error.code)
        except Exception as error:  # the database is away: try again at the next turn
            log.warning("audit.head_failed", error=str(error))
        try:  # heads signed before still go, whatever became of this turn's
            await deliver_pending(sessions, targets)
        except Exception as error:
            log.warning("audit.heads_not_delivered", error=str(error))
        await _pause(interval, stop, asked)


async def _pause(interval: float, *events: asyncio.Event) -> None:
    """Wait ``interval`` seconds, or until one of ``events`` is set; clear the others'."""
    waiting = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiting, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waiting:
            task.cancel()
    for event in events[1:]:
        event.clear()
