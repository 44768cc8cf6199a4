"""suppression lists, revocations, and the form of a consent

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

- suppression_lists / suppression_entries: do-not-contact lists (internal DNC, national DNC,
  Lista Robinson, custom), each entry only the keyed hash of a normalised phone or email.
- revocations: a customer's STOP reply or do-not-call request, kept as history.
- consents.form: how a consent was given ("written" is the TCPA's prior express written
  consent, 47 CFR 64.1200(f)(9)).
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suppression_lists",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("source_date", sa.Date(), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.Column("loaded_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_suppression_lists")),
    )
    op.create_table(
        "suppression_entries",
        sa.Column("list_name", sa.String(length=64), nullable=False),
        sa.Column("lookup_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("listed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["list_name"],
            ["suppression_lists.name"],
            name=op.f("fk_suppression_entries_list_name_suppression_lists"),
        ),
        sa.PrimaryKeyConstraint("list_name", "lookup_hash", name=op.f("pk_suppression_entries")),
    )
    with op.batch_alter_table("suppression_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_suppression_entries_lookup_hash"), ["lookup_hash"], unique=False
        )
    op.create_table(
        "revocations",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_pk", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("words", sa.String(length=160), nullable=False),
        sa.Column("destination_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("honour_by", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column(
            "audit_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["customer_pk"], ["customers.pk"], name=op.f("fk_revocations_customer_pk_customers")
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_revocations")),
    )
    with op.batch_alter_table("revocations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_revocations_customer_pk_channel"), ["customer_pk", "channel"]
        )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("form", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_column("form")
    op.drop_table("revocations")
    op.drop_table("suppression_entries")
    op.drop_table("suppression_lists")
