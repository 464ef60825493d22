"""Configuring connectors, as the secretariat does at the console or through GraphQL: each
change made by its service and recorded in the audit ledger, in the caller's transaction.

Whether the source answers is checked before, by the caller (``connectors.checks``, over the
network: never inside a transaction).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.ledger import record, snapshot
from hub.auth.principal import Principal
from hub.imports.connectors import ConnectorConfig, add_connector, get_connector, remove_connector
from hub.imports.models import Connector, ConnectorKind
from hub.imports.schedule import set_schedule
from hub.keys.vault import Vault


async def add(
    session: AsyncSession,
    principal: Principal,
    vault: Vault,
    name: str,
    kind: ConnectorKind,
    member_id: int,
    config: ConnectorConfig,
    *,
    secret: str | None,
    every_seconds: int | None,
) -> Connector:
    """Add a connector; its secret (client secret or API key) is sealed, and the ledger
    records that it has one, never what it is."""
    sealed = vault.seal(secret.encode()) if secret is not None else None
    connector = await add_connector(session, name, kind, member_id, config,
                                    sealed_secret=sealed, every_seconds=every_seconds)  # fmt: skip
    await record(session, principal, "connector.add", connector)
    return connector


async def schedule(
    session: AsyncSession, principal: Principal, name: str, every_seconds: int | None
) -> Connector:
    """Run the connector every ``every_seconds``, or only when asked (None)."""
    connector = await get_connector(session, name)
    before = snapshot(connector)
    scheduled = await set_schedule(session, connector, every_seconds)
    await record(session, principal, "connector.schedule", scheduled, before)
    return scheduled


async def remove(session: AsyncSession, principal: Principal, name: str) -> Connector:
    """Remove a connector that brought no record and is not running."""
    connector = await remove_connector(session, name)
    await record(session, principal, "connector.remove", connector)
    return connector
