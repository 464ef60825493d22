"""Posting GraphQL to the real app over HTTP."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from hub.settings import Settings
from tests.fixtures.server import running_hub


class GraphQLClient:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def post(
        self, query: str, headers: dict[str, str] | None = None, **variables: Any
    ) -> dict[str, Any]:
        payload = {"query": query, "variables": variables}
        response = await self.client.post("/graphql", json=payload, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        body = await self.post(query, **variables)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data


@asynccontextmanager
async def graphql(
    database_url: str, *, debug: bool = False, settings: Settings | None = None
) -> AsyncIterator[GraphQLClient]:
    settings = settings or Settings(database_url=database_url, debug=debug)
    async with running_hub(settings) as base, httpx.AsyncClient(base_url=base) as client:
        yield GraphQLClient(client)


def gid(type_name: str, key: int | str) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()
