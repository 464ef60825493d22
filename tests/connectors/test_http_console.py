"""``p2c-hub connectors add|show|remove`` and ``p2c-hub sync`` at the console, against the
partner API on loopback: a connector checked before it is saved, its secret sealed and never
shown, a run with its table, a second run already running refused. SQLite only: the
commands' work is the same on both (``test_http_sync`` runs both backends)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import pytest

from tests.connectors.test_http_sync import World, no_backoff, rated, world
from tests.fixtures.factories import add_member
from tests.fixtures.oauth import ENCRYPTION_KEY
from tests.fixtures.partner_api import BadRecord, worldbank_projects
from tests.test_cli import P2C_HUB, hub_env

__all__ = ["no_backoff", "rated", "world"]  # the fixtures, shared with test_http_sync


@pytest.fixture
def backend() -> str:
    return "sqlite"


@dataclass
class Done:
    status: int
    out: str
    err: str


async def console(world: World, *args: str, secret: str | None = None) -> Done:
    """``p2c-hub ARGS`` in a process of its own, while this loop serves the APIs."""
    env = hub_env(database_url=world.url, key_encryption_keys=ENCRYPTION_KEY)
    if secret is not None:
        env["WB_SECRET"] = secret
    process = await asyncio.create_subprocess_exec(
        *P2C_HUB, *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return Done(process.returncode, out.decode(), err.decode())


async def test_a_world_bank_connector_from_the_console(world: World) -> None:
    world.api.worldbank = worldbank_projects(5)
    api, client = world.api, world.client
    async with world.sessions() as session:
        await add_member(session, name="World Bank", iati_identifier="44000")
        await session.commit()
    add = ["connectors", "add", "wb", "--member", "44000", "--kind", "WORLD_BANK",
           "--url", api.base_url, "--token-url", f"{api.base_url}/oauth/token",
           "--client-id", client.client.client_id, "--audience", api.audience,
           "--page-size", "2", "--every", "3600"]  # fmt: skip

    wrong = await console(world, *add, "--secret-env", "WB_SECRET", secret="not-the-secret")
    assert wrong.status == 1
    assert "UNREACHABLE" not in wrong.err  # the words, not the code, at the console
    assert "token endpoint refused the connector's credentials: invalid_client" in wrong.err
    missing = await console(world, *add)
    assert missing.status == 1
    assert "give the connector's client secret" in missing.err

    added = await console(world, *add, "--secret-env", "WB_SECRET", secret=client.secret)
    assert added.status == 0, added.err
    shown = await console(world, "connectors", "show", "wb")
    assert client.secret not in shown.out
    fields = json.loads(shown.out)
    assert (fields["hasSecret"], fields["every"], fields["failures"]) == (True, 3600, 0)
    assert fields["config"]["http"]["audience"] == api.audience

    api.fault("worldbank", BadRecord(index=1))  # the second project of the first page
    synced = await console(world, "sync", "wb")
    assert synced.status == 0, synced.err
    assert "wb: [############------------------] 2/5 committed" in synced.err
    [header, row] = synced.out.strip().splitlines()
    assert header.split()[:8] == [
        "connector", "status", "fetched", "created", "updated", "unchanged", "rejected",
        "unclaimed",
    ]  # fmt: skip
    assert row.split()[:7] == ["wb", "SUCCEEDED", "5", "4", "0", "0", "1"]
    assert client.secret not in synced.out + synced.err
    retried = await console(world, "deadletters", "retry", "--connector", "wb")
    assert retried.status == 0, retried.err
    assert retried.out.splitlines()[1].split()[-1] == "1"  # read again from its payload: still bad
    letters = json.loads((await console(world, "deadletters", "list", "--json")).out)
    assert [(x["externalId"], x["attempts"]) for x in letters] == [("P900002", 2)]
    assert letters[0]["reason"].startswith("UNMAPPABLE")

    refused = await console(world, "connectors", "remove", "wb")
    assert refused.status == 1
    assert "brought 4 source record(s)" in refused.err
