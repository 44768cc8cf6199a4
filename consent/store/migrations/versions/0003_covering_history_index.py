"""the customer's history index covers the gate's reservation read

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

The gate reads a customer's live reservations on every check (checks.customer_pk, send_at,
reserved and the four columns it decides on). With only (customer_pk, send_at) indexed,
each row in the window was a look-up in the table, whose rows are wide (the stored answer):
~1 us a row on SQLite, and the bench's customers have dozens. The wider index answers the
read on its own; it replaces the narrower one, so a check still inserts into one index.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = [
    "customer_pk", "send_at", "reserved", "channel", "purpose", "counts_toward_limits",
    "campaign_id",
]  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("checks", schema=None) as batch_op:
        batch_op.drop_index("ix_checks_customer_pk_send_at")
        batch_op.create_index("ix_checks_customer_history", COLUMNS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("checks", schema=None) as batch_op:
        batch_op.drop_index("ix_checks_customer_history")
        batch_op.create_index(
            "ix_checks_customer_pk_send_at", ["customer_pk", "send_at"], unique=False
        )
