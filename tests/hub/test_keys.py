"""The hub's keys: sealed at rest, published before they sign, kept until their last token
has expired."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import HubError
from hub.keys.rotation import is_published, plan_rotation, signing_key
from hub.keys.service import (
    ensure_token_key,
    open_signing_key,
    published_token_jwks,
    reseal_keys,
    retire_token_key,
    rotate_token_key,
    token_keys,
)
from hub.keys.vault import Vault, generate_encryption_key

T0 = datetime(2026, 1, 1, tzinfo=UTC)
AHEAD = timedelta(minutes=5)
KEEP = timedelta(hours=1, seconds=30)


@dataclass
class Key:
    kid: str
    signs_from: datetime
    retires_at: datetime | None = None


def test_the_first_key_signs_at_once_and_later_ones_after_the_cache_lifetime() -> None:
    first = plan_rotation([], T0, AHEAD, KEEP)
    assert first.signs_from == T0
    assert first.retirements == {}
    a = Key("a", T0)
    second = plan_rotation([a], T0 + timedelta(days=1), AHEAD, KEEP)
    assert second.signs_from == T0 + timedelta(days=1) + AHEAD
    assert second.retirements == {"a": second.signs_from + KEEP}


def test_the_newest_key_that_has_begun_signs() -> None:
    a = Key("a", T0, retires_at=T0 + timedelta(hours=2))
    b = Key("b", T0 + timedelta(hours=1))
    assert signing_key([a, b], T0 + timedelta(minutes=59)) is a
    assert signing_key([a, b], T0 + timedelta(hours=1)) is b
    assert is_published(a, T0 + timedelta(hours=1, minutes=59))
    assert not is_published(a, T0 + timedelta(hours=2))
    assert signing_key([], T0) is None
    b.retires_at = T0 + timedelta(hours=1, minutes=5)  # retired: a does not sign again
    assert signing_key([a, b], T0 + timedelta(hours=1, minutes=5)) is None
    cancelled = Key("c", T0 + timedelta(hours=1, minutes=30), retires_at=T0 + timedelta(hours=1))
    assert signing_key([a, cancelled], T0 + timedelta(hours=1, minutes=45)) is a


def test_a_second_rotation_cancels_the_waiting_key_and_keeps_the_signer_long_enough() -> None:
    a = Key("a", T0, retires_at=T0 + AHEAD + KEEP)
    b = Key("b", T0 + AHEAD)
    now = T0 + timedelta(seconds=10)
    rotation = plan_rotation([a, b], now, AHEAD, KEEP)
    assert rotation.signs_from == now + AHEAD
    # b never signed: it leaves at once; a signs until the new key does, and lives on after
    assert rotation.retirements == {"b": now, "a": rotation.signs_from + KEEP}
    at_once = plan_rotation([a, b], now, timedelta(0), KEEP)
    assert at_once.retirements == {"b": now, "a": now + KEEP}


async def test_keys_are_sealed_at_rest_and_rotate_as_planned(session: AsyncSession) -> None:
    vault = Vault([generate_encryption_key()])
    first = await ensure_token_key(session, vault, T0)
    assert first is not None
    assert await ensure_token_key(session, vault, T0) is None
    opened = await open_signing_key(session, vault, T0)
    assert opened is not None
    assert opened.kid == first.kid
    private = opened.key.as_dict(private=True)
    assert str(private["d"]) not in first.private_key
    assert "d" not in json.loads(first.public_jwk)

    later = T0 + timedelta(days=30)
    second = await rotate_token_key(session, vault, later, publish_ahead=AHEAD, keep_after=KEEP)
    published = {key["kid"] for key in await published_token_jwks(session, later)}
    assert published == {first.kid, second.kid}
    still = await open_signing_key(session, vault, later + AHEAD - timedelta(seconds=1))
    assert still is not None
    assert still.kid == first.kid
    switched = await open_signing_key(session, vault, later + AHEAD)
    assert switched is not None
    assert switched.kid == second.kid
    gone = {key["kid"] for key in await published_token_jwks(session, later + AHEAD + KEEP)}
    assert gone == {second.kid}
    assert [key.kid for key in await token_keys(session)] == [first.kid, second.kid]


async def test_a_key_sealed_with_a_lost_encryption_key_cannot_be_opened(
    session: AsyncSession,
) -> None:
    old, new = generate_encryption_key(), generate_encryption_key()
    await ensure_token_key(session, Vault([old]), T0)
    assert await open_signing_key(session, Vault([new, old]), T0) is not None  # rotation
    with pytest.raises(HubError, match="none of HUB_KEY_ENCRYPTION_KEYS opens signing key"):
        await open_signing_key(session, Vault([new]), T0)
    with pytest.raises(HubError, match="the hub has no key-encryption key"):
        await rotate_token_key(session, Vault([]), T0, publish_ahead=AHEAD, keep_after=KEEP)


async def test_a_compromised_key_is_retired_at_once_and_keys_are_resealed(
    session: AsyncSession,
) -> None:
    old, new = generate_encryption_key(), generate_encryption_key()
    first = await ensure_token_key(session, Vault([old]), T0)
    assert first is not None
    second = await rotate_token_key(
        session, Vault([old]), T0 + AHEAD, publish_ahead=timedelta(0), keep_after=KEEP
    )
    retired = await retire_token_key(session, first.kid, T0 + AHEAD)
    assert retired.retires_at == T0 + AHEAD
    assert [k["kid"] for k in await published_token_jwks(session, T0 + AHEAD)] == [second.kid]
    with pytest.raises(HubError, match="retired already"):
        await retire_token_key(session, first.kid, T0 + AHEAD)
    with pytest.raises(HubError, match="there is no signing key nope"):
        await retire_token_key(session, "nope", T0)

    assert await reseal_keys(session, Vault([new, old])) == 2
    opened = await open_signing_key(session, Vault([new]), T0 + AHEAD)  # the old key can go
    assert opened is not None
    assert opened.kid == second.kid
