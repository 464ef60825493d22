"""When keys sign and when they are published: the rotation rule, as plain functions.

A new key is published at once but signs only after ``publish_ahead`` (the lifetime of a
cached JWKS), so no verifier meets a signature by a key it has not yet fetched. A key that
is superseded stays published until ``keep_after`` past its successor's first signature
(the longest a token it signed can still be valid). A key never signs again once a newer
key has begun to sign, and retiring the signing key leaves none until the next rotation.
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
    """The key that signs at ``now``: the newest key whose signing has begun, unless it was
    retired (then none: an older key never signs again). Keys cancelled before they began
    do not count."""
    begun = [
        k
        for k in keys
        if k.signs_from <= now and (k.retires_at is None or k.retires_at > k.signs_from)
    ]
    newest = max(begun, key=lambda k: (k.signs_from, k.kid), default=None)
    return newest if newest is not None and is_published(newest, now) else None


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a rotation does: when the new key signs, and when each older key retires."""

    signs_from: datetime
    retirements: dict[str, datetime]


def plan_rotation(
    keys: Sequence[Scheduled], now: datetime, publish_ahead: timedelta, keep_after: timedelta
) -> Rotation:
    """The rotation to a new key at ``now``; the first key of all signs at once.

    The key signing now stays published until ``keep_after`` past the new key's first
    signature; a key that was waiting to sign never will, and leaves the JWKS at once (it
    signed nothing); keys superseded before keep their dates.
    """
    current = signing_key(keys, now)
    live = [k for k in keys if is_published(k, now)]
    signs_from = now + publish_ahead if live else now
    retirements = {k.kid: now for k in live if k.signs_from > now}
    if current is not None:
        retirements[current.kid] = signs_from + keep_after
    return Rotation(signs_from, retirements)
