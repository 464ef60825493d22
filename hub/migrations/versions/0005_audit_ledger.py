"""The audit ledger: events and leaves, both append-only (triggers refuse changes).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 16:52:02.751783
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.types


revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("occurred_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("actor_client_id", sa.String(length=200), nullable=True),
        sa.Column("actor_member_id", sa.Integer(), nullable=True),
        sa.Column("actor_operator", sa.String(length=200), nullable=True),
        sa.Column("connector", sa.String(length=100), nullable=True),
        sa.Column("sync_run_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=500), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("transaction_id", sa.BigInteger(), nullable=True),
        sa.Column("event_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_audit_events_transaction_id"), "audit_events", ["transaction_id"], unique=False
    )
    op.create_index("ix_audit_events_entity", "audit_events", ["entity_type", "entity_id"])
    op.create_table(
        "audit_leaves",
        sa.Column("leaf_number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("leaf_hash", sa.String(length=64), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.Column("sequenced_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["audit_events.id"], name=op.f("fk_audit_leaves_event_id_audit_events")
        ),
        sa.PrimaryKeyConstraint("leaf_number", name=op.f("pk_audit_leaves")),
        sa.UniqueConstraint("event_id", name=op.f("uq_audit_leaves_event_id")),
    )
    refuse_changes()


TABLES = ("audit_events", "audit_leaves")


def refuse_changes() -> None:
    """UPDATE and DELETE (and TRUNCATE on PostgreSQL) of the ledger fail, whoever asks."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'the audit ledger is append-only: % on % is refused', "
            "TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege'; END $$"
        )
        for table in TABLES:  # per statement: refused even when no row would change
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
            )
        return
    for table in TABLES:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'the audit ledger is append-only: {operation} on "
                f"{table} is refused'); END"
            )


def downgrade() -> None:
    op.drop_table("audit_leaves")
    op.drop_index("ix_audit_events_entity", table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_transaction_id"), table_name="audit_events")
    op.drop_table("audit_events")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_append_only()")
