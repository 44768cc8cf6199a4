"""each customer's current consent records carry their legal basis

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

The state document on the customer row keeps one current record a purpose. It now names
the record's ``legal_basis``: a grant on another basis than consent (legitimate interests,
a contract) is no consent to the rules that need one. And such a grant, recorded after the
customer withdrew or objected, no longer replaces the refusal as the current record.

This rebuilds each purpose's current record from the ``consents`` table with those rules,
replaying the records in the order they were recorded: a record becomes current if none is,
or if it was captured no earlier than the current one and is not a grant on another basis
over a refusal. Where the replay keeps the stored record, only its basis is added. Where it
keeps a refusal that a grant on another basis had displaced, the refusal is restored (its
age at capture is not known here, and only a grant's age is ever read). No data leaves the
customer row: the document holds no clear-text personal data, and none is decrypted.

The document is self-contained JSON, rewritten here without the application's code, which
changes over time; the application reads either form.
"""

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BATCH = 1_000  # customers a round trip: their states, then their records, in one read each


def upgrade() -> None:
    conn = op.get_bind()
    for customers in _batches(conn):
        records = _records_of(conn, customers[0][0], customers[-1][0])
        updates = []
        for pk, raw in customers:
            document = json.loads(raw)
            rebuilt = _rebuilt_consents(document["consents"], records.get(pk, []))
            if rebuilt != document["consents"]:
                document["consents"] = rebuilt
                encoded = json.dumps(document, separators=(",", ":"), sort_keys=True)
                updates.append({"state": encoded, "pk": pk})
        if updates:
            conn.execute(sa.text("UPDATE customers SET state = :state WHERE pk = :pk"), updates)


def downgrade() -> None:
    """The basis stays in the documents: older code ignores keys it does not know."""


def _batches(conn: sa.Connection) -> Iterator[Sequence[Any]]:
    """The customers not erased, a batch at a time, by primary key."""
    last = 0
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT pk, state FROM customers WHERE pk > :last AND erased_at IS NULL "
                "ORDER BY pk LIMIT :batch"
            ),
            {"last": last, "batch": _BATCH},
        ).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _records_of(conn: sa.Connection, first: int, last: int) -> dict[int, list[Any]]:
    """The consent records of the customers from ``first`` to ``last``, in recorded order."""
    found: dict[int, list[Any]] = {}
    rows = conn.execute(
        sa.text(
            "SELECT customer_pk, purpose, status, legal_basis, captured_at, expires_at, form "
            "FROM consents WHERE customer_pk BETWEEN :first AND :last ORDER BY customer_pk, pk"
        ),
        {"first": first, "last": last},
    )
    for row in rows:
        found.setdefault(row.customer_pk, []).append(row)
    return found


def _rebuilt_consents(
    stored: dict[str, dict[str, Any]], records: Sequence[Any]
) -> dict[str, dict[str, Any]]:
    rebuilt = {}
    for purpose, fact in stored.items():
        current = _current(row for row in records if row.purpose == purpose)
        rebuilt[purpose] = fact if current is None else _with_basis(fact, current)
    return rebuilt


def _current(records: Iterator[Any]) -> Any:
    current = None
    for record in records:
        if current is None or (
            _utc(record.captured_at) >= _utc(current.captured_at) and _stands(record, current)
        ):
            current = record
    return current


def _stands(record: Any, current: Any) -> bool:
    refused = current.status != "granted"
    granted_otherwise = record.status == "granted" and record.legal_basis not in (None, "consent")
    return not (refused and granted_otherwise)


def _with_basis(fact: dict[str, Any], record: Any) -> dict[str, Any]:
    same_time = datetime.fromisoformat(fact["captured_at"]) == _utc(record.captured_at)
    if fact["status"] == record.status and same_time:
        return {**fact, "legal_basis": record.legal_basis}
    # The refusal a grant on another basis had displaced.
    expires_at = _utc(record.expires_at).isoformat() if record.expires_at is not None else None
    return {
        "status": record.status,
        "captured_at": _utc(record.captured_at).isoformat(),
        "expires_at": expires_at,
        "written": record.form == "written",
        "age_at_capture": None,
        "legal_basis": record.legal_basis,
    }


def _utc(value: Any) -> datetime:
    """A stored time, naive UTC (SQLite hands back its text through raw SQL), as aware UTC."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
