"""One pledge across the organisations that report it: the activities each source record
names (money flows, related activities), what each record is to its pledge and what it
reports, and the pledges whose commitment an ancestor's holds.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 02:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("LEAD", "RECEIVER", "PROVIDER", "THIRD_PARTY", "TWIN")
RELATIONS = ("PROVIDER", "RECEIVER", "PARENT", "CHILD", "SIBLING", "CO_FUNDED", "THIRD_PARTY")


def _enum(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True)


def upgrade() -> None:
    with op.batch_alter_table("source_records") as batch:
        batch.add_column(sa.Column("activity_id", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("link_role", _enum(ROLES, "link_role"), nullable=True))
        batch.add_column(sa.Column("reported_minor", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("reported_currency", sa.String(length=3), nullable=True))
        batch.add_column(sa.Column("count_reason", sa.String(length=300), nullable=True))
        batch.create_index(batch.f("ix_source_records_activity_id"), ["activity_id"])
    # Records kept before linking: an IATI record is its activity, a World Bank project its
    # IATI twin; each claimed one leads its own pledge until the next import links it
    op.execute("UPDATE source_records SET activity_id = external_id WHERE source = 'iati'")
    op.execute(
        "UPDATE source_records SET activity_id = '44000-' || external_id "
        "WHERE source = 'worldbank'"
    )
    op.execute(
        "UPDATE source_records SET link_role = 'LEAD' "
        "WHERE state = 'PLEDGE' AND pledge_id IS NOT NULL"
    )
    op.create_table(
        "source_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("relation", _enum(RELATIONS, "link_relation"), nullable=False),
        sa.Column("activity_id", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["source_records.id"],
            name=op.f("fk_source_links_record_id_source_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_links")),
        sa.UniqueConstraint(
            "record_id",
            "relation",
            "activity_id",
            name=op.f("uq_source_links_record_id_relation_activity_id"),
        ),
    )
    op.create_index(
        op.f("ix_source_links_activity_id"), "source_links", ["activity_id"], unique=False
    )
    op.create_table(
        "counted_elsewhere",
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("counted_in_id", sa.Integer(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["pledges.id"],
            name=op.f("fk_counted_elsewhere_pledge_id_pledges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["counted_in_id"],
            ["pledges.id"],
            name=op.f("fk_counted_elsewhere_counted_in_id_pledges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pledge_id", "counted_in_id", name=op.f("pk_counted_elsewhere")),
    )


def downgrade() -> None:
    op.drop_table("counted_elsewhere")
    op.drop_index(op.f("ix_source_links_activity_id"), table_name="source_links")
    op.drop_table("source_links")
    with op.batch_alter_table("source_records") as batch:
        batch.drop_index(batch.f("ix_source_records_activity_id"))
        batch.drop_constraint(batch.f("ck_source_records_link_role"), type_="check")
        for column in ("count_reason", "reported_currency", "reported_minor", "link_role"):
            batch.drop_column(column)
        batch.drop_column("activity_id")
