"""The database fixtures themselves: PostgreSQL is never silently skipped in CI."""

from __future__ import annotations

import pytest

from tests.fixtures.database import postgres_admin


async def test_an_unreachable_postgres_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:9/x")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="unreachable"):
        await postgres_admin()


async def test_an_unreachable_postgres_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:9/x")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="unreachable"):
        await postgres_admin()
