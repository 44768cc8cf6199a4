"""Revocation rows: written once, read for the profile, their words forgotten on erasure."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, insert, select, update

from consent.store.schema import revocations

ERASED_WORDS = "[erased]"


@dataclass(frozen=True, slots=True)
class RevocationRow:
    channel: str
    words: str
    destination_hash: bytes | None
    received_at: datetime
    honour_by: date
    recorded_at: datetime
    recorded_by: str
    audit_seq: int


def insert_revocation(conn: Connection, customer_pk: int, row: RevocationRow) -> None:
    conn.execute(
        insert(revocations).values(
            customer_pk=customer_pk,
            channel=row.channel,
            words=row.words,
            destination_hash=row.destination_hash,
            received_at=row.received_at,
            honour_by=row.honour_by,
            recorded_at=row.recorded_at,
            recorded_by=row.recorded_by,
            audit_seq=row.audit_seq,
        )
    )


def revocations_of(conn: Connection, customer_pk: int) -> list[RevocationRow]:
    """Every revocation of the customer, in the order they were received."""
    found = conn.execute(
        select(
            revocations.c.channel,
            revocations.c.words,
            revocations.c.destination_hash,
            revocations.c.received_at,
            revocations.c.honour_by,
            revocations.c.recorded_at,
            revocations.c.recorded_by,
            revocations.c.audit_seq,
        )
        .where(revocations.c.customer_pk == customer_pk)
        .order_by(revocations.c.received_at, revocations.c.pk)
    )
    return [
        RevocationRow(
            channel=r.channel,
            words=r.words,
            destination_hash=bytes(r.destination_hash) if r.destination_hash is not None else None,
            received_at=r.received_at,
            honour_by=r.honour_by,
            recorded_at=r.recorded_at,
            recorded_by=r.recorded_by,
            audit_seq=int(r.audit_seq),
        )
        for r in found
    ]


def forget_words(conn: Connection, customer_pk: int) -> None:
    """GDPR Art 17: what the customer wrote may name them; the fact and the dates stay."""
    conn.execute(
        update(revocations)
        .where(revocations.c.customer_pk == customer_pk)
        .values(words=ERASED_WORDS)
    )
