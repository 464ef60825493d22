"""Dataloaders: one per relation, each a single statement per batch, results in key order."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from hub.organisations.models import Organisation
from hub.organisations.service import organisations_by_id
from hub.pledges.models import FocusArea
from hub.pledges.service import focus_areas_by_pledge


class Loaders:
    """The loaders of one request; each batch opens its own short session."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self.organisation_by_id = DataLoader(self._load_organisations)
        self.focus_areas_by_pledge = DataLoader(self._load_focus_areas)

    async def _load_organisations(self, ids: Sequence[int]) -> list[Organisation | None]:
        async with self._session_factory() as session:
            found = await organisations_by_id(session, ids)
        return [found.get(key) for key in ids]

    async def _load_focus_areas(self, ids: Sequence[int]) -> list[list[FocusArea]]:
        async with self._session_factory() as session:
            found = await focus_areas_by_pledge(session, ids)
        return [found[key] for key in ids]
