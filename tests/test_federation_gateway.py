"""The hub behind a real Apollo Gateway, composed with a partner's subgraph written in Node.js
(tests/federation/, installed by npm ci from its lock file)."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.settings import Settings
from tests.fixtures.server import running_hub
from tests.schema.graph_data import Graph, build_graph
from tests.schema.http import gid
from tests.test_cli import free_port

FEDERATION = Path(__file__).parent / "federation"


@contextmanager
def node(script: str, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["node", script, *(["serve"] if script == "partner.mjs" else [])],
            cwd=FEDERATION, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def said(log: Path) -> str:
    return log.read_text(errors="replace")


async def wait_for(log: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if text in said(log):
            return
        if process.poll() is not None:
            break
        await asyncio.sleep(0.1)
    pytest.fail(f"{log.name} never said {text!r}:\n{said(log)}")


@pytest.fixture
async def graph(session_factory: async_sessionmaker[AsyncSession]) -> Graph:
    return await build_graph(session_factory)


@pytest.fixture
async def gateway(graph: Graph, database_url: str, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    ports = {"partner": free_port(), "report": free_port(), "gateway": free_port()}
    featured = ",".join(gid("Pledge", graph.pledges[name]) for name in ("p1", "p7", "p2"))
    async with running_hub(Settings(database_url=database_url)) as hub:
        partner_env = {"PORT": str(ports["partner"]), "REPORT_PORT": str(ports["report"]),
                       "FEATURED": featured}  # fmt: skip
        with node("partner.mjs", partner_env, tmp_path / "partner.log") as partner:
            await wait_for(tmp_path / "partner.log", "partner ready", partner)
            gateway_env = {
                "HUB_URL": f"{hub}/graphql",
                "PARTNER_URL": f"http://127.0.0.1:{ports['partner']}/",
                "PORT": str(ports["gateway"]),
            }
            with node("gateway.mjs", gateway_env, tmp_path / "gateway.log") as gateway:
                await wait_for(tmp_path / "gateway.log", "gateway ready", gateway)
                yield {
                    "url": f"http://127.0.0.1:{ports['gateway']}/",
                    "report": f"http://127.0.0.1:{ports['report']}/",
                    "graph": graph,
                }


async def post(url: str, query: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(url, json={"query": query})
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_queries_cross_both_subgraphs_with_batched_entities(
    gateway: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    graph: Graph = gateway["graph"]
    hub_to_partner = await post(
        gateway["url"],
        "{ pledges(first: 3) { edges { node { id title partnerNote "
        "lead { name partnerRating } } } } }",
    )
    capsys.readouterr()
    partner_to_hub = await post(gateway["url"], "{ featuredPledges { title lead { name } } }")
    hub_requests = capsys.readouterr().out.count("path=/graphql")
    batches = await post(gateway["report"], "{ batches }")

    ids = [gid("Pledge", graph.pledges[name]) for name in ("p1", "p2", "p5")]
    assert hub_to_partner == {"data": {"pledges": {"edges": [
        {"node": {"id": ids[0], "title": "Fibre for Bhutan schools",
                  "partnerNote": f"noted {ids[0]}",
                  "lead": {"name": "Alpha Telecom", "partnerRating": len(
                      gid("Organisation", graph.members["alpha"]))}}},
        {"node": {"id": ids[1], "title": "Spectrum policy for Fiji",
                  "partnerNote": f"noted {ids[1]}",
                  "lead": {"name": "Beta Fund", "partnerRating": len(
                      gid("Organisation", graph.members["beta"]))}}},
        {"node": {"id": ids[2], "title": "Satellite for São Tomé",
                  "partnerNote": f"noted {ids[2]}",
                  "lead": {"name": "Beta Fund", "partnerRating": len(
                      gid("Organisation", graph.members["beta"]))}}},
    ]}}}  # fmt: skip
    assert partner_to_hub == {"data": {"featuredPledges": [
        {"title": "Fibre for Bhutan schools", "lead": {"name": "Alpha Telecom"}},
        {"title": "Digital skills in Nepal", "lead": {"name": "Gamma University"}},
        {"title": "Spectrum policy for Fiji", "lead": {"name": "Beta Fund"}},
    ]}}  # fmt: skip
    assert hub_requests == 1, "three pledges, one _entities request to the hub"
    assert 3 in batches["data"]["batches"], "the partner got its three pledges in one batch"
