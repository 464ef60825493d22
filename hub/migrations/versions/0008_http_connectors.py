"""Connectors that pull from HTTP APIs: their kinds, sealed secret, schedule, failures in a
row, page cursor and since-watermark; the HTTP requests and retries of each run.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 23:58:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("IATI_FILE", "IATI_DATASTORE", "WORLD_BANK", "JSON_API")


def _kinds(kinds: Sequence[str], length: int) -> None:
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    with op.batch_alter_table("connectors", recreate="auto") as batch:
        batch.drop_constraint(op.f("ck_connectors_connector_kind"), type_="check")
        batch.alter_column("kind", type_=sa.String(length), existing_nullable=False)
        batch.create_check_constraint(op.f("ck_connectors_connector_kind"), f"kind IN ({listed})")


def upgrade() -> None:
    _kinds(KINDS, max(map(len, KINDS)))
    with op.batch_alter_table("connectors") as batch:
        batch.add_column(sa.Column("secret", sa.Text(), nullable=True))
        batch.add_column(sa.Column("every_seconds", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("next_run_at", hub.types.UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("failures", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("cursor", sa.Text(), nullable=True))
        batch.add_column(sa.Column("watermark", sa.String(length=64), nullable=True))
    with op.batch_alter_table("sync_runs") as batch:
        batch.add_column(
            sa.Column("requests", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(
            sa.Column("retries", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_column("retries")
        batch.drop_column("requests")
    with op.batch_alter_table("connectors") as batch:
        for column in ("watermark", "cursor", "failures", "next_run_at", "every_seconds"):
            batch.drop_column(column)
        batch.drop_column("secret")
    _kinds(KINDS[:1], len(KINDS[0]))
