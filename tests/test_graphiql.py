"""GraphiQL: the hub serves its assets itself, falls back to a CDN, and works in a browser."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.graphiql import ASSETS, CDN
from hub.settings import Settings
from tests.fixtures.live import live_hub
from tests.fixtures.server import running_hub

if TYPE_CHECKING:
    from playwright.async_api import Browser, Playwright

ROOT = Path(__file__).parent.parent
INSTALLED = ROOT / "graphiql" / "node_modules"


async def test_the_page_and_its_assets_come_from_the_hub(database_url: str) -> None:
    settings = Settings(database_url=database_url, graphiql_assets_dir=INSTALLED)
    async with running_hub(settings) as base, httpx.AsyncClient(base_url=base) as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assets = {name: await client.get(f"/graphiql/{name}") for name in ASSETS}
        missing = await client.get("/graphiql/evil.js")
    assert page.status_code == 200
    assert CDN not in page.text
    for name, response in assets.items():
        assert response.status_code == 200, name
        assert response.headers["cache-control"] == "public, max-age=86400"
        assert f'"/graphiql/{name}"' in page.text
    assert (
        assets["graphiql.js"]
        .headers["content-type"]
        .startswith(("text/javascript", "application/javascript"))
    )
    assert assets["graphiql.css"].headers["content-type"].startswith("text/css")
    assert missing.status_code == 404


async def test_without_installed_assets_the_page_uses_the_cdn(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=database_url, graphiql_assets_dir=tmp_path)
    async with running_hub(settings) as base, httpx.AsyncClient(base_url=base) as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        asset = await client.get("/graphiql/graphiql.js")
    assert f"{CDN}/graphiql@3.8.3/graphiql.min.js" in page.text
    assert asset.status_code == 404


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


async def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, quiet: it fetches nothing of its own."""
    return await playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run"],
    )  # fmt: skip


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_graphiql_runs_a_query_in_headless_chromium(
    database_url: str, tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright

    settings = Settings(database_url=database_url, graphiql_assets_dir=INSTALLED)
    async with running_hub(settings) as base, async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            page = await browser.new_page()
            external: list[str] = []
            page.on(
                "request",
                lambda request: (
                    external.append(request.url) if not request.url.startswith(base) else None
                ),
            )
            await page.goto(f"{base}/graphql")
            editor = page.locator(".graphiql-query-editor .CodeMirror").first
            await editor.wait_for(timeout=20_000)
            await page.evaluate(
                """() => document.querySelector('.graphiql-query-editor .CodeMirror')
                    .CodeMirror.setValue('{ members(first: 1) { totalCount } }')"""
            )
            await page.locator(".graphiql-execute-button").click()
            result = page.locator(".result-window")
            await result.get_by_text('"totalCount": 0').wait_for(timeout=20_000)
            await page.screenshot(path=str(tmp_path / "graphiql.png"))
        finally:
            await browser.close()
    assert external == [], "GraphiQL must not need the internet"


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_graphiql_runs_a_subscription_in_headless_chromium(
    database_url: str, session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright

    async with (
        live_hub(database_url, session_factory, graphiql_assets_dir=INSTALLED) as hub,
        async_playwright() as playwright,
    ):
        browser = await launch(playwright)
        try:
            page = await browser.new_page()
            await page.goto(f"{hub.base}/graphql")
            editor = page.locator(".graphiql-query-editor .CodeMirror").first
            await editor.wait_for(timeout=20_000)
            await page.evaluate(
                """() => document.querySelector('.graphiql-query-editor .CodeMirror')
                    .CodeMirror.setValue('subscription { pledgePublished { title } }')"""
            )
            await page.locator(".graphiql-execute-button").click()
            await hub.subscribed(1)
            await hub.partners.published(title="Seen in GraphiQL")
            result = page.locator(".result-window")
            await result.get_by_text('"title": "Seen in GraphiQL"').wait_for(timeout=20_000)
            await page.screenshot(path=str(tmp_path / "graphiql-subscription.png"))
        finally:
            await browser.close()
