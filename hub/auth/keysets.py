"""Public keys of an issuer, cached, refreshed when stale or when an unknown ``kid`` appears.

A token signed by a key the cache has not seen causes one refresh, and at most one per
``refresh_interval``: a stream of tokens with made-up ``kid`` values cannot turn the hub into
a JWKS-fetching loop. A refresh that fails keeps the keys already known.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import structlog
from joserfc.jwk import ECKey, RSAKey

log = structlog.get_logger("hub.auth")

PublicKey = RSAKey | ECKey
Fetch = Callable[[], Awaitable[Iterable[dict[str, Any]]]]


MIN_RSA_BITS = 2048


def import_signing_keys(jwks: Iterable[dict[str, Any]]) -> dict[str, PublicKey]:
    """Signature keys by ``kid``; encryption keys, symmetric keys, keys without a ``kid``,
    RSA keys under 2048 bits and keys that do not parse are left out."""
    found: dict[str, PublicKey] = {}
    for jwk in jwks:
        kid = jwk.get("kid")
        if not isinstance(kid, str) or jwk.get("use", "sig") != "sig":
            continue
        try:
            if jwk.get("kty") == "RSA":
                key = RSAKey.import_key(jwk)
                if key.raw_value.key_size < MIN_RSA_BITS:
                    log.warning("auth.jwk_skipped", kid=kid, reason="an RSA key under 2048 bits")
                    continue
                found[kid] = key
            elif jwk.get("kty") == "EC":
                found[kid] = ECKey.import_key(jwk)
        except Exception:  # an issuer's key set is untrusted input: one bad key is skipped
            log.warning("auth.jwk_skipped", kid=kid, reason="the key does not parse")
    return found


class RefreshingKeySet:
    """The keys one issuer publishes, as far as this process knows them."""

    def __init__(
        self,
        name: str,
        fetch: Fetch,
        *,
        max_age: float,
        refresh_interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._fetch = fetch
        self._max_age = max_age
        self._refresh_interval = refresh_interval
        self._clock = clock
        self._keys: dict[str, PublicKey] = {}
        self._fetched_at: float | None = None
        self._failed_at: float | None = None
        self._attempted_at = -math.inf
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> PublicKey | None:
        """The key ``kid`` names, refreshing the set if it is stale or does not know it."""
        if self._needs_refresh(kid):
            async with self._lock:
                if self._needs_refresh(kid):  # not if another request refreshed meanwhile
                    await self._refresh()
        return self._keys.get(kid)

    def _needs_refresh(self, kid: str) -> bool:
        now = self._clock()
        if self._fetched_at is None or now - self._fetched_at >= self._max_age:
            return self._failed_at is None or now - self._failed_at >= self._refresh_interval
        return kid not in self._keys and now - self._attempted_at >= self._refresh_interval

    async def _refresh(self) -> None:
        self._attempted_at = self._clock()
        try:
            keys = import_signing_keys(await self._fetch())
        except Exception as error:  # a failed refresh must not take known keys away
            self._failed_at = self._attempted_at
            log.warning("auth.jwks_refresh_failed", issuer=self.name, error=str(error))
            return
        self._keys = keys
        self._fetched_at = self._attempted_at
        self._failed_at = None
