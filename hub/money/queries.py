"""Reading money flows as a viewer may see them, and their totals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.money.models import MoneyFlow, TransactionKind
from hub.visibility import Viewer, visible_pledge_ids


async def flows_by_pledge(
    session: AsyncSession, viewer: Viewer, pledge_ids: Iterable[int]
) -> dict[int, list[MoneyFlow]]:
    """Money flows of the visible pledges among ``pledge_ids``, by value date, in one statement."""
    wanted = set(pledge_ids)
    rows = await session.scalars(
        select(MoneyFlow)
        .where(MoneyFlow.pledge_id.in_(wanted), MoneyFlow.pledge_id.in_(visible_pledge_ids(viewer)))
        .order_by(MoneyFlow.value_date, MoneyFlow.id)
    )
    found: dict[int, list[MoneyFlow]] = defaultdict(list)
    for flow in rows:
        found[flow.pledge_id].append(flow)
    return {pledge: found[pledge] for pledge in wanted}


@dataclass(frozen=True, slots=True)
class FlowTotal:
    """The counted flows of one kind: their USD sum (never below zero) and what has no USD."""

    kind: TransactionKind
    usd_minor: int
    flows: int
    unconverted: int


def flow_totals(flows: Sequence[MoneyFlow]) -> list[FlowTotal]:
    """Totals per kind of the flows that count; corrections lower a total but never below 0."""
    usd: dict[TransactionKind, int] = defaultdict(int)
    counted: dict[TransactionKind, int] = defaultdict(int)
    unconverted: dict[TransactionKind, int] = defaultdict(int)
    for flow in flows:
        if not flow.counts_toward_total:
            continue
        counted[flow.kind] += 1
        if flow.usd_amount_minor is None:
            unconverted[flow.kind] += 1
        else:
            usd[flow.kind] += flow.usd_amount_minor
    return [
        FlowTotal(kind, max(0, usd[kind]), counted[kind], unconverted[kind])
        for kind in TransactionKind
        if counted[kind]
    ]
