"""Check rows as Core reads them: the recorded decision and its outcome.

The gate's own writes are in ``gate_sql.py``, on the raw driver.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, tuple_, update

from consent.decide import Reservation
from consent.store.schema import checks
from policy.vocabulary import Channel, Purpose


@dataclass(frozen=True, slots=True)
class StoredCheck:
    id: str
    request_hash: str
    customer_pk: int | None
    decision: str
    dry_run: bool
    reserved: bool
    send_at: datetime
    valid_until: datetime | None
    response: str
    outcome: str | None
    outcome_at: datetime | None
    outcome_late: bool | None
    audit_seq: int
    outcome_audit_seq: int | None
    outcome_refused: bool | None


_STORED = (
    checks.c.id,
    checks.c.request_hash,
    checks.c.customer_pk,
    checks.c.decision,
    checks.c.dry_run,
    checks.c.reserved,
    checks.c.send_at,
    checks.c.valid_until,
    checks.c.response,
    checks.c.outcome,
    checks.c.outcome_at,
    checks.c.outcome_late,
    checks.c.audit_seq,
    checks.c.outcome_audit_seq,
    checks.c.outcome_refused,
)


# A check id is a UUID as the gate writes it (lower-case hex). Anything else names no check,
# and is never sent to the store: PostgreSQL refuses a NUL in text with an error, not a miss.
_CHECK_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _stored(row: Any) -> StoredCheck:
    return StoredCheck(**row._mapping)


def by_id(conn: Connection, check_id: str) -> StoredCheck | None:
    if not _CHECK_ID.fullmatch(check_id):
        return None
    row = conn.execute(select(*_STORED).where(checks.c.id == check_id)).one_or_none()
    return _stored(row) if row is not None else None


def recorded_for(conn: Connection, customer_pk: int) -> tuple[int, int | None]:
    """How many checks are recorded for the customer, and the audit entry of the last."""
    count, last = conn.execute(
        select(func.count(), func.max(checks.c.audit_seq)).where(
            checks.c.customer_pk == customer_pk
        )
    ).one()
    return int(count), last


def page_of_customer(
    conn: Connection,
    customer_pk: int,
    up_to_seq: int,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[StoredCheck]:
    """A page of the customer's checks recorded up to audit entry ``up_to_seq``, by send
    time then id, from just after ``after`` (the send time and id of the page before's
    last)."""
    statement = select(*_STORED).where(
        checks.c.customer_pk == customer_pk, checks.c.audit_seq <= up_to_seq
    )
    if after is not None:
        statement = statement.where(tuple_(checks.c.send_at, checks.c.id) > tuple_(*after))
    rows = conn.execute(statement.order_by(checks.c.send_at, checks.c.id).limit(limit))
    return [_stored(row) for row in rows]


def record_outcome(
    conn: Connection,
    check_id: str,
    outcome: str,
    at: datetime,
    *,
    late: bool,
    refused: bool,
    release: bool,
    audit_seq: int,
) -> None:
    values: dict[str, Any] = {
        "outcome": outcome,
        "outcome_at": at,
        "outcome_late": late,
        "outcome_refused": refused,
        "outcome_audit_seq": audit_seq,
    }
    if release:
        values["reserved"] = False  # a failed or cancelled contact gives its slot back
    if outcome == "cancelled":
        values["attempted"] = False  # never placed: not even the law's caps count it
    conn.execute(update(checks).where(checks.c.id == check_id).values(**values))


def live_contacts(conn: Connection, customer_pk: int, since: datetime) -> list[Reservation]:
    """Attempts counting toward limits, sent or scheduled after ``since``: what the law's
    caps count (a contact reported failed is one, no longer ``reserved``).

    For read-only questions (``consent policy explain``); the gate reads the same rows on
    its own transaction.
    """
    rows = conn.execute(
        select(
            checks.c.send_at,
            checks.c.channel,
            checks.c.campaign_id,
            checks.c.counts_toward_limits,
            checks.c.purpose,
            checks.c.reserved,
        ).where(
            checks.c.customer_pk == customer_pk,
            checks.c.attempted,
            checks.c.counts_toward_limits,
            checks.c.send_at > since,
        )
    )
    return [
        Reservation(
            send_at=row.send_at,
            channel=Channel(row.channel) if row.channel else None,
            campaign_id=row.campaign_id,
            counts=row.counts_toward_limits,
            purpose=Purpose(row.purpose),
            reserved=row.reserved,
        )
        for row in rows
    ]
