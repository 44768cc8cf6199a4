"""The gate on PostgreSQL from the event loop: psycopg's async driver and connection pool.

The same statements as ``gate_sql.PostgresTransaction`` (lock, then idempotency look-up,
reservations, record, COMMIT), without a thread per check.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Engine

from audit import log as audit_log
from audit.entry import AuditEntry
from consent.decide import Reservation
from consent.errors import StoreUnavailableError
from consent.state import CustomerState
from consent.store import suppression
from consent.store.gate_sql import (
    LOCK_SQL,
    PG_RECORD_SQL,
    PRIOR_SQL,
    RESERVATIONS_SQL,
    CheckRow,
    PriorCheck,
    check_values,
    customer_state,
    pg_stamp,
    prior_check,
    reservation,
)
from consent.store.steps import Steps, drive_async
from policy.facts import ListFact

T = TypeVar("T")


class AsyncPostgresTransaction:
    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self._conn = conn

    async def begin(
        self, customer_id: str, caller: str, key: str
    ) -> tuple[CustomerState | None, PriorCheck | None]:
        async with self._conn.cursor() as cur:
            await cur.execute(LOCK_SQL.format(p="%s"), (customer_id,))
            found = await cur.fetchone()
            await cur.execute(PRIOR_SQL.format(p="%s"), (caller, key))  # after the lock
            earlier = await cur.fetchone()
        state = customer_state(found, customer_id)
        return state, prior_check(earlier)

    async def reservations(self, customer_pk: int, since: datetime) -> list[Reservation]:
        async with self._conn.cursor() as cur:
            await cur.execute(RESERVATIONS_SQL.format(p="%s"), (customer_pk, pg_stamp(since)))
            rows = await cur.fetchall()
        return [
            reservation(at.replace(tzinfo=UTC), channel, campaign, counts, purpose, since)
            for at, channel, campaign, counts, purpose in rows
        ]

    async def lists(self, hashes: tuple[bytes, ...]) -> dict[str, ListFact]:
        async with self._conn.cursor() as cur:
            await cur.execute(suppression.membership_sql(len(hashes), postgres=True), hashes)
            return suppression.list_facts(await cur.fetchall())

    async def record(self, entry: AuditEntry, row: CheckRow) -> int:
        async with self._conn.cursor() as cur:
            async with self._conn.pipeline():
                await cur.execute(
                    PG_RECORD_SQL, (*audit_log.row_values(entry), *check_values(row, pg_stamp))
                )
                await self._conn.commit()
            found = await cur.fetchone()
        assert found is not None  # noqa: S101 - INSERT ... RETURNING returns the row
        return int(found[0])


class AsyncPostgresRunner:
    """Opened and closed with the event loop that uses it (the app's lifespan)."""

    def __init__(self, engine: Engine, max_connections: int = 10, timeout: float = 5.0) -> None:
        self._conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self._max = max_connections
        self._timeout = timeout
        self._pool: AsyncConnectionPool | None = None

    async def open(self) -> None:
        if self._pool is None:
            self._pool = AsyncConnectionPool(
                self._conninfo, min_size=1, max_size=self._max, open=False, timeout=self._timeout
            )
            await self._pool.open()

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def run(self, make_steps: Callable[[], Steps[T]]) -> T:
        """Run the check; a racing twin with the same key is retried once (see runners.py)."""
        try:
            return await self._once(make_steps())
        except psycopg.IntegrityError:
            return await self._once(make_steps())

    async def _once(self, steps: Steps[T]) -> T:
        await self.open()
        assert self._pool is not None  # noqa: S101 - opened just above
        try:
            async with self._pool.connection(timeout=self._timeout) as conn:
                return await drive_async(steps, AsyncPostgresTransaction(conn))
        except psycopg.OperationalError as exc:  # includes the pool's timeout
            raise StoreUnavailableError("the consent store is unavailable") from exc
