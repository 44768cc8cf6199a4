"""The audit table, declared on the metadata that every table of the store shares."""

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

# BIGINT on PostgreSQL; SQLite only autoincrements a column typed exactly INTEGER.
SequenceNumber = BigInteger().with_variant(Integer(), "sqlite")

# The gate's own entries, left out of the subject index.
NOT_A_CHECK = "action NOT IN ('check.decided', 'check.outcome')"

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("seq", SequenceNumber, primary_key=True, autoincrement=True),
    Column("entry_id", String(36), nullable=False, unique=True),
    Column("at", String(27), nullable=False),  # the same text that was hashed
    Column("actor_name", String(128), nullable=False),
    Column("actor_role", String(32), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(200), nullable=False),
    # The canonical bytes that were hashed, kept verbatim so that an auditor can re-hash them.
    Column("document", Text, nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    # Per-subject look-ups of every entry but a check's, which is found through the check
    # (``checks.audit_seq``, ``outcome_audit_seq``): each check would otherwise insert into
    # this index at a random place (migration 0004).
    Index(
        "ix_audit_entries_subject",
        "subject",
        sqlite_where=text(NOT_A_CHECK),
        postgresql_where=text(NOT_A_CHECK),
    ),
)
