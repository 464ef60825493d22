"""Organisations matched by name as well as identifier: each one's normalised name, indexed;
the identifiers a person confirmed name an organisation besides its own; and how review items
were resolved, by whom, to which organisation, among which candidates.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 01:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.types
from hub.organisations.matching import normalise_name

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000

ORGANISATIONS = sa.table(
    "organisations",
    sa.column("id", sa.Integer()),
    sa.column("name", sa.String()),
    sa.column("name_key", sa.String()),
)


def _backfill_name_keys() -> None:
    """Every organisation's ``name_key``, computed by the hub's own ``normalise_name``,
    a thousand rows at a time."""
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(ORGANISATIONS.c.id, ORGANISATIONS.c.name)
            .where(ORGANISATIONS.c.id > last)
            .order_by(ORGANISATIONS.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            ORGANISATIONS.update()
            .where(ORGANISATIONS.c.id == sa.bindparam("row_id"))
            .values(name_key=sa.bindparam("key")),
            [{"row_id": row.id, "key": normalise_name(row.name)} for row in rows],
        )
        last = rows[-1].id


def upgrade() -> None:
    # Added with a default, since SQLite adds a NOT NULL column only so; the table is never
    # rebuilt on SQLite, where dropping it would cascade into the tables that refer to it.
    with op.batch_alter_table("organisations", recreate="never") as batch:
        batch.add_column(
            sa.Column("name_key", sa.String(length=300), nullable=False, server_default="")
        )
    _backfill_name_keys()
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("organisations", "name_key", server_default=None)
    op.create_index(op.f("ix_organisations_name_key"), "organisations", ["name_key"])
    op.create_table(
        "organisation_aliases",
        sa.Column("identifier", sa.String(length=200), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("created_at", hub.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_organisation_aliases_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("identifier", name=op.f("pk_organisation_aliases")),
    )
    op.create_index(
        op.f("ix_organisation_aliases_organisation_id"),
        "organisation_aliases",
        ["organisation_id"],
    )
    with op.batch_alter_table("review_queue") as batch:
        batch.add_column(
            sa.Column("candidates", sa.Text(), nullable=False, server_default="[]")
        )
        batch.add_column(sa.Column("resolved_at", hub.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("resolved_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("resolution", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column(
                "organisation_id",
                sa.Integer(),
                sa.ForeignKey(
                    "organisations.id", name=op.f("fk_review_queue_organisation_id_organisations")
                ),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("review_queue") as batch:
        for column in ("organisation_id", "resolution", "resolved_by", "resolved_at"):
            batch.drop_column(column)
        batch.drop_column("candidates")
    op.drop_index(op.f("ix_organisation_aliases_organisation_id"), table_name="organisation_aliases")
    op.drop_table("organisation_aliases")
    op.drop_index(op.f("ix_organisations_name_key"), table_name="organisations")
    with op.batch_alter_table("organisations", recreate="never") as batch:
        batch.drop_column("name_key")
