"""Countries: names in the six UN languages, groups as of a date, pledges that target them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from hub.countries.models import Country as CountryModel
from hub.countries.queries import CountryFilter, country_page
from hub.errors import InvalidInput
from schema.common import Entity, dollars
from schema.context import Info
from schema.enums import CountryGroup
from schema.pagination import (
    After,
    Before,
    First,
    Last,
    build_connection,
    fingerprint,
    slice_of,
)

if TYPE_CHECKING:
    from schema.pledges import PledgeConnection


@strawberry.type(description="A country's name in the six official UN languages.")
class CountryNames:
    en: str = strawberry.field(description="English.")
    fr: str = strawberry.field(description="French.")
    es: str = strawberry.field(description="Spanish.")
    ru: str = strawberry.field(description="Russian.")
    zh: str = strawberry.field(description="Chinese.")
    ar: str = strawberry.field(description="Arabic.")


@strawberry.type(description="A UN M49 region or sub-region.")
class Region:
    code: str = strawberry.field(description="The M49 code.")
    name: str = strawberry.field(description="The English name.")


@strawberry.type(description="What the visible pledges targeting a country add up to.")
class CountryTotals:
    pledge_count: int = strawberry.field(description="Pledges that target the country.")
    total_usd: Decimal = strawberry.field(
        description="Their pledged US dollars; a pledge for several countries counts in full."
    )
    pledges_without_usd: int = strawberry.field(
        description="Pledges with money that has no US dollar value (no fit rate)."
    )


@strawberry.federation.type(
    keys=["id"], description="A country or territory, keyed by its ISO 3166-1 alpha-3 code."
)
class Country(Entity, relay.Node):
    code: relay.NodeID[str]
    alpha3: str = strawberry.field(description="ISO 3166-1 alpha-3 code.")
    alpha2: str = strawberry.field(description="ISO 3166-1 alpha-2 code.")
    numeric: str = strawberry.field(description="ISO 3166-1 numeric code, three digits.")
    name: str = strawberry.field(description="The English short name.")
    names: CountryNames = strawberry.field(description="Names in the six UN languages.")
    region: Region | None = strawberry.field(description="The UN M49 region.")
    sub_region: Region | None = strawberry.field(description="The UN M49 sub-region.")

    @classmethod
    def from_model(cls, country: CountryModel) -> Country:
        """The GraphQL view of a country."""
        return cls(
            code=country.alpha3,
            alpha3=country.alpha3,
            alpha2=country.alpha2,
            numeric=country.numeric,
            name=country.name,
            names=CountryNames(
                en=country.name,
                fr=country.name_fr,
                es=country.name_es,
                ru=country.name_ru,
                zh=country.name_zh,
                ar=country.name_ar,
            ),
            region=Region(code=country.region_code, name=country.region_name)
            if country.region_code and country.region_name
            else None,
            sub_region=Region(code=country.sub_region_code, name=country.sub_region_name)
            if country.sub_region_code and country.sub_region_name
            else None,
        )

    @classmethod
    async def load_nodes(cls, info: Info, node_ids: Iterable[str]) -> list[Country | None]:
        countries = await info.context.loaders.country.load_many(list(node_ids))
        return [cls.from_model(c) if c is not None else None for c in countries]

    @strawberry.field(description="The groups the country belonged to on a date.")
    async def groups(
        self,
        info: Info,
        as_of: Annotated[
            date | None, strawberry.argument(description="The date; today when not given.")
        ] = None,
    ) -> list[CountryGroup]:
        found = await info.context.loaders.country_groups.load(
            (self.alpha3, as_of or info.context.today)
        )
        return sorted(found)

    @strawberry.field(description="Visible pledges that target the country, newest first.")
    async def pledges(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Annotated[PledgeConnection, strawberry.lazy("schema.pledges")]:
        from schema.pledges import Pledge, PledgeConnection

        kind = f"country-pledges/{self.alpha3}"
        request = slice_of(kind, first, after, last, before)
        ids = await info.context.loaders.country_pledge_ids.load(self.alpha3)
        return await Pledge.connection_of(info, PledgeConnection, ids, request, kind)

    @strawberry.field(description="What the visible pledges targeting the country add up to.")
    async def totals(self, info: Info) -> CountryTotals:
        totals = await info.context.loaders.country_totals.load(self.alpha3)
        return CountryTotals(
            pledge_count=totals.pledges,
            total_usd=dollars(totals.usd_minor),
            pledges_without_usd=totals.without_usd,
        )


@strawberry.type(description="A page of countries.")
class CountryConnection(relay.Connection[Country]):
    total_count: int = strawberry.field(description="How many countries match, on all pages.")


@strawberry.input(description="Which countries to list; every condition is optional.")
class CountryFilterInput:
    codes: list[str] | None = strawberry.field(
        default=None, description="ISO 3166-1 alpha-3 codes."
    )
    group: CountryGroup | None = strawberry.field(
        default=None, description="Only members of this group."
    )
    group_as_of: date | None = strawberry.field(
        default=None, description="The date group membership is taken on; today when not given."
    )
    region_codes: list[str] | None = strawberry.field(
        default=None, description="UN M49 region or sub-region codes."
    )
    text: str | None = strawberry.field(default=None, description="Part of the English name.")


@strawberry.type
class CountryQueries:
    @strawberry.field(description="Countries and territories, by English name.")
    async def countries(
        self,
        info: Info,
        filter: Annotated[
            CountryFilterInput | None, strawberry.argument(description="Which countries.")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> CountryConnection:
        kind = f"countries/{fingerprint(filter)}"
        request = slice_of(kind, first, after, last, before)
        given = filter or CountryFilterInput()
        if given.group_as_of is not None and given.group is None:
            raise InvalidInput(
                "groupAsOf needs a group", code="GROUP_REQUIRED", field=("filter", "group")
            )
        criteria = CountryFilter(
            codes=given.codes or (),
            group=given.group,
            group_on=given.group_as_of,
            region_codes=given.region_codes or (),
            text=given.text,
        )
        async with info.context.session_factory() as session:
            countries, span = await country_page(session, criteria, request, info.context.today)
        for country in countries:
            info.context.loaders.country.prime(country.alpha3, country)
        return build_connection(
            CountryConnection, countries, span, kind=kind, to_node=Country.from_model
        )
