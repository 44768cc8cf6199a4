"""The gate on SQLite from the event loop: group commit without a writer thread.

Handing every check to a writer thread cost more than the check itself: a
``concurrent.futures.Future`` with its Condition, a queue, a wake-up of the loop and the
GIL passed back and forth twice a check. SQLite's statements take microseconds and never
wait on a network, so the event loop runs them itself. Checks that arrive while a batch is
written wait for the next one; each batch is one ``BEGIN IMMEDIATE``, a savepoint per check
and one ``COMMIT`` (one fsync), as in the writer thread (``runners.py``), and its answers
are released only after that commit.

The loop must never block on another writer: the writers' lock (other worker processes)
and SQLite's own write lock (the admin and portal paths) are only tried, and retried after
a short sleep until the store timeout, after which the check fails closed (503).
"""

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from consent.store.runners import Work, WriterStore, commit_begun, store_failure
from consent.store.steps import Steps, drive

T = TypeVar("T")

_MAX_BATCH = 256  # bounds how long the first check of a batch waits for the last
_FIRST_PAUSE = 0.0002  # seconds between tries while another writer holds the lock
_LAST_PAUSE = 0.002

_Job = tuple[Work[Any], "asyncio.Future[Any]"]


class AsyncSqliteRunner:
    """Opened lazily in the loop that runs the checks; closed with the app's lifespan."""

    def __init__(self, path: str, timeout: float = 5.0) -> None:
        self._path = path
        self._timeout = timeout
        self._waiting: list[_Job] = []
        self._writer: asyncio.Task[None] | None = None
        self._store: WriterStore | None = None

    async def run(self, make_steps: Callable[[], Steps[T]]) -> T:
        return await self.run_work(lambda tx: drive(make_steps(), tx))

    async def run_work(self, work: Work[T]) -> T:
        """Run ``work`` in the next batch's transaction; its result once that has committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._waiting.append((work, future))
        if self._writer is None:
            self._writer = loop.create_task(self._write_waiting())
        return await future

    async def open(self) -> None:
        """Nothing to do ahead: the connection opens with the first batch."""

    async def close(self) -> None:
        if self._writer is not None:
            await asyncio.wait_for(asyncio.shield(self._writer), self._timeout)
        if self._store is not None:
            self._store.close()
            self._store = None

    async def _write_waiting(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[:_MAX_BATCH]
                del self._waiting[:_MAX_BATCH]
                await self._write([job for job in batch if not job[1].cancelled()])
        finally:
            self._writer = None

    async def _write(self, batch: list[_Job]) -> None:
        if not batch:
            return
        try:
            store = await self._begin()
        except (sqlite3.Error, OSError, TimeoutError) as exc:
            _fail(batch, exc)
            return
        try:
            outcomes = commit_begun(store.conn, [work for work, _ in batch])
        except Exception as exc:  # whatever broke, every waiting caller hears of it
            _fail(batch, exc)
            return
        finally:
            store.unlock()
        for (_, future), (result, error) in zip(batch, outcomes, strict=True):
            if future.done():  # its caller went away; the check stays recorded
                continue
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)

    async def _begin(self) -> WriterStore:
        """Both write locks taken and the transaction begun, or TimeoutError."""
        store = self._open()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        pause = _FIRST_PAUSE
        while True:
            if store.try_lock():
                try:
                    store.conn.execute("BEGIN IMMEDIATE")
                    return store
                except sqlite3.OperationalError as exc:
                    store.unlock()
                    if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                        raise
            if loop.time() >= deadline:
                raise TimeoutError("another writer held the SQLite store too long")
            await asyncio.sleep(pause)
            pause = min(pause * 2, _LAST_PAUSE)

    def _open(self) -> WriterStore:
        if self._store is None:
            store = WriterStore.open(self._path)
            store.conn.execute("PRAGMA busy_timeout=0")  # never wait inside the loop
            self._store = store
        return self._store


def _fail(batch: list[_Job], cause: BaseException) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(store_failure(cause))
