"""A small public graph with one of everything the visibility rule must hide or show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.endorsements.models import Role
from hub.endorsements.service import invite, respond, revoke
from hub.money.amounts import money
from hub.money.flows import record_flow
from hub.money.models import ExchangeRate, TransactionKind
from hub.organisations.models import OrganisationType
from hub.organisations.service import create_organisation
from hub.pledges.models import FocusArea, Indicator, PledgeType
from hub.pledges.rules import TargetDraft
from hub.pledges.service import (
    add_target,
    fulfil_pledge,
    publish_pledge,
    submit_pledge,
    withdraw_pledge,
)
from hub.progress.rules import ReportDraft, ReportedValue
from hub.progress.service import report_progress, review_report
from tests.fixtures.factories import add_member, add_pledge

PUBLISHED = datetime(2024, 2, 1, tzinfo=UTC)


@dataclass
class Graph:
    """Ids of what was made, by the names the tests use."""

    members: dict[str, int]
    pledges: dict[str, int]


async def build_graph(session_factory: async_sessionmaker[AsyncSession]) -> Graph:
    async with session_factory() as session:
        graph = await _build(session)
        await session.commit()
    return graph


async def _publish(session: AsyncSession, pledge_id: int, at: datetime = PUBLISHED) -> None:
    await submit_pledge(session, pledge_id)
    await publish_pledge(session, pledge_id, at=at)


async def _build(session: AsyncSession) -> Graph:
    session.add(
        ExchangeRate(
            currency="EUR", rate_date=date(2024, 1, 31), source="TEST", units_per_usd=Decimal("0.9")
        )
    )
    alpha = await add_member(
        session, "Alpha Telecom", OrganisationType.PRIVATE_SECTOR, headquarters_country="KEN"
    )
    beta = await add_member(session, "Beta Fund", OrganisationType.INTERNATIONAL_ORGANIZATION)
    gamma = await add_member(session, "Gamma University", OrganisationType.ACADEMIA)
    delta = await create_organisation(
        session, name="Delta NGO", organisation_type=OrganisationType.CIVIL_SOCIETY
    )
    members = {"alpha": alpha.id, "beta": beta.id, "gamma": gamma.id, "delta": delta.id}

    p1 = await add_pledge(
        session, alpha, title="Fibre for Bhutan schools", pledge_type=PledgeType.FINANCIAL,
        focus_areas=(FocusArea.ACCESS, FocusArea.ADOPTION), target_countries=("BTN",),
        amount="1000000", currency="USD", announced_on=date(2022, 3, 1),
        description="Connect 200 schools with fibre.",
    )  # fmt: skip
    await _publish(session, p1.id, datetime(2022, 3, 2, tzinfo=UTC))
    funder = await invite(session, p1.id, beta.id, [Role.FUNDER], invited_by_id=alpha.id)
    await respond(session, funder.id, accept=True)
    declined = await invite(session, p1.id, gamma.id, [Role.ENDORSER], invited_by_id=alpha.id)
    await respond(session, declined.id, accept=False)
    await invite(session, p1.id, delta.id, [Role.IMPLEMENTER], invited_by_id=alpha.id)
    for kind, amount, on, counts, reason in [
        (TransactionKind.COMMITMENT, "1000000", date(2022, 3, 1), True, "the lead's commitment"),
        (TransactionKind.DISBURSEMENT, "300000", date(2023, 3, 1), True, "paid by the lead"),
        (TransactionKind.DISBURSEMENT, "-50000", date(2023, 4, 1), True, "correction"),
        (TransactionKind.INCOMING, "300000", date(2023, 3, 5), False, "the receiver's view"),
    ]:
        await record_flow(
            session, p1.id, kind, money(amount, "USD"), on,
            counts_toward_total=counts, count_reason=reason,
        )  # fmt: skip

    p2 = await add_pledge(
        session, beta, title="Spectrum policy for Fiji", pledge_type=PledgeType.POLICY,
        focus_areas=(FocusArea.ACCELERATE,), target_countries=("FJI",),
        announced_on=date(2023, 5, 10),
    )  # fmt: skip
    await _publish(session, p2.id)
    await fulfil_pledge(session, p2.id)

    draft = await add_pledge(
        session, alpha, title="Secret draft", pledge_type=PledgeType.FINANCIAL,
        amount="99", currency="USD", target_countries=("BTN",), announced_on=date(2024, 1, 1),
    )  # fmt: skip
    submitted = await add_pledge(
        session, gamma, title="Submitted plan", pledge_type=PledgeType.ADVOCACY,
        target_countries=("NPL",), announced_on=date(2024, 2, 2),
    )  # fmt: skip
    await submit_pledge(session, submitted.id)

    p5 = await add_pledge(
        session, beta, title="Satellite for São Tomé", pledge_type=PledgeType.FINANCIAL,
        focus_areas=(FocusArea.ACCESS,), target_countries=("STP",), amount="500000",
        currency="EUR", announced_on=date(2024, 1, 31),
    )  # fmt: skip
    await _publish(session, p5.id)
    await withdraw_pledge(session, p5.id, at=datetime(2025, 1, 5, tzinfo=UTC))

    never = await add_pledge(
        session, gamma, title="Withdrawn before publication", pledge_type=PledgeType.POLICY,
        announced_on=date(2024, 3, 3),
    )  # fmt: skip
    await withdraw_pledge(session, never.id)

    p7 = await add_pledge(
        session, gamma, title="Digital skills in Nepal", pledge_type=PledgeType.PROGRAMMATIC,
        focus_areas=(FocusArea.VALUE_CREATION,), target_countries=("NPL", "BTN"),
        amount="250000", currency="USD", announced_on=date(2024, 6, 15),
    )  # fmt: skip
    await _publish(session, p7.id, datetime(2024, 6, 20, tzinfo=UTC))
    helper = await invite(session, p7.id, alpha.id, [Role.IMPLEMENTER], invited_by_id=gamma.id)
    await respond(session, helper.id, accept=True)
    gone = await invite(session, p7.id, beta.id, [Role.FUNDER], invited_by_id=gamma.id)
    await respond(session, gone.id, accept=True)
    await revoke(session, gone.id)
    trained = await add_target(
        session, p7.id,
        TargetDraft(Indicator.PEOPLE_TRAINED, "people", baseline_value=Decimal(0),
                    target_value=Decimal(1000)),
    )  # fmt: skip
    schools = await add_target(
        session, p7.id,
        TargetDraft(Indicator.SCHOOLS_CONNECTED, "schools", cumulative=False,
                    baseline_value=Decimal(0), target_value=Decimal(40)),
    )  # fmt: skip
    for end, people, connected, verdict in [
        (date(2025, 6, 14), "400", "10", True),
        (date(2025, 12, 14), "700", "12", None),
        (date(2026, 3, 14), "900", "30", False),
    ]:
        report = await report_progress(
            session, p7.id, gamma.id,
            ReportDraft(date(2024, 6, 15), end, values=[
                ReportedValue(trained.id, Decimal(people)),
                ReportedValue(schools.id, Decimal(connected)),
            ]),
            at=datetime.combine(end, datetime.min.time(), UTC),
        )  # fmt: skip
        if verdict is not None:
            await review_report(session, report.id, verified=verdict)
    pledges = {
        "p1": p1.id, "p2": p2.id, "draft": draft.id, "submitted": submitted.id, "p5": p5.id,
        "never": never.id, "p7": p7.id,
    }  # fmt: skip
    return Graph(members, pledges)
