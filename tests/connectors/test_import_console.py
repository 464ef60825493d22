"""``p2c-hub connectors``, ``import iati`` and ``deadletters`` at the console, as the README's
session runs them: a file from disk, a file from a URL served on loopback, a URL that fails."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.fixtures.database import Templates
from tests.test_cli import hub, hub_env

DATA = Path(__file__).resolve().parents[1] / "data" / "iati"
FX = Path(__file__).resolve().parents[2] / "data" / "fx"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No request lines on the test's output."""


@pytest.fixture
def served_data() -> Iterator[str]:
    """tests/data/iati over HTTP on a free loopback port; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(DATA)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def ok(env: dict[str, str], *args: str) -> str:
    done = hub(env, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_a_member_imports_its_files_from_disk_and_from_a_url(
    tmp_path: Path, templates: Templates, served_data: str
) -> None:
    """On SQLite only: the console's work is the same on both (the import's own tests, the
    killed run's among them, run the command on PostgreSQL)."""
    database = tmp_path / "hub.db"
    shutil.copyfile(await templates.sqlite_template(), database)
    env = hub_env(database_url=f"sqlite+aiosqlite:///{database}")
    ok(env, "fx", "load", str(FX / "imf_exchangerates.csv"), "--format", "imf")
    ok(env, "members", "add", "--name", "Global Fund", "--type", "INTERNATIONAL_ORGANIZATION",
       "--iati", "47045", "--approve")  # fmt: skip
    refused = hub(env, "connectors", "add", "gf", "--member", "47045")
    assert refused.returncode != 0
    assert "say which records are P2C commitments" in refused.stderr
    ok(env, "connectors", "add", "gf", "--member", "47045", "--reporting-org", "47045")

    first = ok(env, "import", "iati", str(DATA / "single_activity.xml"))
    header, row = first.splitlines()[:2]
    assert header.split() == ["source", "status", "fetched", "created", "updated", "unchanged",
                              "rejected", "unclaimed", "skipped", "seconds"]  # fmt: skip
    assert row.split()[1:8] == ["SUCCEEDED", "1", "1", "0", "0", "0", "0"]

    again = ok(env, "import", "iati", f"{served_data}/single_activity.xml", "--connector", "gf")
    assert again.splitlines()[1].split()[1:6] == ["SUCCEEDED", "1", "0", "0", "1"]

    missing = hub(env, "import", "iati", f"{served_data}/no-such-file.xml")
    assert missing.returncode != 0
    assert "404" in missing.stderr
    assert "Traceback" not in missing.stderr

    runs = json.loads(ok(env, "connectors", "runs", "gf", "--json"))
    assert [run["status"] for run in runs] == ["SUCCEEDED", "SUCCEEDED"]
    assert runs[0]["source"] == f"{served_data}/single_activity.xml"
    assert runs[1]["source"] == str(DATA / "single_activity.xml")
    assert ok(env, "deadletters", "list").strip() == "no open dead letters"

    unknown = hub(env, "import", "iati", str(DATA / "CD.xml"), "--connector", "nobody")
    assert unknown.returncode != 0
    assert "no connector named nobody (the connectors: gf)" in unknown.stderr
