"""The benchmark's report: the JSON the harness gathered, and a Markdown table of medians
with the ratios of the hub to PostGraphile and to the floor."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

SERVERS = ("hub", "postgraphile", "floor")


def _cell(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 10 else f"{value:.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _ratio(hub: float | None, other: float | None) -> str:
    if hub is None or not other:
        return "n/a"
    return f"{hub / other:.2f}"


def markdown(result: dict[str, Any]) -> str:
    """The report as Markdown."""
    machine = result["machine"]
    lines = [
        f"# Benchmark, {result['scale']} scale, {result['started']}",
        "",
        f"Machine: {machine['cpus']} CPUs ({machine['cpu_model']}), {machine['memory_gib']} GiB;"
        f" {machine['postgresql']}; Python {machine['python']}; load by wrk in its own process"
        f" on the same machine, {result['concurrency']} connections, {result['duration_s']} s"
        f" a run, {result['rounds']} alternating rounds, medians below. One process per server"
        f" ({', '.join(f'{k} {v}' for k, v in result['processes'].items())}).",
        "",
        f"Data: {result['data']['rows']['pledges']:,} pledges, "
        f"{result['data']['rows']['organisations']:,} organisations, "
        f"{result['data']['rows']['endorsements']:,} endorsements, "
        f"{result['data']['rows']['progress_reports']:,} progress reports; generated in "
        f"{result['data']['seconds']} s. Checked before timing: every server gave the same "
        "data for "
        + ", ".join(f"{count} {kind}" for kind, count in result["verified"].items())
        + " requests.",
        "",
        "| request | server | req/s | p50 ms | p95 ms | p99 ms | errors | SQL/request |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    medians = result["medians"]
    for row in medians:
        lines.append(
            f"| {row['kind']} | {row['server']} | {_cell(row['rps'])} | {_cell(row['p50_ms'])} "
            f"| {_cell(row['p95_ms'])} | {_cell(row['p99_ms'])} | {row['errors']} "
            f"| {_cell(row['statements_per_request'])} |"
        )
    by = {(r["kind"], r["server"]): r for r in medians}
    kinds = sorted({r["kind"] for r in medians if r["server"] != "hub"})
    lines += [
        "",
        "| request | hub/PostGraphile req/s | hub/floor req/s "
        "| hub/PostGraphile p99 | hub/floor p99 |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind in kinds:
        hub = by[kind, "hub"]
        pg = by.get((kind, "postgraphile"), {})
        floor = by.get((kind, "floor"), {})
        lines.append(
            f"| {kind} | {_ratio(hub['rps'], pg.get('rps'))} "
            f"| {_ratio(hub['rps'], floor.get('rps'))} "
            f"| {_ratio(hub['p99_ms'], pg.get('p99_ms'))} "
            f"| {_ratio(hub['p99_ms'], floor.get('p99_ms'))} |"
        )
    unloaded = result.get("unloaded_ms", {})
    if unloaded:
        names = [name for name in SERVERS if any(name in by for by in unloaded.values())]
        lines += [
            "",
            "One request at a time (the check before timing), median ms:",
            "",
            "| request | " + " | ".join(names) + " |",
            "|---|" + "---:|" * len(names),
        ]
        for kind, by in unloaded.items():
            lines.append(f"| {kind} | " + " | ".join(_cell(by.get(n)) for n in names) + " |")
    lines += [
        "",
        "Cold start (spawn to first answer), s: "
        + ", ".join(f"{k} {v}" for k, v in result["cold_start_s"].items()),
        "",
        "Peak resident memory (VmHWM), MiB: "
        + ", ".join(f"{k} {v}" for k, v in result["peak_rss_mb"].items()),
        "",
        f"Response cache: {result['response_cache']}.",
        "",
        "SQL/request: statements the server's own database role ran (pg_stat_statements, top "
        "level, BEGIN and COMMIT included, background work during the run too) over requests "
        "answered; the few requests still in flight when a run ends add their statements "
        "only. Writes are the hub's alone.",
    ]
    for name, printed in result.get("extras", {}).items():
        lines += ["", f"## {name}", "", "```", printed, "```"]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Render a JSON report again as Markdown, on stdout."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("report", type=Path)
    print(markdown(json.loads(parser.parse_args().report.read_text())), end="")


def write(result: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    """Write ``<time>-<scale>.json`` and ``.md`` under ``directory``; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{result['started'].replace(':', '').replace('+0000', 'Z')}-{result['scale']}"
    json_path = directory / f"{stem}.json"
    markdown_path = directory / f"{stem}.md"
    json_path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    markdown_path.write_text(markdown(result))
    return json_path, markdown_path


if __name__ == "__main__":
    main()
