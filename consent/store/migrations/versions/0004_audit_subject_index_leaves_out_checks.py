"""the audit table's subject index leaves out the gate's own entries

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

Every check appends an audit entry about its customer, and inserting it into an index on
``subject`` lands at a random place of a large B-tree: a quarter of the time a check's two
INSERTs take on SQLite. A check's entries are found through the check itself
(``checks.audit_seq`` and ``outcome_audit_seq``, by customer through its history index), so
this index now holds only the other entries: the changes to a customer's profile,
preferences, consents and notices, and to the suppression lists.
"""

from alembic import op
from sqlalchemy import text

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NOT_A_CHECK = "action NOT IN ('check.decided', 'check.outcome')"


def upgrade() -> None:
    op.drop_index("ix_audit_entries_subject", table_name="audit_entries")
    op.create_index(
        "ix_audit_entries_subject",
        "audit_entries",
        ["subject"],
        sqlite_where=text(NOT_A_CHECK),
        postgresql_where=text(NOT_A_CHECK),
    )


def downgrade() -> None:
    op.drop_index("ix_audit_entries_subject", table_name="audit_entries")
    op.create_index("ix_audit_entries_subject", "audit_entries", ["subject"])
