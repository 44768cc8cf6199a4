"""Appending to the audit log, inside the caller's transaction."""

from typing import Any

from sqlalchemy import Connection, insert

from audit.entry import AuditEntry, encode
from audit.schema import audit_entries

# The row an entry becomes, in column order: shared by this Core path and the gate's raw one.
COLUMNS = ("entry_id", "at", "actor_name", "actor_role", "action", "subject", "document",
           "leaf_hash")  # fmt: skip


def row_values(entry: AuditEntry) -> tuple[Any, ...]:
    """The values of ``COLUMNS``: the hashed document is stored verbatim beside its hash."""
    document = entry.document()  # its "at" is the column's too: formatted once (strftime)
    data, leaf = encode(document)
    return (
        entry.entry_id,
        document["at"],
        entry.actor.name,
        entry.actor.role,
        entry.action,
        entry.subject,
        data.decode(),
        leaf,
    )


def append(conn: Connection, entry: AuditEntry) -> int:
    """Write the entry in the caller's transaction and return its sequence number."""
    values = dict(zip(COLUMNS, row_values(entry), strict=True))
    statement = insert(audit_entries).values(**values).returning(audit_entries.c.seq)
    return int(conn.execute(statement).scalar_one())
