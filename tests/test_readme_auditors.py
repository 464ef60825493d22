"""The README's auditor session, run as written after the partners' walk-through: GraphQL
with an auditor's token, a signed head, a proof, an export and the independent verifier."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from hub.audit.merkle import verify_inclusion
from tests.test_readme_partners import README, run_as_written, walk_through

ROOT = README.parent


def session() -> str:
    """The shell blocks of the README's "For auditors" section, joined."""
    section = README.read_text().split("\n## For auditors\n", 1)[1].split("\n## ", 1)[0]
    return "\n".join(part.split("```", 1)[0] for part in section.split("```sh\n")[1:])


def test_the_auditor_session_runs_as_written(tmp_path: Path) -> None:
    shutil.copy(ROOT / "tools" / "verify_audit.py", tmp_path)
    heads = str(tmp_path / "audit-heads.jsonl")
    run = run_as_written(tmp_path, walk_through() + "\n" + session(), audit_heads_file=heads)
    assert run.returncode == 0, run.stderr + run.stdout
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    steps = [line for line in lines if "step" in line]
    assert [(s["step"], s["org"]) for s in steps] == [
        ("INVITE", "Connect Foundation"),
        ("ACCEPT", "Connect Foundation"),
    ]
    assert all(s["amount"] == 250000000 and s["countries"] == ["MWI"] for s in steps), steps
    [head] = [line for line in lines if "signedAt" in line]
    [published] = [line for line in lines if "eventId" in line]
    [proof] = [line for line in lines if "path" in line]
    assert published["leafIndex"] == proof["leafIndex"]
    assert proof["rootHash"] == head["rootHash"]
    assert published["leafIndex"] < head["treeSize"]
    tail = run.stdout.rstrip().splitlines()
    assert tail[-1] == "OK", run.stdout
    assert any(line.startswith("verified audit-1.jsonl") for line in tail)
    export = [json.loads(line) for line in (tmp_path / "audit-1.jsonl").read_text().splitlines()]
    [leaf] = [e for e in export if e.get("leaf") == proof["leafIndex"]]
    assert verify_inclusion(
        bytes.fromhex(leaf["leaf_hash"]),
        proof["leafIndex"],
        head["treeSize"],
        [bytes.fromhex(p) for p in proof["path"]],
        bytes.fromhex(head["rootHash"]),
    )
