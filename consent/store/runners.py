"""Where a gate transaction runs, for blocking callers (tests, scripts).

The API runs the same transactions in its event loop instead (``async_sqlite.py``,
``async_postgres.py``), without a thread per check.

SQLite has one writer at a time whatever we do, and every commit costs an fsync (~0.3 ms
on this machine's disk). So one thread owns the write connection and commits in batches:
it takes every check waiting, runs each in a savepoint of one ``BEGIN IMMEDIATE``
transaction, commits once, and only then releases the answers (group commit: the same
durability, one fsync for many checks). A check that fails rolls back to its savepoint
and fails alone.

PostgreSQL serialises per customer with row locks and commits concurrently, so each check
runs in its own transaction on a pooled connection, here in a small thread pool.
"""

import asyncio
import fcntl
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Engine

from consent.errors import StoreUnavailableError
from consent.store.database import SQLITE_PRAGMAS
from consent.store.gate_sql import GateTransaction, SqliteTransaction, postgres_transaction
from consent.store.sqlite_binding import register_adapters
from consent.store.wal_checkpoints import BACKSTOP_PAGES, WalCheckpointer

T = TypeVar("T")
Work = Callable[[GateTransaction], T]

_MAX_BATCH = 256  # bounds how long the first check of a batch waits for the last


class GateRunner(Protocol):
    def submit(self, work: Work[T]) -> "Future[T]":
        """Run ``work`` in a gate transaction; the future resolves after its commit."""

    def close(self) -> None: ...


@dataclass
class _Job(Generic[T]):
    work: Work[T]
    future: "Future[T]" = field(default_factory=Future)


class SqliteWriter:
    """The one thread that writes checks to a SQLite file, committing in batches."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._jobs: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, work: Work[T]) -> "Future[T]":
        job: _Job[T] = _Job(work)
        self._ensure_started()
        self._jobs.put(job)
        return job.future

    def close(self) -> None:
        with self._start_lock:
            if self._thread is not None:
                self._jobs.put(None)
                self._thread.join(timeout=10)
                self._thread = None

    def _ensure_started(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="sqlite-gate-writer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        store: WriterStore | None = None
        try:
            while True:
                batch = self._next_batch()
                if not batch:
                    return
                if store is None:
                    try:
                        store = WriterStore.open(self._path)
                    except (sqlite3.Error, OSError) as exc:  # tried again with the next batch
                        _fail_all(batch, exc)
                        continue
                with store.turn():
                    _run_batch(store.conn, batch)
        finally:
            if store is not None:
                store.close()

    def _next_batch(self) -> list[_Job[Any]]:
        """Block for one check, then take every check already waiting; empty means stop."""
        first = self._jobs.get()
        if first is None:
            return []
        batch = [first]
        while len(batch) < _MAX_BATCH:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                self._jobs.put(None)  # finish this batch, then stop
                break
            batch.append(job)
        return batch


@dataclass
class WriterStore:
    """The writer's connection, and the lock file on which writers of all processes queue.

    With ``--workers N`` each process has a writer. SQLite's own busy handler sleeps and
    polls (1, 2, 5, 10 ... ms), which gave long tails and timeouts with two workers; flock
    wakes the next writer as soon as the file is free.

    flock wakes the waiters when the lock is let go but does not hand it to them, so a
    busy worker that unlocks and at once locks again can win every time, while the other's
    checks wait (p99 tails of 0.3-0.8 s with two workers). A second file is the turnstile:
    a writer that waits for the lock holds it while it waits, and one that would take the
    lock must pass it first, so it queues behind the waiter.
    """

    conn: sqlite3.Connection
    lock_fd: int
    turnstile_fd: int
    checkpointer: WalCheckpointer

    @classmethod
    def open(cls, path: str) -> "WriterStore":
        lock_fd = os.open(f"{path}.writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
        turnstile_fd = os.open(f"{path}.writer-turnstile", os.O_RDWR | os.O_CREAT, 0o600)
        register_adapters()
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            for pragma in SQLITE_PRAGMAS:
                conn.execute(pragma)
            # The gate's working set (customers, live reservations, index pages) soon outgrows
            # SQLite's default 2 MiB cache; pages past it were read again through the kernel
            # on every check. 64 MiB, and only this connection's.
            conn.execute("PRAGMA cache_size=-65536")
            # Checkpoints run in a thread of their own (wal_checkpoints.py); the writer's
            # own is a backstop, far enough out that a commit never meets it while that
            # thread keeps up.
            conn.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
            checkpointer = WalCheckpointer(path)
        except sqlite3.Error:
            if conn is not None:  # the retry with the next batch opens a new one
                conn.close()
            os.close(lock_fd)
            os.close(turnstile_fd)
            raise
        checkpointer.start()
        return cls(conn, lock_fd, turnstile_fd, checkpointer)

    @contextmanager
    def turn(self) -> Iterator[None]:
        self.lock()
        try:
            yield
        finally:
            self.unlock()

    def lock(self) -> None:
        """Wait for the writers' lock (blocking: from a thread, never from the loop), holding
        the turnstile meanwhile so that no writer overtakes this one."""
        fcntl.flock(self.turnstile_fd, fcntl.LOCK_EX)
        try:
            fcntl.flock(self.lock_fd, fcntl.LOCK_EX)
        finally:
            fcntl.flock(self.turnstile_fd, fcntl.LOCK_UN)

    def try_lock(self) -> bool:
        """Take the writers' lock if it is free and no writer waits for it, without waiting."""
        try:
            fcntl.flock(self.turnstile_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a writer waits: its turn first
        try:
            fcntl.flock(self.lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        finally:
            fcntl.flock(self.turnstile_fd, fcntl.LOCK_UN)
        return True

    def unlock(self) -> None:
        fcntl.flock(self.lock_fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self.checkpointer.stop()
        self.conn.close()
        os.close(self.lock_fd)
        os.close(self.turnstile_fd)


def _run_batch(conn: sqlite3.Connection, batch: list[_Job[Any]]) -> None:
    try:
        outcomes = commit_batch(conn, [job.work for job in batch])
    except Exception as exc:  # whatever broke, every waiting caller hears of it
        _fail_all(batch, exc)
        return
    for job, (result, error) in zip(batch, outcomes, strict=True):
        if error is None:  # released only now: each answer is durable
            job.future.set_result(result)
        else:
            job.future.set_exception(error)


Outcome = tuple[Any, BaseException | None]


def commit_batch(conn: sqlite3.Connection, works: list[Work[Any]]) -> list[Outcome]:
    """Run each in one ``BEGIN IMMEDIATE`` and commit once: (result, error) for each."""
    conn.execute("BEGIN IMMEDIATE")
    outcomes = run_begun(conn, works)
    commit_or_roll_back(conn)
    return outcomes


def commit_or_roll_back(conn: sqlite3.Connection) -> None:
    """COMMIT the batch; if that fails, nothing of it stays and the error is raised."""
    try:
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise


class _WroteThenFailed(Exception):
    """A check failed after it had started writing its record."""


def run_begun(
    conn: sqlite3.Connection,
    works: list[Work[Any]],
    again: list[Work[Any]] | None = None,
) -> list[Outcome]:
    """Run each in the open transaction, left open for the caller to commit: (result, error).

    A check that fails before writing (a 409, say) fails alone. One that fails after it
    started writing its record, which the gate's own checks never do, would leave half a
    record: the whole batch is then rolled back and run again, each check in a savepoint
    of its own (``again``: the same works, re-runnable). The savepoints are not paid on
    every check because that never happens: two statements fewer a check. If the
    transaction itself fails, it is rolled back and the error raised for the whole batch.
    """
    try:
        return _run(conn, works, savepoints=False)
    except _WroteThenFailed:
        conn.rollback()
    conn.execute("BEGIN IMMEDIATE")
    return _run(conn, again if again is not None else works, savepoints=True)


def _run(conn: sqlite3.Connection, works: list[Work[Any]], *, savepoints: bool) -> list[Outcome]:
    cursor = conn.cursor()
    tx = SqliteTransaction(cursor)
    try:
        outcomes: list[Outcome] = []
        for work in works:
            if savepoints:
                cursor.execute("SAVEPOINT job")
            started = tx.records_started
            try:
                outcomes.append((work(tx), None))
            except Exception as exc:  # handed to its caller through its future
                if savepoints:
                    cursor.execute("ROLLBACK TO job")
                elif tx.records_started != started:
                    raise _WroteThenFailed from exc  # left open: the caller rolls back
                outcomes.append((None, exc))
            if savepoints:
                cursor.execute("RELEASE job")
    except _WroteThenFailed:
        raise
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise
    return outcomes


def settle(future: "asyncio.Future[Any]", result: Any, error: BaseException | None) -> None:
    """Hand a check's result or error to its waiting caller, unless the caller went away
    (the check then stays recorded: a retry with its key replays it)."""
    if future.done():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


def store_failure(cause: BaseException) -> StoreUnavailableError:
    error = StoreUnavailableError("the consent store could not record the check")
    error.__cause__ = cause
    return error


def _fail_all(batch: list[_Job[Any]], cause: BaseException) -> None:
    for job in batch:
        job.future.set_exception(store_failure(cause))


class PostgresRunner:
    def __init__(self, engine: Engine, threads: int) -> None:
        self._engine = engine
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._start_lock = threading.Lock()
        dbapi = engine.dialect.dbapi
        self._integrity_error: type[Exception] = dbapi.IntegrityError if dbapi else Exception

    def submit(self, work: Work[T]) -> "Future[T]":
        pool = self._pool
        if pool is None:
            with self._start_lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="gate")
                pool = self._pool
        return pool.submit(self._run, work)

    def _run(self, work: Work[T]) -> T:
        try:
            return self._once(work)
        except self._integrity_error:
            # A racing twin with the same key on an unknown customer has no row to lock; the
            # unique key fails one of them, and on retry it finds the other's answer.
            return self._once(work)

    def _once(self, work: Work[T]) -> T:
        with postgres_transaction(self._engine) as tx:
            return work(tx)

    def close(self) -> None:
        """Finish what was submitted; a later submit starts afresh (as an app restart does)."""
        with self._start_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None


def sqlite_path(engine: Engine) -> str:
    path = engine.url.database
    if not path or path == ":memory:":
        raise ValueError("the gate needs a SQLite file, not an in-memory database")
    return path


def runner_for(engine: Engine, threads: int = 10) -> GateRunner:
    if engine.dialect.name == "sqlite":
        return SqliteWriter(sqlite_path(engine))
    return PostgresRunner(engine, threads)
