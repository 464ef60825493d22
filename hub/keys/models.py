"""Keys the hub holds, with their private halves encrypted at rest."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base
from hub.types import UTCDateTime, db_enum, utcnow


class KeyPurpose(enum.StrEnum):
    """What a key is used for; each purpose has its own rotation."""

    TOKEN_SIGNING = "TOKEN_SIGNING"
    AUDIT_SIGNING = "AUDIT_SIGNING"
    """Signs the audit log's tree heads (Ed25519, hub.audit.heads)."""


class ServerKey(Base):
    """One asymmetric key pair.

    ``signs_from`` is when the key starts signing; it is published (in the JWKS) from its
    creation, so verifiers know it before its first signature. ``retires_at`` is when it
    leaves the JWKS: after its successor took over and its last signature expired.
    """

    __tablename__ = "server_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[KeyPurpose] = mapped_column(db_enum(KeyPurpose), index=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_jwk: Mapped[str] = mapped_column(Text)
    private_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    signs_from: Mapped[datetime] = mapped_column(UTCDateTime())
    retires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
