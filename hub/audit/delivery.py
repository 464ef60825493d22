"""Export targets for signed tree heads: places the database's administrators do not control,
which receive each head once it is signed, in order, at least once (docs/audit.md)."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import stat
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

import httpx
import structlog
from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.models import HeadDelivery, TreeHead
from hub.settings import Settings
from hub.types import utcnow

log = structlog.get_logger("hub.audit")

HTTP_SECONDS = 10.0
"""The longest a target may take to take a head, answer included."""
MAX_LINE = 64 * 1024
"""Longer than any head's line: how far back an unfinished line is looked for."""


class DeliveryFailed(Exception):
    """A target did not take a head; it is tried again, from that head, at the next turn."""


def head_line(note: str) -> bytes:
    """A head as one JSON line, the form every target and the export use."""
    return json.dumps({"type": "head", "note": note}, ensure_ascii=False).encode() + b"\n"


class Target(Protocol):
    """Somewhere heads go, one JSON line at a time."""

    @property
    def name(self) -> str:
        """How the target is recorded in ``audit_head_deliveries``."""

    async def deliver(self, line: bytes) -> None:
        """Hand ``line`` over for good, or raise ``DeliveryFailed``."""


@dataclass(frozen=True, slots=True)
class FileTarget:
    """Appends each head to a file, on disk before it counts as delivered."""

    path: Path

    @property
    def name(self) -> str:
        return f"file:{self.path}"

    async def deliver(self, line: bytes) -> None:
        await asyncio.to_thread(self._append, line)

    def _append(self, line: bytes) -> None:
        """Append ``line`` holding the file's lock (``audit head`` may deliver beside
        ``serve``); fsync before it counts as delivered."""
        try:
            with self.path.open("ab") as out:
                regular = stat.S_ISREG(os.fstat(out.fileno()).st_mode)  # not a pipe, a tty
                if regular:
                    fcntl.flock(out.fileno(), fcntl.LOCK_EX)
                    self._cut_unfinished(out)
                out.write(line)
                out.flush()
                if regular:
                    os.fsync(out.fileno())
        except OSError as error:
            raise DeliveryFailed(f"{self.path}: {error.strerror or error}") from None

    def _cut_unfinished(self, out: IO[bytes]) -> None:
        """Cut off a line an earlier attempt left unfinished (a full disk, a crash): it was
        never counted as delivered, and would spoil the file. Skipped when the hub may append
        to the file but not read it."""
        size = os.fstat(out.fileno()).st_size
        start = max(0, size - MAX_LINE)
        try:
            with self.path.open("rb") as reader:
                reader.seek(start)
                tail = reader.read(size - start)
        except PermissionError:
            return
        if tail and not tail.endswith(b"\n"):
            out.truncate(start + tail.rfind(b"\n") + 1)


@dataclass(frozen=True, slots=True)
class HttpTarget:
    """POSTs each head as JSON; any 2xx is delivery."""

    url: str
    client: httpx.AsyncClient
    token: str | None = None

    @property
    def name(self) -> str:
        return self.url

    async def deliver(self, line: bytes) -> None:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            async with asyncio.timeout(HTTP_SECONDS):
                answer = await self.client.post(
                    self.url, content=line, headers=headers, timeout=HTTP_SECONDS
                )
        except (httpx.HTTPError, TimeoutError) as error:
            raise DeliveryFailed(f"{self.url}: {error!r}") from None
        if not answer.is_success:
            raise DeliveryFailed(f"{self.url} answered {answer.status_code}")


Sessions = Callable[[], AbstractAsyncContextManager[AsyncSession]]


async def deliver_pending(sessions: Sessions, targets: Sequence[Target]) -> int:
    """Send each target the heads it has not had, oldest first; how many were sent. A target
    that fails is left at the head it failed on (``DeliveryFailed`` is logged, not raised),
    so it never receives a newer head before an older one."""
    sent = 0
    for target in targets:
        delivered = and_(HeadDelivery.head_id == TreeHead.id, HeadDelivery.target == target.name)
        async with sessions() as session:
            pending = (
                await session.execute(
                    select(TreeHead.id, TreeHead.note)
                    .outerjoin(HeadDelivery, delivered)
                    .where(HeadDelivery.head_id.is_(None))
                    .order_by(TreeHead.id)
                )
            ).all()
        for head_id, note in pending:
            try:
                await target.deliver(head_line(note))
            except DeliveryFailed as error:
                log.warning("audit.head_not_delivered", target=target.name, error=str(error))
                break
            await _delivered(sessions, head_id, target.name)
            sent += 1
    return sent


async def _delivered(sessions: Sessions, head_id: int, target: str) -> None:
    try:
        async with sessions() as session:
            session.add(HeadDelivery(head_id=head_id, target=target, delivered_at=utcnow()))
            await session.commit()
    except IntegrityError:  # another process delivered it too: the target has it twice
        pass


def targets(settings: Settings, client: httpx.AsyncClient) -> list[Target]:
    """The export targets the settings name (``HUB_AUDIT_HEADS_FILE``, ``_URL``)."""
    chosen: list[Target] = []
    if settings.audit_heads_file is not None:
        chosen.append(FileTarget(settings.audit_heads_file))
    if settings.audit_heads_url is not None:
        token = settings.audit_heads_token
        secret = token.get_secret_value() if token is not None else None
        chosen.append(HttpTarget(settings.audit_heads_url, client, secret))
    return chosen
