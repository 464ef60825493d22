"""The hub's enums, registered with GraphQL under the same SCREAMING_CASE values.

Import them from here in schema modules, so that registration has happened first.
"""

from __future__ import annotations

import strawberry

from hub.models import (
    FocusArea,
    ImplementationStatus,
    MembershipStatus,
    OrganisationType,
    PledgeType,
    PublicationStatus,
)

__all__ = [
    "FocusArea",
    "ImplementationStatus",
    "MembershipStatus",
    "OrganisationType",
    "PledgeType",
    "PublicationStatus",
]

strawberry.enum(OrganisationType, description="The seven P2C constituencies.")
strawberry.enum(
    MembershipStatus,
    description="Where an organisation stands with the coalition; only MEMBER may pledge.",
)
strawberry.enum(PledgeType, description="The four kinds of P2C pledge.")
strawberry.enum(FocusArea, description="The four P2C focus areas a pledge may serve.")
strawberry.enum(
    PublicationStatus,
    description="Where a pledge is in its public life; the public sees PUBLISHED and FULFILLED.",
)
strawberry.enum(
    ImplementationStatus, description="How the pledged work is going, apart from its publication."
)
