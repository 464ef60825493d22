"""The connectors' HTTP client on its own: which answers it asks again for, how long it
waits when told, what it refuses, against the partner API on loopback (its Datastore,
which wants only a key)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import stamina

from connectors.errors import Malformed, SourceError
from connectors.framework import Checkpoint
from connectors.http import RETRY_AFTER_CAP, HttpSource, retry_after, should_retry
from connectors.pulls import Pass
from hub.auth.clients import Credentials
from hub.imports.connectors import HttpConfig
from hub.imports.runs import Resume
from tests.fixtures.partner_api import (
    CutConnection,
    Gzip,
    Huge,
    PartnerApi,
    Status,
    running_partner_api,
)

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
DOCS = [{"iati_identifier": f"XM-1-{n}", "last_updated_datetime": "2025-01-01T00:00:00Z",
         "iati_xml": "<iati-activity/>"} for n in range(3)]  # fmt: skip


@pytest.fixture(autouse=True)
def no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=100, cap=True):
        yield


@pytest.fixture
async def api() -> AsyncIterator[PartnerApi]:
    unused: Any = None  # the Datastore asks no token: no hub, no introspection
    credentials: Credentials = unused
    async with running_partner_api("http://127.0.0.1:9", credentials, datastore=DOCS) as api:
        yield api


def source(api: PartnerApi, **changes: Any) -> HttpSource:
    config = HttpConfig(url=api.base_url, key_header="Ocp-Apim-Subscription-Key", **changes)
    return HttpSource(config, api.subscription_key)


async def page(http: HttpSource) -> Any:
    params = {"q": "*:*", "rows": "10", "sort": "id asc", "cursorMark": "*", "wt": "json"}
    url = http.config.url + "/datastore/activity/select"

    def parse(body: bytes) -> Any:
        try:
            return json.loads(body)
        except ValueError:
            raise Malformed("not JSON") from None

    return await http.get(url, params, parse, "page 1")


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        ("0", 0.0),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),
        ("86400", RETRY_AFTER_CAP),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_in_seconds_or_as_a_date_is_capped(header: str | None, seconds: float) -> None:
    assert retry_after(header, NOW) == seconds


def test_what_is_asked_again() -> None:
    assert should_retry(httpx.ReadTimeout("")) is True
    assert should_retry(httpx.RemoteProtocolError("cut")) is True
    assert should_retry(httpx.DecodingError("a gzip body that will not decompress")) is True
    assert should_retry(Malformed("half a body")) is True
    assert should_retry(SourceError("404")) is False
    assert should_retry(ValueError("a bug")) is False


async def test_server_errors_and_a_cut_body_are_retried_then_gzip_reads(api: PartnerApi) -> None:
    api.fault("datastore", Status(503), Status(429, retry_after=3), CutConnection(), Gzip())
    async with source(api) as http:
        answer = await page(http)
    assert [d["iati_identifier"] for d in answer["response"]["docs"]] == [
        d["iati_identifier"] for d in DOCS
    ]
    assert (http.traffic.requests, http.traffic.retries) == (4, 3)


async def test_other_client_errors_are_not_retried(api: PartnerApi) -> None:
    api.fault("datastore", Status(404))
    async with source(api) as http:
        with pytest.raises(SourceError, match="answered 404") as refused:
            await page(http)
    assert refused.value.retryable is False
    assert http.traffic.requests == 1


async def test_a_wrong_key_is_refused_once(api: PartnerApi) -> None:
    config = HttpConfig(url=api.base_url, key_header="Ocp-Apim-Subscription-Key")
    async with HttpSource(config, "not-the-key") as http:
        with pytest.raises(SourceError, match="refused the connector's key"):
            await page(http)
    assert http.traffic.requests == 1


async def test_an_answer_beyond_the_size_cap_is_refused(api: PartnerApi) -> None:
    api.fault("datastore", Huge(200_000))
    async with source(api, max_bytes=100_000) as http:
        with pytest.raises(SourceError, match="larger than 100000 bytes"):
            await page(http)
    assert http.traffic.requests == 1


async def test_attempts_run_out_with_the_last_fault_named(api: PartnerApi) -> None:
    api.fault("datastore", *[Status(502)] * 3)
    async with source(api, attempts=3) as http:
        with pytest.raises(SourceError, match="answered 502"):
            await page(http)
    assert (http.traffic.requests, http.traffic.retries) == (3, 2)


@pytest.mark.parametrize(
    ("since", "latest", "expected"),
    [
        (None, None, None),  # nothing seen: nothing learnt
        ("2026-01-01T00:00:00Z", None, "2026-01-01T00:00:00Z"),
        (None, "2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z"),
        (None, "2026-12-06T11:00:00Z", "2026-12-05T12:00:00Z"),  # a day before the pass began
        ("2026-12-06T00:00:00Z", "2026-12-06T11:00:00Z", "2026-12-06T00:00:00Z"),  # never back
    ],
)
def test_a_pass_ends_at_the_latest_change_seen_but_no_later_than_a_day_before_it_began(
    since: str | None, latest: str | None, expected: str | None
) -> None:
    began = Pass(since, "*", started="2026-12-06T12:00:00Z")
    assert began.checkpoint(None, 10, latest) == Checkpoint(None, expected)
    going_on = began.checkpoint("AoE", 10, latest)
    assert going_on.cursor is not None
    assert Pass.resumed(Resume(7, 10, going_on.cursor), None, "*") == Pass(
        since, "AoE", "2026-12-06T12:00:00Z", 10, latest
    )
