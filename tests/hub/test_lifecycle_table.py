"""docs/lifecycle.md shows the transition table as the code has it, row for row."""

from __future__ import annotations

from pathlib import Path

from hub.lifecycle import TRANSITIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "lifecycle.md"


def rendered() -> str:
    """The table of ``TRANSITIONS`` in Markdown."""
    lines = [
        "| record | action | from | to | by | with scope |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in TRANSITIONS:
        source = row.source or "(new)"
        lines.append(
            f"| {row.entity} | {row.action} | {source} | {row.target} | {row.actor} "
            f"| `{row.scope}` |"
        )
    return "\n".join(lines) + "\n"


def test_the_documented_table_is_the_code_s() -> None:
    assert rendered() in DOC.read_text(), f"replace the table in {DOC} with:\n{rendered()}"
