"""Organisations, their identifiers, and their coalition membership."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.columns import ProvenanceColumns, TimestampColumns, provenance_constraints
from hub.db import Base
from hub.types import UTCDateTime, db_enum, utcnow


class OrganisationType(enum.StrEnum):
    """The seven P2C constituencies."""

    GOVERNMENT = "GOVERNMENT"
    PRIVATE_SECTOR = "PRIVATE_SECTOR"
    INTERNATIONAL_ORGANIZATION = "INTERNATIONAL_ORGANIZATION"
    CIVIL_SOCIETY = "CIVIL_SOCIETY"
    ACADEMIA = "ACADEMIA"
    YOUTH = "YOUTH"
    MEDIA = "MEDIA"


class MembershipStatus(enum.StrEnum):
    """Where an organisation stands with the coalition; only MEMBER may pledge."""

    NONE = "NONE"
    APPLIED = "APPLIED"
    MEMBER = "MEMBER"
    SUSPENDED = "SUSPENDED"


class Organisation(ProvenanceColumns, TimestampColumns, Base):
    """Any organisation the hub knows; a *member* is one whose status is MEMBER.

    Organisations named by partner data (an implementer in an IATI file, say) are kept
    with status NONE and stay out of member counts until the secretariat approves them.
    The membership dates say when the organisation applied, joined and was suspended.
    """

    __tablename__ = "organisations"
    __table_args__ = (
        *provenance_constraints(),
        CheckConstraint("length(trim(name)) > 0", name="name_present"),
        CheckConstraint(
            "iati_identifier IS NULL OR length(trim(iati_identifier)) > 0",
            name="iati_identifier_present",
        ),
        CheckConstraint(
            "membership_status != 'APPLIED' OR applied_at IS NOT NULL", name="applied_dated"
        ),
        CheckConstraint(
            "membership_status NOT IN ('MEMBER', 'SUSPENDED') OR member_since IS NOT NULL",
            name="member_dated",
        ),
        CheckConstraint(
            "membership_status != 'SUSPENDED' OR suspended_at IS NOT NULL",
            name="suspension_dated",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    name_key: Mapped[str] = mapped_column(String(300), index=True)
    """``hub.organisations.matching.normalise_name(name)``, set wherever the name is: an
    import finds an organisation by name with one indexed lookup."""
    organisation_type: Mapped[OrganisationType] = mapped_column(db_enum(OrganisationType))
    headquarters_country: Mapped[str | None] = mapped_column(
        String(3), ForeignKey("countries.alpha3"), index=True
    )
    iati_identifier: Mapped[str | None] = mapped_column(String(200), unique=True)
    website: Mapped[str | None] = mapped_column(String(500))
    membership_status: Mapped[MembershipStatus] = mapped_column(
        db_enum(MembershipStatus), default=MembershipStatus.NONE, index=True
    )
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    member_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    identifiers: Mapped[list[OrganisationIdentifier]] = relationship(
        back_populates="organisation", lazy="raise", cascade="all, delete-orphan"
    )

    @property
    def is_member(self) -> bool:
        """Whether the organisation may pledge and accept endorsements now."""
        return self.membership_status is MembershipStatus.MEMBER


class OrganisationIdentifier(Base):
    """An identifier of an organisation in a named scheme other than IATI (LEI, a registry)."""

    __tablename__ = "organisation_identifiers"
    __table_args__ = (
        UniqueConstraint("scheme", "value"),
        CheckConstraint("length(scheme) > 0 AND length(value) > 0", name="present"),
    )

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    scheme: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))

    organisation: Mapped[Organisation] = relationship(back_populates="identifiers", lazy="raise")


class OrganisationAlias(Base):
    """An IATI organisation identifier that names an organisation besides its own: a person
    said so when resolving an import's review item (``hub.imports.review``). The hub never
    writes one by itself, since that would merge organisations nobody confirmed are one."""

    __tablename__ = "organisation_aliases"

    identifier: Mapped[str] = mapped_column(String(200), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
