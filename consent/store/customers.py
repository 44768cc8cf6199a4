"""Customer rows: the locked read the gate starts with, and the writes that change state."""

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from consent.state import CustomerState, decode_state, encode_state
from consent.store.database import dialect_insert, is_sqlite
from consent.store.schema import contact_points, customers


def load_state(conn: Connection, external_id: str, *, lock: bool) -> CustomerState | None:
    """The customer's state; with ``lock``, held until commit (row lock on PostgreSQL).

    On SQLite the whole database is already held by ``BEGIN IMMEDIATE``.
    """
    statement = select(customers.c.pk, customers.c.state, customers.c.erased_at).where(
        customers.c.external_id == external_id
    )
    if lock and not is_sqlite(conn.engine):
        statement = statement.with_for_update()
    row = conn.execute(statement).one_or_none()
    if row is None:
        return None
    return decode_state(row.pk, external_id, row.state, erased=row.erased_at is not None)


def wrapped_key(conn: Connection, pk: int) -> bytes | None:
    found = conn.execute(select(customers.c.wrapped_key).where(customers.c.pk == pk)).scalar_one()
    return bytes(found) if found is not None else None


def insert_customer(
    conn: Connection, state: CustomerState, wrapped: bytes, pii: bytes, now: datetime
) -> int | None:
    """The new customer's pk; None if another transaction created the same id first.

    Two first PUTs of one id both find no row to lock. On PostgreSQL the later insert waits
    for the earlier one's transaction and, once it has committed, inserts nothing (a plain
    INSERT failed there on the unique key: a 500). SQLite's writers never overlap.
    """
    statement = (
        dialect_insert(conn, customers)
        .values(
            external_id=state.external_id,
            state=encode_state(state),
            wrapped_key=wrapped,
            pii=pii,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=[customers.c.external_id])
        .returning(customers.c.pk)
    )
    pk = conn.execute(statement).scalar_one_or_none()
    return int(pk) if pk is not None else None


def save_state(
    conn: Connection, state: CustomerState, now: datetime, *, pii: bytes | None = None
) -> None:
    values: dict[str, object] = {"state": encode_state(state), "updated_at": now}
    if pii is not None:
        values["pii"] = pii
    conn.execute(update(customers).where(customers.c.pk == state.pk).values(**values))


def sealed_record(conn: Connection, pk: int) -> tuple[bytes, bytes]:
    """(wrapped data key, sealed PII) of a customer who was not erased."""
    row = conn.execute(
        select(customers.c.wrapped_key, customers.c.pii).where(customers.c.pk == pk)
    ).one()
    return bytes(row.wrapped_key), bytes(row.pii)


def replace_contact_points(
    conn: Connection, pk: int, sealed_points: list[tuple[str, bytes, bytes]], now: datetime
) -> None:
    """Make the stored set exactly ``(kind, lookup_hash, sealed)``: a PUT replaces, not merges."""
    conn.execute(delete(contact_points).where(contact_points.c.customer_pk == pk))
    if sealed_points:
        conn.execute(
            insert(contact_points),
            [
                {
                    "customer_pk": pk,
                    "kind": kind,
                    "lookup_hash": lookup,
                    "sealed": sealed,
                    "created_at": now,
                }
                for kind, lookup, sealed in sealed_points
            ],
        )


def erase(conn: Connection, pk: int, now: datetime) -> None:
    """Destroy the data key and the sealed data: the ciphertexts left anywhere are noise."""
    conn.execute(delete(contact_points).where(contact_points.c.customer_pk == pk))
    conn.execute(
        update(customers)
        .where(customers.c.pk == pk)
        .values(wrapped_key=None, pii=None, erased_at=now, updated_at=now)
    )


def lock_customer(conn: Connection, pk: int) -> None:
    """Serialise with the gate on this customer (SQLite: already held by BEGIN IMMEDIATE)."""
    if not is_sqlite(conn.engine):
        conn.execute(select(customers.c.pk).where(customers.c.pk == pk).with_for_update())
