"""Key sets refresh when stale or when a token names a key they do not know, but never more
often than the refresh interval."""

from __future__ import annotations

from typing import Any

from joserfc.jwk import RSAKey

from hub.auth.keysets import RefreshingKeySet, import_signing_keys


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Publisher:
    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        self.failing = False

    def add(self, kid: str) -> None:
        key = RSAKey.generate_key(2048, private=False, parameters={"kid": kid})
        self.keys.append(key.as_dict(private=False))

    async def fetch(self) -> list[dict[str, Any]]:
        self.fetches += 1
        if self.failing:
            raise OSError("connection refused")
        return list(self.keys)


def keyset(publisher: Publisher, clock: Clock) -> RefreshingKeySet:
    return RefreshingKeySet(
        "https://idp.example", publisher.fetch, max_age=300, refresh_interval=30, clock=clock
    )


async def test_unknown_kids_refresh_once_per_interval() -> None:
    publisher, clock = Publisher(), Clock()
    publisher.add("a")
    keys = keyset(publisher, clock)
    assert await keys.key("a") is not None
    publisher.add("b")
    clock.now += 5
    assert await keys.key("b") is None  # the first load was 5 s ago: no refresh yet
    assert await keys.key("made-up") is None
    assert publisher.fetches == 1
    clock.now += 30
    assert await keys.key("b") is not None
    assert await keys.key("made-up") is None
    assert await keys.key("also-made-up") is None
    assert publisher.fetches == 2


async def test_stale_sets_are_refreshed_and_failures_keep_the_known_keys() -> None:
    publisher, clock = Publisher(), Clock()
    publisher.add("a")
    keys = keyset(publisher, clock)
    assert await keys.key("a") is not None
    publisher.failing = True
    clock.now += 301
    assert await keys.key("a") is not None  # stale, the refresh failed, the key stays
    assert await keys.key("a") is not None  # and the failure is not retried at once
    assert publisher.fetches == 2
    clock.now += 30
    publisher.failing = False
    publisher.keys.clear()
    assert await keys.key("a") is None  # retried after the interval: the key is gone
    assert publisher.fetches == 3


def test_only_signature_keys_with_a_kid_are_kept() -> None:
    rsa = RSAKey.generate_key(2048, private=False, parameters={"kid": "sig"}).as_dict()
    found = import_signing_keys(
        [
            rsa,
            {**rsa, "kid": "enc", "use": "enc"},
            {k: v for k, v in rsa.items() if k != "kid"},
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "RSA", "kid": "broken", "n": "AQAB"},
        ]
    )
    assert set(found) == {"sig"}
