"""Appending to the audit log, inside the caller's transaction."""

from sqlalchemy import Connection, insert, select

from audit.entry import AuditEntry, format_instant
from audit.schema import audit_entries


def append(conn: Connection, entry: AuditEntry) -> int:
    """Write the entry in the caller's transaction and return its sequence number."""
    data, leaf = entry.encoded()
    statement = (
        insert(audit_entries)
        .values(
            entry_id=entry.entry_id,
            at=format_instant(entry.at),
            actor_name=entry.actor.name,
            actor_role=entry.actor.role,
            action=entry.action,
            subject=entry.subject,
            document=data.decode(),
            leaf_hash=leaf,
        )
        .returning(audit_entries.c.seq)
    )
    return int(conn.execute(statement).scalar_one())


def entries_for(conn: Connection, subject: str) -> list[dict[str, object]]:
    """Every entry about one subject, in log order (for the customer's own view and tests)."""
    rows = conn.execute(
        select(audit_entries)
        .where(audit_entries.c.subject == subject)
        .order_by(audit_entries.c.seq)
    )
    return [dict(row._mapping) for row in rows]
