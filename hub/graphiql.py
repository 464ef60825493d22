"""GraphiQL that works offline: the hub serves GraphiQL's UMD build, React 18 and the
graphql-ws client (subscriptions) itself.

``make run`` installs the assets with npm into ``graphiql/node_modules`` (pinned by the lock
file beside it). When they are not there, the page loads the same versions from a public CDN.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

ASSETS = {
    "react.js": ("react", "umd/react.production.min.js"),
    "react-dom.js": ("react-dom", "umd/react-dom.production.min.js"),
    "graphiql.js": ("graphiql", "graphiql.min.js"),
    "graphiql.css": ("graphiql", "graphiql.min.css"),
    "graphql-ws.js": ("graphql-ws", "umd/graphql-ws.min.js"),
}
"""The files the page needs, by the name the hub serves them under: (package, path)."""

VERSIONS = {"react": "18.3.1", "react-dom": "18.3.1", "graphiql": "3.8.3", "graphql-ws": "6.4.2"}
"""The same versions as graphiql/package.json, for the CDN fallback."""

CDN = "https://unpkg.com"
DEFAULT_ASSETS_DIR = Path(__file__).resolve().parent.parent / "graphiql" / "node_modules"
"""Beside the source tree, where ``make run`` installs them; absent from an installed wheel."""

PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>P2C Hub GraphiQL</title>
    <link rel="stylesheet" href="{graphiql_css}">
  </head>
  <body style="margin: 0">
    <div id="graphiql" style="height: 100vh"></div>
    <script src="{react_js}"></script>
    <script src="{react_dom_js}"></script>
    <script src="{graphiql_js}"></script>
    <script src="{graphql_ws_js}"></script>
    <script>{script}</script>
  </body>
</html>
"""

SCRIPT = Path(__file__).with_name("graphiql.js").read_text()
"""The page's own script: GraphiQL with a fetcher that sends subscriptions over the socket."""


def asset_path(assets_dir: Path, name: str) -> Path | None:
    """Where the asset ``name`` lies on disk, or None when it is unknown or not installed."""
    if name not in ASSETS:
        return None
    package, path = ASSETS[name]
    found = assets_dir / package / path
    return found if found.is_file() else None


def page(assets_dir: Path) -> str:
    """The GraphiQL page, pointing at the hub's own assets when every one is installed."""
    local = all(asset_path(assets_dir, name) for name in ASSETS)
    urls = {}
    for name, (package, path) in ASSETS.items():
        key = name.replace("-", "_").replace(".", "_")
        urls[key] = f"/graphiql/{name}" if local else f"{CDN}/{package}@{VERSIONS[package]}/{path}"
    return PAGE.format(**urls, script=SCRIPT)


def asset_endpoint(assets_dir: Path) -> Callable[[Request], Awaitable[Response]]:
    """The route handler serving ``/graphiql/{name}``."""

    async def serve_asset(request: Request) -> Response:
        found = asset_path(assets_dir, request.path_params["name"])
        if found is None:
            return Response("no such GraphiQL asset", status_code=404, media_type="text/plain")
        return FileResponse(found, headers={"Cache-Control": "public, max-age=86400"})

    return serve_asset


def page_response(assets_dir: Path) -> HTMLResponse:
    """The GraphiQL page as a response."""
    return HTMLResponse(page(assets_dir))
