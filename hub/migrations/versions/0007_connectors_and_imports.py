"""Connectors, their sync runs, source records, dead letters and review queue; pledge texts
in the languages their sources wrote them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 20:56:10.574984
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.types


revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connectors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("IATI_FILE", name="connector_kind", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("created_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["organisations.id"], name=op.f("fk_connectors_member_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connectors")),
        sa.UniqueConstraint("name", name=op.f("uq_connectors_name")),
    )
    op.create_index(op.f("ix_connectors_member_id"), "connectors", ["member_id"], unique=False)
    op.create_table(
        "pledge_texts",
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column(
            "field",
            sa.Enum(
                "TITLE", "DESCRIPTION", name="text_field", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["pledges.id"],
            name=op.f("fk_pledge_texts_pledge_id_pledges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pledge_id", "field", "language", name=op.f("pk_pledge_texts")),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "RUNNING",
                "SUCCEEDED",
                "FAILED",
                "INTERRUPTED",
                name="run_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("started_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("process_id", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=2000), nullable=True),
        sa.Column("source_digest", sa.String(length=64), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("resumed_from", sa.Integer(), nullable=True),
        sa.Column("fetched", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("unclaimed", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["connector_id"], ["connectors.id"], name=op.f("fk_sync_runs_connector_id_connectors")
        ),
        sa.ForeignKeyConstraint(
            ["resumed_from"], ["sync_runs.id"], name=op.f("fk_sync_runs_resumed_from_sync_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_index(op.f("ix_sync_runs_connector_id"), "sync_runs", ["connector_id"], unique=False)
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("sync_run_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=500), nullable=True),
        sa.Column("place", sa.String(length=2100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "OPEN", "RESOLVED", name="letter_status", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("resolved_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connector_id"],
            ["connectors.id"],
            name=op.f("fk_dead_letters_connector_id_connectors"),
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_run_id"],
            ["sync_runs.id"],
            name=op.f("fk_dead_letters_resolved_by_run_id_sync_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["sync_run_id"], ["sync_runs.id"], name=op.f("fk_dead_letters_sync_run_id_sync_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    op.create_index(
        "ix_dead_letters_open", "dead_letters", ["status", "connector_id"], unique=False
    )
    op.create_index(
        op.f("ix_dead_letters_sync_run_id"), "dead_letters", ["sync_run_id"], unique=False
    )
    op.create_table(
        "review_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=500), nullable=False),
        sa.Column("pledge_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=300), nullable=False),
        sa.Column("names", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "OPEN", "RESOLVED", name="review_status", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("sync_run_id", sa.Integer(), nullable=False),
        sa.Column("created_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["pledges.id"],
            name=op.f("fk_review_queue_pledge_id_pledges"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sync_run_id"], ["sync_runs.id"], name=op.f("fk_review_queue_sync_run_id_sync_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_queue")),
        sa.UniqueConstraint(
            "source",
            "external_id",
            "subject",
            "code",
            name=op.f("uq_review_queue_source_external_id_subject_code"),
        ),
    )
    op.create_table(
        "source_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=500), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "PLEDGE",
                "UNCLAIMED",
                name="source_state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("sync_run_id", sa.Integer(), nullable=False),
        sa.Column("pledge_id", sa.Integer(), nullable=True),
        sa.Column("reporting_org", sa.String(length=200), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("place", sa.String(length=2100), nullable=True),
        sa.Column("parts", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("gaps", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("pledge_only", sa.Boolean(), nullable=False),
        sa.Column("created_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connector_id"],
            ["connectors.id"],
            name=op.f("fk_source_records_connector_id_connectors"),
        ),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["pledges.id"],
            name=op.f("fk_source_records_pledge_id_pledges"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sync_run_id"], ["sync_runs.id"], name=op.f("fk_source_records_sync_run_id_sync_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_records")),
        sa.UniqueConstraint(
            "source", "external_id", name=op.f("uq_source_records_source_external_id")
        ),
    )
    op.create_index(
        op.f("ix_source_records_connector_id"), "source_records", ["connector_id"], unique=False
    )
    op.create_index(
        op.f("ix_source_records_pledge_id"), "source_records", ["pledge_id"], unique=False
    )
    op.create_index(
        op.f("ix_source_records_reporting_org"), "source_records", ["reporting_org"], unique=False
    )
    op.create_index(
        op.f("ix_source_records_sync_run_id"), "source_records", ["sync_run_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_source_records_sync_run_id"), table_name="source_records")
    op.drop_index(op.f("ix_source_records_reporting_org"), table_name="source_records")
    op.drop_index(op.f("ix_source_records_pledge_id"), table_name="source_records")
    op.drop_index(op.f("ix_source_records_connector_id"), table_name="source_records")
    op.drop_table("source_records")
    op.drop_table("review_queue")
    op.drop_index(op.f("ix_dead_letters_sync_run_id"), table_name="dead_letters")
    op.drop_index("ix_dead_letters_open", table_name="dead_letters")
    op.drop_table("dead_letters")
    op.drop_index(op.f("ix_sync_runs_connector_id"), table_name="sync_runs")
    op.drop_table("sync_runs")
    op.drop_table("pledge_texts")
    op.drop_index(op.f("ix_connectors_member_id"), table_name="connectors")
    op.drop_table("connectors")
