"""The side-by-side benchmark: the hub, PostGraphile v5 and the raw floor on one PostgreSQL,
the same data and the same requests (``make bench``; documented in docs/performance.md).

1. A PostgreSQL cluster of its own, with pg_stat_statements (``--database-url`` takes an
   existing server instead: it makes its database and the p2c_bench_* roles there, and
   counts statements only where the server preloads pg_stat_statements).
2. A coalition generated at ``--scale`` (bench/generate.py), PostGraphile's functions
   (bench/postgraphile/functions.sql) loaded beside it.
3. Every server started (cold start timed), and checked to give the same normalised answers
   to every request the load will send; any difference stops the run.
4. ``--rounds`` rounds; in each, every request kind against every server in turn (the order
   rotating between rounds), ``wrk`` in a separate process at ``--concurrency`` connections
   for ``--duration`` seconds, statements counted for each. Medians over rounds reported.
5. Partners' writes against the hub alone, with real OAuth tokens.
6. With ``--extras``: the IATI import rate beside lxml's parse alone (bench/iati_import.py)
   and the audit ledger's cost on writes (bench/ledger.py), as they print them.

The report goes to ``bench/results/`` as JSON and Markdown, and to stdout.

    .venv/bin/python bench/harness.py --scale small --rounds 3 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cluster
import generate
import report
import servers
import workload
import writes

BENCH = Path(__file__).resolve().parent
KINDS = ("listing", "detail", "stats")
LOAD_COUNT = 2_000


def _progress(message: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _postgres(database_url: str | None) -> Iterator[str]:
    if database_url is not None:
        yield database_url
        return
    with cluster.own_cluster() as maintenance:
        yield maintenance


def _run_wrk(url: str, bodies: Path, concurrency: int, duration: float) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: make bench installs it (apt-get install wrk)")
    command = [
        "wrk",
        "-t1",
        f"-c{concurrency}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "30s",
        "-s",
        str(BENCH / "wrk" / "bodies.lua"),
        url,
        "--",
        str(bodies),
    ]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


@dataclass
class Measured:
    """One wrk run against one server, with its statement count."""

    server: str
    kind: str
    round: int
    figures: dict[str, Any]
    statements: int | None
    top: list[dict[str, Any]]

    def row(self) -> dict[str, Any]:
        f = self.figures
        requests = f["requests"]
        seconds = f["duration_us"] / 1e6
        errors = sum(
            f[k]
            for k in (
                "connect_errors",
                "read_errors",
                "write_errors",
                "status_errors",
                "timeouts",
                "graphql_errors",
                "user_errors",
            )
        )
        return {
            "server": self.server,
            "kind": self.kind,
            "round": self.round,
            "requests": requests,
            "rps": round(requests / seconds, 1) if seconds else 0.0,
            "p50_ms": f["p50_us"] / 1000 if requests else None,
            "p95_ms": f["p95_us"] / 1000 if requests else None,
            "p99_ms": f["p99_us"] / 1000 if requests else None,
            "errors": errors,
            "statements_per_request": (
                round(self.statements / requests, 2) if self.statements and requests else None
            ),
        }


class Bench:
    """One run of the harness over one database."""

    def __init__(self, options: argparse.Namespace, database_url: str, logs: Path) -> None:
        self.options = options
        self.database_url = database_url
        self.logs = logs
        self.counter = cluster.StatementCounter(database_url)
        self.running: dict[str, servers.Server] = {}
        self.partners: list[writes.Partner] = []

    def start(self) -> None:
        pool = self.options.pool_size
        keyed = {"HUB_KEY_ENCRYPTION_KEYS": writes.encryption_key()}
        if "hub" in self.options.servers and self.options.writers:
            environment = {**servers.hub_environment(self.database_url, 1), **keyed}
            members = list(range(1, self.options.writers + 1))
            self.partners = writes.partners(environment, members)
        for name in self.options.servers:
            _progress(f"starting {name}")
            url = cluster.as_role(self.database_url, name)
            if name == "hub":
                self.running[name] = servers.start_hub(url, self.logs, pool, keyed)
            elif name == "floor":
                self.running[name] = servers.start_floor(url, self.logs, pool)
            else:
                self.running[name] = servers.start_postgraphile(url, self.logs, pool)
            _progress(f"{name} answered after {self.running[name].cold_start_s:.2f} s")

    def stop(self) -> None:
        for server in self.running.values():
            server.stop()

    def requests(self, kind: str, count: int) -> list[workload.Request]:
        kinds: workload.CursorKinds = {}
        if kind == "listing" and "hub" in self.running:
            for focus in workload.FOCUS_AREAS:
                for group in workload.GROUPS:
                    answer = servers.post(
                        self.running["hub"].url, workload.cursor_probe(focus, group)
                    )
                    found = workload.cursor_kind(answer)
                    if found is not None:
                        kinds[focus, group] = found
        return workload.requests(kind, count, self.options.pledges, kinds)

    def verify(self) -> tuple[dict[str, int], dict[str, dict[str, float]]]:
        """Every server's normal form of every request the load sends; stops on a difference.
        Returns the requests checked per kind, and each server's median time per kind for
        them, one at a time (unloaded)."""
        checked: dict[str, int] = {}
        timings: dict[str, dict[str, list[float]]] = {}
        for kind in KINDS:
            count = 2 if kind == "stats" else self.options.check
            for request in self.requests(kind, count):
                forms = {}
                for name, server in self.running.items():
                    body = request.postgraphile if name == "postgraphile" else request.hub
                    started = time.perf_counter()
                    answer = servers.post(server.url, body)
                    elapsed = (time.perf_counter() - started) * 1000
                    timings.setdefault(kind, {}).setdefault(name, []).append(elapsed)
                    forms[name] = workload.normal_form(name, kind, answer)
                first = next(iter(forms.values()))
                for name, form in forms.items():
                    if form != first:
                        raise RuntimeError(
                            f"{name} differs on {kind} {json.dumps(request.hub['variables'])}:\n"
                            f"{json.dumps(form, default=str)[:2000]}\nagainst\n"
                            f"{json.dumps(first, default=str)[:2000]}"
                        )
                checked[kind] = checked.get(kind, 0) + 1
        _progress(f"all servers agree on {checked}")
        unloaded = {
            kind: {name: round(statistics.median(found), 1) for name, found in by.items()}
            for kind, by in timings.items()
        }
        return checked, unloaded

    def _bodies(self, kind: str, server: str) -> Path:
        path = self.logs / f"{kind}-{server}.jsonl"
        if not path.exists():
            lines = [
                json.dumps(r.postgraphile if server == "postgraphile" else r.hub)
                for r in self.requests(kind, LOAD_COUNT if kind != "stats" else 2)
            ]
            path.write_text("\n".join(lines) + "\n")
        return path

    def measure(self, server: str, kind: str, bodies: Path, number: int) -> Measured:
        started = time.perf_counter()
        asyncio.run(self.counter.drain(server))
        servers.post(self.running[server].url, servers.PROBE)
        waited = time.perf_counter() - started
        if waited > 1:
            _progress(f"{server} took {waited:.0f} s to finish what the last run left")
        asyncio.run(self.counter.reset())
        figures = _run_wrk(
            self.running[server].url, bodies, self.options.concurrency, self.options.duration
        )
        statements = asyncio.run(self.counter.count(server))
        top = asyncio.run(self.counter.top(server))
        measured = Measured(server, kind, number, figures, statements, top)
        row = measured.row()
        _progress(
            f"round {number} {kind:8} {server:13} {row['rps']:8.1f} req/s "
            f"p99 {row['p99_ms'] or 0:8.1f} ms errors {row['errors']}"
        )
        return measured

    def reads(self) -> list[Measured]:
        order = list(self.running)
        measured = []
        for number in range(1, self.options.rounds + 1):
            for kind in KINDS:
                for server in order:
                    measured.append(self.measure(server, kind, self._bodies(kind, server), number))
            order = order[1:] + order[:1]
        return measured

    def writes(self) -> list[Measured]:
        hub = self.running["hub"]
        base = hub.url.removesuffix("/graphql")
        members = len(self.partners)
        measured = []
        per_kind = max(200, int(self.options.duration * 400 / members))
        for number in range(1, self.options.rounds + 1):
            tokens = {p.member_id: writes.token(base, p) for p in self.partners}
            lines = asyncio.run(writes.bodies(self.database_url, tokens, per_kind))
            bodies = self.logs / f"writes-{number}.tsv"
            bodies.write_text("\n".join(lines) + "\n")
            if number == 1:
                self._check_writes(hub.url, lines[: 3 * members])
                lines = lines[3 * members :]
                bodies.write_text("\n".join(lines) + "\n")
            measured.append(self.measure("hub", "writes", bodies, number))
        return measured

    def _check_writes(self, url: str, lines: list[str]) -> None:
        for line in lines:
            bearer, body = line.split("\t", 1)
            answer = servers.post(url, json.loads(body), bearer)
            payload = next(iter((answer.get("data") or {}).values()), None)
            if answer.get("errors") or not payload or payload["userErrors"]:
                raise RuntimeError(f"a write failed before the load: {answer}")
        _progress(f"{len(lines)} writes checked")


def _median_of(values: Iterable[float | None]) -> float | None:
    """The median of the runs that answered at least once (None if none did)."""
    found = [value for value in values if value is not None]
    return statistics.median(found) if found else None


def _median_rows(measured: list[Measured]) -> list[dict[str, Any]]:
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for item in measured:
        grouped.setdefault((item.kind, item.server), []).append(item.row())
    rows = []
    for (kind, server), found in grouped.items():
        spr = [r["statements_per_request"] for r in found if r["statements_per_request"]]
        rows.append(
            {
                "kind": kind,
                "server": server,
                "rounds": len(found),
                "rps": statistics.median(r["rps"] for r in found),
                **{
                    key: _median_of(r[key] for r in found) for key in ("p50_ms", "p95_ms", "p99_ms")
                },
                "errors": sum(r["errors"] for r in found),
                "requests": sum(r["requests"] for r in found),
                "statements_per_request": statistics.median(spr) if spr else None,
            }
        )
    return rows


def _extras(options: argparse.Namespace) -> dict[str, str]:
    runs = {
        "iati_import": [
            sys.executable,
            str(BENCH / "iati_import.py"),
            "--activities",
            str(options.import_activities),
            "--database",
            "postgresql",
        ],
        "ledger": [sys.executable, str(BENCH / "ledger.py"), "--writes", "200"],
    }
    printed = {}
    for name, command in runs.items():
        _progress(f"running {' '.join(command[1:])}")
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        printed[name] = done.stdout.strip() or done.stderr.strip()[-2000:]
    return printed


def _machine() -> dict[str, Any]:
    cpus = Path("/proc/cpuinfo").read_text().count("processor\t:")
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    postgres = subprocess.run(
        [str(cluster.binaries() / "postgres"), "--version"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpus": cpus,
        "cpu_model": model,
        "memory_gib": round(int(memory) / 1024 / 1024, 1),
        "python": platform.python_version(),
        "postgresql": postgres,
        "kernel": platform.release(),
    }


def run(options: argparse.Namespace) -> dict[str, Any]:
    """The whole benchmark; returns the report's data."""
    started = datetime.now(UTC)
    result: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "scale": options.scale,
        "rounds": options.rounds,
        "duration_s": options.duration,
        "concurrency": options.concurrency,
        "processes": {name: 1 for name in options.servers},
        "pool_size": {"floor": options.pool_size, "postgraphile": options.pool_size, "hub": 15},
        "machine": _machine(),
        "response_cache": "none: the hub caches no responses to POSTs (ETags only on GETs)",
    }
    with (
        tempfile.TemporaryDirectory(prefix="p2c-bench-") as scratch,
        _postgres(options.database_url) as maintenance,
    ):
        logs = Path(scratch)
        name = f"p2c_bench_{options.scale}"
        url = asyncio.run(cluster.create_database(maintenance, name))
        _progress(f"generating the {options.scale} coalition")
        generated = generate.generate(url, options.scale)
        result["data"] = generated
        options.pledges = generated["rows"]["pledges"]
        _progress(f"generated in {generated['seconds']} s: {generated['rows']}")
        if "postgraphile" in options.servers:
            sql = (BENCH / "postgraphile" / "functions.sql").read_text()
            asyncio.run(cluster.execute(url, sql))
        bench = Bench(options, url, logs)
        try:
            bench.start()
            result["cold_start_s"] = {n: round(s.cold_start_s, 2) for n, s in bench.running.items()}
            result["verified"], result["unloaded_ms"] = bench.verify()
            measured = bench.reads()
            if bench.partners:
                measured += bench.writes()
            result["peak_rss_mb"] = {n: round(s.peak_rss_mb(), 1) for n, s in bench.running.items()}
        except Exception:
            for server in bench.running.values():
                _progress(f"{server.name} log: {server.log.read_text()[-1500:]}")
            raise
        finally:
            bench.stop()
        result["runs"] = [m.row() for m in measured]
        result["top_statements"] = {
            f"{m.kind} {m.server}": m.top for m in measured if m.round == options.rounds
        }
        result["medians"] = _median_rows(measured)
        with contextlib.suppress(Exception):
            asyncio.run(cluster.drop_database(maintenance, name))
    if options.extras:
        result["extras"] = _extras(options)
    result["seconds"] = round((datetime.now(UTC) - started).total_seconds(), 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(generate.SCALES), default="small")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, help="seconds a wrk run (10; 20 at large scale)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--pool-size", type=int, default=10)
    parser.add_argument(
        "--servers",
        default="hub,postgraphile,floor",
        type=lambda text: [name for name in text.split(",") if name],
    )
    parser.add_argument("--writers", type=int, default=4, help="partner clients writing; 0: none")
    parser.add_argument("--check", type=int, default=60, help="requests a kind checked first")
    parser.add_argument("--extras", action="store_true", help="IATI import and ledger figures")
    parser.add_argument("--import-activities", type=int, default=2_050)
    parser.add_argument("--database-url", help="an existing PostgreSQL server (maintenance db)")
    parser.add_argument("--results", type=Path, default=BENCH / "results")
    options = parser.parse_args()
    if options.duration is None:
        options.duration = 20.0 if options.scale == "large" else 10.0
    unknown = set(options.servers) - {"hub", "floor", "postgraphile"}
    if unknown:
        parser.error(f"unknown servers: {sorted(unknown)}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop servers and the cluster
    started = time.perf_counter()
    result = run(options)
    paths = report.write(result, options.results)
    print(paths[1].read_text())
    _progress(f"done in {time.perf_counter() - started:.0f} s: {paths[0]} and {paths[1]}")


if __name__ == "__main__":
    main()
