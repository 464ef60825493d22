"""Errors: the caller's mistakes are explained, bugs are masked with a logged reference."""

from __future__ import annotations

import httpx
import pytest
from graphql import GraphQLError
from structlog.testing import capture_logs

from hub.db import create_engine, create_session_factory
from hub.errors import NotFound
from hub.settings import Settings
from schema import build_schema
from schema.context import Context
from schema.errors import to_graphql_error
from tests.fixtures.server import running_hub


def test_hub_errors_keep_their_message_code_and_field() -> None:
    error = to_graphql_error(
        GraphQLError("x", original_error=NotFound("pledge 7 does not exist", field=("pledgeId",)))
    )
    assert error.message == "pledge 7 does not exist"
    assert error.extensions == {"code": "NOT_FOUND", "field": ["pledgeId"]}


def test_graphql_errors_pass_unchanged() -> None:
    error = GraphQLError("Cannot query field 'nope' on type 'Query'.")
    assert to_graphql_error(error) is error


def test_bugs_are_masked_and_logged_under_the_same_reference() -> None:
    with capture_logs() as logs:
        error = to_graphql_error(GraphQLError("x", original_error=KeyError("secret detail")))
    assert "secret" not in error.message
    assert error.extensions is not None
    assert error.extensions["code"] == "INTERNAL_ERROR"
    reference = error.extensions["errorId"]
    assert reference in error.message
    [entry] = logs
    assert (entry["event"], entry["error_id"]) == ("graphql.unexpected_error", reference)


async def test_an_unreachable_database_is_an_internal_error_not_a_trace() -> None:
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:9/nowhere")
    try:
        with capture_logs():
            result = await build_schema().execute(
                "{ members(first: 5) { totalCount } }",
                context_value=Context(session_factory=create_session_factory(engine)),
            )
    finally:
        await engine.dispose()
    assert result.errors is not None
    [error] = result.errors
    assert error.extensions is not None
    assert error.extensions["code"] == "INTERNAL_ERROR"
    assert "127.0.0.1" not in error.message


async def test_a_forced_internal_error_shows_an_id_that_the_log_holds_too(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings(database_url="postgresql+asyncpg://postgres@127.0.0.1:9/nowhere")
    async with running_hub(settings) as base, httpx.AsyncClient(base_url=base) as client:
        query = {"query": "{ pledges(first: 1) { totalCount } }"}
        response = await client.post("/graphql", json=query)
    body = response.json()
    [error] = body["errors"]
    error_id = error["extensions"]["errorId"]
    assert error["message"] == f"Internal error; quote reference {error_id} when reporting it."
    assert "Traceback" not in response.text
    assert "SELECT" not in response.text
    assert "127.0.0.1:9" not in response.text
    logged = capsys.readouterr().out
    assert error_id in logged
    assert "graphql.unexpected_error" in logged
    assert "Error" in logged.split(error_id, 1)[1], "the traceback follows the id"


async def test_a_body_nested_too_deeply_is_refused_not_a_crash(database_url: str) -> None:
    async with (
        running_hub(Settings(database_url=database_url)) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        response = await client.post(
            "/graphql", content="[" * 50_000, headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert response.text == "the request body nests too deeply"
