"""The gate on PostgreSQL from the event loop: asyncpg and its connection pool.

The same statements as ``gate_sql.PostgresTransaction`` (lock, then idempotency look-up,
reservations, lists, record, COMMIT), without a thread per check; checks that arrive
while the runner's transactions are all busy run together in the next (``pg_batch.py``).
The hot path uses asyncpg rather than psycopg (which the rest of the service keeps,
through SQLAlchemy): with psycopg's async cursors, converting, preparing and awaiting
each statement cost ~1.6 ms of server CPU a check on this machine; asyncpg's protocol is
compiled and its statements are prepared once per connection.
"""

import asyncio
import shlex
from collections.abc import Callable
from dataclasses import dataclass
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
    RESERVATION_COLUMNS,
    RESERVATIONS_SQL,
    CheckRow,
    PriorCheck,
    begin_answer,
    check_values,
    pg_reservations,
    pg_stamp,
)
from consent.store.pg_batch import BatchPostgresTransaction
from consent.store.runners import settle
from consent.store.steps import (
    Begin,
    History,
    LoadHistory,
    Step,
    Steps,
    WroteThenFailedError,
    drive_async,
    drive_together,
)

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
_RESERVATIONS = RESERVATIONS_SQL.format(pk="$1", since="$2", campaign="$3", campaign_index="")
_RECORD = _numbered(PG_RECORD_SQL)
# The reservations and the lists in one round trip: rows of either kind, told apart by the
# first column. The customer's hashes go as one array, not a placeholder each.
_HISTORY = (
    f"SELECT true, {RESERVATION_COLUMNS}, NULL::text, NULL::date, NULL::bigint, NULL::date "  # noqa: S608 - constants only
    f"FROM ({_RESERVATIONS}) AS r "
    "UNION ALL "
    "SELECT false, NULL, NULL, NULL, NULL, NULL, NULL, l.name, l.source_date, m.hits, "
    "m.first_on "
    "FROM suppression_lists l "
    f"CROSS JOIN LATERAL (SELECT {suppression.IN_THE_CURRENT_COPY} "
    "FROM suppression_entries e "
    "WHERE e.list_name = l.name AND e.lookup_hash = ANY($4::bytea[])) m"
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
        return begin_answer(customer_id, (found, earlier))

    async def history(self, step: LoadHistory) -> History:
        scope = (step.customer_pk, pg_stamp(step.since), step.campaign_id)
        if step.hashes is None:
            rows = await self._conn.fetch(_RESERVATIONS, *scope)
            return pg_reservations(rows, step.since), None
        rows = await self._conn.fetch(_HISTORY, *scope, list(step.hashes))
        booked = [row[1:7] for row in rows if row[0]]
        on_lists = [row[7:] for row in rows if not row[0]]
        return pg_reservations(booked, step.since), suppression.list_facts(on_lists)

    async def record(self, entry: AuditEntry, row: CheckRow) -> int:
        values = (*audit_log.row_values(entry), *check_values(row, pg_stamp))
        seq = await self._conn.fetchval(_RECORD, *values)
        return int(seq)


_MAX_BATCH = 64  # checks in one transaction: bounds how long the first waits for the last
# A batch can fail for a reason its checks would not meet alone: a racing twin's key, or a
# deadlock with another kind of transaction. Its checks then run one by one.
_RUN_ALONE: tuple[type[BaseException], ...] = (
    asyncpg.IntegrityConstraintViolationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
    WroteThenFailedError,
)


@dataclass(slots=True, eq=False)
class _Job:
    make_steps: Callable[[], Steps[Any]]
    future: "asyncio.Future[Any]"
    expiry: asyncio.TimerHandle | None = None  # fails it closed if it waits too long to start


class AsyncPostgresRunner:
    """Opened and closed with the event loop that uses it (the app's lifespan).

    A check runs at once in a transaction of its own while fewer than ``max_batches`` are
    running; otherwise it waits, and the next transaction to start takes every waiting
    check it can (``pg_batch.py``). Under light load nothing waits; under heavy load the
    round trips and commits are shared.

    Two transactions a worker, not more: each extra one is another PostgreSQL backend
    waking for every round trip on the same cores, and the five round trips of a check are
    most of its latency. ``bench.gate``, 2 workers, 500 req/s offered (2026-12-07, most
    runs alternated; bench/HISTORY.md): p99 17.8-24.8 ms with 2 (eight runs), 22.9-37.5
    with 4 (six), 26.6-36.5 with 8 (two); p50 5.8-7.8, 7.4-8.7 and 7.5-8.9 ms; the
    saturated rate the same.
    """

    def __init__(
        self,
        engine: Engine,
        max_connections: int = 10,
        timeout: float = 5.0,
        max_batches: int = 2,
    ) -> None:
        self._connect = connect_arguments(engine.url)
        self._max = max_connections
        self._timeout = timeout
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None
        self._max_batches = max(1, min(max_batches, max_connections))
        self._waiting: list[_Job] = []
        self._running = 0
        self._batches: set[asyncio.Task[None]] = set()  # held, or the loop may drop them

    async def open(self) -> None:
        if self._pool is None:
            # No connection up front: a store that is down fails the checks (503), not the start.
            self._pool = await asyncpg.create_pool(
                min_size=0, max_size=self._max, reset=_keep_session, **self._connect
            )

    async def close(self) -> None:
        if self._batches:
            await asyncio.wait(self._batches, timeout=self._timeout)
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def run(self, make_steps: Callable[[], Steps[T]]) -> T:
        """Run the check in the next transaction; its result once that has committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        job = _Job(make_steps, future)
        job.expiry = loop.call_later(self._timeout, self._expire, job)
        self._waiting.append(job)
        if self._running < self._max_batches:
            self._running += 1
            task = loop.create_task(self._run_waiting())
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)
        return await future

    def _expire(self, job: _Job) -> None:
        """A check still waiting for a transaction after the store timeout: 503, as when no
        connection is free in time (the running ones may be stuck on a store that hangs)."""
        if job in self._waiting:
            self._waiting.remove(job)
            _settle(job, None, StoreUnavailableError("the consent store is not answering"))

    async def _run_waiting(self) -> None:
        try:
            while self._waiting:
                batch = self._take_batch()
                if len(batch) == 1:  # alone, it runs on the single-check statements
                    job, steps, first = batch[0]
                    await self._run_alone(job, (steps, first))
                elif batch:
                    await self._run_together(batch)
        finally:
            # Now, not in a done callback: a check queued in between would find no task.
            self._running -= 1

    def _take_batch(self) -> list[tuple[_Job, Steps[Any], Step]]:
        """Waiting checks of distinct customers and keys, each at its first step; the
        others stay for the next batch (a check that fails to start fails alone)."""
        batch: list[tuple[_Job, Steps[Any], Step]] = []
        customers: set[str] = set()
        keys: set[tuple[str, str]] = set()
        left: list[_Job] = []
        for job in self._waiting:
            if job.future.cancelled():  # its caller went away before it ran: nothing to record
                _stop_expiry(job)
                continue
            if len(batch) >= _MAX_BATCH:
                left.append(job)
                continue
            try:
                steps = job.make_steps()
                first = next(steps)
            except StopIteration as done:
                _settle(job, done.value, None)
                continue
            except Exception as exc:
                _settle(job, None, exc)
                continue
            if isinstance(first, Begin):
                key = (first.caller, first.idempotency_key)
                if first.customer_id in customers or key in keys:
                    steps.close()
                    left.append(job)  # still within its time to start
                    continue
                customers.add(first.customer_id)
                keys.add(key)
            _stop_expiry(job)
            batch.append((job, steps, first))
        self._waiting = left
        return batch

    async def _run_alone(self, job: _Job, started: tuple[Steps[Any], Step] | None = None) -> None:
        try:
            result = await self._alone(job.make_steps, started)
        except Exception as exc:
            _settle(job, None, exc)
        else:
            _settle(job, result, None)

    async def _alone(
        self, make_steps: Callable[[], Steps[T]], started: tuple[Steps[T], Step] | None = None
    ) -> T:
        """One check; a racing twin with the same key is retried once (see ``_BEGIN``)."""
        try:
            steps, first = started or (make_steps(), None)
            return await self._once(steps, first)
        except asyncpg.IntegrityConstraintViolationError:
            return await self._once(make_steps())

    async def _once(self, steps: Steps[T], first: Step | None = None) -> T:
        try:
            pool = await self._opened()
            # READ COMMITTED; the transaction commits before the answer leaves.
            async with pool.acquire(timeout=self._timeout) as conn, conn.transaction():
                return await drive_async(steps, AsyncPostgresTransaction(conn), first)
        except _UNAVAILABLE as exc:
            raise StoreUnavailableError("the consent store is unavailable") from exc

    async def _run_together(self, batch: list[tuple[_Job, Steps[Any], Step]]) -> None:
        started = [(steps, first) for _, steps, first in batch]
        try:
            pool = await self._opened()
            async with pool.acquire(timeout=self._timeout) as conn, conn.transaction():
                outcomes = await drive_together(started, BatchPostgresTransaction(conn))
        except _UNAVAILABLE as exc:
            unavailable = StoreUnavailableError("the consent store is unavailable")
            unavailable.__cause__ = exc
            for job, _, _ in batch:
                _settle(job, None, unavailable)
            return
        except _RUN_ALONE:
            for _, steps, _ in batch:
                steps.close()
            await asyncio.gather(*(self._run_alone(job) for job, _, _ in batch))
            return
        except Exception as exc:  # whatever broke, every waiting caller hears of it
            for job, _, _ in batch:
                _settle(job, None, exc)
            return
        for (job, _, _), (result, error) in zip(batch, outcomes, strict=True):
            _settle(job, result, error)

    async def _opened(self) -> "asyncpg.Pool[asyncpg.Record]":
        await self.open()
        assert self._pool is not None  # noqa: S101 - opened just above
        return self._pool


async def _keep_session(_: "asyncpg.Connection[asyncpg.Record]") -> None:
    """What the pool does to a connection given back, besides rolling back an open
    transaction (which it always does): nothing.

    asyncpg's default is a round trip of four statements (advisory unlock, CLOSE ALL,
    UNLISTEN, RESET ALL) on every release, which on the gate is every check, after its
    COMMIT and before its answer. The gate's statements leave no session state behind: no
    SET, LISTEN, advisory lock or cursor.
    """


def _settle(job: _Job, result: Any, error: BaseException | None) -> None:
    _stop_expiry(job)
    settle(job.future, result, error)


def _stop_expiry(job: _Job) -> None:
    if job.expiry is not None:
        job.expiry.cancel()
        job.expiry = None


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
