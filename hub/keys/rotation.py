"""When keys sign and when they are published: the rotation rule, as plain functions.

A new key is published at once but signs only after ``publish_ahead`` (the lifetime of a
cached JWKS), so no verifier meets a signature by a key it has not yet fetched. A key that
is superseded stays published until ``keep_after`` past its successor's first signature
(the longest a token it signed can still be valid).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar


class Scheduled(Protocol):
    @property
    def kid(self) -> str: ...
    @property
    def signs_from(self) -> datetime: ...
    @property
    def retires_at(self) -> datetime | None: ...


K = TypeVar("K", bound=Scheduled)


def is_published(key: Scheduled, now: datetime) -> bool:
    """Whether verifiers should trust ``key`` at ``now``."""
    return key.retires_at is None or key.retires_at > now


def signing_key(keys: Iterable[K], now: datetime) -> K | None:
    """The key that signs at ``now``: the newest published key whose signing has begun."""
    ready = [k for k in keys if k.signs_from <= now and is_published(k, now)]
    return max(ready, key=lambda k: (k.signs_from, k.kid), default=None)


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a rotation does: when the new key signs, and when each older key retires."""

    signs_from: datetime
    retirements: dict[str, datetime]


def plan_rotation(
    keys: Sequence[Scheduled], now: datetime, publish_ahead: timedelta, keep_after: timedelta
) -> Rotation:
    """The rotation to a new key at ``now``; the first key of all signs at once."""
    live = [k for k in keys if is_published(k, now)]
    signs_from = now + publish_ahead if live else now
    retire = signs_from + keep_after
    return Rotation(signs_from, {k.kid: retire for k in live if k.retires_at is None})
