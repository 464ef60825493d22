"""Country look-ups services use to refuse unknown codes with a clear message."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.countries.models import Country
from hub.errors import InvalidInput


async def require_countries(session: AsyncSession, codes: Iterable[str], *, field: str) -> None:
    """Refuse codes that are not ISO 3166-1 alpha-3 countries known to the hub."""
    wanted = set(codes)
    if not wanted:
        return
    known = set(await session.scalars(select(Country.alpha3).where(Country.alpha3.in_(wanted))))
    unknown = sorted(wanted - known)
    if unknown:
        raise InvalidInput(
            f"unknown ISO 3166-1 alpha-3 country code(s): {', '.join(unknown)}",
            code="UNKNOWN_COUNTRY",
            field=(field,),
        )
