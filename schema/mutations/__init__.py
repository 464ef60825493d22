"""The partners' write side of the graph: every mutation, grouped by domain."""

from __future__ import annotations

import strawberry

from schema.mutations.connectors import ConnectorMutations
from schema.mutations.endorsements import EndorsementMutations
from schema.mutations.organisations import OrganisationMutations
from schema.mutations.pledges import PledgeMutations
from schema.mutations.progress import ProgressMutations
from schema.mutations.reviews import ReviewMutations

__all__ = ["Mutation"]


@strawberry.type(
    description="Writes, with an OAuth token: partners write their pledges, co-endorsements "
    "and progress; the secretariat publishes, verifies, admits members, configures "
    "connectors and resolves what imports left for review. Each returns the object it changed "
    "and `userErrors`; send an `Idempotency-Key` header to retry safely."
)
class Mutation(
    PledgeMutations,
    EndorsementMutations,
    ProgressMutations,
    OrganisationMutations,
    ConnectorMutations,
    ReviewMutations,
):
    pass
