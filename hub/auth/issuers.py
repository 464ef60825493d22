"""Who may issue the tokens the hub accepts, and how to read each one's tokens.

The hub trusts its own authorization server and, when configured, external identity
providers (Keycloak or another). Each issuer has a policy: its exact ``iss``, the audience
that names the hub, the ``typ`` values and algorithms it may use, and which claims carry
the client id, kind, member and scopes.
"""

from __future__ import annotations

import ipaddress
from typing import Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.auth.scopes import MEMBER_KINDS, ClientKind

AsymmetricAlgorithm = Literal[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"
]
"""Signature algorithms the hub verifies: public-key ones only, never ``none`` or HMAC."""

ASYMMETRIC_ALGORITHMS: frozenset[str] = frozenset(get_args(AsymmetricAlgorithm))

ACCESS_TOKEN_TYPES = ("at+jwt",)
"""RFC 9068's ``typ``; ``application/at+jwt`` is the same media type with its prefix."""

MAX_LIFETIME_SECONDS = 3600
"""The longest an access token may live, from ``iat`` to ``exp``."""


def normalise_type(typ: str) -> str:
    """A ``typ`` value as RFC 7515 compares it: case-insensitive, ``application/`` optional."""
    lowered = typ.strip().lower()
    return lowered.removeprefix("application/")


def is_secure_url(url: str) -> bool:
    """Whether ``url`` is https, or http on a loopback host (for local use and tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


class IssuerPolicy(BaseModel):
    """How the hub reads the tokens of one issuer (set per external issuer in settings)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    issuer: str = Field(description="The exact iss claim of its tokens.")
    jwks_url: str = Field(description="Where its public keys are published (https).")
    audience: str = Field(description="The aud value that names the hub in its tokens.")
    token_types: tuple[str, ...] = Field(
        default=ACCESS_TOKEN_TYPES,
        description="Accepted typ header values; strict at+jwt unless widened on purpose "
        "(Keycloak issues typ JWT unless configured otherwise).",
    )
    algorithms: tuple[AsymmetricAlgorithm, ...] = Field(
        default=("RS256",), description="Accepted signature algorithms."
    )
    kinds: tuple[ClientKind, ...] = Field(
        default=tuple(sorted(MEMBER_KINDS)),
        description="Client kinds its tokens may name: partners and connectors unless "
        "widened on purpose (a SECRETARIAT or AUDITOR token sees everything).",
    )
    client_id_claim: str = Field(default="client_id", description="Claim naming the client.")
    kind_claim: str = Field(default="client_kind", description="Claim naming the client kind.")
    member_claim: str = Field(default="member_id", description="Claim naming the member id.")
    scope_claim: str = Field(default="scope", description="Claim listing the scopes.")

    @field_validator("issuer", "audience")
    @classmethod
    def _present(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("jwks_url")
    @classmethod
    def _secure(cls, value: str) -> str:
        if not is_secure_url(value):
            raise ValueError(f"{value!r} must be an https URL (http only on a loopback host)")
        return value

    @field_validator("token_types")
    @classmethod
    def _types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("accept at least one typ value")
        return tuple(normalise_type(typ) for typ in value)

    @field_validator("algorithms")
    @classmethod
    def _algorithms(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("accept at least one algorithm")
        return value
