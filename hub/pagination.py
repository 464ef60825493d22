"""Slicing ordered lists the Relay way: ``first``/``after`` and ``last``/``before``.

Cursors carry positions in the ordered list; the arithmetic is here, the encoding in the
GraphQL layer. A window is computed from the total, so both directions need one count.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.errors import InvalidInput

MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class Slice:
    """What a connection asks for: positions are 0-based; ``after``/``before`` exclude."""

    first: int | None = None
    after: int | None = None
    last: int | None = None
    before: int | None = None

    def __post_init__(self) -> None:
        if self.first is None and self.last is None:
            raise InvalidInput(
                f"give first or last, from 1 to {MAX_PAGE_SIZE}",
                code="PAGE_SIZE_REQUIRED",
                field=("first",),
            )
        for name in ("first", "last"):
            size = getattr(self, name)
            if size is not None and not 1 <= size <= MAX_PAGE_SIZE:
                raise InvalidInput(
                    f"{name} must be between 1 and {MAX_PAGE_SIZE}, got {size}",
                    code="PAGE_SIZE_OUT_OF_RANGE",
                    field=(name,),
                )


@dataclass(frozen=True, slots=True)
class Window:
    """The positions ``start`` (included) to ``end`` (excluded) of a list of ``total``."""

    start: int
    end: int
    total: int

    @property
    def limit(self) -> int:
        return self.end - self.start

    @property
    def has_previous_page(self) -> bool:
        return self.start > 0

    @property
    def has_next_page(self) -> bool:
        return self.end < self.total


def window(request: Slice, total: int) -> Window:
    """The part of a list of ``total`` items that ``request`` selects (Relay's algorithm)."""
    start, end = 0, total
    if request.after is not None:
        start = min(max(request.after + 1, 0), total)
    if request.before is not None:
        end = max(min(request.before, end), start)
    if request.first is not None:
        end = min(end, start + request.first)
    if request.last is not None:
        start = max(start, end - request.last)
    return Window(start, end, total)
