"""The benchmark harness, run as ``make bench`` runs it but tiny and short, against the hub
and the floor only (PostGraphile needs Node.js 22, which make test does not install): so
that the instrument cannot rot between the runs that use it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_harness_measures_the_hub_and_the_floor_on_the_same_answers(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "harness.py"),
            "--scale",
            "tiny",
            "--rounds",
            "1",
            "--duration",
            "3",  # a tiny listing takes the hub 0.1 s alone, several times that in a busy suite
            "--concurrency",
            "2",
            "--servers",
            "hub,floor",
            "--writers",
            "2",
            "--check",
            "8",
            "--results",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    [report] = tmp_path.glob("*.json")
    result = json.loads(report.read_text())
    assert result["verified"] == {"listing": 8, "detail": 8, "stats": 2}
    medians = {(row["kind"], row["server"]): row for row in result["medians"]}
    assert set(medians) == {
        *((kind, server) for kind in ("listing", "detail", "stats") for server in ("hub", "floor")),
        ("writes", "hub"),
    }
    for row in medians.values():
        assert row["requests"] > 0, row
        assert row["rps"] > 0, row
        assert row["errors"] == 0, row
        assert row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"], row
    for kind in ("listing", "detail", "stats"):
        # one statement a request, and those of the few requests still in flight at the end
        assert 1.0 <= medians[kind, "floor"]["statements_per_request"] < 1.1
        assert medians[kind, "hub"]["statements_per_request"] > 2
    assert result["peak_rss_mb"]["hub"] > 0
    assert result["cold_start_s"]["floor"] > 0
    [markdown] = tmp_path.glob("*.md")
    assert "| listing | hub |" in markdown.read_text()
    assert "hub/floor req/s" in done.stdout
