"""Column groups shared by several tables: timestamps and provenance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.types import UTCDateTime, utcnow


class TimestampColumns:
    """When a row was created and last changed, set by the application clock in UTC."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ProvenanceColumns:
    """Where a record came from when a source system supplied it.

    ``(source_system, external_id)`` is unique per table, so a re-import updates the
    record it made before instead of making another.
    """

    source_system: Mapped[str | None] = mapped_column(String(100))
    external_id: Mapped[str | None] = mapped_column(String(500))
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payload_hash: Mapped[str | None] = mapped_column(String(128))


@dataclass(frozen=True, slots=True)
class Provenance:
    """The source record a write came from."""

    source_system: str
    external_id: str
    fetched_at: datetime
    payload_hash: str | None = None

    def stamp(self, record: ProvenanceColumns) -> None:
        """Write this provenance onto a record."""
        record.source_system = self.source_system
        record.external_id = self.external_id
        record.fetched_at = self.fetched_at
        record.payload_hash = self.payload_hash


def provenance_constraints() -> tuple[CheckConstraint | UniqueConstraint, ...]:
    """Constraints for a table with ``ProvenanceColumns``: all or nothing, and unique."""
    return (
        CheckConstraint(
            "(source_system IS NULL AND external_id IS NULL AND fetched_at IS NULL"
            " AND payload_hash IS NULL)"
            " OR (source_system IS NOT NULL AND external_id IS NOT NULL"
            " AND fetched_at IS NOT NULL)",
            name="provenance_complete",
        ),
        UniqueConstraint("source_system", "external_id"),
    )
