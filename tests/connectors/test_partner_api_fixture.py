"""The partner API fixture itself, driven with plain httpx: its OAuth gateway, its paging and
each of its faults, so connector tests can trust what it does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.clients import Credentials, create_client, revoke_client
from hub.auth.scopes import ClientKind
from hub.types import utcnow
from tests.fixtures.oauth import make_clients, oauth_settings
from tests.fixtures.partner_api import (
    BROKEN_XML,
    BadRecord,
    CutConnection,
    CutJson,
    Delay,
    ExpireToken,
    Gzip,
    Huge,
    Malformed,
    PartnerApi,
    Status,
    datastore_docs,
    operator_records,
    running_partner_api,
    worldbank_projects,
)
from tests.fixtures.server import running_hub

CD = Path(__file__).parent.parent / "data/iati/CD.xml"


@pytest.fixture
def backend() -> str:
    """SQLite only: the fixture's behaviour does not depend on the hub's database."""
    return "sqlite"


@dataclass
class Setup:
    api: PartnerApi
    http: httpx.AsyncClient
    connector: Credentials
    session_factory: async_sessionmaker[AsyncSession]

    async def token(self, credentials: Credentials | None = None, **extra: str) -> str:
        given = credentials or self.connector
        form = {"grant_type": "client_credentials", "audience": self.api.audience, **extra}
        auth = (given.client.client_id, given.secret)
        response = await self.http.post("/oauth/token", data=form, auth=auth)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def bearer(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def setup(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Setup]:
    clients = await make_clients(session_factory)
    async with session_factory() as session:
        connector = await create_client(
            session, name="Alpha connector", kind=ClientKind.CONNECTOR,
            scopes=["pledges:write"], member=str(clients.member_id), now=utcnow(),
        )  # fmt: skip
        introspector = await create_client(
            session, name="Partner API", kind=ClientKind.AUDITOR, scopes=["audit:read"],
            member=None, now=utcnow(),
        )  # fmt: skip
        await session.commit()
    async with (
        running_hub(oauth_settings(database_url)) as hub,
        running_partner_api(
            hub,
            introspector,
            datastore=datastore_docs(CD),
            worldbank=worldbank_projects(7),
            operator=operator_records(5),
        ) as api,
        httpx.AsyncClient(base_url=api.base_url, timeout=5) as http,
    ):
        yield Setup(api, http, connector, session_factory)


async def test_gateway_paging_and_revocation(setup: Setup) -> None:
    api, http = setup.api, setup.http
    form = {"grant_type": "client_credentials"}
    credentials = (setup.connector.client.client_id, setup.connector.secret)
    refused = await http.post("/oauth/token", data=form, auth=credentials)
    assert refused.status_code == 400
    assert refused.json()["error_description"] == "audience is required"
    posted = form | {"client_id": credentials[0], "client_secret": credentials[1]}
    assert (await http.post("/oauth/token", data=posted)).status_code == 400
    assert api.token_requests == [form, {k: v for k, v in posted.items() if k != "client_secret"}]
    api.expires_in_override = 5
    response = await http.post(
        "/oauth/token", data=form | {"audience": api.audience}, auth=credentials
    )
    assert response.status_code == 200
    assert response.json()["expires_in"] == 5
    assert response.headers["cache-control"] == "no-store"
    bearer = setup.bearer(response.json()["access_token"])

    ids: list[str] = []
    params: dict[str, Any] = {"format": "json", "rows": 3, "os": 0}
    while True:
        page = (await http.get("/api/v2/projects", params=params, headers=bearer)).json()
        assert page["total"] == "7"
        assert page["page"] == params["os"] // 3 + 1
        if not page["projects"]:
            break
        ids += list(page["projects"])
        params["os"] += 3
    assert ids == [f"P9{n:05d}" for n in range(1, 8)]

    url: str | None = "/v1/commitments?limit=2&updated_since=2025-01-02T00:00:00Z"
    got: list[str] = []
    while url is not None:
        page = (await http.get(url, headers=bearer)).json()
        got += [record["id"] for record in page["data"]]
        url = page["links"]["next"]
    assert got == ["OPX-0002", "OPX-0003", "OPX-0004", "OPX-0005"]

    revoked = await setup.token()
    async with httpx.AsyncClient(base_url=api.hub_url) as hub:
        answer = await hub.post("/oauth/revoke", data={"token": revoked}, auth=credentials)
        assert answer.status_code == 200
    assert (await http.get("/v1/commitments", headers=setup.bearer(revoked))).status_code == 401
    assert (await http.get("/v1/commitments", headers=bearer)).status_code == 200
    async with setup.session_factory() as session:
        await revoke_client(session, setup.connector.client.client_id, utcnow())
        await session.commit()
    refused = await http.get("/v1/commitments", headers=bearer)
    assert refused.status_code == 401
    assert (
        refused.headers["www-authenticate"] == 'Bearer realm="partner-api", error="invalid_token"'
    )
    assert (await http.get("/v1/commitments")).status_code == 401


async def test_datastore_cursor_key_and_filter(setup: Setup) -> None:
    api, http = setup.api, setup.http
    key = {"Ocp-Apim-Subscription-Key": api.subscription_key}
    assert (
        (await http.get("/datastore/activity/select"))
        .json()["message"]
        .startswith("Access denied due to missing subscription key")
    )
    wrong = await http.get("/datastore/activity/select", headers={"Ocp-Apim-Subscription-Key": "x"})
    assert wrong.status_code == 401
    assert "invalid subscription key" in wrong.json()["message"]
    unsorted = await http.get("/datastore/activity/select", params={"cursorMark": "*"}, headers=key)
    assert unsorted.status_code == 400
    assert "tie breaker" in unsorted.json()["error"]["msg"]

    api.datastore[-1]["last_updated_datetime"] = "2025-02-01T00:00:00Z"
    params = {"q": "reporting_org_ref:GB-1", "fl": "iati_identifier,iati_xml", "rows": "50",
              "sort": "id asc", "wt": "json", "cursorMark": "*"}  # fmt: skip
    docs: list[dict[str, Any]] = []
    while True:
        body = (await http.get("/datastore/activity/select", params=params, headers=key)).json()
        assert body["response"]["numFound"] == 205
        docs += body["response"]["docs"]
        if body["nextCursorMark"] == params["cursorMark"]:
            break
        params["cursorMark"] = body["nextCursorMark"]
    assert len(docs) == 205
    assert set(docs[0]) == {"iati_identifier", "iati_xml"}
    assert [doc["iati_identifier"] for doc in docs] == sorted(d["iati_identifier"] for d in docs)
    assert etree.fromstring(docs[0]["iati_xml"].encode()).tag == "iati-activity"
    params |= {"q": "last_updated_datetime:[2025-01-01T00:00:00Z TO *] AND x:y", "cursorMark": "*"}
    body = (await http.get("/datastore/activity/select", params=params, headers=key)).json()
    assert body["response"]["numFound"] == 1


async def test_faults(setup: Setup) -> None:
    api, http = setup.api, setup.http
    key = {"Ocp-Apim-Subscription-Key": api.subscription_key}
    select = "/datastore/activity/select?sort=id+asc&cursorMark=*&rows=5"
    api.fault(
        "datastore",
        Status(429, retry_after=2),
        Status(503, retry_after="Wed, 21 Oct 2026 07:28:00 GMT"),
    )
    limited = await http.get(select, headers=key)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert (await http.get(select, headers=key)).headers["retry-after"].endswith("GMT")

    api.fault("datastore", Delay(1.0))
    with pytest.raises(httpx.ReadTimeout):
        await http.get(select, headers=key, timeout=0.2)
    api.fault("datastore", CutConnection())
    with pytest.raises(httpx.RemoteProtocolError, match="peer closed connection"):
        await http.get(select, headers=key)
    api.fault("datastore", CutJson(), Malformed(), BadRecord(1), Gzip())
    with pytest.raises(json.JSONDecodeError):
        (await http.get(select, headers=key)).json()
    with pytest.raises(json.JSONDecodeError):
        (await http.get(select, headers=key)).json()
    docs = (await http.get(select, headers=key)).json()["response"]["docs"]
    assert docs[1]["iati_xml"] == BROKEN_XML
    assert docs[0]["iati_xml"] != BROKEN_XML
    zipped = await http.get(select, headers=key)
    assert zipped.headers["content-encoding"] == "gzip"
    assert len(zipped.json()["response"]["docs"]) == 5

    api.fault("datastore", Huge(300_000))
    async with http.stream("GET", select, headers=key) as stream:
        assert "content-length" not in stream.headers
        assert sum([len(chunk) async for chunk in stream.aiter_bytes()]) > 300_000

    token = await setup.token()
    api.fault("operator", ExpireToken())
    expired = await http.get("/v1/commitments", headers=setup.bearer(token))
    assert expired.status_code == 401
    assert expired.json()["error_description"] == "The access token expired"
    fresh = await setup.token()
    assert (await http.get("/v1/commitments", headers=setup.bearer(fresh))).status_code == 200
    statuses = [served.status for served in api.served("datastore")]
    assert statuses == [429, 503, 499, *[200] * 6]  # 499: the client left during the delay
    assert [served.status for served in api.served("operator")] == [401, 200]
