"""Money flows: what sources report against a pledge, and the totals derived from them."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hub.columns import Provenance
from hub.errors import InvalidInput
from hub.integrity import flush
from hub.money.amounts import Money
from hub.money.conversion import DEFAULT_MAX_RATE_AGE
from hub.money.models import MoneyFlow, TransactionKind
from hub.money.service import stamp_usd, usd_equivalent


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
    flow = MoneyFlow(
        pledge_id=pledge_id,
        kind=kind,
        amount_minor=amount.amount_minor,
        currency=amount.currency,
        value_date=value_date,
        description=description,
        counts_toward_total=counts_toward_total,
        count_reason=count_reason,
    )
    stamp_usd(flow, await usd_equivalent(session, amount, value_date, max_rate_age))
    if provenance is not None:
        provenance.stamp(flow)
    session.add(flow)
    await flush(session)
    return flow
