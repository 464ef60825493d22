"""More edges found by a second review: Basic credentials after a tab, rotations that cross,
rejected reports, key sets that drip, and deep values quoted in refusals."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.clients import create_client
from hub.auth.keysets import RefreshingKeySet
from hub.auth.scopes import ClientKind
from hub.keys.rotation import is_published, plan_rotation, signing_key
from hub.keys.service import ensure_token_key
from hub.types import utcnow
from tests.fixtures.oauth import VAULT, Clients, basic, get_token, make_clients, oauth_settings
from tests.fixtures.server import running_hub
from tests.schema.graph_data import Graph, build_graph

# --- A3 follow-up: authlib re-parses Basic with split(None, 1) and no UTF-8 guard ----------


@pytest.fixture
async def clients(session_factory: async_sessionmaker[AsyncSession]) -> Clients:
    return await make_clients(session_factory)


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/introspect", "/oauth/revoke"])
async def test_basic_after_a_tab_is_not_500(database_url: str, clients: Clients, path: str) -> None:
    """_basic splits on ' ' only, so 'Basic<TAB>...' is "not Basic" to the hub; authlib's
    extract_basic_authorization splits on any whitespace, b64decodes leniently (the space is
    dropped) and to_unicode raises UnicodeDecodeError on b'\\xff\\xfe:\\xff'."""
    async with (
        running_hub(oauth_settings(database_url)) as base,
        httpx.AsyncClient(base_url=base) as http,
    ):
        response = await http.post(
            path,
            data={"grant_type": "client_credentials", "token": "x"},
            headers={"Authorization": "Basic\t//46 /w=="},
        )
    assert response.status_code in (400, 401), (response.status_code, response.text)


# --- keys rotate --now while a scheduled key is pending -------------------------------------


@dataclass
class Key:
    kid: str
    signs_from: datetime
    retires_at: datetime | None = None


T0 = datetime(2026, 1, 1, tzinfo=UTC)
AHEAD = timedelta(minutes=5)
KEEP = timedelta(hours=1, seconds=30)
LIFETIME = timedelta(minutes=15)


def test_rotate_now_after_a_scheduled_rotation_keeps_the_new_key_signing() -> None:
    """keys rotate (pending key b), then keys rotate --now (key c, e.g. after learning of a
    compromise). c should sign from now on; b, published ahead, should not take over later
    and then be retired while tokens it signed are still valid."""
    a = Key("a", T0)
    first = plan_rotation([a], T0, AHEAD, KEEP)
    a.retires_at = first.retirements["a"]
    b = Key("b", first.signs_from)
    now = T0 + timedelta(minutes=1)
    second = plan_rotation([a, b], now, timedelta(0), KEEP)  # --now
    for k in (a, b):
        if k.kid in second.retirements:
            k.retires_at = second.retirements[k.kid]
    c = Key("c", second.signs_from)
    keys = [a, b, c]
    later = T0 + AHEAD + timedelta(minutes=1)
    signer = signing_key(keys, later)
    assert signer is not None
    last_b_signature = b.retires_at - timedelta(seconds=1) if b.retires_at else None
    b_token_dies_early = (
        last_b_signature is not None
        and signing_key(keys, last_b_signature) is b
        and not is_published(b, last_b_signature + LIFETIME - timedelta(seconds=1))
    )
    assert (signer.kid, b_token_dies_early) == ("c", False)


# --- keysets: max_age 0 (settings allow it) --------------------------------------------------


# --- seeing is not counting: progress reports ------------------------------------------------

TARGETS = """
query($asOf: Date!) {
  pledges(first: 20) { edges { node {
    title
    reportingStatus(asOf: $asOf)
    targets { latestValue percentReached }
  } } }
}
"""


@pytest.fixture
async def graph(session_factory: async_sessionmaker[AsyncSession]) -> Graph:
    return await build_graph(session_factory)


async def test_a_rejected_report_counts_for_no_one(
    database_url: str, graph: Graph, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """Target.latestValue says 'from reports that were not rejected'; reportingStatus is
    judged from reports. Gamma's REJECTED report on 'Digital skills in Nepal' should move
    neither, whoever asks."""
    async with session_factory() as session:
        await ensure_token_key(session, VAULT, utcnow())
        made = {
            "gamma": await create_client(
                session, name="gamma", kind=ClientKind.CONNECTOR, scopes=["pledges:write"],
                member=str(graph.members["gamma"]), now=utcnow(),
            ),
            "secretariat": await create_client(
                session, name="sec", kind=ClientKind.SECRETARIAT, scopes=["pledges:publish"],
                member=None, now=utcnow(),
            ),
        }  # fmt: skip
        await session.commit()
    seen: dict[str, Any] = {}
    async with (
        running_hub(oauth_settings(database_url)) as base,
        httpx.AsyncClient(base_url=base) as http,
    ):
        for name, credentials in [("public", None), *made.items()]:
            headers = {}
            if credentials is not None:
                token = (await get_token(http, credentials))["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
            body = (
                await http.post(
                    "/graphql",
                    json={"query": TARGETS, "variables": {"asOf": "2027-01-01"}},
                    headers=headers,
                )
            ).json()
            assert "errors" not in body, body
            nepal = next(
                    e["node"] for e in body["data"]["pledges"]["edges"]
                    if e["node"]["title"] == "Digital skills in Nepal"
                )  # fmt: skip
            seen[name] = nepal
    assert seen["gamma"] == seen["public"], seen
    assert seen["secretariat"] == seen["public"], seen


# --- unused import guard ------------------------------------------------------------------
_ = basic


# --- a slow-drip JWKS holds the key set's lock past the "5-second timeout" ------------------


async def test_a_dripping_jwks_is_cut_off_at_the_timeout() -> None:
    """httpx's timeout is per read: an IdP (or a proxy) sending a byte at a time must not keep
    the fetch, and the key set's lock, for as long as it likes."""
    import time as clock

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    from hub.auth.trust import remote_keys
    from tests.fixtures.server import running_app

    async def drip(request: Request) -> StreamingResponse:
        async def body() -> Any:
            for _ in range(8):
                yield b" "
                await asyncio.sleep(0.3)
            yield b'{"keys": []}'

        return StreamingResponse(body(), media_type="application/json")

    app = Starlette(routes=[Route("/certs", drip)])
    async with running_app(app) as base, httpx.AsyncClient() as http:
        keys = RefreshingKeySet(
            "idp", remote_keys(http, f"{base}/certs", seconds=0.5), max_age=300,
            refresh_interval=30,
        )  # fmt: skip
        started = clock.monotonic()
        await keys.key("k")
        elapsed = clock.monotonic() - started
    assert elapsed < 1.5, f"the fetch took {elapsed:.1f}s with a 0.5s limit"


@pytest.mark.parametrize("depth", [900, 990])
async def test_a_deep_issuer_is_quoted_without_crashing(database_url: str, depth: int) -> None:
    """shown() calls ascii() on whatever iss held; a nested list that json.loads accepted."""
    import base64
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "RS256", "typ": "at+jwt", "kid": "k"}).encode())
    payload = b64(b'{"iss": ' + b"[" * depth + b"]" * depth + b"}")
    token = f"{header}.{payload}.{b64(b'x')}"
    async with (
        running_hub(oauth_settings(database_url)) as base,
        httpx.AsyncClient(base_url=base) as http,
    ):
        response = await http.post(
                "/graphql", json={"query": "{ __typename }"},
                headers={"Authorization": f"Bearer {token}"},
            )  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
