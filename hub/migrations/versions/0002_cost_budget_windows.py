"""Hourly cost budgets of anonymous callers, shared by every process on PostgreSQL.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 22:16:27.107779
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.types


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cost_budget_windows",
        sa.Column("caller", sa.String(length=100), nullable=False),
        sa.Column("window_start", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("spent", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("caller", "window_start", name=op.f("pk_cost_budget_windows")),
    )


def downgrade() -> None:
    op.drop_table("cost_budget_windows")
