"""Check rows: each decision as recorded, its idempotency key, and the live reservations."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from consent.decide import Reservation
from consent.store.schema import checks
from policy.vocabulary import Channel


@dataclass(frozen=True, slots=True)
class StoredCheck:
    id: str
    request_hash: str
    customer_pk: int | None
    decision: str
    dry_run: bool
    reserved: bool
    valid_until: datetime | None
    response: str
    outcome: str | None
    outcome_at: datetime | None
    outcome_late: bool | None


_STORED = (
    checks.c.id,
    checks.c.request_hash,
    checks.c.customer_pk,
    checks.c.decision,
    checks.c.dry_run,
    checks.c.reserved,
    checks.c.valid_until,
    checks.c.response,
    checks.c.outcome,
    checks.c.outcome_at,
    checks.c.outcome_late,
)


def _stored(row: Any) -> StoredCheck:
    return StoredCheck(**row._mapping)


def by_idempotency_key(conn: Connection, caller: str, key: str) -> StoredCheck | None:
    row = conn.execute(
        select(*_STORED).where(checks.c.caller == caller, checks.c.idempotency_key == key)
    ).one_or_none()
    return _stored(row) if row is not None else None


def by_id(conn: Connection, check_id: str) -> StoredCheck | None:
    row = conn.execute(select(*_STORED).where(checks.c.id == check_id)).one_or_none()
    return _stored(row) if row is not None else None


def live_reservations(conn: Connection, customer_pk: int, since: datetime) -> list[Reservation]:
    """Reservations that count against limits from ``since`` on, and every live campaign one.

    Campaign reservations are read whatever their time, because a campaign reaches a customer
    once per channel however long ago it started.
    """
    rows = conn.execute(
        select(
            checks.c.send_at, checks.c.channel, checks.c.campaign_id, checks.c.counts_toward_limits
        )
        .where(checks.c.customer_pk == customer_pk, checks.c.reserved)
        .where((checks.c.send_at > since) | checks.c.campaign_id.is_not(None))
    )
    return [
        Reservation(
            send_at=row.send_at,
            channel=Channel(row.channel) if row.channel else None,
            campaign_id=row.campaign_id,
            counts=bool(row.counts_toward_limits) and row.send_at > since,
        )
        for row in rows
    ]


def insert_check(conn: Connection, **values: Any) -> None:
    conn.execute(insert(checks).values(**values))


def record_outcome(
    conn: Connection,
    check_id: str,
    outcome: str,
    at: datetime,
    *,
    late: bool,
    release: bool,
    audit_seq: int,
) -> None:
    values: dict[str, Any] = {
        "outcome": outcome,
        "outcome_at": at,
        "outcome_late": late,
        "outcome_audit_seq": audit_seq,
    }
    if release:
        values["reserved"] = False  # a failed or cancelled contact gives its slot back
    conn.execute(update(checks).where(checks.c.id == check_id).values(**values))
