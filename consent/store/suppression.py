"""Suppression lists in the store: the loaded copies, their hashed entries, and membership.

Entries are keyed hashes only (the contact points' HMAC), so the gate matches a destination
by equality and the tables never hold an identifier in clear.
"""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, select, update

from consent.errors import StoreUnavailableError
from consent.store.database import dialect_insert
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


def current_copy_id(conn: Connection, name: str, *, lock: bool = False) -> int | None:
    """The id of the copy that is the list now; None if there is no such list. ``lock``
    claims the list's row (PostgreSQL) for a swap or a removal."""
    statement = select(suppression_lists.c.copy_id).where(suppression_lists.c.name == name)
    found = conn.execute(statement.with_for_update() if lock else statement).first()
    return int(found[0]) if found is not None else None


def add_entries(conn: Connection, name: str, copy_id: int, entries: Sequence[ListEntry]) -> None:
    """One executemany into the copy; an identifier already in it is kept once (first wins)."""
    if not entries:
        return
    statement = dialect_insert(conn, suppression_entries).on_conflict_do_nothing()
    conn.execute(
        statement,
        [
            {
                "list_name": name,
                "copy_id": copy_id,
                "lookup_hash": entry.lookup_hash,
                "kind": entry.kind,
                "listed_on": entry.listed_on,
            }
            for entry in entries
        ],
    )


def count_and_hash(conn: Connection, name: str, copy_id: int) -> tuple[int, str]:
    """The copy's entry count, and a SHA-256 over its hashes in order, streaming."""
    digest = hashlib.sha256()
    count = 0
    rows = conn.execute(
        select(suppression_entries.c.lookup_hash)
        .where(suppression_entries.c.list_name == name, suppression_entries.c.copy_id == copy_id)
        .order_by(suppression_entries.c.lookup_hash)
        .execution_options(yield_per=_HASHES_PER_READ)
    )
    for (lookup_hash,) in rows:
        digest.update(bytes(lookup_hash))
        count += 1
    return count, digest.hexdigest()


# Each try after the first follows a load that created the list while this one looked: the
# list is then there to replace, unless a removal took it again meanwhile.
_SWAP_TRIES = 3


def swap_in(conn: Connection, copy: ListCopy, copy_id: int) -> int | None:
    """Make ``copy_id`` the list's entries, with the copy's facts: the id of the copy it
    replaces, None for a new list. One row: the transaction stays short."""
    values = {
        "source_date": copy.source_date,
        "entry_count": copy.entry_count,
        "content_hash": copy.content_hash,
        "loaded_at": copy.loaded_at,
        "loaded_by": copy.loaded_by,
        "copy_id": copy_id,
    }
    for _ in range(_SWAP_TRIES):
        replaced = current_copy_id(conn, copy.name, lock=True)
        if replaced is not None:
            conn.execute(
                update(suppression_lists)
                .where(suppression_lists.c.name == copy.name)
                .values(**values)
            )
            return replaced
        if _created(conn, copy.name, values):
            return None
    raise StoreUnavailableError(f"list {copy.name} was created and removed under this load")


def _created(conn: Connection, name: str, values: dict[str, Any]) -> bool:
    """Insert the list's row, unless another load's transaction has (PostgreSQL waits for
    it to end first; a plain INSERT failed on the list's key there: a 500). SQLite's
    writers never overlap."""
    statement = (
        dialect_insert(conn, suppression_lists)
        .values(name=name, **values)
        .on_conflict_do_nothing(index_elements=[suppression_lists.c.name])
        .returning(suppression_lists.c.name)
    )
    return conn.execute(statement).first() is not None


def add_to_kept_list(
    conn: Connection, name: str, entries: Sequence[ListEntry], new_copy: int, at: datetime, by: str
) -> None:
    """Add entries to a list the gate keeps itself (no copy is ever loaded), in the caller's
    transaction. An identifier already on it takes the new entry's date: the latest reason
    to keep it is the one a later consent must follow. The list's row is created first and
    then locked, so that two first additions at once share one copy (PostgreSQL waits for
    the other's insert) and no addition is written to a copy that is not the list's.

    The count is kept as it goes, from what the addition replaced: recounting the list
    read every entry under the lock, so each erasure cost as much as the list was long,
    and on SQLite held the one writer (and every check) meanwhile. The content hash is
    left to the readers (``kept_content``): nobody loads a file to compare it with."""
    values = {
        "source_date": at.date(),
        "entry_count": 0,
        "content_hash": hashlib.sha256().hexdigest(),
        "loaded_at": at,
        "loaded_by": by,
        "copy_id": new_copy,
    }
    _created(conn, name, values)
    locked = conn.execute(
        select(suppression_lists.c.copy_id, suppression_lists.c.entry_count)
        .where(suppression_lists.c.name == name)
        .with_for_update()
    ).first()
    if locked is None:  # removed between the two statements: only by hand, in the database
        raise StoreUnavailableError(f"list {name} was removed while entries were added")
    copy_id, count = int(locked[0]), int(locked[1])
    hashes = {entry.lookup_hash for entry in entries}
    replaced = conn.execute(
        delete(suppression_entries).where(
            suppression_entries.c.list_name == name,
            suppression_entries.c.copy_id == copy_id,
            suppression_entries.c.lookup_hash.in_(hashes),
        )
    ).rowcount
    add_entries(conn, name, copy_id, entries)
    conn.execute(
        update(suppression_lists)
        .where(suppression_lists.c.name == name)
        .values(
            source_date=at.date(),
            entry_count=count - replaced + len(hashes),
            loaded_at=at,
            loaded_by=by,
        )
    )


def kept_content(conn: Connection, copy: ListCopy) -> ListCopy:
    """A kept list's copy with its count and content hash read from its entries now."""
    copy_id = current_copy_id(conn, copy.name)
    if copy_id is None:
        return copy
    count, content_hash = count_and_hash(conn, copy.name, copy_id)
    return replace(copy, entry_count=count, content_hash=content_hash)


def remove(conn: Connection, name: str) -> int | None:
    """Drop the list's row: the id of its copy, whose entries are left to ``delete_some``;
    None if there was no such list."""
    copy_id = current_copy_id(conn, name, lock=True)
    if copy_id is not None:
        conn.execute(delete(suppression_lists).where(suppression_lists.c.name == name))
    return copy_id


def delete_some(
    conn: Connection, name: str, copy_id: int, after: bytes | None, limit: int
) -> bytes | None:
    """Delete up to ``limit`` entries of a copy that is not the list's (any more), in hash
    order from past ``after``: the last hash deleted, to go on from; None once it is gone.

    Each chunk seeks past the last (the key is list, hash, copy), never rescanning the
    entries of the list's current copy that the chunks before skipped.
    """
    entries = suppression_entries
    of_the_copy = [entries.c.list_name == name, entries.c.copy_id == copy_id]
    if after is not None:
        of_the_copy.append(entries.c.lookup_hash > after)
    hashes = [
        bytes(row[0])
        for row in conn.execute(
            select(entries.c.lookup_hash)
            .where(*of_the_copy)
            .order_by(entries.c.lookup_hash)
            .limit(limit)
        )
    ]
    if not hashes:
        return None
    conn.execute(
        delete(entries).where(
            entries.c.list_name == name,
            entries.c.copy_id == copy_id,
            entries.c.lookup_hash.in_(hashes),
        )
    )
    return hashes[-1] if len(hashes) == limit else None


def stale_copy_id(conn: Connection, name: str, started_before: int) -> int | None:
    """A copy of the list, not its current one, started before the given copy id (ids sort
    by the time their load started): what a load that died left behind. None if there is
    none. It reads the list's entries until it finds one (all of them if there is none):
    once a load."""
    entries = suppression_entries
    current = current_copy_id(conn, name)
    stale = [entries.c.list_name == name, entries.c.copy_id < started_before]
    if current is not None:
        stale.append(entries.c.copy_id != current)
    found = conn.execute(select(entries.c.copy_id).where(*stale).limit(1)).first()
    return int(found[0]) if found is not None else None


def read_copy(conn: Connection, name: str) -> ListCopy | None:
    row = conn.execute(
        select(suppression_lists).where(suppression_lists.c.name == name)
    ).one_or_none()
    return _copy(row._mapping) if row is not None else None


def read_copies(conn: Connection) -> list[ListCopy]:
    rows = conn.execute(select(suppression_lists).order_by(suppression_lists.c.name))
    return [_copy(row._mapping) for row in rows]


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
# lookup_hash, copy_id), keeping its current copy's rows, so the cost does not grow with the
# size of the lists, nor with a copy being loaded beside it. Measured here on
# PostgreSQL: a LATERAL probe per list with one placeholder per hash costs ~20 us over a
# bare SELECT 1; the same with "= ANY(%s)" cost ~70 us more (psycopg dumps the bytea
# array in Python), and a join with GROUP BY more again. SQLite has no LATERAL; in process
# the join costs microseconds. A customer has at most 20 numbers, so few texts are cached.

_NO_HASHES_SQL = "SELECT name, source_date, 0, NULL FROM suppression_lists"
# PostgreSQL: a probe's index condition is the list and the hashes, and the copy is sorted
# out among the (few) rows found. Asked to match the copy in the scan, it used the copy as
# an index condition with the list and filtered every entry of the copy by hash instead
# (a generic plan made on empty tables; a 10,000-number registry took the gate from 0.5
# to 0.03 x bare).
IN_THE_CURRENT_COPY = (
    "count(*) FILTER (WHERE e.copy_id = l.copy_id) AS hits, "
    "min(e.listed_on) FILTER (WHERE e.copy_id = l.copy_id) AS first_on"
)


def membership_sql(hash_count: int, *, postgres: bool) -> str:
    """The statement for ``hash_count`` hashes (placeholders are built from the count only)."""
    if hash_count == 0:
        return _NO_HASHES_SQL
    if postgres:
        hashes = ",".join(["%s"] * hash_count)
        return (
            "SELECT l.name, l.source_date, m.hits, m.first_on FROM suppression_lists l "  # noqa: S608
            f"CROSS JOIN LATERAL (SELECT {IN_THE_CURRENT_COPY} FROM suppression_entries e "
            f"WHERE e.list_name = l.name AND e.lookup_hash IN ({hashes})) m"
        )
    hashes = ",".join("?" * hash_count)
    return (
        "SELECT l.name, l.source_date, COUNT(e.lookup_hash), MIN(e.listed_on) "  # noqa: S608
        "FROM suppression_lists l LEFT JOIN suppression_entries e "
        "ON e.list_name = l.name AND e.copy_id = l.copy_id "
        f"AND e.lookup_hash IN ({hashes}) "
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
                (entries.c.list_name == lists.c.name)
                & (entries.c.copy_id == lists.c.copy_id)
                & entries.c.lookup_hash.in_(wanted),
            )
        )
        .group_by(lists.c.name, lists.c.source_date)
    )
    return list_facts(conn.execute(statement).all())


def _date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _date_or_none(value: date | str | None) -> date | None:
    return _date(value) if value is not None else None
