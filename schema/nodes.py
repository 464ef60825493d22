"""``node`` and ``nodes``: any pledge, organisation or country by its global id (and, for
auditors, any audit event or endorsement step; for connector administrators, any connector,
sync run, dead letter or review item)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import strawberry
from strawberry import relay

from hub.errors import InvalidInput
from hub.pagination import MAX_PAGE_SIZE
from schema.audit import AuditEvent, EndorsementStep
from schema.context import Info
from schema.countries import Country
from schema.imports import Connector, DeadLetter, ReviewItem, SyncRun
from schema.organisations import Endorsement, Organisation
from schema.pledges import Pledge
from schema.progress import ProgressReport, Target

NODE_TYPES: dict[str, Any] = {
    "Pledge": Pledge,
    "Organisation": Organisation,
    "Country": Country,
    "Endorsement": Endorsement,
    "ProgressReport": ProgressReport,
    "Target": Target,
    "AuditEvent": AuditEvent,
    "EndorsementStep": EndorsementStep,
    "Connector": Connector,
    "SyncRun": SyncRun,
    "DeadLetter": DeadLetter,
    "ReviewItem": ReviewItem,
}


async def _resolve(info: Info, global_id: relay.GlobalID) -> relay.Node | None:
    node_type = NODE_TYPES.get(global_id.type_name)
    if node_type is None:
        return None
    [found] = await node_type.load_nodes(info, [global_id.node_id])
    return found  # type: ignore[no-any-return]


@strawberry.type
class NodeQueries:
    @strawberry.field(description="Any object by its global id; null when it is not visible.")
    async def node(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="A global id.")],
    ) -> relay.Node | None:
        if id.type_name not in NODE_TYPES:
            raise InvalidInput(
                f"{id} is not the id of an object of this graph",
                code="INVALID_ID",
                field=("id",),
            )
        return await _resolve(info, id)

    @strawberry.field(
        description=f"Objects by their global ids, at most {MAX_PAGE_SIZE} (more are refused "
        "before the operation runs), in the order given; null where one is not visible or not "
        "an id of this graph."
    )
    async def nodes(
        self,
        info: Info,
        ids: Annotated[list[relay.GlobalID], strawberry.argument(description="Global ids.")],
    ) -> list[relay.Node | None]:
        return list(await asyncio.gather(*(_resolve(info, i) for i in ids)))
