"""The README's walk-through for partners, run as written: its shell blocks, in order, against
``p2c-hub serve``, with curl and jq as a partner would."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from hub.keys.vault import generate_encryption_key
from tests.test_cli import free_port, hub, hub_env, serving

README = Path(__file__).resolve().parents[1] / "README.md"


def walk_through() -> str:
    """The shell blocks of the README's "For partners" section, joined."""
    text = README.read_text()
    section = text.split("\n## For partners\n", 1)[1].split("\n## ", 1)[0]
    return "\n".join(re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL))


def run_as_written(
    tmp_path: Path, script: str, **settings: str
) -> subprocess.CompletedProcess[str]:
    """``script`` in bash, in ``tmp_path``, against ``p2c-hub serve`` on a new SQLite database
    with its countries and keys, as ``make run`` prepares it."""
    port = str(free_port())
    env = hub_env(
        port=port,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
        public_url=f"http://127.0.0.1:{port}",
        key_encryption_keys=generate_encryption_key(),
        **settings,
    )
    for command in (["migrate"], ["countries", "load"], ["keys", "init"]):
        done = hub(env, *command)
        assert done.returncode == 0, done.stderr
    with serving(env, tmp_path / "serve.log") as base:
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,
            env={**env, "HUB": base, "PATH": f"{Path(sys.executable).parent}:{env['PATH']}"},
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )


def test_the_partner_walk_through_runs_as_written(tmp_path: Path) -> None:
    script = walk_through()
    assert script.count("gql ") >= 8
    run = run_as_written(tmp_path, script)
    assert run.returncode == 0, run.stderr + run.stdout
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    assert lines[0]["kind"] == "PARTNER"
    assert lines[0]["member"]["name"] == "Acme Telecom"
    for payload in lines[1:]:
        assert payload.get("userErrors", []) == [], payload
    public = lines[-1]
    assert public["publicationStatus"] == "PUBLISHED"
    assert {e["organisation"]["name"]: e["status"] for e in public["endorsements"]} == {
        "Acme Telecom": "ACCEPTED",
        "Connect Foundation": "ACCEPTED",
    }
    assert public["targets"] == [
        {"targetValue": "500", "latestValue": "120", "percentReached": "24.0"}
    ]
