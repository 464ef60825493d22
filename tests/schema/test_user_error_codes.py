"""Every code the hub raises is either a value of the mutations' code enums or one that never
reaches a mutation's ``userErrors`` (a request-level refusal, a query's or the console's):
a new code cannot fall through to INVALID_INPUT unnoticed."""

from __future__ import annotations

import re
from pathlib import Path

from hub.errors import Conflict, Forbidden, HubError, InvalidInput, NotFound
from schema.mutations.errors import CODES

HUB = Path(__file__).resolve().parents[2] / "hub"

NOT_USER_ERRORS = {
    "UNAUTHENTICATED", "MISSING_SCOPE", "FORBIDDEN",  # the credentials: GraphQL errors
    "IDEMPOTENCY_KEY_REUSED", "IN_PROGRESS", "INVALID_IDEMPOTENCY_KEY",  # the request's key
    "SCOPE_NOT_ALLOWED", "CLIENT_REVOKED", "ALREADY_REVOKED",  # clients, at the console
    "NO_ENCRYPTION_KEY", "KEY_NOT_OPENED", "ALREADY_RETIRED",  # keys, at the console
    "INVALID_CURSOR", "PAGE_SIZE_REQUIRED", "PAGE_SIZE_OUT_OF_RANGE", "GROUP_REQUIRED",  # queries
    "SINCE_TOO_OLD", "SINCE_IN_FUTURE", "SUBSCRIPTION_LIMIT",  # subscriptions
    "NOT_SEQUENCED", "NOT_IN_TREE", "NOT_A_TREE_SIZE", "TREE_INCOMPLETE",  # audit proofs
    "LOG_NOT_EXTENDED",  # the head signer, refusing a log that was changed
    "RUN_IN_PROGRESS",  # connectors' runs, at the console and in the worker
    "UNDER_REVIEW", "CLAIMED_BY_ANOTHER_MEMBER", "REPORT_REVIEWED",  # imports: dead letters
    "CONFLICT", "INVALID",  # defaults of Conflict and HubError, which rules always replace
}  # fmt: skip


def raised_codes() -> set[str]:
    """The codes written in the hub's source, and the error types' defaults."""
    found = {error.default_code for error in (HubError, InvalidInput, NotFound, Forbidden)}
    found.add(Conflict.default_code)
    for path in HUB.rglob("*.py"):
        text = path.read_text()
        found.update(re.findall(r'code="([A-Z_]+)"', text))
        found.update(re.findall(r'_problem\(\s*"([A-Z_]+)"', text))
    return found


def test_every_code_is_a_user_error_code_or_never_one() -> None:
    in_enums = {name for codes in CODES.values() for name in codes.__members__}
    unmapped = raised_codes() - in_enums - NOT_USER_ERRORS
    assert unmapped == set(), f"add these to a code enum in schema/mutations/errors.py: {unmapped}"
    assert {"FOCUS_AREA_REQUIRED", "STALE_VERSION", "PLEDGE_CLOSED"} <= raised_codes()
