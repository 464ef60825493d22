"""The raw floor: each benchmark request answered by one SQL statement that builds the whole
response with ``json_build_object``/``json_agg``, through asyncpg, behind a bare ASGI
callable. No schema, no validation, no rate limit, no audit: what the same machine and the
same database can do at best, so the hub's cost can be read against it.

It takes the hub's own request bodies (``operationName`` picks the statement; global ids and
cursors are decoded here) and answers in the hub's shape, so the harness compares the two
directly. The visibility rule is the public one, written out in SQL.

    .venv/bin/python bench/floor.py --database-url postgresql://... --port 8101
"""

from __future__ import annotations

import argparse
import base64
import json
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import date
from typing import Any

import asyncpg
import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PROBE = "{ __typename }"
"""The one request besides the benchmark's: the harness's check that the server is up."""

PUBLIC = """(p.publication_status IN ('PUBLISHED', 'FULFILLED')
    OR (p.publication_status = 'WITHDRAWN' AND p.published_at IS NOT NULL))"""


def _global_id(kind: str, column: str) -> str:
    return f"encode(convert_to('{kind}:' || {column}, 'UTF8'), 'base64')"


def _minor_to_text(column: str, exponent: str) -> str:
    return f"round({column}::numeric / (10::numeric ^ {exponent}), {exponent})::text"


LATEST_VALUE = """CASE
  WHEN t.measure = 'QUALITATIVE' THEN NULL
  WHEN t.cumulative THEN (
    SELECT v.value::text FROM progress_values v JOIN progress_reports r ON r.id = v.report_id
    WHERE v.target_id = t.id AND r.status <> 'REJECTED' AND v.value IS NOT NULL
    ORDER BY r.period_end DESC, r.id DESC LIMIT 1)
  ELSE (
    SELECT (COALESCE(t.baseline_value, 0) + sum(v.value))::text
    FROM progress_values v JOIN progress_reports r ON r.id = v.report_id
    WHERE v.target_id = t.id AND r.status <> 'REJECTED' AND v.value IS NOT NULL
    HAVING count(*) > 0)
END"""

CARD = f"""
  'id', {_global_id("Pledge", "p.id")},
  'title', p.title,
  'pledgeType', p.pledge_type,
  'announcedOn', p.announced_on,
  'pledgedAmount', (
    SELECT json_build_object('amount', {_minor_to_text("p.amount_minor", "c.exponent")},
                             'currency', p.currency)
    FROM currencies c WHERE c.code = p.currency),
  'lead', (
    SELECT json_build_object('id', {_global_id("Organisation", "o.id")}, 'name', o.name)
    FROM organisations o WHERE o.id = p.lead_member_id),
  'endorsements', COALESCE((
    SELECT json_agg(json_build_object(
      'roles', COALESCE((
        SELECT json_agg(r.role ORDER BY r.role) FROM endorsement_roles r
        WHERE r.pledge_id = e.pledge_id AND r.organisation_id = e.organisation_id), '[]'),
      'organisation', json_build_object('id', {_global_id("Organisation", "o.id")},
                                        'name', o.name)) ORDER BY e.id)
    FROM endorsements e JOIN organisations o ON o.id = e.organisation_id
    WHERE e.pledge_id = p.id AND e.status = 'ACCEPTED'), '[]'),
  'targets', COALESCE((
    SELECT json_agg(json_build_object(
      'indicator', t.indicator, 'unit', t.unit, 'targetValue', t.target_value::text,
      'latestValue', {LATEST_VALUE}) ORDER BY t.id)
    FROM targets t WHERE t.pledge_id = p.id), '[]')"""

LISTING = f"""
WITH matching AS (
  SELECT p.* FROM pledges p
  WHERE {PUBLIC}
    AND EXISTS (SELECT 1 FROM pledge_focus_areas f
                WHERE f.pledge_id = p.id AND f.focus_area = $1)
    AND (EXISTS (SELECT 1 FROM pledge_target_groups g
                 WHERE g.pledge_id = p.id AND g.country_group = $2)
      OR EXISTS (SELECT 1 FROM pledge_target_countries tc
                 JOIN country_group_memberships m ON m.country = tc.country
                 WHERE tc.pledge_id = p.id AND m.country_group = $2
                   AND (m.valid_from IS NULL OR m.valid_from <= $3)
                   AND (m.valid_to IS NULL OR m.valid_to > $3)))
), page AS (
  SELECT * FROM matching ORDER BY announced_on, id OFFSET $4 LIMIT $5
)
SELECT json_build_object('pledges', json_build_object(
  'totalCount', (SELECT count(*) FROM matching),
  'edges', COALESCE((
    SELECT json_agg(json_build_object('node', json_build_object({CARD}))
                    ORDER BY p.announced_on, p.id)
    FROM page p), '[]')))::text"""

DETAIL = f"""
SELECT json_build_object('node', (
  SELECT json_build_object({CARD},
    'description', p.description,
    'publicationStatus', p.publication_status,
    'focusAreas', COALESCE((
      SELECT json_agg(f.focus_area ORDER BY f.focus_area) FROM pledge_focus_areas f
      WHERE f.pledge_id = p.id), '[]'),
    'targetCountries', COALESCE((
      SELECT json_agg(json_build_object('alpha3', c.alpha3, 'name', c.name) ORDER BY c.alpha3)
      FROM pledge_target_countries tc JOIN countries c ON c.alpha3 = tc.country
      WHERE tc.pledge_id = p.id), '[]'),
    'progressReports', COALESCE((
      SELECT json_agg(json_build_object(
        'periodStart', r.period_start, 'periodEnd', r.period_end, 'status', r.status,
        'narrative', r.narrative) ORDER BY r.period_end, r.id)
      FROM progress_reports r WHERE r.pledge_id = p.id AND r.status <> 'REJECTED'), '[]'))
  FROM pledges p WHERE p.id = $1 AND {PUBLIC}))::text"""

STATS_KEYS = {
    "FOCUS_AREA": "SELECT f.pledge_id, f.focus_area::text AS key FROM pledge_focus_areas f",
    "COUNTRY": "SELECT tc.pledge_id, tc.country::text AS key FROM pledge_target_countries tc",
}


def _stats(keys: str) -> str:
    usd = "(COALESCE(sum(m.usd), 0) / 100.0)::numeric(30, 2)::text"
    without = "count(*) FILTER (WHERE m.usd IS NULL AND m.amount IS NOT NULL)"
    return f"""
WITH m AS (
  SELECT p.id, CASE WHEN held THEN NULL ELSE p.usd_amount_minor END AS usd,
         CASE WHEN held THEN NULL ELSE p.amount_minor END AS amount
  FROM pledges p, LATERAL (SELECT EXISTS (
    SELECT 1 FROM counted_elsewhere ce JOIN pledges p2 ON p2.id = ce.counted_in_id
    WHERE ce.pledge_id = p.id AND {PUBLIC.replace("p.", "p2.")}) AS held) h
  WHERE {PUBLIC}
), k AS (
  SELECT k.pledge_id, k.key FROM ({keys}) k JOIN m ON m.id = k.pledge_id
), e AS (
  SELECT e.pledge_id, e.organisation_id FROM endorsements e JOIN m ON m.id = e.pledge_id
  WHERE e.status = 'ACCEPTED'
), g AS (
  SELECT k.key, count(*) AS pledges, {usd} AS usd, {without} AS without
  FROM k JOIN m ON m.id = k.pledge_id GROUP BY k.key
), gm AS (
  SELECT k.key, count(DISTINCT e.organisation_id) AS members
  FROM k JOIN e ON e.pledge_id = k.pledge_id GROUP BY k.key
)
SELECT json_build_object('pledgeStats', json_build_object(
  'groups', COALESCE((
    SELECT json_agg(json_build_object(
      'key', g.key, 'pledgeCount', g.pledges, 'memberCount', COALESCE(gm.members, 0),
      'totalUsd', g.usd, 'pledgesWithoutUsd', g.without) ORDER BY g.key COLLATE "C")
    FROM g LEFT JOIN gm ON gm.key = g.key), '[]'),
  'total', (
    SELECT json_build_object(
      'key', 'ALL', 'pledgeCount', count(*),
      'memberCount', (SELECT count(DISTINCT organisation_id) FROM e),
      'totalUsd', {usd}, 'pledgesWithoutUsd', {without})
    FROM m)))::text"""


STATEMENTS = {
    "Listing": LISTING,
    "Detail": DETAIL,
    **{f"Stats{key}": _stats(keys) for key, keys in STATS_KEYS.items()},
}


def _decoded(value: str) -> str:
    return base64.b64decode(value.encode()).decode().partition(":")[2]


def arguments(operation: str, variables: dict[str, Any]) -> tuple[str, list[Any]]:
    """The statement and its parameters for one of the hub's benchmark requests."""
    if operation == "Listing":
        group = variables["filter"]["countryGroup"]
        offset = int(_decoded(variables["after"])) + 1 if variables.get("after") else 0
        return LISTING, [
            variables["filter"]["focusAreas"][0],
            group["group"],
            date.fromisoformat(group["asOf"]),
            offset,
            variables["first"],
        ]
    if operation == "Detail":
        return DETAIL, [int(_decoded(variables["id"]))]
    if operation == "Stats":
        return STATEMENTS[f"Stats{variables['groupBy']}"], []
    raise KeyError(operation)


async def _keep(connection: asyncpg.Connection) -> None:
    """No reset between requests: the floor's statements leave no session state behind, and
    asyncpg's default reset would send four statements more a request."""


class Floor:
    """A bare ASGI application around one asyncpg pool."""

    def __init__(self, database_url: str, pool_size: int) -> None:
        self.database_url = database_url
        self.pool_size = pool_size
        self.pool: asyncpg.Pool | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        status, payload = await self._answer(body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _answer(self, body: bytes) -> tuple[int, bytes]:
        assert self.pool is not None
        try:
            request = json.loads(body)
            if request.get("query") == PROBE:
                return 200, b'{"data":{"__typename":"Query"}}'
            statement, parameters = arguments(
                request["operationName"], request.get("variables") or {}
            )
        except (ValueError, KeyError, TypeError) as error:
            message = json.dumps({"errors": [{"message": f"not a benchmark request: {error}"}]})
            return 400, message.encode()
        data = await self.pool.fetchval(statement, *parameters)
        return 200, b'{"data":' + data.encode() + b"}"

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.pool = await asyncpg.create_pool(
                    self.database_url, min_size=self.pool_size, max_size=self.pool_size, reset=_keep
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.pool is not None:
                    await self.pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pool-size", type=int, default=10)
    options = parser.parse_args()
    url = options.database_url.replace("postgresql+asyncpg://", "postgresql://")
    uvicorn.run(
        Floor(url, options.pool_size),
        host="127.0.0.1",
        port=options.port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
