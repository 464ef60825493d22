"""OAuth clients, the deny-list of revoked tokens, and the hub's keys (sealed at rest).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 23:36:01.693011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.types


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(length=128), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_revoked_tokens")),
    )
    op.create_index(
        op.f("ix_revoked_tokens_expires_at"), "revoked_tokens", ["expires_at"], unique=False
    )
    op.create_table(
        "server_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum("TOKEN_SIGNING", name="key_purpose", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("public_jwk", sa.Text(), nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False),
        sa.Column("created_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("signs_from", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retires_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_server_keys")),
    )
    op.create_index(op.f("ix_server_keys_purpose"), "server_keys", ["purpose"], unique=False)
    op.create_table(
        "oauth_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "PARTNER",
                "SECRETARIAT",
                "AUDITOR",
                "CONNECTOR",
                name="client_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("scopes", sa.String(length=500), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("secret_set_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind IN ('PARTNER', 'CONNECTOR')) = (member_id IS NOT NULL)",
            name=op.f("ck_oauth_clients_member_iff_member_kind"),
        ),
        sa.CheckConstraint("length(scopes) > 0", name=op.f("ck_oauth_clients_scopes_present")),
        sa.CheckConstraint(
            "length(secret_hash) = 64", name=op.f("ck_oauth_clients_secret_hash_sha256")
        ),
        sa.CheckConstraint("length(trim(name)) > 0", name=op.f("ck_oauth_clients_name_present")),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["organisations.id"],
            name=op.f("fk_oauth_clients_member_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_oauth_clients_client_id")),
    )
    op.create_index(
        op.f("ix_oauth_clients_member_id"), "oauth_clients", ["member_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_oauth_clients_member_id"), table_name="oauth_clients")
    op.drop_table("oauth_clients")
    op.drop_index(op.f("ix_server_keys_purpose"), table_name="server_keys")
    op.drop_table("server_keys")
    op.drop_index(op.f("ix_revoked_tokens_expires_at"), table_name="revoked_tokens")
    op.drop_table("revoked_tokens")
