"""Money flows: what sources report against a pledge, and the totals derived from them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hub.columns import Provenance
from hub.errors import InvalidInput
from hub.integrity import flush
from hub.money.amounts import Money
from hub.money.conversion import DEFAULT_MAX_RATE_AGE
from hub.money.models import MoneyFlow, TransactionKind
from hub.money.service import RateCache, stamp_usd, usd_equivalent


@dataclass(frozen=True, slots=True)
class FlowDraft:
    """A flow as a source reports it, and why it counts toward the pledge's total or not."""

    kind: TransactionKind
    amount: Money
    value_date: date
    counts_toward_total: bool
    count_reason: str
    description: str | None = None
    provenance: Provenance | None = None


async def record_flows(
    session: AsyncSession,
    pledge_id: int,
    drafts: Sequence[FlowDraft],
    *,
    max_rate_age: timedelta = DEFAULT_MAX_RATE_AGE,
    rates: RateCache | None = None,
) -> list[MoneyFlow]:
    """Record flows, each with its USD equivalent on its value date, in one write."""
    flows = []
    for index, draft in enumerate(drafts):
        if not draft.count_reason.strip():
            raise InvalidInput(
                "say why the flow counts toward the total or not",
                field=(str(index), "countReason"),
            )
        flow = MoneyFlow(
            pledge_id=pledge_id,
            kind=draft.kind,
            amount_minor=draft.amount.amount_minor,
            currency=draft.amount.currency,
            value_date=draft.value_date,
            description=draft.description,
            counts_toward_total=draft.counts_toward_total,
            count_reason=draft.count_reason,
        )
        usd = await usd_equivalent(session, draft.amount, draft.value_date, max_rate_age, rates)
        stamp_usd(flow, usd)
        if draft.provenance is not None:
            draft.provenance.stamp(flow)
        flows.append(flow)
    session.add_all(flows)
    await flush(session)
    return flows


async def record_flow(
    session: AsyncSession,
    pledge_id: int,
    kind: TransactionKind,
    amount: Money,
    value_date: date,
    *,
    counts_toward_total: bool,
    count_reason: str,
    description: str | None = None,
    provenance: Provenance | None = None,
    max_rate_age: timedelta = DEFAULT_MAX_RATE_AGE,
) -> MoneyFlow:
    """Record a flow with its USD equivalent on its value date, and why it counts or not."""
    if not count_reason.strip():
        raise InvalidInput(
            "say why the flow counts toward the total or not", field=("countReason",)
        )
    draft = FlowDraft(
        kind, amount, value_date, counts_toward_total, count_reason, description, provenance
    )
    (flow,) = await record_flows(session, pledge_id, [draft], max_rate_age=max_rate_age)
    return flow
