"""Dataloaders: one per relation, each a single statement per batch, results in key order.

Every loader reads through ``hub`` query functions, which apply the visibility rule; the audit
trail's loaders are used only once the caller's ``audit:read`` scope has been checked, the
connectors' once its ``connectors:admin`` scope has, and a pledge's source record once the
caller was found to be one who may see it (``hub.imports.queries.sees_source``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date
from decimal import Decimal
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from hub.audit.queries import EndorsementStep, Logged, events_by_id, steps_by_event
from hub.countries.models import Country, CountryGroup
from hub.countries.queries import CountryTotals, countries_by_code, totals_by_country
from hub.countries.service import groups_of
from hub.endorsements.queries import (
    EndorsementView,
    endorsements_by_id,
    endorsements_by_organisation,
    endorsements_by_pledge,
)
from hub.imports.models import (
    Connector,
    CountedElsewhere,
    DeadLetter,
    ReviewEntry,
    SourceRecord,
    SyncRun,
)
from hub.imports.queries import (
    children_by_pledge,
    connectors_by_id,
    counted_elsewhere_by_pledge,
    letters_by_id,
    linked_by_pledge,
    parents_by_pledge,
    review_entries_by_id,
    runs_by_id,
    sources_by_pledge,
    texts_by_pledge,
)
from hub.money.models import MoneyFlow
from hub.money.queries import flows_by_pledge
from hub.organisations.models import Organisation
from hub.organisations.queries import OrganisationTotals, totals_by_organisation
from hub.organisations.service import organisations_by_id
from hub.pledges.models import BeneficiaryGroup, FocusArea, Pledge, PledgeText, Target
from hub.pledges.queries import (
    PledgeIdsKey,
    beneficiaries_by_pledge,
    focus_areas_by_pledge,
    pledge_ids_by_country,
    pledge_ids_by_organisation,
    pledges_by_id,
    sdgs_by_pledge,
    target_countries_by_pledge,
    target_groups_by_pledge,
)
from hub.progress.models import EvidenceLink, ProgressReport, ProgressValue
from hub.progress.queries import (
    evidence_by_report,
    reports_by_id,
    reports_by_pledge,
    targets_by_id,
    targets_by_pledge,
    values_by_report,
    values_by_target,
)
from hub.visibility import Viewer

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Loaders:
    """The loaders of one request; each batch opens its own short session."""

    def __init__(
        self,
        session_factory: Callable[[], AbstractAsyncContextManager[AsyncSession]],
        viewer: Viewer,
    ) -> None:
        self._session_factory = session_factory
        v = viewer
        self.pledge: DataLoader[int, Pledge | None] = self._make(
            lambda s, ids: pledges_by_id(s, v, ids), None
        )
        self.organisation: DataLoader[int, Organisation | None] = self._make(
            organisations_by_id, None
        )
        self.country: DataLoader[str, Country | None] = self._make(countries_by_code, None)
        self.focus_areas: DataLoader[int, list[FocusArea]] = self._make(focus_areas_by_pledge, [])
        self.target_countries: DataLoader[int, list[str]] = self._make(
            target_countries_by_pledge, []
        )
        self.target_groups: DataLoader[int, list[CountryGroup]] = self._make(
            target_groups_by_pledge, []
        )
        self.beneficiaries: DataLoader[int, list[BeneficiaryGroup]] = self._make(
            beneficiaries_by_pledge, []
        )
        self.sdgs: DataLoader[int, list[int]] = self._make(sdgs_by_pledge, [])
        self.endorsement: DataLoader[int, EndorsementView | None] = self._make(
            lambda s, ids: endorsements_by_id(s, v, ids), None
        )
        self.report: DataLoader[int, ProgressReport | None] = self._make(
            lambda s, ids: reports_by_id(s, v, ids), None
        )
        self.endorsements_by_pledge: DataLoader[int, list[EndorsementView]] = self._make(
            lambda s, ids: endorsements_by_pledge(s, v, ids), []
        )
        self.endorsements_by_organisation: DataLoader[int, list[EndorsementView]] = self._make(
            lambda s, ids: endorsements_by_organisation(s, v, ids), []
        )
        self.targets: DataLoader[int, list[Target]] = self._make(
            lambda s, ids: targets_by_pledge(s, v, ids), []
        )
        self.target: DataLoader[int, Target | None] = self._make(
            lambda s, ids: targets_by_id(s, v, ids), None
        )
        self.target_values: DataLoader[int, list[Decimal]] = self._make(
            lambda s, ids: values_by_target(s, v, ids), []
        )
        self.reports: DataLoader[int, list[ProgressReport]] = self._make(
            lambda s, ids: reports_by_pledge(s, v, ids), []
        )
        self.report_values: DataLoader[int, list[ProgressValue]] = self._make(values_by_report, [])
        self.evidence: DataLoader[int, list[EvidenceLink]] = self._make(evidence_by_report, [])
        self.flows: DataLoader[int, list[MoneyFlow]] = self._make(
            lambda s, ids: flows_by_pledge(s, v, ids), []
        )
        self.organisation_pledge_ids: DataLoader[PledgeIdsKey, list[int]] = self._make(
            lambda s, keys: pledge_ids_by_organisation(s, v, keys), []
        )
        self.country_pledge_ids: DataLoader[str, list[int]] = self._make(
            lambda s, codes: pledge_ids_by_country(s, v, codes), []
        )
        self.organisation_totals: DataLoader[int, OrganisationTotals] = self._make(
            lambda s, ids: totals_by_organisation(s, v, ids), OrganisationTotals()
        )
        self.country_totals: DataLoader[str, CountryTotals] = self._make(
            lambda s, codes: totals_by_country(s, v, codes), CountryTotals()
        )
        self.country_groups: DataLoader[tuple[str, date], set[CountryGroup]] = self._make(
            self._groups_on, set()
        )
        self.audit_event: DataLoader[int, Logged | None] = self._make(events_by_id, None)
        self.endorsement_step: DataLoader[int, EndorsementStep | None] = self._make(
            steps_by_event, None
        )
        self.pledge_texts: DataLoader[int, list[PledgeText]] = self._make(texts_by_pledge, [])
        self.pledge_source: DataLoader[int, SourceRecord | None] = self._make(
            sources_by_pledge, None
        )
        self.linked_records: DataLoader[int, list[SourceRecord]] = self._make(linked_by_pledge, [])
        self.counted_elsewhere: DataLoader[int, CountedElsewhere | None] = self._make(
            lambda s, ids: counted_elsewhere_by_pledge(s, v, ids), None
        )
        self.parent_ids: DataLoader[int, list[int]] = self._make(parents_by_pledge, [])
        self.child_ids: DataLoader[int, list[int]] = self._make(children_by_pledge, [])
        self.connector: DataLoader[int, Connector | None] = self._make(connectors_by_id, None)
        self.sync_run: DataLoader[int, SyncRun | None] = self._make(runs_by_id, None)
        self.dead_letter: DataLoader[int, DeadLetter | None] = self._make(letters_by_id, None)
        self.review_entry: DataLoader[int, ReviewEntry | None] = self._make(
            review_entries_by_id, None
        )

    def _make(
        self,
        fetch: Callable[[AsyncSession, Sequence[K]], Awaitable[Mapping[K, V]]],
        default: V,
    ) -> DataLoader[K, V]:
        async def load(keys: Sequence[K]) -> list[V]:
            async with self._session_factory() as session:
                found = await fetch(session, list(keys))
            return [found.get(key, default) for key in keys]

        return DataLoader(load)

    @staticmethod
    async def _groups_on(
        session: AsyncSession, keys: Sequence[tuple[str, date]]
    ) -> dict[tuple[str, date], set[CountryGroup]]:
        """Groups of (country, date) pairs: one statement per distinct date in the batch."""
        found: dict[tuple[str, date], set[CountryGroup]] = {}
        for on in {on for _, on in keys}:
            codes = [code for code, day in keys if day == on]
            for code, groups in (await groups_of(session, codes, on)).items():
                found[code, on] = groups
        return found
