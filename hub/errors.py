"""The one error type of the ``hub`` layer.

``HubError`` carries a stable ``code``, a message meant for the caller and, where the
error is about one input, the ``field`` path that was wrong. Callers catch the subclasses
they can act on; the GraphQL layer maps every ``HubError`` to a user error in one place.

    HubError
    ├── InvalidInput      the caller sent something that can never be accepted
    ├── NotFound          a referenced record does not exist (or is not visible)
    ├── Conflict          the input clashes with what is stored (duplicates, versions)
    ├── Forbidden         the caller may not do this (a scope it lacks, a role it does not hold)
    └── Unauthenticated   the credentials presented were refused (a bad or revoked token)

An error may carry ``problems``: several refusals found at once (every missing part of a
pledge that is not ready to submit), each reported to the caller on its own.
"""

from __future__ import annotations

from collections.abc import Sequence


class HubError(Exception):
    """A refusal the caller can understand and act on."""

    default_code = "INVALID"

    def __init__(
        self, message: str, *, code: str | None = None, field: Sequence[str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field: tuple[str, ...] = tuple(field or ())
        self.problems: tuple[HubError, ...] = ()

    @classmethod
    def several(cls, problems: Sequence[HubError]) -> HubError:
        """One error standing for ``problems`` (the first, when there is only one)."""
        if len(problems) == 1:
            return problems[0]
        error = cls("; ".join(p.message for p in problems), code=problems[0].code)
        error.problems = tuple(problems)
        return error


class InvalidInput(HubError):
    default_code = "INVALID_INPUT"


class NotFound(HubError):
    default_code = "NOT_FOUND"


class Conflict(HubError):
    default_code = "CONFLICT"


class Forbidden(HubError):
    """The caller is known but may not do this: ``MISSING_SCOPE`` when its token lacks the
    scope, ``NOT_PERMITTED`` when it holds no role that allows the action on this record."""

    default_code = "FORBIDDEN"


class Unauthenticated(HubError):
    """Refused credentials. ``bearer`` is false when the request did not present a bearer
    token at all (another scheme): RFC 6750 then gives its challenge no error code."""

    default_code = "UNAUTHENTICATED"

    def __init__(self, message: str, *, bearer: bool = True) -> None:
        super().__init__(message)
        self.bearer = bearer
