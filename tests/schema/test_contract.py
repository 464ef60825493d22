"""The schema is a contract: the committed SDL matches the code, and breaking changes
against the last released SDL are named in the README's changelog."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from graphql import BreakingChange, build_schema, find_breaking_changes

from hub.app import schema_sdl

ROOT = Path(__file__).parents[2]
CURRENT = ROOT / "schema" / "schema.graphql"
RELEASED = ROOT / "schema" / "released.graphql"


def changelog() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## Changelog", 1)[1]


def unexplained(old_sdl: str, new_sdl: str, log: str) -> list[BreakingChange]:
    """Breaking changes from ``old_sdl`` to ``new_sdl`` that ``log`` does not name."""
    old = build_schema(old_sdl, assume_valid_sdl=True)
    new = build_schema(new_sdl, assume_valid_sdl=True)
    return [c for c in find_breaking_changes(old, new) if c.description not in log]


def test_the_committed_sdl_is_the_schema() -> None:
    assert CURRENT.read_text(encoding="utf-8") == schema_sdl(), (
        "schema/schema.graphql is stale: run p2c-hub schema print --output schema/schema.graphql"
    )


def test_no_unannounced_breaking_change_since_the_last_release() -> None:
    released = RELEASED.read_text(encoding="utf-8")
    assert unexplained(released, schema_sdl(), changelog()) == []


def test_a_removed_field_is_a_breaking_change_unless_the_changelog_names_it() -> None:
    released = RELEASED.read_text(encoding="utf-8")
    removed = released.replace('  """Short title."""\n  title: String!\n', "", 1)
    assert removed != released
    [change] = unexplained(released, removed, "")
    assert change.description == "Field Pledge.title was removed."
    assert unexplained(released, removed, "- Field Pledge.title was removed.") == []


def test_schema_print_writes_the_sdl(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    command = Path(sys.executable).with_name("p2c-hub")
    subprocess.run([str(command), "schema", "print", "--output", str(target)], check=True)
    assert target.read_text(encoding="utf-8") == schema_sdl()
