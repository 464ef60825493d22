"""The demo coalition: deterministic, realistic, complete in every facet, loaded once."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.countries.models import CountryGroup
from hub.countries.service import groups_of
from hub.demo.load import database_is_empty, load_demo
from hub.demo.plan import AS_OF, build_plan
from hub.endorsements.models import Endorsement, EndorsementStatus
from hub.money.rates import parse_fred, parse_imf
from hub.money.service import load_rates
from hub.organisations.models import MembershipStatus, Organisation, OrganisationType
from hub.pledges.models import (
    FocusArea,
    ImplementationStatus,
    Pledge,
    PledgeFocusArea,
    PledgeTargetCountry,
    PledgeType,
    PublicationStatus,
    Target,
)
from hub.progress.models import ProgressReport, ProgressValue

FX = Path(__file__).parents[2] / "data" / "fx"


def test_the_same_seed_gives_the_same_coalition() -> None:
    first, again, other = build_plan(7), build_plan(7), build_plan(8)
    assert first == again
    assert first != other


async def test_the_demo_covers_every_facet_and_loads_once(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        assert await database_is_empty(session)
        await load_rates(session, parse_imf((FX / "imf_exchangerates.csv").read_text()))
        await load_rates(session, parse_fred((FX / "fred-monthly.csv").read_text()))
        loaded = await load_demo(session, build_plan())
        await session.commit()
    assert not loaded.already_loaded

    async with session_factory() as session:
        members = (
            await session.scalars(
                select(Organisation).where(
                    Organisation.membership_status == MembershipStatus.MEMBER
                )
            )
        ).all()
        assert len(members) >= 60
        assert {m.organisation_type for m in members} == set(OrganisationType)
        statuses = set(await session.scalars(select(Organisation.membership_status).distinct()))
        assert statuses == set(MembershipStatus)

        pledges = (await session.scalars(select(Pledge))).all()
        assert len(pledges) >= 300
        assert {p.pledge_type for p in pledges} == set(PledgeType)
        assert {p.publication_status for p in pledges} == set(PublicationStatus)
        assert {p.implementation_status for p in pledges} == set(ImplementationStatus)
        assert set(await session.scalars(select(PledgeFocusArea.focus_area).distinct())) == set(
            FocusArea
        )

        pledges_per_lead = Counter(p.lead_member_id for p in pledges)
        assert max(pledges_per_lead.values()) >= 20, "a few members pledge a lot"
        few = sum(1 for count in pledges_per_lead.values() if count <= 2)
        assert few > len(pledges_per_lead) / 2, "most members pledge once or twice"

        countries = set(await session.scalars(select(PledgeTargetCountry.country).distinct()))
        assert len(countries) >= 40
        groups = await groups_of(session, countries, date(2025, 6, 30))
        assert {g for found in groups.values() for g in found} == set(CountryGroup)

        endorsements = (await session.scalars(select(Endorsement))).all()
        assert {e.status for e in endorsements} == set(EndorsementStatus)
        accepted = Counter(
            e.pledge_id for e in endorsements if e.status is EndorsementStatus.ACCEPTED
        )
        multi = sum(1 for count in accepted.values() if count > 1)
        assert multi >= 0.3 * len(pledges), "a co-endorsement counts once accepted"
        stamps = [e.accepted_at for e in endorsements if e.accepted_at is not None]
        assert max(stamps).date() <= AS_OF, "no date after the demo's own today"

        converted = {p.currency for p in pledges if p.usd_amount_minor is not None}
        assert {"USD", "EUR", "GBP", "JPY"} <= converted
        assert any(p.usd_missing_reason for p in pledges), "some money has no rate, and says so"

        assert (await session.scalar(select(func.count()).select_from(Target)) or 0) >= 300
        reports = (await session.scalars(select(ProgressReport))).all()
        assert len(reports) >= 300
        last_report: dict[int, datetime] = {}
        for report in reports:
            last = last_report.get(report.pledge_id, report.submitted_at)
            last_report[report.pledge_id] = max(last, report.submitted_at)
        overdue = [d for d in last_report.values() if (AS_OF - d.date()).days > 730]
        assert overdue, "some pledges have not reported for two years"
        assert max(last_report.values()).date() <= AS_OF
        values = (await session.scalars(select(ProgressValue.value))).all()
        assert min(v for v in values if v is not None) >= 0, "no negative people or prices"

    async with session_factory() as session:
        again = await load_demo(session, build_plan())
        await session.commit()
        assert again.already_loaded
        assert await session.scalar(select(func.count()).select_from(Pledge)) == len(pledges)
