"""Settings read from ``HUB_``-prefixed environment variables.

The app factory takes a ``Settings`` instance, so tests and tools pass their own values
instead of patching the environment.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from hub.auth.issuers import MAX_LIFETIME_SECONDS, IssuerPolicy, is_secure_url
from hub.callers import parse_networks
from hub.graphiql import DEFAULT_ASSETS_DIR
from hub.money.conversion import DEFAULT_MAX_RATE_AGE

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


class Settings(BaseSettings):
    """Every knob the hub reads; each is documented in the README."""

    model_config = SettingsConfigDict(env_prefix="HUB_", extra="forbid", frozen=True)

    database_url: str = Field(
        default="sqlite+aiosqlite:///./p2c-hub.db",
        description="SQLAlchemy async URL of the database the hub serves from.",
    )
    database_pool_size: int = Field(
        default=10,
        ge=1,
        description="PostgreSQL connections each process keeps open: as many as requests it "
        "serves at once, or connections are opened and closed under load.",
    )
    database_max_overflow: int = Field(
        default=10, ge=0, description="Connections opened beyond the pool at a peak, then closed."
    )
    migration_database_url: str | None = Field(
        default=None,
        description="URL used by migrations instead of database_url (an owner role).",
    )
    host: str = Field(default="127.0.0.1", description="Interface the server binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port of the server.")
    log_level: LogLevel = Field(default="INFO", description="Lowest level that is logged.")
    debug: bool = Field(default=False, description="Starlette debug mode; never in production.")
    max_body_bytes: int = Field(
        default=100_000, ge=1_000, description="The largest request body accepted, in bytes."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins (scheme://host[:port]) whose browsers may call the API.",
    )
    max_query_depth: int = Field(default=12, ge=2, description="Deepest selection allowed.")
    max_aliases: int = Field(default=30, ge=0, description="Most aliases in one operation.")
    max_tokens: int = Field(default=2_000, ge=100, description="Most tokens in one document.")
    max_root_fields: int = Field(default=10, ge=1, description="Most root fields.")
    max_operation_cost: int = Field(
        default=50_000, ge=100, description="Highest cost one operation may have."
    )
    anonymous_cost_per_hour: int = Field(
        default=1_000_000, ge=1, description="What one anonymous caller may spend an hour."
    )
    client_cost_per_hour: int = Field(
        default=2_000_000,
        ge=1,
        description="What one OAuth client may spend an hour (a mutation costs 50 and more).",
    )
    subscriptions_per_connection: int = Field(
        default=10, ge=1, le=1_000, description="Most operations one WebSocket runs at once."
    )
    subscriptions_per_client: int = Field(
        default=50,
        ge=1,
        le=100_000,
        description="Most subscriptions one client (or anonymous address) holds in a process.",
    )
    subscription_recheck_seconds: int = Field(
        default=30,
        ge=1,
        le=3_600,
        description="How often a subscriber's token is checked again (revoked: socket closed).",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Proxies (addresses or CIDR blocks) whose X-Forwarded-For is believed.",
    )
    field_suggestions: bool = Field(
        default=False, description="Whether errors suggest field names ('did you mean')."
    )
    cache_max_age: int = Field(
        default=30, ge=0, description="Seconds browsers and caches may keep an anonymous GET."
    )
    introspection: bool = Field(
        default=True, description="Whether anyone may introspect the schema (off in production)."
    )
    graphiql: bool = Field(default=True, description="Whether GET /graphql serves GraphiQL.")
    gateway_secret: str | None = Field(
        default=None,
        description="Shared secret a federation gateway sends in X-Gateway-Secret to read the "
        "schema (_service { sdl }) when introspection is off.",
    )
    fast_path: bool = Field(
        default=True,
        description="Whether anonymous reads of the public pledge graph are answered by one "
        "compiled SQL statement (PostgreSQL; see docs/performance.md) rather than resolvers.",
    )
    federation_tracing: bool = Field(
        default=False, description="Whether to add Apollo inline traces for the gateway."
    )
    graphiql_assets_dir: Path = Field(
        default=DEFAULT_ASSETS_DIR,
        description="Where npm installed GraphiQL's assets (a public CDN when they are absent).",
    )
    fx_max_rate_age_days: int = Field(
        default=DEFAULT_MAX_RATE_AGE.days,
        ge=0,
        le=366,
        description="How many days a rate's date may be from the date money is converted on.",
    )
    public_url: str | None = Field(
        default=None,
        description="The hub's address as partners reach it (https://hub.example.org); it is "
        "the issuer of its tokens. Default: http://HOST:PORT.",
    )
    token_audience: str | None = Field(
        default=None, description="The aud of the hub's tokens. Default: the public URL."
    )
    access_token_lifetime_seconds: int = Field(
        default=900, ge=60, le=MAX_LIFETIME_SECONDS, description="How long an access token lives."
    )
    token_leeway_seconds: int = Field(
        default=30, ge=0, le=300, description="Clock skew allowed on exp, nbf and iat."
    )
    jwks_max_age_seconds: int = Field(
        default=300,
        ge=0,
        le=86_400,
        description="How long verifiers may cache the JWKS; a new key signs only after it.",
    )
    jwks_refresh_interval_seconds: int = Field(
        default=30,
        ge=0,
        le=3_600,
        description="Least time between two key-set refreshes caused by an unknown kid.",
    )
    key_encryption_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Fernet keys sealing the hub's private keys, comma-separated: the first "
        "seals, every one opens (append the old key when rotating).",
    )
    token_requests_per_client_per_hour: int = Field(
        default=600, ge=1, description="Token requests one client may make an hour."
    )
    token_requests_per_address_per_hour: int = Field(
        default=6_000, ge=1, description="Token requests one IP address may make an hour."
    )
    external_issuers: list[IssuerPolicy] = Field(
        default_factory=list,
        description="Identity providers whose tokens the hub also accepts, as a JSON list.",
    )
    audit_log_name: str = Field(
        default="p2c-hub/audit",
        pattern=r"^[!-*,-~]{1,50}$",
        description="The audit log's origin, and the name of the key that signs its heads "
        "(fixed when the key is made): printable ASCII, no spaces or '+'.",
    )
    audit_head_interval_seconds: int = Field(
        default=60, ge=1, description="How often serve signs a tree head when the log grew."
    )
    audit_head_max_age_seconds: int = Field(
        default=86_400,
        ge=60,
        description="How old the newest tree head may grow before serve signs a fresh one of "
        "the same log, so that a quiet log is told from a frozen one.",
    )
    audit_heads_file: Path | None = Field(
        default=None,
        description="A file each signed tree head is appended to, on storage the database's "
        "administrators do not control.",
    )
    audit_heads_url: str | None = Field(
        default=None, description="An HTTP endpoint each signed tree head is POSTed to."
    )
    audit_heads_token: SecretStr | None = Field(
        default=None, description="The bearer token sent with each head to HUB_AUDIT_HEADS_URL."
    )

    @field_validator("database_url", "migration_database_url")
    @classmethod
    def _async_driver(cls, url: str | None) -> str | None:
        if url is None:
            return None
        try:
            driver = make_url(url).drivername
        except ArgumentError:
            raise ValueError(f"{url!r} is not a database URL") from None
        if driver not in SUPPORTED_DRIVERS:
            raise ValueError(
                f"the hub speaks {' or '.join(SUPPORTED_DRIVERS)}, not {driver}"
                f" (for example sqlite+aiosqlite:///./p2c-hub.db)"
            )
        return url

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        parse_networks(value if isinstance(value, list) else [])
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            for origin in value:
                if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", str(origin)):
                    raise ValueError(f"{origin!r} is not an origin such as https://example.org")
        return value

    @field_validator("key_encryption_keys", mode="before")
    @classmethod
    def _encryption_keys(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        for key in value if isinstance(value, list) else []:
            try:
                Fernet(key.get_secret_value() if isinstance(key, SecretStr) else key)
            except (ValueError, TypeError):
                raise ValueError(
                    "each key must be a Fernet key, 32 url-safe base64 bytes "
                    "(p2c-hub keys generate-encryption-key prints one)"
                ) from None
        return value

    @field_validator("audit_heads_url")
    @classmethod
    def _heads_url(cls, value: str | None) -> str | None:
        if value is not None and not is_secure_url(value):
            raise ValueError(f"{value!r} must be an https URL (http only on a loopback host)")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not is_secure_url(value):
            raise ValueError(f"{value!r} must be an https URL (http only on a loopback host)")
        parts = urlsplit(value)
        if parts.path.strip("/") or parts.query or parts.fragment:
            raise ValueError(
                f"{value!r} must be a bare origin such as https://hub.example.org: OAuth "
                "metadata lives at the root (RFC 8414), so the hub needs a host of its own"
            )
        return value.rstrip("/")

    @model_validator(mode="after")
    def _issuer_known(self) -> Settings:
        if self.public_url is None and not is_secure_url(f"http://{self.host}:{self.port}"):
            raise ValueError(
                f"HUB_PUBLIC_URL must be set when the hub binds to {self.host}: it is the "
                "address partners reach it at, and the issuer of its tokens"
            )
        issuers = [self.issuer, *(policy.issuer for policy in self.external_issuers)]
        repeated = {issuer for issuer in issuers if issuers.count(issuer) > 1}
        if repeated:
            raise ValueError(f"HUB_EXTERNAL_ISSUERS: {sorted(repeated)} named more than once")
        return self

    @property
    def encryption_keys(self) -> list[str]:
        """The key-encryption keys, revealed for the vault that seals the hub's keys."""
        return [key.get_secret_value() for key in self.key_encryption_keys]

    @property
    def issuer(self) -> str:
        """The ``iss`` of the hub's tokens, and the base of its OAuth endpoints."""
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def audience(self) -> str:
        """The ``aud`` the hub's tokens carry and the hub requires."""
        return self.token_audience or self.issuer

    @property
    def fx_max_rate_age(self) -> timedelta:
        """The largest distance between a rate's date and a value date."""
        return timedelta(days=self.fx_max_rate_age_days)

    @property
    def effective_migration_url(self) -> str:
        """The URL migrations run with: the owner's when set, else the serving one."""
        return self.migration_database_url or self.database_url
