"""One run per connector at a time: a live run refuses a second, a dead one is marked
INTERRUPTED and resumed after its marker when the same bytes are read again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import Conflict
from hub.imports.connectors import ConnectorConfig, add_connector
from hub.imports.models import ConnectorKind, RunStatus
from hub.imports.runs import STALE_AFTER, advance, start_run
from hub.types import utcnow
from tests.fixtures.factories import add_member


async def test_a_live_run_refuses_a_second_and_a_dead_one_is_resumed(
    session: AsyncSession,
) -> None:
    member = await add_member(session, iati_identifier="XM-DAC-7")
    config = ConnectorConfig(reporting_orgs=("XM-DAC-7",))
    connector = await add_connector(session, "nl", ConnectorKind.IATI_FILE, member.id, config)
    first, resume = await start_run(session, connector, "/data/a.xml", "d1")
    assert (resume.run_id, resume.position) == (None, 0)
    advance(first, 40, {"fetched": 40, "created": 40})
    await session.flush()

    with pytest.raises(Conflict, match="connector nl is running already") as refused:
        await start_run(session, connector, "/data/a.xml", "d1")
    assert refused.value.code == "RUN_IN_PROGRESS"

    first.process_id = "another-host:1234"  # a run on another host, silent too long
    first.heartbeat_at = utcnow() - STALE_AFTER - timedelta(seconds=1)
    second, resume = await start_run(session, connector, "/data/a.xml", "d1")
    assert first.status is RunStatus.INTERRUPTED
    assert (resume.run_id, resume.position, second.resumed_from) == (first.id, 40, first.id)

    second.process_id = "another-host:1234"
    second.heartbeat_at = utcnow() - STALE_AFTER - timedelta(seconds=1)
    other_bytes, resume = await start_run(session, connector, "/data/a.xml", "d2")
    assert (resume.run_id, resume.position, other_bytes.position) == (None, 0, 0)
