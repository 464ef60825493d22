"""tools/verify_audit.py against exports built here from docs/audit.md, tampered in every way.

The exports are written by a small writer in this file (events, leaf hashes, RFC 9162 roots,
C2SP signed notes with a fresh Ed25519 key), not by the hub, and the verifier runs as the
auditor runs it: as a separate process.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import importlib.util
import json
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "tools" / "verify_audit.py"
ORIGIN = "p2c-hub/audit"
FORMAT = "p2c-hub-audit-export/1"
EVENTS = 20
HEAD_SIZES = (0, 1, 3, 4, 7, 8, 12, 20)
ED25519 = b"\x01"

Line = dict[str, Any]


# --- a writer of the documented format -----------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def canonical(event: Any) -> bytes:
    text = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def leaf_hash(event: Any) -> bytes:
    return hashlib.sha256(b"\x00" + canonical(event)).digest()


def mth(leaves: Sequence[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


class Signer:
    def __init__(self, name: str = ORIGIN) -> None:
        self.name = name
        self.private = Ed25519PrivateKey.generate()
        self.public = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        digest = hashlib.sha256(name.encode() + b"\n\x01" + self.public).digest()
        self.key_id = digest[:4]

    @property
    def verifier_key(self) -> str:
        key = b64(ED25519 + self.public)
        return f"{self.name}+{self.key_id.hex()}+{key}"

    def signature_line(self, body: str) -> str:
        signature = self.private.sign(body.encode())
        return f"\u2014 {self.name} {b64(self.key_id + signature)}\n"


def head_body(size: int, root: bytes, time: str, origin: str = ORIGIN) -> str:
    return f"{origin}\n{size}\n{b64(root)}\ntime {time}\n"


def note(signers: Sequence[Signer], body: str) -> str:
    return body + "\n" + "".join(signer.signature_line(body) for signer in signers)


def head_time(index: int) -> str:
    moment = datetime(2026, 12, 6, 18, 10, tzinfo=UTC) + timedelta(minutes=index)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_event(number: int) -> Line:
    return {
        "action": "pledge.publish",
        "actor": {
            "client_id": "console",
            "connector": None,
            "kind": "SECRETARIAT",
            "member_id": None,
            "operator": "auditor",
            "sync_run_id": None,
        },
        "changes": {"title": {"after": f"Connectivité n° {number}", "before": None}},
        "entity": {"id": str(number), "type": "Pledge"},
        "idempotency_key": None,
        "request_id": None,
        "time": f"2026-12-06T16:50:{number % 60:02d}.123456Z",
    }


def event_line(leaf: int, event: Line) -> Line:
    return {
        "type": "event",
        "leaf": leaf,
        "event_id": leaf + 1,
        "leaf_hash": leaf_hash(event).hex(),
        "event": event,
    }


def head_line(signers: Sequence[Signer], leaves: Sequence[bytes], size: int, time: str) -> Line:
    return {"type": "head", "note": note(signers, head_body(size, mth(leaves[:size]), time))}


def build_export(
    events: Sequence[Line], head_sizes: Sequence[int], signer: Signer, *, first_time: int = 0
) -> list[Line]:
    """An export as `p2c-hub audit export` writes it: log line, event lines, head lines."""
    leaves = [leaf_hash(event) for event in events]
    return [
        {
            "type": "log",
            "format": FORMAT,
            "origin": ORIGIN,
            "tree_size": len(events),
            "exported_at": "2026-12-06T18:59:00Z",
        },
        *(event_line(leaf, event) for leaf, event in enumerate(events)),
        *(
            head_line([signer], leaves, size, head_time(first_time + index))
            for index, size in enumerate(head_sizes)
        ),
    ]


def heads_of(lines: Sequence[Line]) -> list[Line]:
    return [line for line in lines if line["type"] == "head"]


def write(path: Path, lines: Sequence[Line]) -> Path:
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    return path


def run(
    export: Path | str, keys: Sequence[str], kept: Sequence[Path] = ()
) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, str(VERIFIER), str(export)]
    for key in keys:
        args += ["--key", key]
    for path in kept:
        args += ["--kept", str(path)]
    return subprocess.run(
        args, capture_output=True, text=True, encoding="utf-8", check=False, timeout=120
    )


def assert_failed(result: subprocess.CompletedProcess[str], place: str) -> str:
    """The verifier exited 1 with one FAILED line starting with the place; returns the line."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    assert lines[0].startswith(f"FAILED: {place}"), lines[0]
    return lines[0]


def assert_ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert result.stdout.splitlines()[-1] == "OK"
    return result.stdout


@pytest.fixture
def signer() -> Signer:
    return Signer()


@pytest.fixture
def events() -> list[Line]:
    return [make_event(number) for number in range(1, EVENTS + 1)]


@pytest.fixture
def export(events: list[Line], signer: Signer) -> list[Line]:
    return build_export(events, HEAD_SIZES, signer)


def rewrite(events: list[Line], signer: Signer, leaf: int) -> list[Line]:
    """A rewrite by someone with the database and the key: an event changed, every leaf hash
    recomputed, every head re-signed with the real key."""
    changed = copy.deepcopy(events)
    changed[leaf]["changes"]["title"]["after"] = "a different title"
    return build_export(changed, HEAD_SIZES, signer, first_time=30)


# --- a valid export ------------------------------------------------------------------------------


def test_a_valid_export_passes(tmp_path: Path, export: list[Line], signer: Signer) -> None:
    out = assert_ok(run(write(tmp_path / "export.jsonl", export), [signer.verifier_key]))
    assert "events checked: 20 (leaves 0 to 19)" in out
    assert "heads checked: 8" in out
    leaves = [bytes.fromhex(line["leaf_hash"]) for line in export if line["type"] == "event"]
    newest = f"newest head: size 20, signed {head_time(7)}, root {b64(mth(leaves))}"
    assert newest in out


def test_kept_heads_and_an_earlier_export_of_a_grown_log_pass(
    tmp_path: Path, events: list[Line], export: list[Line], signer: Signer
) -> None:
    earlier = build_export(events[:12], HEAD_SIZES[:-1], signer)
    kept_heads = heads_of(export)
    kept_heads.insert(3, kept_heads[2])  # a head delivered twice
    result = run(
        write(tmp_path / "export.jsonl", export),
        [signer.verifier_key],
        [write(tmp_path / "heads.jsonl", kept_heads), write(tmp_path / "earlier.jsonl", earlier)],
    )
    out = assert_ok(result)
    assert "kept heads checked: 16 (8 distinct) and kept leaves checked: 12" in out


def test_every_kept_size_is_consistent_and_checked_by_a_proof(
    tmp_path: Path, signer: Signer
) -> None:
    events = [make_event(number) for number in range(1, 71)]
    export = build_export(events, [70], signer)
    all_heads = build_export(events, range(71), signer)
    ok = run(
        write(tmp_path / "export.jsonl", export),
        [signer.verifier_key],
        [write(tmp_path / "heads.jsonl", heads_of(all_heads))],
    )
    assert "kept heads checked: 71 (71 distinct)" in assert_ok(ok)

    leaves = [leaf_hash(event) for event in events]
    wrong = leaves[:]
    wrong[40] = hashlib.sha256(b"not the leaf").digest()
    forged = [head_line([signer], wrong, size, head_time(0)) for size in (41, 63, 64, 69)]
    for line in forged:
        result = run(
            tmp_path / "export.jsonl",
            [signer.verifier_key],
            [write(tmp_path / "forged.jsonl", [line])],
        )
        size = line["note"].split("\n")[1]
        failed = assert_failed(result, f"kept head of size {size} signed {head_time(0)}")
        assert "not consistent with the newest head of the export (size 70" in failed


def test_a_key_from_a_file_other_keys_and_other_signatures(
    tmp_path: Path, events: list[Line], signer: Signer
) -> None:
    witness = Signer("witness.example/w1")
    stranger = Signer()
    leaves = [leaf_hash(event) for event in events]
    export = build_export(events, (), signer)
    export.append(
        {"type": "head", "note": note([witness, signer], head_body(20, mth(leaves), head_time(0)))}
    )
    key_file = tmp_path / "audit.vkey"
    key_file.write_text(signer.verifier_key + "\n", encoding="utf-8")
    result = run(write(tmp_path / "export.jsonl", export), [stranger.verifier_key, f"@{key_file}"])
    assert "heads checked: 1" in assert_ok(result)


def test_an_empty_log_with_a_head_of_size_0_passes(tmp_path: Path, signer: Signer) -> None:
    result = run(
        write(tmp_path / "export.jsonl", build_export([], [0], signer)), [signer.verifier_key]
    )
    out = assert_ok(result)
    assert "events checked: 0\n" in out
    assert f"newest head: size 0, signed {head_time(0)}, root {b64(mth([]))}" in out


def test_kept_heads_and_an_export_without_heads(
    tmp_path: Path, events: list[Line], export: list[Line], signer: Signer
) -> None:
    path = write(tmp_path / "export.jsonl", build_export(events, (), signer))
    assert "newest head: none" in assert_ok(run(path, [signer.verifier_key]))
    kept = write(tmp_path / "heads.jsonl", heads_of(export)[1:2])
    failed = assert_failed(
        run(path, [signer.verifier_key], [kept]), f"kept head of size 1 signed {head_time(1)}"
    )
    assert "the export holds no head to check it against" in failed


# --- the log tampered with -----------------------------------------------------------------------


def test_an_edited_event(tmp_path: Path, export: list[Line], signer: Signer) -> None:
    export[6]["event"]["action"] = "pledge.withdraw"  # leaf 5, event 6
    failed = assert_failed(
        run(write(tmp_path / "export.jsonl", export), [signer.verifier_key]), "leaf 5 (event 6)"
    )
    assert f"leaf_hash is {export[6]['leaf_hash']}" in failed


def test_an_edited_event_with_its_leaf_hash_recomputed(
    tmp_path: Path, export: list[Line], signer: Signer
) -> None:
    export[6]["event"]["action"] = "pledge.withdraw"
    export[6]["leaf_hash"] = leaf_hash(export[6]["event"]).hex()
    failed = assert_failed(
        run(write(tmp_path / "export.jsonl", export), [signer.verifier_key]),
        f"head of size 7 signed {head_time(4)}",
    )
    assert "is not the root of the first 7 leaves" in failed


def test_a_deleted_event_line(tmp_path: Path, export: list[Line], signer: Signer) -> None:
    del export[6]  # leaf 5
    assert_failed(
        run(write(tmp_path / "export.jsonl", export), [signer.verifier_key]), "leaf 6 (event 7)"
    )


def test_the_last_event_line_deleted(tmp_path: Path, export: list[Line], signer: Signer) -> None:
    del export[EVENTS]  # leaf 19, the heads stay
    failed = assert_failed(
        run(write(tmp_path / "export.jsonl", export), [signer.verifier_key]),
        f"line 1 of {tmp_path / 'export.jsonl'}: ",
    )
    assert "tree_size is 20 but the export holds 19 event lines" in failed


def test_two_swapped_events(tmp_path: Path, export: list[Line], signer: Signer) -> None:
    export[4], export[9] = export[9], export[4]  # leaves 3 and 8
    failed = assert_failed(
        run(write(tmp_path / "export.jsonl", export), [signer.verifier_key]), "leaf 8 (event 9)"
    )
    assert "found where leaf 3 was expected (line 5 of " in failed
    assert "leaves 3 to 7 are missing or out of order" in failed


def test_two_swapped_events_renumbered(tmp_path: Path, export: list[Line], signer: Signer) -> None:
    export[4]["event"], export[9]["event"] = export[9]["event"], export[4]["event"]
    for line in (export[4], export[9]):
        line["leaf_hash"] = leaf_hash(line["event"]).hex()
    assert_failed(
        run(write(tmp_path / "export.jsonl", export), [signer.verifier_key]),
        f"head of size 4 signed {head_time(3)}",
    )


def test_an_inserted_event(tmp_path: Path, export: list[Line], signer: Signer) -> None:
    export.insert(6, event_line(5, make_event(99)) | {"event_id": 99})
    export[0]["tree_size"] += 1
    failed = assert_failed(
        run(write(tmp_path / "export.jsonl", export), [signer.verifier_key]), "leaf 5 (event 6)"
    )
    assert "found where leaf 6 was expected" in failed
    assert "out of order or repeated" in failed


def test_an_inserted_event_with_the_log_renumbered(
    tmp_path: Path, events: list[Line], export: list[Line], signer: Signer
) -> None:
    inserted = [*events[:5], make_event(99), *events[5:]]
    tampered = [
        {**export[0], "tree_size": len(inserted)},
        *(event_line(leaf, event) for leaf, event in enumerate(inserted)),
        *heads_of(export),
    ]
    assert_failed(
        run(write(tmp_path / "export.jsonl", tampered), [signer.verifier_key]),
        f"head of size 7 signed {head_time(4)}",
    )


def test_a_truncated_tail_is_caught_by_a_kept_head(
    tmp_path: Path, events: list[Line], export: list[Line], signer: Signer
) -> None:
    truncated = build_export(events[:12], HEAD_SIZES[:-1], signer)
    path = write(tmp_path / "export.jsonl", truncated)
    assert_ok(run(path, [signer.verifier_key]))  # consistent in itself
    kept = write(tmp_path / "heads.jsonl", heads_of(export))
    failed = assert_failed(
        run(path, [signer.verifier_key], [kept]), f"kept head of size 20 signed {head_time(7)}"
    )
    assert "larger than the newest head of the export (size 12" in failed
    assert "truncated" in failed


def test_a_truncated_tail_is_named_by_an_earlier_export(
    tmp_path: Path, events: list[Line], export: list[Line], signer: Signer
) -> None:
    truncated = build_export(events[:12], HEAD_SIZES[:-1], signer)
    result = run(
        write(tmp_path / "export.jsonl", truncated),
        [signer.verifier_key],
        [write(tmp_path / "earlier.jsonl", export)],
    )
    failed = assert_failed(result, f"leaf 12 (event 13) of {tmp_path / 'earlier.jsonl'}")
    assert "not in the export, which holds 12 leaves" in failed


def test_a_truncated_tail_with_the_header_left_alone(
    tmp_path: Path, export: list[Line], signer: Signer
) -> None:
    truncated = export[: 1 + 12] + heads_of(export)[:-1]
    failed = assert_failed(
        run(write(tmp_path / "export.jsonl", truncated), [signer.verifier_key]),
        f"line 1 of {tmp_path / 'export.jsonl'}: ",
    )
    assert "tree_size is 20 but the export holds 12 event lines" in failed


def test_the_rewrite_attack_is_caught_by_kept_heads(
    tmp_path: Path, events: list[Line], export: list[Line], signer: Signer
) -> None:
    path = write(tmp_path / "export.jsonl", rewrite(events, signer, leaf=5))
    assert_ok(run(path, [signer.verifier_key]))  # re-signed with the real key: fine in itself
    kept = write(tmp_path / "heads.jsonl", heads_of(export))
    # the kept heads of sizes 0 to 4 are prefixes the rewrite left alone; size 7 is not
    failed = assert_failed(
        run(path, [signer.verifier_key], [kept]), f"kept head of size 7 signed {head_time(4)}"
    )
    assert "not consistent with the newest head of the export" in failed
    assert "rewritten" in failed


def test_the_rewrite_attack_is_named_by_leaf_with_an_earlier_export(
    tmp_path: Path, events: list[Line], export: list[Line], signer: Signer
) -> None:
    earlier = write(tmp_path / "earlier.jsonl", build_export(events[:12], (4, 12), signer))
    path = write(tmp_path / "export.jsonl", rewrite(events, signer, leaf=5))
    failed = assert_failed(
        run(path, [signer.verifier_key], [earlier]), f"leaf 5 (event 6) of {earlier}"
    )
    assert "differs from leaf 5 of the export" in failed


# --- heads tampered with -------------------------------------------------------------------------


def test_a_head_signed_by_a_wrong_key(
    tmp_path: Path, events: list[Line], export: list[Line], signer: Signer
) -> None:
    leaves = [leaf_hash(event) for event in events]
    export[EVENTS + 1 + 5] = head_line([Signer()], leaves, 8, head_time(5))
    failed = assert_failed(
        run(write(tmp_path / "export.jsonl", export), [signer.verifier_key]),
        f"head of size 8 signed {head_time(5)}",
    )
    assert "no signature by a given key" in failed


def test_a_head_whose_signed_text_was_edited(
    tmp_path: Path, export: list[Line], signer: Signer
) -> None:
    line = export[EVENTS + 1 + 5]
    line["note"] = line["note"].replace(head_time(5), "2026-12-06T18:15:01Z")
    failed = assert_failed(
        run(write(tmp_path / "export.jsonl", export), [signer.verifier_key]),
        "head of size 8 signed 2026-12-06T18:15:01Z",
    )
    assert "does not verify" in failed


def test_a_head_whose_root_is_wrong(tmp_path: Path, export: list[Line], signer: Signer) -> None:
    body = head_body(12, hashlib.sha256(b"another root").digest(), head_time(6))
    export[EVENTS + 1 + 6] = {"type": "head", "note": note([signer], body)}
    failed = assert_failed(
        run(write(tmp_path / "export.jsonl", export), [signer.verifier_key]),
        f"head of size 12 signed {head_time(6)}",
    )
    assert "is not the root of the first 12 leaves" in failed


def test_a_head_larger_than_the_log(tmp_path: Path, export: list[Line], signer: Signer) -> None:
    body = head_body(21, hashlib.sha256(b"a root").digest(), head_time(9))
    export.append({"type": "head", "note": note([signer], body)})
    failed = assert_failed(
        run(write(tmp_path / "export.jsonl", export), [signer.verifier_key]),
        f"head of size 21 signed {head_time(9)}",
    )
    assert "larger than the export, which holds 20 leaves" in failed


def test_a_kept_head_signed_by_a_wrong_key(
    tmp_path: Path, events: list[Line], export: list[Line], signer: Signer
) -> None:
    leaves = [leaf_hash(event) for event in events]
    kept = write(tmp_path / "heads.jsonl", [head_line([Signer()], leaves, 3, head_time(2))])
    failed = assert_failed(
        run(write(tmp_path / "export.jsonl", export), [signer.verifier_key], [kept]),
        f"kept head of size 3 signed {head_time(2)} (line 1 of {kept})",
    )
    assert "no signature by a given key" in failed


GOOD_ROOT = b64(hashlib.sha256(b"root").digest())


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (f"{ORIGIN}\n012\n{GOOD_ROOT}\ntime 2026-12-06T18:31:18Z\n", "leading zeros"),
        (f"{ORIGIN}\n+12\n{GOOD_ROOT}\ntime 2026-12-06T18:31:18Z\n", "leading zeros"),
        (f"{ORIGIN}\n12\n{GOOD_ROOT}\n", "four non-empty lines"),
        (f"{ORIGIN}\n12\n{GOOD_ROOT}\ntime 2026-12-06T18:31:18Z\nextra\n", "four non-empty"),
        (f"{ORIGIN}\n12\n{GOOD_ROOT}\ntime 2026-12-06T18:31:18.5Z\n", "is not 'time"),
        (f"{ORIGIN}\n12\n{GOOD_ROOT}\ntime 2026-12-06 18:31:18Z\n", "is not 'time"),
        (f"{ORIGIN}\n12\n{GOOD_ROOT}\ntime 2026-02-30T18:31:18Z\n", "not a valid moment"),
        (f"{ORIGIN}\n12\n{GOOD_ROOT[:-1]}\ntime 2026-12-06T18:31:18Z\n", "base64 of 32 bytes"),
        (f"{ORIGIN}\n12\n{b64(b'x' * 31)}\ntime 2026-12-06T18:31:18Z\n", "base64 of 32 bytes"),
        (f"p2c hub\n12\n{GOOD_ROOT}\ntime 2026-12-06T18:31:18Z\n", "origin"),
    ],
)
def test_a_malformed_head_note(
    tmp_path: Path, export: list[Line], signer: Signer, body: str, what: str
) -> None:
    export.append({"type": "head", "note": note([signer], body)})
    failed = assert_failed(
        run(write(tmp_path / "export.jsonl", export), [signer.verifier_key]),
        f"line {len(export)} of {tmp_path / 'export.jsonl'}: ",
    )
    assert what in failed


@pytest.mark.parametrize(
    ("mangle", "what"),
    [
        (lambda text: text.replace("\u2014", "-"), "does not start with an em dash"),
        (lambda text: text[:-1], "does not end in a newline"),
        (lambda text: text.replace("Z\n\n", "Z\n"), "no empty line"),
        (lambda text: text.split("\n\n")[0] + "\n\n", "no signature lines"),
        (lambda text: text.replace(f"{ORIGIN} ", f"{ORIGIN}  "), "is not 'EM DASH"),
        (lambda text: text[:-3] + "!!\n", "not standard base64"),
    ],
)
def test_a_malformed_signature_block(
    tmp_path: Path, export: list[Line], signer: Signer, mangle: Any, what: str
) -> None:
    export[-1]["note"] = mangle(export[-1]["note"])
    failed = assert_failed(
        run(write(tmp_path / "export.jsonl", export), [signer.verifier_key]),
        f"line {len(export)} of {tmp_path / 'export.jsonl'}: ",
    )
    assert what in failed


# --- input that cannot be checked ----------------------------------------------------------------


def _key_with_wrong_id(signer: Signer) -> str:
    name, _, key = signer.verifier_key.split("+", 2)
    return f"{name}+00000000+{key}"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing export", "cannot read"),
        ("empty export", "is empty"),
        ("not JSON", "not a JSON line"),
        ("not an object", "not a JSON object"),
        ("duplicate key", "duplicate key"),
        ("first line an event", "its first line is not the 'log' line"),
        ("wrong format", "its format is"),
        ("header without tree_size", "'tree_size' is not a non-negative integer"),
        ("event without leaf_hash", "'leaf_hash' is not a string"),
        ("unknown line type", "unknown line type"),
        ("not UTF-8", "not UTF-8"),
        ("key without parts", "malformed key"),
        ("key with a wrong id", "is not the id of its name and key"),
        ("key not base64", "malformed key"),
        ("key of another type", "malformed key"),
        ("missing key file", "cannot read the key file"),
        ("missing kept file", "cannot read"),
        ("kept file not JSON", "not a JSON line"),
        ("kept file of another format", "its format is"),
    ],
)
def test_bad_input_exits_2(
    tmp_path: Path, export: list[Line], signer: Signer, case: str, message: str
) -> None:
    path = tmp_path / "export.jsonl"
    keys = [signer.verifier_key]
    kept: list[Path] = []
    write(path, export)
    name, key_id, _ = signer.verifier_key.split("+", 2)
    if case == "missing export":
        path = tmp_path / "nothing.jsonl"
    elif case == "empty export":
        path.write_bytes(b"")
    elif case == "not JSON":
        path.write_text(path.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    elif case == "not an object":
        path.write_text(path.read_text(encoding="utf-8") + "[1, 2]\n", encoding="utf-8")
    elif case == "duplicate key":
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        lines[1] = lines[1].replace('{"type": "event",', '{"type": "event", "leaf": 3,', 1)
        path.write_text("".join(lines), encoding="utf-8")
    elif case == "first line an event":
        write(path, export[1:])
    elif case == "wrong format":
        write(path, [{**export[0], "format": "p2c-hub-audit-export/2"}, *export[1:]])
    elif case == "header without tree_size":
        write(path, [{k: v for k, v in export[0].items() if k != "tree_size"}, *export[1:]])
    elif case == "event without leaf_hash":
        del export[3]["leaf_hash"]
        write(path, export)
    elif case == "unknown line type":
        write(path, [*export, {"type": "witness"}])
    elif case == "not UTF-8":
        path.write_bytes(path.read_bytes() + b'{"type": "head", "note": "\xff"}\n')
    elif case == "key without parts":
        keys = [f"{name}+{key_id}"]
    elif case == "key with a wrong id":
        keys = [_key_with_wrong_id(signer)]
    elif case == "key not base64":
        keys = [f"{name}+{key_id}+not*base64"]
    elif case == "key of another type":
        keys = [f"{name}+{key_id}+" + b64(b"\x02" + signer.public)]
    elif case == "missing key file":
        keys = [f"@{tmp_path / 'no.vkey'}"]
    elif case == "missing kept file":
        kept = [tmp_path / "no-heads.jsonl"]
    elif case == "kept file not JSON":
        kept = [tmp_path / "heads.jsonl"]
        kept[0].write_text("this is not json\n", encoding="utf-8")
    elif case == "kept file of another format":
        kept = [write(tmp_path / "heads.jsonl", [{**export[0], "format": "other"}])]
    result = run(path, keys, kept)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert "error:" in result.stderr
    assert message in result.stderr


def test_no_key_and_help(tmp_path: Path, export: list[Line]) -> None:
    result = run(write(tmp_path / "export.jsonl", export), [])
    assert result.returncode == 2
    assert "--key" in result.stderr
    help_text = subprocess.run(
        [sys.executable, str(VERIFIER), "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert help_text.returncode == 0
    assert "--kept" in help_text.stdout


# --- the Merkle code in process, against the reference above -------------------------------------


def _load_verifier() -> ModuleType:
    spec = importlib.util.spec_from_file_location("verify_audit_under_test", VERIFIER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_roots_and_consistency_proofs_match_rfc_9162() -> None:
    verifier = _load_verifier()
    leaves = [hashlib.sha256(str(i).encode()).digest() for i in range(600)]
    tree = verifier.LeafHashes()
    for leaf in leaves:
        tree.append(leaf)
    sizes = [*range(0, 70), 127, 128, 129, 255, 256, 257, 300, 511, 512, 513, 599, 600]
    roots = {size: mth(leaves[:size]) for size in sizes}
    for size in sizes:
        assert tree.root(0, size) == roots[size]
    other = hashlib.sha256(b"other").digest()
    for second in sizes:
        for first in (size for size in sizes if size <= second):
            proof = verifier.consistency_proof(tree, first, second)
            check = verifier.verify_consistency
            assert check(first, second, roots[first], roots[second], proof), (first, second)
            if 0 < first < second:
                assert proof
                assert not check(first, second, other, roots[second], proof)
                assert not check(first, second, roots[first], other, proof)
                assert not check(first, second, roots[first], roots[second], [other, *proof[1:]])
                assert not check(first, second, roots[first], roots[second], proof[:-1])
                assert not check(first, second, roots[first], roots[second], [*proof, other])
            else:
                assert proof == []
