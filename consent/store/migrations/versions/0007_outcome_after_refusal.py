"""a sent outcome records whether the customer had refused the contact by then

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

An allow holds for up to a day. A customer who withdraws, objects, opts out or texts STOP
meanwhile is not contacted by any later check, but a contact allowed before can still be
reported ``sent``. ``checks.outcome_refused`` keeps, for such an outcome, that the
customer's own choices stood against the contact when it was reported: what a compliance
officer looks for. Rows recorded before have none (NULL), read as not known to be refused.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("checks", sa.Column("outcome_refused", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("checks") as batch:
        batch.drop_column("outcome_refused")
