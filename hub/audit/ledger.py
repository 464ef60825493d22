"""``record`` (a record's change) and ``record_change`` (any other, such as an import's
counts): the one way audit events are written, in the transaction of the change.

Commands call it once they have made a change, with the principal that made it and the
subject's fields as they were before; a refused or rolled-back change leaves no event, since
the event goes with the transaction (or the savepoint) that made it. What a session's changes
came through (a request and its idempotency key, the operator at the console, a connector's
sync run) is set once on the session with ``trail``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect, literal_column
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.canonical import canonical, event_hash, parse, plain
from hub.audit.models import AuditEvent
from hub.auth.principal import Principal
from hub.db import Base
from hub.types import utcnow

_TRAIL = "hub.audit.trail"

_SWITCHED_OFF: ContextVar[bool] = ContextVar("hub.audit.switched_off", default=False)

TRANSACTION_ID: Any = literal_column("pg_current_xact_id()::text::bigint")
"""The writing transaction's id on PostgreSQL (see hub.audit.sequencer)."""


@dataclass(frozen=True, slots=True)
class Trail:
    """What a session's changes came through."""

    request_id: str | None = None
    idempotency_key: str | None = None
    operator: str | None = None
    connector: str | None = None
    sync_run_id: int | None = None


def trail(session: AsyncSession, through: Trail) -> None:
    """Record ``through`` on every event ``session`` writes from now on."""
    session.info[_TRAIL] = through


def actor(session: AsyncSession, principal: Principal) -> str:
    """Who acts, in words, from what an event written in ``session`` names of its actor: the
    client's kind and id, the member it acts for, the operator at the console, the connector
    (for a record that keeps who did something, such as a resolved review item)."""
    through: Trail = session.info.get(_TRAIL, Trail())
    words = [principal.kind.value if principal.kind is not None else "ANONYMOUS"]
    if principal.client_id is not None:
        words.append(principal.client_id)
    if principal.member_id is not None:
        words.append(f"for member {principal.member_id}")
    if through.operator is not None:
        words.append(f"by operator {through.operator}")
    if through.connector is not None:
        words.append(f"through connector {through.connector}")
    return " ".join(words)[:200]


def snapshot(subject: Base) -> dict[str, Any]:
    """A record's own fields, by attribute name."""
    return {
        column.key: getattr(subject, column.key) for column in inspect(type(subject)).column_attrs
    }


def entity_type(subject: Base) -> str:
    return type(subject).__name__


SECRETS = frozenset({"secret_hash", "private_key", "secret"})
"""Fields whose values never enter the ledger: that they changed is recorded, not what to."""

WITHHELD = "(withheld)"


def changes_between(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that changed, each with its value before and after (all of them for a new
    record, whose values before are null); secrets are withheld."""
    old = before or {}
    changed = {
        name: (plain(old.get(name)), plain(value))
        for name, value in after.items()
        if before is None or plain(old.get(name)) != plain(value)
    }
    return {
        name: (
            {"before": WITHHELD if was is not None else None, "after": WITHHELD}
            if name in SECRETS
            else {"before": was, "after": now}
        )
        for name, (was, now) in changed.items()
    }


def changes_of(text: str) -> Any:
    """An event's changes as written; text that is not canonical JSON (changed in the
    database: a float, a NaN, a broken document) stays text, so that the event's hashes no
    longer match and verification names it, rather than failing on it."""
    try:
        return parse(text)
    except (ValueError, RecursionError):
        return text


def document(event: AuditEvent) -> dict[str, Any]:
    """What an event's canonical form is made of (see the README's "The audit ledger")."""
    return {
        "action": event.action,
        "actor": {
            "client_id": event.actor_client_id,
            "connector": event.connector,
            "kind": event.actor_kind,
            "member_id": event.actor_member_id,
            "operator": event.actor_operator,
            "sync_run_id": event.sync_run_id,
        },
        "changes": changes_of(event.changes),
        "entity": {"id": event.entity_id, "type": event.entity_type},
        "idempotency_key": event.idempotency_key,
        "request_id": event.request_id,
        "time": event.occurred_at,
    }


@contextmanager
def switched_off() -> Iterator[None]:
    """No events while the block runs: for bench/ledger.py, which measures what the ledger
    costs a write, and nothing else (never a setting)."""
    token = _SWITCHED_OFF.set(True)
    try:
        yield
    finally:
        _SWITCHED_OFF.reset(token)


def recording() -> bool:
    """Whether events are written (always, but inside ``switched_off``)."""
    return not _SWITCHED_OFF.get()


async def record(
    session: AsyncSession,
    principal: Principal,
    action: str,
    subject: Base,
    before: Mapping[str, Any] | None = None,
    parts: Mapping[str, Any] | None = None,
) -> None:
    """Add the event of ``principal`` doing ``action`` to ``subject`` (a flushed record) to the
    session; ``before`` is ``snapshot(subject)`` taken before the change, None for a new one.
    ``parts`` are the changes of what the record holds in rows of its own (a pledge's
    countries and targets, a report's values, an endorsement's roles), from ``changes_between``."""
    key = inspect(subject).identity
    record_change(
        session,
        principal,
        action,
        entity_type(subject),
        "/".join(str(part) for part in key or ()),
        {**changes_between(before, snapshot(subject)), **(parts or {})},
    )


def record_change(
    session: AsyncSession,
    principal: Principal,
    action: str,
    entity: str,
    entity_id: str,
    changes: Mapping[str, Any],
) -> None:
    """Add an event with ``changes`` made already (``{field: {"before": …, "after": …}}``):
    for what is not one record, such as an import of many (its counts)."""
    if _SWITCHED_OFF.get():
        return
    through: Trail = session.info.get(_TRAIL, Trail())
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_kind=principal.kind.value if principal.kind is not None else "ANONYMOUS",
        actor_client_id=principal.client_id,
        actor_member_id=principal.member_id,
        actor_operator=through.operator,
        connector=through.connector,
        sync_run_id=through.sync_run_id,
        action=action,
        entity_type=entity,
        entity_id=entity_id,
        changes=canonical(dict(changes)).decode(),
        request_id=through.request_id,
        idempotency_key=through.idempotency_key,
    )
    event.event_hash = event_hash(canonical(document(event))).hex()
    if session.get_bind().dialect.name == "postgresql":
        event.transaction_id = TRANSACTION_ID
    session.add(event)
