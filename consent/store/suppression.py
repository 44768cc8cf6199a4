"""Suppression lists in the store: the loaded copies, their hashed entries, and membership.

Entries are keyed hashes only (the contact points' HMAC), so the gate matches a destination
by equality and the tables never hold an identifier in clear.
"""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from consent.store.database import is_sqlite
from consent.store.schema import suppression_entries, suppression_lists
from policy.facts import ListFact

_HASHES_PER_READ = 10_000


@dataclass(frozen=True, slots=True)
class ListEntry:
    kind: str  # phone or email
    lookup_hash: bytes
    listed_on: date | None = None


@dataclass(frozen=True, slots=True)
class ListCopy:
    """What is known of one loaded list, without its entries."""

    name: str
    source_date: date
    entry_count: int
    content_hash: str
    loaded_at: datetime
    loaded_by: str


def exists(conn: Connection, name: str) -> bool:
    found = conn.execute(
        select(suppression_lists.c.name).where(suppression_lists.c.name == name)
    ).first()
    return found is not None


def start_replacing(
    conn: Connection, name: str, source_date: date, now: datetime, loaded_by: str
) -> None:
    """Create or claim the list row (a row lock on PostgreSQL) and drop its old entries.

    The count and content hash are set by ``finish_replacing`` once the entries are in.
    """
    values = {
        "source_date": source_date,
        "entry_count": 0,
        "content_hash": "",
        "loaded_at": now,
        "loaded_by": loaded_by,
    }
    changed = conn.execute(
        update(suppression_lists).where(suppression_lists.c.name == name).values(**values)
    )
    if changed.rowcount == 0:
        conn.execute(insert(suppression_lists).values(name=name, **values))
    conn.execute(delete(suppression_entries).where(suppression_entries.c.list_name == name))


def add_entries(conn: Connection, name: str, entries: Sequence[ListEntry]) -> None:
    """One executemany; an identifier already on the list is kept once (first one wins)."""
    if not entries:
        return
    dialect_insert = sqlite.insert if is_sqlite(conn.engine) else postgresql.insert
    statement = dialect_insert(suppression_entries).on_conflict_do_nothing()
    conn.execute(
        statement,
        [
            {
                "list_name": name,
                "lookup_hash": entry.lookup_hash,
                "kind": entry.kind,
                "listed_on": entry.listed_on,
            }
            for entry in entries
        ],
    )


def finish_replacing(conn: Connection, name: str) -> ListCopy:
    """Count the entries and hash them in hash order, streaming; record both on the list."""
    digest = hashlib.sha256()
    count = 0
    rows = conn.execute(
        select(suppression_entries.c.lookup_hash)
        .where(suppression_entries.c.list_name == name)
        .order_by(suppression_entries.c.lookup_hash)
        .execution_options(yield_per=_HASHES_PER_READ)
    )
    for (lookup_hash,) in rows:
        digest.update(bytes(lookup_hash))
        count += 1
    conn.execute(
        update(suppression_lists)
        .where(suppression_lists.c.name == name)
        .values(entry_count=count, content_hash=digest.hexdigest())
    )
    found = read_copy(conn, name)
    assert found is not None  # noqa: S101 - the row was written in this transaction
    return found


def read_copy(conn: Connection, name: str) -> ListCopy | None:
    row = conn.execute(
        select(suppression_lists).where(suppression_lists.c.name == name)
    ).one_or_none()
    return _copy(row._mapping) if row is not None else None


def read_copies(conn: Connection) -> list[ListCopy]:
    rows = conn.execute(select(suppression_lists).order_by(suppression_lists.c.name))
    return [_copy(row._mapping) for row in rows]


def remove(conn: Connection, name: str) -> bool:
    """Drop the list and its entries; False if there was none."""
    conn.execute(delete(suppression_entries).where(suppression_entries.c.list_name == name))
    return (
        conn.execute(delete(suppression_lists).where(suppression_lists.c.name == name)).rowcount > 0
    )


def _copy(row: RowMapping) -> ListCopy:
    return ListCopy(
        name=row["name"],
        source_date=row["source_date"],
        entry_count=row["entry_count"],
        content_hash=row["content_hash"],
        loaded_at=row["loaded_at"],
        loaded_by=row["loaded_by"],
    )


# --- membership ---------------------------------------------------------------------------
# One statement for every loaded list: its source date, how many of the hashes are on it
# and the earliest listing date. Each list is probed through the primary key (list_name,
# lookup_hash), so the cost does not grow with the size of the lists. Measured here on
# PostgreSQL: a LATERAL probe per list with one placeholder per hash costs ~20 us over a
# bare SELECT 1; the same with "= ANY(%s)" cost ~70 us more (psycopg dumps the bytea
# array in Python), and a join with GROUP BY more again. SQLite has no LATERAL; in process
# the join costs microseconds. A customer has at most 20 numbers, so few texts are cached.

_NO_HASHES_SQL = "SELECT name, source_date, 0, NULL FROM suppression_lists"


def membership_sql(hash_count: int, *, postgres: bool) -> str:
    """The statement for ``hash_count`` hashes (placeholders are built from the count only)."""
    if hash_count == 0:
        return _NO_HASHES_SQL
    if postgres:
        hashes = ",".join(["%s"] * hash_count)
        return (
            "SELECT l.name, l.source_date, m.hits, m.first_on FROM suppression_lists l "  # noqa: S608
            "CROSS JOIN LATERAL (SELECT count(*) AS hits, min(e.listed_on) AS first_on "
            "FROM suppression_entries e "
            f"WHERE e.list_name = l.name AND e.lookup_hash IN ({hashes})) m"
        )
    hashes = ",".join("?" * hash_count)
    return (
        "SELECT l.name, l.source_date, COUNT(e.lookup_hash), MIN(e.listed_on) "  # noqa: S608
        "FROM suppression_lists l LEFT JOIN suppression_entries e "
        f"ON e.list_name = l.name AND e.lookup_hash IN ({hashes}) "
        "GROUP BY l.name, l.source_date"
    )


def list_facts(rows: Iterable[Iterable[Any]]) -> dict[str, ListFact]:
    """Rows of the membership statement as facts; SQLite hands dates back as text."""
    return {
        name: ListFact(
            source_date=_date(source_date), listed=count > 0, listed_on=_date_or_none(on)
        )
        for name, source_date, count, on in rows
    }


def memberships(conn: Connection, hashes: Iterable[bytes]) -> dict[str, ListFact]:
    """The same facts through Core, for read-only questions (``consent policy explain``)."""
    wanted = list(hashes)
    entries = suppression_entries.alias("e")
    lists = suppression_lists.alias("l")
    statement = (
        select(
            lists.c.name,
            lists.c.source_date,
            func.count(entries.c.lookup_hash),
            func.min(entries.c.listed_on),
        )
        .select_from(
            lists.outerjoin(
                entries,
                (entries.c.list_name == lists.c.name) & entries.c.lookup_hash.in_(wanted),
            )
        )
        .group_by(lists.c.name, lists.c.source_date)
    )
    return list_facts(conn.execute(statement).all())


def _date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _date_or_none(value: date | str | None) -> date | None:
    return _date(value) if value is not None else None
