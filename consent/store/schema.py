"""The tables. Schema changes happen only through the alembic migrations beside this file."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from audit.schema import SequenceNumber, audit_entries, metadata
from consent.store.types import UTCDateTime

__all__ = [
    "api_keys",
    "audit_entries",
    "checks",
    "consents",
    "contact_points",
    "customers",
    "metadata",
    "notices",
    "preferences",
    "revocations",
    "suppression_entries",
    "suppression_lists",
]

customers = Table(
    "customers",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("external_id", String(128), nullable=False, unique=True),
    # Projection of the customer's current preferences, consents and notices, rewritten in the
    # same transaction as every change: the gate reads one row instead of four tables.
    Column("state", Text, nullable=False),
    Column("wrapped_key", LargeBinary, nullable=True),  # NULL once erased (crypto-shredding)
    Column("pii", LargeBinary, nullable=True),  # birth date etc., sealed with the data key
    Column("erased_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

contact_points = Table(
    "contact_points",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("customer_pk", Integer, ForeignKey("customers.pk"), nullable=False),
    Column("kind", String(8), nullable=False),  # email, phone, post, push
    Column("lookup_hash", LargeBinary(32), nullable=False),  # HMAC-SHA256, never the value
    Column("sealed", LargeBinary, nullable=False),  # AES-GCM under the customer's data key
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("customer_pk", "kind", "lookup_hash"),
)

preferences = Table(
    "preferences",
    metadata,
    Column("customer_pk", Integer, ForeignKey("customers.pk"), primary_key=True),
    Column("channel", String(8), primary_key=True),  # a channel, or "any"
    Column("status", String(16), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("limits", Text, nullable=False),  # JSON list of {count, period}
    Column("quiet_hours", Text, nullable=False),  # JSON list of {days, start, end}
    Column("source", String(128), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

consents = Table(
    "consents",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("customer_pk", Integer, ForeignKey("customers.pk"), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("legal_basis", String(32), nullable=True),
    Column("notice_version", String(64), nullable=True),
    Column("source", String(128), nullable=True),
    Column("captured_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("recorded_by", String(128), nullable=False),
    # How it was given: "written" is the TCPA's prior express written consent (47 CFR
    # 64.1200(f)(9)), needed for autodialed or prerecorded marketing calls and texts.
    Column("form", String(16), nullable=True),
    Index(None, "customer_pk", "purpose", "captured_at"),
)

notices = Table(
    "notices",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("customer_pk", Integer, ForeignKey("customers.pk"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("delivered_at", UTCDateTime, nullable=False),
    Column("method", String(32), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("recorded_by", String(128), nullable=False),
    Index(None, "customer_pk", "kind"),
)

checks = Table(
    "checks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("caller", String(128), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("customer_external_id", String(128), nullable=False),
    Column("customer_pk", Integer, ForeignKey("customers.pk"), nullable=True),
    Column("channel", String(8), nullable=True),
    Column("purpose", String(32), nullable=False),
    Column("source", String(16), nullable=False),
    Column("campaign_id", String(128), nullable=True),
    Column("send_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime, nullable=False),
    Column("decision", String(8), nullable=False),
    Column("dry_run", Boolean, nullable=False),
    # True while this allowed contact holds a slot: not a dry run, not failed or cancelled.
    Column("reserved", Boolean, nullable=False),
    # True while it counts as an attempt, which the law's caps count: reserved, or reported
    # failed (a call placed and not answered was still made). Migration 0008.
    Column("attempted", Boolean, nullable=False, server_default=false()),
    Column("counts_toward_limits", Boolean, nullable=False),  # service messages do not
    Column("valid_until", UTCDateTime, nullable=True),
    Column("policy_version", String(80), nullable=False),
    Column("response", Text, nullable=False),  # the answer as sent, replayed on retry
    Column("audit_seq", SequenceNumber, nullable=False),
    Column("outcome", String(16), nullable=True),
    Column("outcome_at", UTCDateTime, nullable=True),
    Column("outcome_late", Boolean, nullable=True),
    Column("outcome_audit_seq", SequenceNumber, nullable=True),
    # A sent outcome reported when the customer's own choices stood against the contact.
    Column("outcome_refused", Boolean, nullable=True),
    UniqueConstraint("caller", "idempotency_key"),
    # The gate's reservation read, answered from the index alone (migration 0003).
    Index(
        "ix_checks_customer_history",
        "customer_pk",
        "send_at",
        "attempted",
        "reserved",
        "channel",
        "purpose",
        "counts_toward_limits",
        "campaign_id",
    ),
    # The duplicate rule as a constraint too: one live reservation per campaign, customer and
    # channel, whatever happens above.
    Index(
        "uq_checks_live_campaign",
        "customer_pk",
        "campaign_id",
        "channel",
        unique=True,
        sqlite_where=text("reserved AND campaign_id IS NOT NULL"),
        postgresql_where=text("reserved AND campaign_id IS NOT NULL"),
    ),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("role", String(32), nullable=False),
    Column("secret_hash", LargeBinary(32), nullable=False),
    Column("customer_external_id", String(128), nullable=True),  # a customer key's own record
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)

suppression_lists = Table(
    "suppression_lists",
    metadata,
    Column("name", String(64), primary_key=True),  # internal_dnc, national_dnc, lista_robinson, ...
    Column("source_date", Date, nullable=False),  # the date of the copy, e.g. the registry's
    Column("entry_count", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),  # SHA-256 over the sorted entry hashes
    Column("loaded_at", UTCDateTime, nullable=False),
    Column("loaded_by", String(128), nullable=False),
    # Which copy's entries are the list: a load writes a new copy beside the current one in
    # short transactions, then swaps this in one (consent/suppression.py).
    Column("copy_id", BigInteger, nullable=False, server_default="0"),
)

suppression_entries = Table(
    "suppression_entries",
    metadata,
    # No foreign key: a removed list's entries, or a replaced copy's, are deleted after it,
    # a chunk at a time, so that no transaction holds SQLite's one writer for long.
    Column("list_name", String(64), nullable=False),
    Column("lookup_hash", LargeBinary(32), nullable=False),  # HMAC, as contact_points'
    Column("kind", String(8), nullable=False),  # phone or email
    Column("listed_on", Date, nullable=True),  # when the identifier was put on the list, if known
    Column("copy_id", BigInteger, nullable=False, server_default="0"),
    # The gate probes by (list, hash), then the copy. With the copy before the hash in an
    # index, PostgreSQL sought the copy and filtered all its entries by hash (a 10,000-number
    # registry took the gate from 0.5 to 0.03 x bare), so no index offers it that prefix.
    PrimaryKeyConstraint("list_name", "lookup_hash", "copy_id"),
)

revocations = Table(
    "revocations",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("customer_pk", Integer, ForeignKey("customers.pk"), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("words", String(160), nullable=False),  # what the customer said: "STOP", ...
    Column("destination_hash", LargeBinary(32), nullable=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("honour_by", Date, nullable=False),  # the law's deadline, in business days
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("recorded_by", String(128), nullable=False),
    Column("audit_seq", SequenceNumber, nullable=False),
    Index(None, "customer_pk", "channel"),
)
