"""suppression lists load a new copy beside the current one, then swap

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

A list used to be replaced in one transaction: its old entries deleted, the new ones
inserted. On SQLite that held the one writer for as long as the load (a million numbers:
about twenty seconds), and every check meanwhile failed closed with a 503. Each load now
writes its entries under a copy id of its own, in short transactions, and makes them the
list's by setting ``suppression_lists.copy_id``; the old copy is deleted afterwards, a
chunk at a time. The entries' key gains ``copy_id`` (after the hash: the gate's probe is
by list and hash, and an index led by (list, copy) made PostgreSQL filter a whole copy);
the index on the hash alone, which nothing read, goes; and so does the foreign key to the
list: a removed list's entries are deleted after its row. Existing entries become copy 0, the
lists' current one.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The entries first: on SQLite each table is rebuilt, and the lists' rebuild drops a
    # table that the entries' foreign key (with foreign_keys on) still points at.
    with op.batch_alter_table("suppression_entries") as batch_op:
        batch_op.add_column(
            sa.Column("copy_id", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.drop_constraint(
            "fk_suppression_entries_list_name_suppression_lists", type_="foreignkey"
        )
        batch_op.drop_constraint("pk_suppression_entries", type_="primary")
        batch_op.create_primary_key(
            "pk_suppression_entries", ["list_name", "lookup_hash", "copy_id"]
        )
        batch_op.drop_index("ix_suppression_entries_lookup_hash")  # nothing reads by hash alone
    with op.batch_alter_table("suppression_lists") as batch_op:
        batch_op.add_column(
            sa.Column("copy_id", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    # Only each list's current copy fits the old key; entries of no list go too.
    op.execute(
        "DELETE FROM suppression_entries WHERE NOT EXISTS (SELECT 1 FROM suppression_lists l "
        "WHERE l.name = suppression_entries.list_name "
        "AND l.copy_id = suppression_entries.copy_id)"
    )
    with op.batch_alter_table("suppression_lists") as batch_op:  # before the key points at it
        batch_op.drop_column("copy_id")
    with op.batch_alter_table("suppression_entries") as batch_op:
        batch_op.create_index("ix_suppression_entries_lookup_hash", ["lookup_hash"])
        batch_op.drop_constraint("pk_suppression_entries", type_="primary")
        batch_op.create_primary_key("pk_suppression_entries", ["list_name", "lookup_hash"])
        batch_op.create_foreign_key(
            "fk_suppression_entries_list_name_suppression_lists",
            "suppression_lists",
            ["list_name"],
            ["name"],
        )
        batch_op.drop_column("copy_id")
