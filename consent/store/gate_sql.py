"""The gate's transaction in the drivers' own SQL: the one hot path that skips SQLAlchemy Core.

Core costs ~80 us a statement against ~15 us for the raw driver (PERFORMANCE.md), and a
check is several statements. Everything else (admin, portal, outcomes) stays on Core; the
tables are the same ones, declared in ``schema.py`` and created by the migrations.

PostgreSQL: the row lock on the customer; then the idempotency look-up, in a statement of
its own so that under READ COMMITTED its snapshot is taken after the lock is granted and
sees what a racing twin committed; the live reservations; the suppression lists, when a
list rule governs the check (``suppression.py``); the audit entry and the check in one
statement; COMMIT. (psycopg's pipeline mode would save two round trips, but measured
here it cost more CPU than it saved: 609 against 783 checks/s.) SQLite: the same statements
on the single writer's connection, inside its batch transaction (see ``runners.py``).
"""

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Engine

from audit import log as audit_log
from audit.entry import AuditEntry
from audit.timestamps import space_separated_micro
from consent.decide import Reservation
from consent.errors import StoreUnavailableError
from consent.state import CustomerState, decode_state
from consent.store import suppression
from policy.facts import ListFact
from policy.fast_init import fast_init
from policy.vocabulary import Channel, Purpose, by_value


@dataclass(frozen=True, slots=True)
class PriorCheck:
    """What an idempotency key already recorded."""

    request_hash: str
    response: dict[str, Any]


@fast_init
@dataclass(frozen=True, slots=True)
class CheckRow:
    id: str
    caller: str
    idempotency_key: str
    request_hash: str
    customer_external_id: str
    customer_pk: int | None
    channel: str | None
    purpose: str
    source: str
    campaign_id: str | None
    send_at: datetime
    decided_at: datetime
    decision: str
    dry_run: bool
    reserved: bool
    counts_toward_limits: bool
    valid_until: datetime | None
    policy_version: str
    response: str  # the answer without its audit_entry_id, which the insert assigns


class GateTransaction(Protocol):
    def begin(
        self, customer_id: str, caller: str, key: str
    ) -> tuple[CustomerState | None, PriorCheck | None]:
        """Lock the customer (if any) and find an earlier answer to this key."""

    def reservations(
        self, customer_pk: int, since: datetime, campaign_id: str | None
    ) -> list[Reservation]:
        """Live reservations counting from ``since``, and the live ones of ``campaign_id``."""

    def lists(self, hashes: tuple[bytes, ...]) -> dict[str, ListFact]:
        """Every loaded suppression list, and whether any of ``hashes`` is on it."""

    def record(self, entry: AuditEntry, row: CheckRow) -> int:
        """Append the audit entry and insert the check; the entry's sequence number.

        On PostgreSQL the transaction commits right after; on SQLite the writer commits the
        whole batch. Either way no answer is released before its commit.
        """


_CHECK_COLUMNS = (
    "id, caller, idempotency_key, request_hash, customer_external_id, customer_pk, channel, "
    "purpose, source, campaign_id, send_at, decided_at, decision, dry_run, reserved, "
    "attempted, counts_toward_limits, valid_until, policy_version, response"
)
_CHECK_COUNT = _CHECK_COLUMNS.count(",") + 1
_AUDIT_COLUMNS = ", ".join(audit_log.COLUMNS)


def check_values(row: CheckRow, stamp: Any) -> tuple[Any, ...]:
    return (
        row.id,
        row.caller,
        row.idempotency_key,
        row.request_hash,
        row.customer_external_id,
        row.customer_pk,
        row.channel,
        row.purpose,
        row.source,
        row.campaign_id,
        stamp(row.send_at),
        stamp(row.decided_at),
        row.decision,
        row.dry_run,
        row.reserved,
        row.reserved,  # attempted: every reservation is an attempt until an outcome says
        row.counts_toward_limits,
        stamp(row.valid_until) if row.valid_until else None,
        row.policy_version,
        row.response,
    )


def customer_state(found: Iterable[Any] | None, customer_id: str) -> CustomerState | None:
    """The state from a customer row (pk, state, erased_at), or None for no customer."""
    if found is None:
        return None
    pk, raw_state, erased_at = found
    return decode_state(pk, customer_id, raw_state, erased=erased_at is not None)


# The customer's row (pk, state, erased_at) and the key's earlier check, either None.
BeginRows = tuple[Any, Any]


def begin_answer(
    customer_id: str, rows: BeginRows
) -> tuple[CustomerState | None, PriorCheck | None]:
    found, prior = rows
    return customer_state(found, customer_id), prior_check(prior)


def prior_check(found: Iterable[Any] | None) -> PriorCheck | None:
    if found is None:
        return None
    request_hash, response, seq = found
    return PriorCheck(request_hash, {**json.loads(response), "audit_entry_id": int(seq)})


# Read for every live reservation of every check.
_CHANNELS = by_value(Channel)
_PURPOSES = by_value(Purpose)
# Reservation's own __new__ is a Python function: calling it and a helper for every row took
# half of building a check's list (18.4 against 9.8 us for 15 rows). tuple.__new__ takes the
# fields by position, in Reservation's order: send_at, channel, campaign_id, counts (only
# inside the window), purpose, reserved.
_new_tuple = tuple.__new__


def reservations(
    rows: Iterable[Iterable[Any]], instant: Callable[[Any], datetime], since: datetime
) -> list[Reservation]:
    """Rows of ``RESERVATIONS_SQL``; ``instant`` makes the store's send_at an aware time."""
    channels, purposes = _CHANNELS, _PURPOSES
    return [
        _new_tuple(Reservation, (
            at := instant(stored),
            channels[channel] if channel else None,
            campaign,
            bool(counts) and at > since,
            purposes[purpose],
            bool(reserved),
        ))
        for stored, channel, campaign, counts, purpose, reserved in rows
    ]  # fmt: skip


# Statements are assembled from the constant column lists above, never from input.
# A key's earlier check, as ``begin_answer`` reads it (every path's look-up names these).
PRIOR_COLUMNS = "request_hash, response, audit_seq"
_PSYCOPG_PRIOR_SQL = (
    f"SELECT {PRIOR_COLUMNS} FROM checks "  # noqa: S608 - constants only
    "WHERE caller = %s AND idempotency_key = %s"
)
_PSYCOPG_LOCK_SQL = "SELECT pk, state, erased_at FROM customers WHERE external_id = %s FOR UPDATE"
RESERVATION_COLUMNS = "send_at, channel, campaign_id, counts_toward_limits, purpose, reserved"
# A customer's attempts that count toward limits from a time on (the live reservations and
# those reported failed, which only the law's caps count), and the live ones of the check's
# campaign that the first part leaves out (the duplicate rule reaches back without limit,
# and a service message counts toward nothing). Two index ranges, not one
# "send_at > since OR campaign_id IS NOT NULL", which scanned the customer's whole history
# on every check. Only counted contacts are read in the window (the limits and the law's
# caps read nothing else): with a yearly limit, a bank customer's thousands of one-time-code
# SMS were read on every check, 9 ms for 5,000 of them against 0.8 ms. The second part is a
# look-up in uq_checks_live_campaign, which SQLite is told ({campaign_index}): left to
# itself it scans the customer's entries in the history index, which also holds
# campaign_id. Placeholders: {pk}, {since}, {campaign}.
RESERVATIONS_SQL = (
    f"SELECT {RESERVATION_COLUMNS} FROM checks "  # noqa: S608 - constants only
    "WHERE customer_pk = {pk} AND send_at > {since} AND attempted AND counts_toward_limits "
    f"UNION ALL SELECT {RESERVATION_COLUMNS} FROM checks {{campaign_index}}"
    "WHERE customer_pk = {pk} AND campaign_id = {campaign} AND reserved "
    "AND (send_at <= {since} OR NOT counts_toward_limits)"
)
SQLITE_RESERVATIONS_SQL = RESERVATIONS_SQL.format(
    pk="?1", since="?2", campaign="?3", campaign_index="INDEXED BY uq_checks_live_campaign "
)
PSYCOPG_RESERVATIONS_SQL = RESERVATIONS_SQL.format(
    pk="%(pk)s", since="%(since)s", campaign="%(campaign)s", campaign_index=""
)


# --- SQLite ------------------------------------------------------------------------------


# Both by text, not datetime.replace(tzinfo=...), which costs five times the parse: every
# live reservation of every check is read through _sqlite_instant.
def _sqlite_stamp(at: datetime) -> str:
    """The text SQLAlchemy's DateTime writes on SQLite, so both paths compare alike."""
    return space_separated_micro(at)


def _sqlite_instant(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


# The customer (pk, state, erased_at) and the key's earlier check (request_hash, response,
# audit_seq) in one statement, one row, NULLs for what is not there, as async_postgres's
# _BEGIN. On PostgreSQL a twin can commit while the statement waits for the row lock (below,
# the look-up runs after the lock; there, the unique key makes it retry); here both reads
# run inside the batch's BEGIN IMMEDIATE (or on its snapshot), where nothing can commit.
_SQLITE_BEGIN_SQL = (
    "SELECT c.pk, c.state, c.erased_at, p.request_hash, p.response, p.audit_seq "
    "FROM (SELECT 1) AS one "
    "LEFT JOIN customers AS c ON c.external_id = ?1 "
    "LEFT JOIN checks AS p ON p.caller = ?2 AND p.idempotency_key = ?3"
)
# seq is the table's rowid: the cursor's lastrowid, without RETURNING's result row.
_SQLITE_AUDIT_SQL = f"INSERT INTO audit_entries ({_AUDIT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)"  # noqa: S608
_SQLITE_CHECK_SQL = (
    f"INSERT INTO checks ({_CHECK_COLUMNS}, audit_seq) "  # noqa: S608
    f"VALUES ({','.join('?' * (_CHECK_COUNT + 1))})"
)


class SqliteTransaction:
    """Statements on the writer's connection, inside the batch's BEGIN IMMEDIATE."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self.records_started = 0  # so the batch knows whether a failed check wrote anything

    def begin(
        self, customer_id: str, caller: str, key: str
    ) -> tuple[CustomerState | None, PriorCheck | None]:
        return begin_answer(customer_id, self.begin_rows(customer_id, caller, key))

    def reservations(
        self, customer_pk: int, since: datetime, campaign_id: str | None
    ) -> list[Reservation]:
        rows = self.reservation_rows(customer_pk, since, campaign_id)
        return self.reservations_from(rows, since)

    def lists(self, hashes: tuple[bytes, ...]) -> dict[str, ListFact]:
        return suppression.list_facts(self.list_rows(hashes))

    # The same reads as the rows they are made of: a check decided on a snapshot compares
    # these under the lock, which costs no parsing (``steps.complete``).

    def begin_rows(self, customer_id: str, caller: str, key: str) -> BeginRows:
        self._cursor.execute(_SQLITE_BEGIN_SQL, (customer_id, caller, key))
        row = self._cursor.fetchone()
        return (row[:3] if row[0] is not None else None, row[3:] if row[3] is not None else None)

    def reservation_rows(
        self, customer_pk: int, since: datetime, campaign_id: str | None
    ) -> list[Any]:
        arguments = (customer_pk, _sqlite_stamp(since), campaign_id)
        self._cursor.execute(SQLITE_RESERVATIONS_SQL, arguments)
        return self._cursor.fetchall()  # type: ignore[no-any-return]

    def reservations_from(self, rows: list[Any], since: datetime) -> list[Reservation]:
        return reservations(rows, _sqlite_instant, since)

    def list_rows(self, hashes: tuple[bytes, ...]) -> list[Any]:
        self._cursor.execute(suppression.membership_sql(len(hashes), postgres=False), hashes)
        return self._cursor.fetchall()  # type: ignore[no-any-return]

    def record(self, entry: AuditEntry, row: CheckRow) -> int:
        cur = self._cursor
        self.records_started += 1
        cur.execute(_SQLITE_AUDIT_SQL, audit_log.row_values(entry))
        seq = int(cur.lastrowid)
        cur.execute(_SQLITE_CHECK_SQL, (*check_values(row, _sqlite_stamp), seq))
        return seq


# --- PostgreSQL --------------------------------------------------------------------------


def pg_reservations(rows: Iterable[Iterable[Any]], since: datetime) -> list[Reservation]:
    """Rows of ``RESERVATIONS_SQL`` from either PostgreSQL driver (naive UTC times)."""
    return reservations(rows, _utc, since)


def _utc(naive: datetime) -> datetime:
    return naive.replace(tzinfo=UTC)


def pg_stamp(at: datetime) -> datetime:
    """Naive UTC, as the columns are ``timestamp without time zone`` holding UTC."""
    return at.astimezone(UTC).replace(tzinfo=None)


PG_RECORD_SQL = (
    f"WITH entry AS (INSERT INTO audit_entries ({_AUDIT_COLUMNS}) "  # noqa: S608
    f"VALUES (%s,%s,%s,%s,%s,%s,%s,%s) RETURNING seq) "
    f"INSERT INTO checks ({_CHECK_COLUMNS}, audit_seq) "
    f"SELECT {','.join(['%s'] * _CHECK_COUNT)}, seq FROM entry RETURNING audit_seq"
)


class PostgresTransaction:
    def __init__(self, connection: Any) -> None:
        self._conn = connection

    def begin(
        self, customer_id: str, caller: str, key: str
    ) -> tuple[CustomerState | None, PriorCheck | None]:
        with self._conn.cursor() as cur:
            cur.execute(_PSYCOPG_LOCK_SQL, (customer_id,))
            found = cur.fetchone()
            cur.execute(_PSYCOPG_PRIOR_SQL, (caller, key))  # after the lock: a fresh snapshot
            earlier = cur.fetchone()
        return begin_answer(customer_id, (found, earlier))

    def reservations(
        self, customer_pk: int, since: datetime, campaign_id: str | None
    ) -> list[Reservation]:
        arguments = {"pk": customer_pk, "since": pg_stamp(since), "campaign": campaign_id}
        with self._conn.cursor() as cur:
            cur.execute(PSYCOPG_RESERVATIONS_SQL, arguments)
            return pg_reservations(cur.fetchall(), since)

    def lists(self, hashes: tuple[bytes, ...]) -> dict[str, ListFact]:
        with self._conn.cursor() as cur:
            cur.execute(suppression.membership_sql(len(hashes), postgres=True), hashes)
            return suppression.list_facts(cur.fetchall())

    def record(self, entry: AuditEntry, row: CheckRow) -> int:
        with self._conn.cursor() as cur:
            cur.execute(PG_RECORD_SQL, (*audit_log.row_values(entry), *check_values(row, pg_stamp)))
            seq = int(cur.fetchone()[0])
        self._conn.commit()
        return seq


@contextmanager
def postgres_transaction(engine: Engine) -> Iterator[PostgresTransaction]:
    """A raw connection from the engine's pool, rolled back unless the gate committed.

    A store that cannot be reached is StoreUnavailableError (503), never a guess.
    """
    dbapi = engine.dialect.dbapi
    assert dbapi is not None  # noqa: S101 - the psycopg dialect has its DBAPI module
    try:
        fairy = engine.raw_connection()
    except dbapi.OperationalError as exc:
        raise StoreUnavailableError("the consent store is unavailable") from exc
    try:
        yield PostgresTransaction(fairy.driver_connection)
    except dbapi.OperationalError as exc:
        _rollback_quietly(fairy)
        raise StoreUnavailableError("the consent store did not answer") from exc
    except BaseException:
        _rollback_quietly(fairy)
        raise
    finally:
        fairy.close()


def _rollback_quietly(fairy: Any) -> None:
    """Undo what the failed transaction did; a dead connection is dropped by the pool."""
    try:
        fairy.driver_connection.rollback()
    except Exception:
        fairy.invalidate()
