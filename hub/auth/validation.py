"""The one place where access tokens are checked; every request carrying one comes here.

RFC 9068 section 4, in RFC 8725's order: the algorithm against an allow-list first, then
the issuer (which picks the policy and the keys), ``typ``, ``kid``, the signature, the
claims, and last the hub's own records (a revoked ``jti``, a revoked client, an unknown
member). Every refusal is ``Unauthenticated`` with a message saying what was wrong.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.claims import (
    check_algorithm,
    check_claims,
    check_header,
    principal_from_claims,
    shown,
)
from hub.auth.issuers import IssuerPolicy
from hub.auth.keysets import RefreshingKeySet
from hub.auth.models import OAuthClient, RevokedToken
from hub.auth.principal import ANONYMOUS, Principal
from hub.errors import Unauthenticated
from hub.organisations.models import MembershipStatus, Organisation

COALITION_MEMBERS = (MembershipStatus.MEMBER, MembershipStatus.SUSPENDED)
"""Organisations an external token may act for: members, and suspended ones (which read)."""


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


@dataclass(frozen=True, slots=True)
class Verified:
    """A token whose header and signature were checked, with the policy of its issuer."""

    policy: IssuerPolicy
    claims: dict[str, Any]
    own: bool


@dataclass(frozen=True, slots=True)
class Inspected:
    """One of the hub's own tokens, as introspection and revocation see it."""

    claims: dict[str, Any]
    active: bool


class TokenValidator:
    """Checks tokens of the hub's own issuer and of each trusted external issuer."""

    def __init__(
        self,
        own: tuple[IssuerPolicy, RefreshingKeySet],
        external: Sequence[tuple[IssuerPolicy, RefreshingKeySet]],
        session_factory: async_sessionmaker[AsyncSession],
        *,
        leeway: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.own_issuer = own[0].issuer
        self._issuers = {policy.issuer: (policy, keys) for policy, keys in (own, *external)}
        self._session_factory = session_factory
        self._leeway = leeway
        self._clock = clock

    async def principal(self, authorization: str | None) -> Principal:
        """The principal of a request, from its ``Authorization`` header (or its absence)."""
        if authorization is None:
            return ANONYMOUS
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated(
                "send the access token as Authorization: Bearer TOKEN", bearer=False
            )
        return await self.validate(token.strip())

    async def validate(self, token: str) -> Principal:
        """The principal ``token`` stands for, or ``Unauthenticated``."""
        verified = await self.verify(token)
        check_claims(verified.claims, verified.policy, self._clock(), self._leeway)
        principal = principal_from_claims(verified.claims, verified.policy)
        await self._check_standing(principal, own=verified.own)
        return principal

    async def verify(self, token: str) -> Verified:
        """Header and signature, against the keys the token's issuer publishes."""
        try:
            compact = jws.extract_compact(token.encode("ascii"))
            header = dict(compact.protected)
            claims = json.loads(compact.payload, parse_constant=_no_constant)
        except (JoseError, ValueError, UnicodeError, RecursionError):
            raise Unauthenticated("the token is not a signed JWT") from None
        alg = check_algorithm(header)
        if not isinstance(claims, dict):
            raise Unauthenticated("the token's payload is not a JSON object")
        issuer = claims.get("iss")
        if not isinstance(issuer, str) or issuer not in self._issuers:
            raise Unauthenticated(f"the token's issuer {shown(issuer)} is not trusted by this hub")
        policy, keys = self._issuers[issuer]
        kid = check_header(header, policy)
        key = await keys.key(kid)
        if key is None:
            raise Unauthenticated(f"the token's key {shown(kid)} is not published by its issuer")
        try:
            jws.deserialize_compact(token, key, algorithms=[alg])
        except (JoseError, ValueError):
            raise Unauthenticated("the token's signature does not verify") from None
        return Verified(policy, claims, own=issuer == self.own_issuer)

    async def inspect_own(self, token: str) -> Inspected | None:
        """One of the hub's own tokens with a valid signature, active or not; None otherwise."""
        try:
            verified = await self.verify(token)
        except Unauthenticated:
            return None
        if not verified.own:
            return None
        try:
            check_claims(verified.claims, verified.policy, self._clock(), self._leeway)
            await self._check_standing(
                principal_from_claims(verified.claims, verified.policy), own=True
            )
        except Unauthenticated:
            return Inspected(verified.claims, active=False)
        return Inspected(verified.claims, active=True)

    async def _check_standing(self, principal: Principal, *, own: bool) -> None:
        revoked = exists().where(RevokedToken.jti == principal.token_id)
        async with self._session_factory() as session:
            if own:
                row = (
                    await session.execute(
                        select(OAuthClient.revoked_at, revoked).where(
                            OAuthClient.client_id == principal.client_id
                        )
                    )
                ).first()
                if row is None:
                    raise Unauthenticated("the token's client is unknown to this hub")
                if row[0] is not None:
                    raise Unauthenticated("the token's client was revoked")
                if row[1]:
                    raise Unauthenticated("the token was revoked")
            elif principal.member_id is not None:
                status = await session.scalar(
                    select(Organisation.membership_status).where(
                        Organisation.id == principal.member_id
                    )
                )
                if status not in COALITION_MEMBERS:
                    raise Unauthenticated(
                        f"the token names member {principal.member_id}, which is not a "
                        "coalition member"
                    )
