"""Partner writes: idempotency keys, and the notes of returned pledges and reviewed reports.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 01:34:06.393087
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.types


revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("created_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client", "key", name=op.f("pk_idempotency_keys")),
    )
    op.add_column(
        "pledges", sa.Column("returned_at", hub.types.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column("pledges", sa.Column("return_note", sa.Text(), nullable=True))
    op.add_column(
        "progress_reports",
        sa.Column("reviewed_at", hub.types.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column("progress_reports", sa.Column("review_note", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("progress_reports", "review_note")
    op.drop_column("progress_reports", "reviewed_at")
    op.drop_column("pledges", "return_note")
    op.drop_column("pledges", "returned_at")
    op.drop_table("idempotency_keys")
