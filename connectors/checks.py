"""What is checked of a connector before it is saved, beyond its form (``hub.imports``):
that its mapping compiles and that its source answers with its credentials, so a typo is
found by the person typing it, not by the first scheduled run at night."""

from __future__ import annotations

import json
from dataclasses import replace

from connectors import jsonapi
from connectors.errors import SourceError
from connectors.http import HttpSource
from hub.errors import InvalidInput
from hub.imports.connectors import ConnectorConfig
from hub.imports.models import HTTP_KINDS, ConnectorKind


def _answered(body: bytes) -> None:
    try:
        json.loads(body)
    except ValueError:
        raise SourceError("the API's answer is not JSON") from None


def check_mapping(kind: ConnectorKind, config: ConnectorConfig) -> None:
    """Refuse (``BAD_MAPPING``) a JSON API's mapping that does not compile: no network."""
    if kind is ConnectorKind.JSON_API and config.mapping is not None:
        jsonapi.compile_mapping(config.mapping)


async def check_source(kind: ConnectorKind, config: ConnectorConfig, secret: str | None) -> None:
    """Refuse (``InvalidInput``) a mapping that does not compile, or a source that does not
    answer: the token endpoint must give a token; a keyed or open API, one small page."""
    check_mapping(kind, config)
    if kind not in HTTP_KINDS or config.http is None:
        return
    http = config.http
    probe = HttpSource(replace(http, attempts=2, retry_seconds=20.0), secret)
    async with probe:
        try:
            if http.token_url is not None:
                await probe.token()
            elif kind is ConnectorKind.IATI_DATASTORE:
                params = {"q": "*:*", "rows": "0", "wt": "json"}
                url = http.url.rstrip("/") + "/datastore/activity/select"
                await probe.get(url, params, _answered, "a test request")
            elif kind is ConnectorKind.WORLD_BANK:
                url = http.url.rstrip("/") + "/api/v2/projects"
                await probe.get(url, {"format": "json", "rows": "1"}, _answered, "a test request")
        except SourceError as failed:
            where = "tokenUrl" if http.token_url is not None else "url"
            raise InvalidInput(
                f"the connector's source did not answer as it should: {failed.message}",
                code="UNREACHABLE",
                field=("http", where),
            ) from None
