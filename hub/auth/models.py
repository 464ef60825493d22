"""OAuth clients and the deny-list of revoked access tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.auth.scopes import ClientKind
from hub.columns import TimestampColumns
from hub.db import Base
from hub.types import UTCDateTime, db_enum


class OAuthClient(TimestampColumns, Base):
    """A holder of client credentials; its secret is kept only as a SHA-256 digest.

    Secrets are 256 random bits, so a fast digest is as strong as a slow password hash
    would be: there is no dictionary to try them against.
    """

    __tablename__ = "oauth_clients"
    __table_args__ = (
        CheckConstraint(
            "(kind IN ('PARTNER', 'CONNECTOR')) = (member_id IS NOT NULL)",
            name="member_iff_member_kind",
        ),
        CheckConstraint("length(trim(name)) > 0", name="name_present"),
        CheckConstraint("length(scopes) > 0", name="scopes_present"),
        CheckConstraint("length(secret_hash) = 64", name="secret_hash_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ClientKind] = mapped_column(db_enum(ClientKind))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    scopes: Mapped[str] = mapped_column(String(500))
    secret_hash: Mapped[str] = mapped_column(String(64))
    secret_set_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RevokedToken(Base):
    """A revoked access token, kept until it would have expired anyway."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(128), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime())
