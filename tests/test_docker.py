"""The container's entrypoint and health check, run here as scripts (no Docker engine)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from hub.keys.vault import generate_encryption_key
from tests.test_cli import free_port, hub_env

ROOT = Path(__file__).parent.parent
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
HEALTHCHECK = ROOT / "docker" / "healthcheck.py"


def container_env(tmp_path: Path) -> dict[str, str]:
    env = hub_env(port=str(free_port()))
    env["HUB_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return env


def healthy(env: dict[str, str]) -> int:
    return subprocess.run([sys.executable, str(HEALTHCHECK)], env=env, timeout=30).returncode


def test_the_entrypoint_migrates_loads_countries_makes_a_key_and_serves(tmp_path: Path) -> None:
    env = container_env(tmp_path)
    env["HUB_KEY_ENCRYPTION_KEYS"] = generate_encryption_key()
    assert healthy(env) == 1, "nothing serves yet"
    log = (tmp_path / "entrypoint.log").open("w")
    process = subprocess.Popen([str(ENTRYPOINT)], env=env, stdout=log, stderr=log)
    try:
        base = f"http://127.0.0.1:{env['HUB_PORT']}"
        deadline = time.monotonic() + 30
        while healthy(env) != 0:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail((tmp_path / "entrypoint.log").read_text())
            time.sleep(0.2)
        answer = httpx.post(
            f"{base}/graphql", json={"query": "{ members(first: 1) { totalCount } }"}
        )
        assert answer.json() == {"data": {"members": {"totalCount": 0}}}
        jwks = httpx.get(f"{base}/.well-known/jwks.json").json()
        assert len(jwks["keys"]) == 1
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
    output = (tmp_path / "entrypoint.log").read_text()
    assert "is migrated to the latest revision" in output
    assert "countries: 249 added" in output
    assert re.search(r"signing key \S+ made; it signs from now", output)
    assert healthy(env) == 1


def test_arguments_run_that_command_instead(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(ENTRYPOINT), "version"], env=container_env(tmp_path), capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (result.returncode, result.stdout.strip()) == (0, "0.1.0")


def test_the_dockerfile_copies_files_that_exist() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    sources = [
        source
        for line in dockerfile.splitlines()
        if line.startswith("COPY ") and "--from=" not in line
        for source in line.split()[1:-1]
    ]
    assert sources
    assert [s for s in sources if not (ROOT / s).exists()] == []
    assert re.search(r"^USER hub$", dockerfile, re.MULTILINE)
    assert "HEALTHCHECK" in dockerfile
