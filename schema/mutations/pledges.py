"""Pledge mutations: create and edit, submit, return, publish, withdraw, mark fulfilled."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from hub.auth.principal import Principal
from hub.errors import HubError
from hub.lifecycle import Action, Entity
from hub.pledges import commands
from hub.pledges.models import Pledge as PledgeModel
from hub.pledges.rules import PledgeDraft, TargetDraft
from hub.pledges.service import TargetChange
from schema.context import Info
from schema.enums import (
    BeneficiaryGroup,
    CountryGroup,
    Direction,
    FocusArea,
    ImplementationStatus,
    Indicator,
    Measure,
    PledgeType,
)
from schema.mutations.errors import PledgeUserError, user_errors
from schema.mutations.inputs import MoneyInput
from schema.pagination import key_of
from schema.pledges import Pledge
from schema.writes import perform


@strawberry.input(description="A measurable aim; give `id` to keep one the pledge has.")
class TargetInput:
    id: relay.GlobalID | None = strawberry.field(
        default=None, description="The id of a target the pledge has; none for a new one."
    )
    indicator: Indicator = strawberry.field(description="What it measures.")
    unit: str = strawberry.field(description="The unit of its values (at most 50 characters).")
    measure: Measure = strawberry.field(
        default=Measure.QUANTITATIVE, description="A number, or an outcome in words."
    )
    direction: Direction = strawberry.field(
        default=Direction.ASCENDING, description="Whether higher or lower is better."
    )
    cumulative: bool = strawberry.field(
        default=True, description="Reports give the level reached (true) or the period's gain."
    )
    label: str | None = strawberry.field(default=None, description="The name, for OTHER.")
    description: str | None = strawberry.field(
        default=None, description="The aim in words; required for a qualitative target."
    )
    baseline: Decimal | None = strawberry.field(default=None, description="The starting value.")
    baseline_date: date | None = strawberry.field(
        default=None, description="When the baseline held."
    )
    target_value: Decimal | None = strawberry.field(
        default=None, description="The value to reach; required for a quantitative target."
    )
    deadline: date | None = strawberry.field(
        default=None, description="When it is to be reached (on or after the baseline date)."
    )


@strawberry.input(
    description="A pledge's content. `updatePledge` replaces the whole content with it: send "
    "every field as it should be."
)
class PledgeInput:
    title: str = strawberry.field(description="Short title, at most 500 characters.")
    pledge_type: PledgeType = strawberry.field(description="The kind of pledge.")
    description: str = strawberry.field(
        default="", description="What it commits to, at most 20,000 characters."
    )
    focus_areas: list[FocusArea] = strawberry.field(
        default_factory=list, description="The focus areas it serves."
    )
    target_countries: list[str] = strawberry.field(
        default_factory=list, description="ISO 3166-1 alpha-3 codes of the countries it targets."
    )
    target_groups: list[CountryGroup] = strawberry.field(
        default_factory=list, description="Whole country groups it targets."
    )
    beneficiary_groups: list[BeneficiaryGroup] = strawberry.field(
        default_factory=list, description="People it means to reach first."
    )
    sdgs: list[int] = strawberry.field(
        default_factory=list, description="Sustainable Development Goals it serves (1 to 17)."
    )
    announced_on: date | None = strawberry.field(
        default=None, description="When it was announced; today (or unchanged) when not given."
    )
    start_date: date | None = strawberry.field(default=None, description="When work starts.")
    end_date: date | None = strawberry.field(
        default=None, description="When work ends (on or after the start)."
    )
    pledged_amount: MoneyInput | None = strawberry.field(
        default=None, description="The money pledged, more than zero; required to submit a "
        "FINANCIAL pledge."
    )  # fmt: skip
    implementation_status: ImplementationStatus = strawberry.field(
        default=ImplementationStatus.PIPELINE, description="How the work is going."
    )
    targets: list[TargetInput] = strawberry.field(
        default_factory=list,
        description="Its targets; on update, targets left out are removed (unless progress was "
        "reported against them).",
    )


def _draft(given: PledgeInput) -> tuple[PledgeDraft, list[TargetChange]]:
    amount = given.pledged_amount
    draft = PledgeDraft(
        title=given.title,
        pledge_type=given.pledge_type,
        description=given.description,
        focus_areas=given.focus_areas,
        target_countries=given.target_countries,
        target_groups=given.target_groups,
        beneficiary_groups=given.beneficiary_groups,
        sdgs=given.sdgs,
        announced_on=given.announced_on,
        start_date=given.start_date,
        end_date=given.end_date,
        amount=amount.amount if amount else None,
        currency=amount.currency if amount else None,
        implementation_status=given.implementation_status,
    )
    targets = [
        TargetChange(
            draft=TargetDraft(
                indicator=t.indicator,
                unit=t.unit,
                measure=t.measure,
                direction=t.direction,
                cumulative=t.cumulative,
                label=t.label,
                description=t.description,
                baseline_value=t.baseline,
                baseline_date=t.baseline_date,
                target_value=t.target_value,
                deadline=t.deadline,
            ),
            target_id=key_of(t.id, "Target", ("targets", str(i), "id")) if t.id else None,
        )
        for i, t in enumerate(given.targets)
    ]
    return draft, targets


@strawberry.type(description="The pledge a mutation changed, or why it changed nothing.")
class PledgePayload:
    pledge: Pledge | None = strawberry.field(description="The pledge as it is now; null on error.")
    user_errors: list[PledgeUserError] = strawberry.field(
        description="Why nothing was written; empty on success."
    )


@strawberry.type(description="The edited pledge, and what the edit did to its endorsements.")
class UpdatePledgePayload:
    pledge: Pledge | None = strawberry.field(description="The pledge as it is now; null on error.")
    material_changes: list[str] = strawberry.field(
        description="The terms the edit changed (pledgedAmount, startDate, endDate, "
        "targetCountries, targetGroups, targets); any puts accepted co-endorsements back to "
        "INVITED."
    )
    reset_endorsements: int = strawberry.field(
        description="How many accepted co-endorsements went back to INVITED."
    )
    user_errors: list[PledgeUserError] = strawberry.field(
        description="Why nothing was written; empty on success."
    )


PledgeWork = Callable[[AsyncSession, Principal], Awaitable[PledgeModel]]
ID = Annotated[relay.GlobalID, strawberry.argument(description="The pledge's id.")]


async def _pledge_payload(
    info: Info, action: Action, work: PledgeWork, arguments: tuple[str, ...]
) -> PledgePayload:
    done = await perform(info, Entity.PLEDGE, action, work)
    if isinstance(done, HubError):
        return PledgePayload(pledge=None, user_errors=user_errors(done, PledgeUserError, arguments))
    return PledgePayload(pledge=Pledge.from_model(done), user_errors=[])


@strawberry.type
class PledgeMutations:
    @strawberry.mutation(
        description="Record a DRAFT pledge led by the caller's member (scope pledges:write)."
    )
    async def create_pledge(
        self,
        info: Info,
        input: Annotated[PledgeInput, strawberry.argument(description="The pledge.")],
    ) -> PledgePayload | None:
        async def work(session: AsyncSession, principal: Principal) -> PledgeModel:
            draft, targets = _draft(input)
            return await commands.create(session, principal, draft, targets)

        return await _pledge_payload(info, Action.CREATE, work, ("input",))

    @strawberry.mutation(
        description="Replace the content of a DRAFT or PUBLISHED pledge the caller's member "
        "leads (scope pledges:write). `version` is the version the caller read: if the pledge "
        "changed since, STALE_VERSION and nothing is written. A change of terms puts accepted "
        "co-endorsements back to INVITED."
    )
    async def update_pledge(
        self,
        info: Info,
        id: ID,
        version: Annotated[int, strawberry.argument(description="The version read.")],
        input: Annotated[PledgeInput, strawberry.argument(description="The whole new content.")],
    ) -> UpdatePledgePayload | None:
        async def work(
            session: AsyncSession, principal: Principal
        ) -> tuple[PledgeModel, list[str], int]:
            draft, targets = _draft(input)
            pledge_id = key_of(id, "Pledge", ("id",))
            return await commands.update(session, principal, pledge_id, version, draft, targets)

        done = await perform(info, Entity.PLEDGE, Action.EDIT, work)
        if isinstance(done, HubError):
            errors = user_errors(done, PledgeUserError, ("id", "version", "input"))
            return UpdatePledgePayload(
                pledge=None, material_changes=[], reset_endorsements=0, user_errors=errors
            )
        pledge, changed, reset = done
        return UpdatePledgePayload(
            pledge=Pledge.from_model(pledge),
            material_changes=changed,
            reset_endorsements=reset,
            user_errors=[],
        )

    @strawberry.mutation(
        description="Ask the secretariat to publish a SMART-complete DRAFT the caller's member "
        "leads (scope pledges:write); every missing part is a user error."
    )
    async def submit_pledge(self, info: Info, id: ID) -> PledgePayload | None:
        return await _pledge_payload(info, Action.SUBMIT, _by_id(id, commands.submit), ("id",))

    @strawberry.mutation(
        description="Send a SUBMITTED pledge back to its lead as a DRAFT, saying what to change "
        "(the secretariat; scope pledges:publish)."
    )
    async def return_pledge(
        self,
        info: Info,
        id: ID,
        note: Annotated[str, strawberry.argument(description="What to change.")],
    ) -> PledgePayload | None:
        async def work(session: AsyncSession, principal: Principal) -> PledgeModel:
            return await commands.send_back(session, principal, key_of(id, "Pledge", ("id",)), note)

        return await _pledge_payload(info, Action.RETURN, work, ("id", "note"))

    @strawberry.mutation(
        description="Publish a SUBMITTED pledge (the secretariat; scope pledges:publish)."
    )
    async def publish_pledge(self, info: Info, id: ID) -> PledgePayload | None:
        return await _pledge_payload(info, Action.PUBLISH, _by_id(id, commands.publish), ("id",))

    @strawberry.mutation(
        description="Withdraw a DRAFT, SUBMITTED or PUBLISHED pledge (its lead with "
        "pledges:write, or the secretariat with pledges:publish); a published one stays "
        "visible, marked WITHDRAWN."
    )
    async def withdraw_pledge(self, info: Info, id: ID) -> PledgePayload | None:
        work = _by_id(id, commands.withdraw)
        return await _pledge_payload(info, Action.WITHDRAW, work, ("id",))

    @strawberry.mutation(
        description="Record that a PUBLISHED pledge was met (the secretariat; scope "
        "pledges:publish)."
    )
    async def mark_pledge_fulfilled(self, info: Info, id: ID) -> PledgePayload | None:
        return await _pledge_payload(info, Action.FULFIL, _by_id(id, commands.fulfil), ("id",))


def _by_id(
    global_id: relay.GlobalID,
    command: Callable[[AsyncSession, Principal, int], Awaitable[PledgeModel]],
) -> PledgeWork:
    async def work(session: AsyncSession, principal: Principal) -> PledgeModel:
        return await command(session, principal, key_of(global_id, "Pledge", ("id",)))

    return work
