"""Progress mutations: those taking part report; the secretariat verifies or rejects."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from hub.auth.principal import Principal
from hub.errors import HubError
from hub.lifecycle import Action, Entity
from hub.progress import commands
from hub.progress.models import ProgressReport as ReportModel
from hub.progress.rules import ReportDraft, ReportedValue
from schema.context import Info
from schema.mutations.errors import ProgressUserError, user_errors
from schema.mutations.inputs import MoneyInput
from schema.pagination import key_of
from schema.progress import ProgressReport
from schema.writes import perform


@strawberry.input(description="The actual value for one target of the pledge.")
class ProgressValueInput:
    target_id: relay.GlobalID = strawberry.field(description="The target, of the same pledge.")
    value: Decimal | None = strawberry.field(
        default=None, description="The value in the target's unit (quantitative targets)."
    )
    note: str | None = strawberry.field(
        default=None, description="What happened, in words (qualitative targets)."
    )


@strawberry.input(description="A report on a pledge for a period.")
class ProgressReportInput:
    period_start: date = strawberry.field(description="First day of the period.")
    period_end: date = strawberry.field(description="Last day (on or after the first).")
    values: list[ProgressValueInput] = strawberry.field(
        default_factory=list, description="Actual values per target, each target once."
    )
    narrative: str = strawberry.field(default="", description="What happened, in words.")
    evidence: list[str] = strawberry.field(
        default_factory=list, description="Up to 20 public http(s) links backing the report."
    )
    disbursed: MoneyInput | None = strawberry.field(
        default=None, description="Money disbursed in the period."
    )


def _draft(given: ProgressReportInput) -> ReportDraft:
    return ReportDraft(
        period_start=given.period_start,
        period_end=given.period_end,
        values=[
            ReportedValue(
                target_id=key_of(item.target_id, "Target", ("values", str(index), "targetId")),
                value=item.value,
                note=item.note,
            )
            for index, item in enumerate(given.values)
        ],
        narrative=given.narrative,
        evidence=given.evidence,
        disbursed_amount=given.disbursed.amount if given.disbursed else None,
        disbursed_currency=given.disbursed.currency if given.disbursed else None,
    )


@strawberry.type(description="The report a mutation made or judged, or why it did nothing.")
class ProgressReportPayload:
    report: ProgressReport | None = strawberry.field(
        description="The report as it is now; null on error."
    )
    user_errors: list[ProgressUserError] = strawberry.field(
        description="Why nothing was written; empty on success."
    )


def _payload(done: ReportModel | HubError, arguments: tuple[str, ...]) -> ProgressReportPayload:
    if isinstance(done, HubError):
        errors = user_errors(done, ProgressUserError, arguments)
        return ProgressReportPayload(report=None, user_errors=errors)
    return ProgressReportPayload(report=ProgressReport.from_model(done), user_errors=[])


ID = Annotated[relay.GlobalID, strawberry.argument(description="The report's id.")]
Note = Annotated[str, strawberry.argument(description="What the secretariat found.")]


async def _review(
    info: Info, id: relay.GlobalID, note: str, verified: bool
) -> ProgressReportPayload:
    async def work(session: AsyncSession, principal: Principal) -> ReportModel:
        key = key_of(id, "ProgressReport", ("id",))
        return await commands.review(session, principal, key, verified=verified, note=note)

    action = Action.VERIFY if verified else Action.REJECT
    return _payload(await perform(info, Entity.REPORT, action, work), ("id", "note"))


@strawberry.type
class ProgressMutations:
    @strawberry.mutation(
        description="Report progress on a PUBLISHED or FULFILLED pledge the caller's member "
        "leads, co-leads or implements (an accepted role; scope progress:write)."
    )
    async def report_progress(
        self,
        info: Info,
        pledge_id: Annotated[relay.GlobalID, strawberry.argument(description="The pledge.")],
        input: Annotated[ProgressReportInput, strawberry.argument(description="The report.")],
    ) -> ProgressReportPayload | None:
        async def work(session: AsyncSession, principal: Principal) -> ReportModel:
            pledge = key_of(pledge_id, "Pledge", ("pledgeId",))
            return await commands.report(session, principal, pledge, _draft(input))

        done = await perform(info, Entity.REPORT, Action.REPORT, work)
        return _payload(done, ("pledgeId", "input"))

    @strawberry.mutation(
        description="Verify a SUBMITTED report (the secretariat; scope progress:verify)."
    )
    async def verify_progress(
        self, info: Info, id: ID, note: Note = ""
    ) -> ProgressReportPayload | None:
        return await _review(info, id, note, verified=True)

    @strawberry.mutation(
        description="Reject a SUBMITTED report, saying why (the secretariat; scope "
        "progress:verify); a rejected report measures nothing."
    )
    async def reject_progress(self, info: Info, id: ID, note: Note) -> ProgressReportPayload | None:
        return await _review(info, id, note, verified=False)
