"""Keyset pages over ordered ids: stable under concurrent inserts, cheap at any depth."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from hub.errors import InvalidInput

MAX_PAGE_SIZE = 100

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRequest:
    """At most ``first`` items whose id is greater than ``after_id``."""

    first: int
    after_id: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.first <= MAX_PAGE_SIZE:
            raise InvalidInput(
                f"first must be between 1 and {MAX_PAGE_SIZE}, got {self.first}",
                code="PAGE_SIZE_OUT_OF_RANGE",
                field=("first",),
            )


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of items in id order, whether more follow, and how many match in all."""

    items: Sequence[T]
    has_next_page: bool
    total_count: int


async def fetch_page(
    session: AsyncSession,
    query: Select[Any],
    id_column: InstrumentedAttribute[int],
    request: PageRequest,
) -> Page[Any]:
    """Run ``query`` (a select of one entity) as a keyset page ordered by ``id_column``."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    paged = query.order_by(id_column)
    if request.after_id is not None:
        paged = paged.where(id_column > request.after_id)
    rows = list((await session.scalars(paged.limit(request.first + 1))).all())
    return Page(rows[: request.first], len(rows) > request.first, int(total or 0))
