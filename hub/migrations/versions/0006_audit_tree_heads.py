"""The audit log's Merkle tree, signed tree heads and their deliveries; an Ed25519 key purpose.

The subtrees of the leaves already in the log are computed here, so every later root and
proof reads them. The new tables are append-only like the ledger's (heads' deliveries are
not: they only say what a target has received).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 18:38:07.782997
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("audit_nodes", "audit_tree_heads")
PURPOSES = ("TOKEN_SIGNING", "AUDIT_SIGNING")


def upgrade() -> None:
    nodes = op.create_table(
        "audit_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("level", "index", name=op.f("pk_audit_nodes")),
    )
    op.create_table(
        "audit_tree_heads",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("signed_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_tree_heads")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_audit_tree_heads_tree_size"), "audit_tree_heads", ["tree_size"], unique=False
    )
    op.create_table(
        "audit_head_deliveries",
        sa.Column(
            "head_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("delivered_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["head_id"],
            ["audit_tree_heads.id"],
            name=op.f("fk_audit_head_deliveries_head_id_audit_tree_heads"),
        ),
        sa.PrimaryKeyConstraint("head_id", "target", name=op.f("pk_audit_head_deliveries")),
    )
    _subtrees_of_the_log(nodes)
    _refuse_changes()
    _purposes(PURPOSES)


def _subtrees_of_the_log(nodes: sa.Table) -> None:
    """Every complete subtree of the leaves sequenced before this revision (RFC 9162 node
    hashes: SHA-256(0x01 || left || right))."""
    leaves = op.get_bind().execute(
        sa.text("SELECT leaf_hash FROM audit_leaves ORDER BY leaf_number")
    )
    stack: list[tuple[int, bytes]] = []  # (level, hash) of the complete subtrees so far
    counts: dict[int, int] = {}
    rows = []
    for (leaf,) in leaves:
        stack.append((0, bytes.fromhex(leaf)))
        while len(stack) > 1 and stack[-1][0] == stack[-2][0]:
            (level, right), (_, left) = stack.pop(), stack.pop()
            digest = hashlib.sha256(b"\x01" + left + right).digest()
            index = counts.get(level + 1, 0)
            counts[level + 1] = index + 1
            rows.append({"level": level + 1, "index": index, "hash": digest.hex()})
            stack.append((level + 1, digest))
    if rows:
        op.bulk_insert(nodes, rows)


def _refuse_changes() -> None:
    """UPDATE and DELETE (and TRUNCATE on PostgreSQL) of the tree and its heads fail, whoever
    asks (the function is revision 0005's)."""
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
            )
        return
    for table in APPEND_ONLY:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'the audit ledger is append-only: {operation} on "
                f"{table} is refused'); END"
            )


def _purposes(purposes: Sequence[str]) -> None:
    """The key purposes ``server_keys.purpose`` accepts."""
    listed = ", ".join(f"'{purpose}'" for purpose in purposes)
    with op.batch_alter_table("server_keys", recreate="auto") as batch:
        batch.drop_constraint(op.f("ck_server_keys_key_purpose"), type_="check")
        batch.create_check_constraint(op.f("ck_server_keys_key_purpose"), f"purpose IN ({listed})")


def downgrade() -> None:
    op.execute("DELETE FROM server_keys WHERE purpose = 'AUDIT_SIGNING'")  # their heads go too
    _purposes(PURPOSES[:1])
    op.drop_table("audit_head_deliveries")
    op.drop_index(op.f("ix_audit_tree_heads_tree_size"), table_name="audit_tree_heads")
    op.drop_table("audit_tree_heads")
    op.drop_table("audit_nodes")
