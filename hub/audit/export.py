"""``p2c-hub audit export``: the log as it stands in one snapshot, as the JSON lines an
auditor's own tools read (docs/audit.md, "The export")."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.canonical import plain
from hub.audit.delivery import head_line
from hub.audit.ledger import document
from hub.audit.models import AuditEvent, AuditLeaf, TreeHead
from hub.audit.tree import tree_size
from hub.db import one_snapshot

FORMAT = "p2c-hub-audit-export/1"


def _line(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


@dataclass(frozen=True, slots=True)
class Exported:
    events: int
    heads: int


async def export(
    session: AsyncSession,
    out: IO[bytes],
    origin: str,
    now: datetime,
    progress: Callable[[int], None] = lambda _: None,
) -> Exported:
    """Write the log's leaves with their events, then every head; ``progress`` is told how
    many events were written, a thousand at a time. Call it on a new session, or after
    ``one_snapshot``."""
    await one_snapshot(session)
    size = await tree_size(session)
    header = {"type": "log", "format": FORMAT, "origin": origin, "tree_size": size}
    out.write(_line({**header, "exported_at": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}))
    rows = await session.stream(
        select(AuditLeaf, AuditEvent)
        .join(AuditEvent, AuditEvent.id == AuditLeaf.event_id)
        .where(AuditLeaf.leaf_number < size)
        .order_by(AuditLeaf.leaf_number)
        .execution_options(yield_per=1_000)
    )
    written = 0
    async for leaf, event in rows:
        entry = {
            "type": "event",
            "leaf": leaf.leaf_number,
            "event_id": event.id,
            "leaf_hash": leaf.leaf_hash,
            "event": plain(document(event)),
        }
        out.write(_line(entry))
        written += 1
        if written % 1_000 == 0:
            progress(1_000)
    progress(written % 1_000)
    heads = 0
    for note in await session.scalars(select(TreeHead.note).order_by(TreeHead.id)):
        out.write(head_line(note))
        heads += 1
    return Exported(written, heads)
