"""Endorsements and the roles an organisation holds in a pledge.

The lead of a pledge is modelled twice on purpose, and the database keeps the two equal:
``pledges.lead_member_id`` (every pledge has one) and a LEAD role on an endorsement (what
partners see as a role). A LEAD role row carries ``lead_member_id``, which must equal its
organisation and, through a foreign key onto ``pledges(id, lead_member_id)``, the
pledge's lead member; a partial unique index allows one LEAD per pledge. Handing the lead
to another member therefore removes the old LEAD role before the pledge changes, and adds
the new one after. The key is checked at once, not at commit: a failed COMMIT would leave
a SQLite transaction open.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.columns import TimestampColumns
from hub.db import Base
from hub.types import UTCDateTime, db_enum


class Role(enum.StrEnum):
    """What an organisation does in a pledge; one organisation often holds several."""

    LEAD = "LEAD"
    CO_LEAD = "CO_LEAD"
    FUNDER = "FUNDER"
    IMPLEMENTER = "IMPLEMENTER"
    ENDORSER = "ENDORSER"


class EndorsementStatus(enum.StrEnum):
    """An endorsement counts only once the endorsing organisation ACCEPTED it."""

    INVITED = "INVITED"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    REVOKED = "REVOKED"


class Endorsement(TimestampColumns, Base):
    """One organisation's standing behind one pledge, with the time of each change."""

    __tablename__ = "endorsements"
    __table_args__ = (
        UniqueConstraint("pledge_id", "organisation_id"),
        CheckConstraint("status != 'INVITED' OR invited_at IS NOT NULL", name="invite_dated"),
        CheckConstraint("status != 'ACCEPTED' OR accepted_at IS NOT NULL", name="accept_dated"),
        CheckConstraint("status != 'DECLINED' OR declined_at IS NOT NULL", name="decline_dated"),
        CheckConstraint("status != 'REVOKED' OR revoked_at IS NOT NULL", name="revoke_dated"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[EndorsementStatus] = mapped_column(db_enum(EndorsementStatus))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    roles: Mapped[list[EndorsementRole]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )


class EndorsementRole(Base):
    """A role held through an endorsement; ``lead_member_id`` is set on LEAD rows only."""

    __tablename__ = "endorsement_roles"
    __table_args__ = (
        ForeignKeyConstraint(
            ["pledge_id", "organisation_id"],
            ["endorsements.pledge_id", "endorsements.organisation_id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["pledge_id", "lead_member_id"],
            ["pledges.id", "pledges.lead_member_id"],
            ondelete="CASCADE",
        ),
        CheckConstraint(
            "(role = 'LEAD' AND lead_member_id = organisation_id)"
            " OR (role != 'LEAD' AND lead_member_id IS NULL)",
            name="lead_member_matches",
        ),
        Index(
            "uq_endorsement_roles_one_lead_per_pledge",
            "pledge_id",
            unique=True,
            postgresql_where=text("role = 'LEAD'"),
            sqlite_where=text("role = 'LEAD'"),
        ),
    )

    pledge_id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[Role] = mapped_column(db_enum(Role), primary_key=True)
    lead_member_id: Mapped[int | None]
