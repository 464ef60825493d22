"""Free-text search: one way to match words in a column, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func


def contains_text(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` contains ``text``, in any case; ``%`` and ``_`` in it match themselves.

    SQLite connections get a Unicode ``lower()`` (``hub.db``), so case folds the same way on
    both backends.
    """
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")
