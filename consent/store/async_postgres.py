"""The gate on PostgreSQL from the event loop: asyncpg and its connection pool.

The same statements as ``gate_sql.PostgresTransaction`` (lock, then idempotency look-up,
reservations, lists, record, COMMIT), without a thread per check. The hot path uses
asyncpg rather than psycopg (which the rest of the service keeps, through SQLAlchemy):
with psycopg's async cursors, converting, preparing and awaiting each statement cost
~1.6 ms of server CPU a check on this machine; asyncpg's protocol is compiled and its
statements are prepared once per connection.
"""

import shlex
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from sqlalchemy import Engine
from sqlalchemy.engine import URL

from audit import log as audit_log
from audit.entry import AuditEntry
from consent.errors import StoreUnavailableError
from consent.state import CustomerState
from consent.store import suppression
from consent.store.gate_sql import (
    PG_RECORD_SQL,
    RESERVATIONS_SQL,
    RESERVATIONS_WHERE,
    CheckRow,
    PriorCheck,
    check_values,
    customer_state,
    pg_reservations,
    pg_stamp,
    prior_check,
)
from consent.store.steps import History, Steps, drive_async

T = TypeVar("T")


def _numbered(statement: str) -> str:
    """``%s`` / ``{p}`` placeholders as asyncpg's ``$1, $2, ...``."""
    parts = statement.replace("{p}", "%s").split("%s")
    return "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], 1)) + parts[-1]


# The lock and the idempotency look-up in one round trip. The look-up's snapshot is taken
# when the statement starts, so it misses a twin with the same key that commits while this
# one waits for the lock; the unique key on (caller, idempotency_key) then refuses the
# second insert and ``run`` tries once more, when the twin's answer is visible and
# replayed. The race costs a retry; every other check saves a round trip.
_BEGIN = (
    "SELECT c.pk, c.state, c.erased_at, p.request_hash, p.response, p.audit_seq "
    "FROM (VALUES (1)) AS one (x) "
    "LEFT JOIN LATERAL (SELECT pk, state, erased_at FROM customers "
    "WHERE external_id = $1 FOR UPDATE) AS c ON true "
    "LEFT JOIN checks AS p ON p.caller = $2 AND p.idempotency_key = $3"
)
_RESERVATIONS = _numbered(RESERVATIONS_SQL)
_RECORD = _numbered(PG_RECORD_SQL)
_RESERVATIONS = _numbered(RESERVATIONS_SQL)
_RECORD = _numbered(PG_RECORD_SQL)
# The reservations and the lists in one round trip: rows of either kind, told apart by the
# first column. The customer's hashes go as one array, not a placeholder each.
_HISTORY = (
    "SELECT true, send_at, channel, campaign_id, counts_toward_limits, purpose, "  # noqa: S608 - constants only
    "NULL::text, NULL::date, NULL::bigint, NULL::date FROM checks "
    f"WHERE {_numbered(RESERVATIONS_WHERE)} "
    "UNION ALL "
    "SELECT false, NULL, NULL, NULL, NULL, NULL, l.name, l.source_date, m.hits, m.first_on "
    "FROM suppression_lists l "
    "CROSS JOIN LATERAL (SELECT count(*) AS hits, min(e.listed_on) AS first_on "
    "FROM suppression_entries e "
    "WHERE e.list_name = l.name AND e.lookup_hash = ANY($3::bytea[])) m"
)

# The store cannot be reached or is going away: 503, never a guess. (Other errors are bugs
# or constraint violations, and keep their own type.)
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
    asyncpg.InsufficientResourcesError,
)


class AsyncPostgresTransaction:
    def __init__(self, conn: "PoolConnectionProxy[asyncpg.Record]") -> None:
        self._conn = conn

    async def begin(
        self, customer_id: str, caller: str, key: str
    ) -> tuple[CustomerState | None, PriorCheck | None]:
        row = await self._conn.fetchrow(_BEGIN, customer_id, caller, key)
        assert row is not None  # noqa: S101 - the VALUES row is always there
        pk, state, erased_at, request_hash, response, seq = row
        found = (pk, state, erased_at) if pk is not None else None
        earlier = (request_hash, response, seq) if request_hash is not None else None
        return customer_state(found, customer_id), prior_check(earlier)

    async def history(
        self, customer_pk: int, since: datetime, hashes: tuple[bytes, ...] | None
    ) -> History:
        if hashes is None:
            rows = await self._conn.fetch(_RESERVATIONS, customer_pk, pg_stamp(since))
            return pg_reservations(rows, since), None
        rows = await self._conn.fetch(_HISTORY, customer_pk, pg_stamp(since), list(hashes))
        booked = [row[1:6] for row in rows if row[0]]
        on_lists = [row[6:] for row in rows if not row[0]]
        return pg_reservations(booked, since), suppression.list_facts(on_lists)

    async def record(self, entry: AuditEntry, row: CheckRow) -> int:
        values = (*audit_log.row_values(entry), *check_values(row, pg_stamp))
        seq = await self._conn.fetchval(_RECORD, *values)
        return int(seq)


class _GateConnection(asyncpg.Connection):
    def get_reset_query(self) -> str:
        """Nothing: the gate's connections set no session settings, listen to nothing, take
        no advisory locks and leave no cursor open, so the reset asyncpg sends on every
        release (a round trip a check) would have nothing to undo. An open transaction is
        still rolled back."""
        return ""


class AsyncPostgresRunner:
    """Opened and closed with the event loop that uses it (the app's lifespan)."""

    def __init__(self, engine: Engine, max_connections: int = 10, timeout: float = 5.0) -> None:
        self._connect = connect_arguments(engine.url)
        self._max = max_connections
        self._timeout = timeout
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None

    async def open(self) -> None:
        if self._pool is None:
            # No connection up front: a store that is down fails the checks (503), not the start.
            self._pool = await asyncpg.create_pool(min_size=0, max_size=self._max, **self._connect)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def run(self, make_steps: Callable[[], Steps[T]]) -> T:
        """Run the check; a racing twin with the same key is retried once (see runners.py)."""
        try:
            return await self._once(make_steps())
        except asyncpg.IntegrityConstraintViolationError:
            return await self._once(make_steps())

    async def _once(self, steps: Steps[T]) -> T:
        try:
            await self.open()
            assert self._pool is not None  # noqa: S101 - opened just above
            # READ COMMITTED; the transaction commits before the answer leaves.
            async with self._pool.acquire(timeout=self._timeout) as conn, conn.transaction():
                return await drive_async(steps, AsyncPostgresTransaction(conn))
        except _UNAVAILABLE as exc:
            raise StoreUnavailableError("the consent store is unavailable") from exc


def connect_arguments(url: URL) -> dict[str, Any]:
    """asyncpg's connection arguments for the service's SQLAlchemy database URL.

    libpq's ``options`` (``-c name=value``) become server settings; a parameter asyncpg has
    no equivalent for stops the start rather than being dropped silently.
    """
    query = {name: _single(value) for name, value in url.query.items()}
    arguments: dict[str, Any] = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "database": url.database,
        "server_settings": _server_settings(query.pop("options", "")),
    }
    if "host" in query:  # a Unix socket's directory, as libpq takes it
        arguments["host"] = query.pop("host")
    if "port" in query:
        arguments["port"] = int(query.pop("port"))
    if "application_name" in query:
        arguments["server_settings"]["application_name"] = query.pop("application_name")
    if "connect_timeout" in query:
        arguments["timeout"] = float(query.pop("connect_timeout"))
    if "sslmode" in query:
        arguments["ssl"] = query.pop("sslmode")
    if query:
        raise ValueError(
            f"the database URL's parameters {sorted(query)} are not supported by the gate's "
            "PostgreSQL pool (supported: host, port, options, application_name, "
            "connect_timeout, sslmode)"
        )
    return arguments


def _single(value: str | tuple[str, ...]) -> str:
    return value if isinstance(value, str) else value[-1]


def _server_settings(options: str) -> dict[str, str]:
    """``-c name=value`` / ``-cname=value`` pairs of libpq's ``options``."""
    settings: dict[str, str] = {}
    words = iter(shlex.split(options))
    for word in words:
        pair = "-c" + next(words, "") if word == "-c" else word
        if not pair.startswith("-c") or "=" not in pair:
            raise ValueError(f"the database URL's options must be -c name=value, not {pair!r}")
        name, _, value = pair[2:].partition("=")
        settings[name] = value
    return settings
