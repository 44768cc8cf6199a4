"""a contact reported failed still counts as an attempt for the law's caps

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08

A ``failed`` outcome gives the contact's slot back to the customer's own limits and to the
duplicate rule, as the contract says. It also gave it back to the law's caps, which count
calls made: France's four in 30 days counts attempts, Florida's three in 24 hours counts
calls. A dialer that reports an unanswered call as ``failed`` could so call again and again.
``checks.attempted`` keeps the attempt: true while the contact is reserved or was reported
failed; only ``cancelled`` ends it. The gate's history read now selects attempts, so the
column joins its covering index (rebuilt: it replaces 0003's).

Rows recorded before: attempted = reserved. A ``failed`` outcome reported before was given
back under the earlier rule, which told CRMs to report it only for a call never placed.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BEFORE = [
    "customer_pk", "send_at", "reserved", "channel", "purpose", "counts_toward_limits",
    "campaign_id",
]  # fmt: skip
AFTER = [BEFORE[0], BEFORE[1], "attempted", *BEFORE[2:]]


def upgrade() -> None:
    op.add_column(
        "checks",
        sa.Column("attempted", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute("UPDATE checks SET attempted = reserved WHERE reserved")
    with op.batch_alter_table("checks") as batch:
        batch.drop_index("ix_checks_customer_history")
        batch.create_index("ix_checks_customer_history", AFTER, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("checks") as batch:
        batch.drop_index("ix_checks_customer_history")
        batch.create_index("ix_checks_customer_history", BEFORE, unique=False)
        batch.drop_column("attempted")
