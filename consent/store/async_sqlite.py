"""The gate on SQLite from the event loop: group commit without a writer thread.

Handing every check to a writer thread cost more than the check itself: a
``concurrent.futures.Future`` with its Condition, a queue, a wake-up of the loop and the
GIL passed back and forth twice a check. SQLite's statements take microseconds and never
wait on a network, so the event loop runs them itself. Checks that arrive while a batch is
written wait for the next one; each batch is one ``BEGIN IMMEDIATE`` and one ``COMMIT``,
as in the writer thread (``runners.py``), and its answers are released only after that
commit.

The ``COMMIT`` of a large batch runs in a thread of its own: it is the fsync (~0.5 ms on
this disk) and now and then a WAL checkpoint (several fsyncs), during which the loop would
otherwise stand still. SQLite lets go of the GIL while it syncs, so the loop meanwhile
reads and answers HTTP, and the checks that arrive make the next batch larger. Nothing
else touches the connection until the commit is done: batches run one at a time.

The loop must never block on another writer: the writers' lock (other worker processes)
is waited for in a thread, and SQLite's own write lock (the admin and portal paths) is
only tried, and retried after a short sleep; past the store timeout the check fails
closed (503).
"""

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, TypeVar

from consent.store.gate_sql import GateTransaction, SqliteTransaction
from consent.store.runners import (
    Work,
    WriterStore,
    commit_or_roll_back,
    run_begun,
    settle,
    store_failure,
)
from consent.store.snapshot_changes import SnapshotChanges, Watermark, watermark
from consent.store.steps import Prepared, Steps, complete, drive, prepare

T = TypeVar("T")

_MAX_BATCH = 256  # bounds how long the first check of a batch waits for the last
_FIRST_PAUSE = 0.0002  # seconds between tries while the admin path holds SQLite's lock
_LAST_PAUSE = 0.002
_THREAD_COMMIT_FROM = 8  # checks in a batch; smaller batches commit in the loop


@dataclass(frozen=True, slots=True)
class _Job:
    work: Work[Any]
    future: "asyncio.Future[Any]"
    make_steps: Callable[[], Steps[Any]] | None = None  # a gate check, which can be prepared


class AsyncSqliteRunner:
    """Opened lazily in the loop that runs the checks; closed with the app's lifespan."""

    def __init__(self, path: str, timeout: float = 5.0) -> None:
        self._path = path
        self._timeout = timeout
        self._waiting: list[_Job] = []
        self._writer: asyncio.Task[None] | None = None
        self._store: WriterStore | None = None
        self._locking: asyncio.Future[None] | None = None  # a thread waiting for the lock
        self._awaiting_lock = False
        self._committer: ThreadPoolExecutor | None = None
        self._lock_waiter = _LockWaiter()

    async def run(self, make_steps: Callable[[], Steps[T]]) -> T:
        """Run the check in the next batch; its result once that has committed."""
        return await self._submit(lambda tx: drive(make_steps(), tx), make_steps)

    async def run_work(self, work: Work[T]) -> T:
        """Run ``work`` in the next batch's transaction; its result once that has committed."""
        return await self._submit(work, None)

    async def _submit(self, work: Work[T], make_steps: Callable[[], Steps[T]] | None) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._waiting.append(_Job(work, future, make_steps))
        if self._writer is None:
            self._writer = loop.create_task(self._write_waiting())
        return await future

    async def open(self) -> None:
        """Nothing to do ahead: the connection opens with the first batch."""

    async def close(self) -> None:
        if self._writer is not None:
            await asyncio.wait_for(asyncio.shield(self._writer), self._timeout)
        self._lock_waiter.stop()
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._committer is not None:
            self._committer.shutdown(wait=False)
            self._committer = None

    async def _write_waiting(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[:_MAX_BATCH]
                del self._waiting[:_MAX_BATCH]
                await self._write([job for job in batch if not job.future.cancelled()])
        finally:
            self._writer = None

    async def _write(self, batch: list[_Job]) -> None:
        if not batch:
            return
        plain = [job.work for job in batch]
        works = plain
        locked = False
        try:
            store = self._open()
            if store.conn.in_transaction:  # a failure left one open: never build on it
                store.conn.rollback()
            deadline = asyncio.get_running_loop().time() + self._timeout
            locked = store.try_lock()
            snapshot = None
            if not locked:
                # Another worker is writing: decide meanwhile, and only check under the lock.
                works, snapshot = _prepared(store, batch)
                await self._lock_writers(store, deadline)
                locked = True
            await _begin_immediate(store, deadline)
            if snapshot is not None:
                snapshot.confirm(store.conn.cursor())
        except (sqlite3.Error, OSError, TimeoutError) as exc:
            if locked:
                store.unlock()
            _fail(batch, exc)
            return
        try:
            outcomes = run_begun(store.conn, works, again=plain)
        except Exception as exc:  # whatever broke, every waiting caller hears of it
            store.unlock()
            _fail(batch, exc)
            return
        try:
            await self._commit_and_unlock(store, len(batch))
        except Exception as exc:
            _fail(batch, exc)
            return
        for job, (result, error) in zip(batch, outcomes, strict=True):
            settle(job.future, result, error)

    async def _commit_and_unlock(self, store: WriterStore, checks: int) -> None:
        """COMMIT, then let the other workers write.

        A batch of a few checks commits in the loop: little HTTP waits meanwhile, and the
        hand-off to a thread and back would only add to each answer's latency. A larger one
        commits in the committer thread, which also lets go of the writers' lock at once,
        not when the busy loop next gets round to it.
        """
        if checks < _THREAD_COMMIT_FROM:
            _commit_then_unlock(store)
            return
        if self._committer is None:
            self._committer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-commit")
        committing = self._committer.submit(_commit_then_unlock, store)
        try:
            await asyncio.shield(asyncio.wrap_future(committing))
        except asyncio.CancelledError:  # shutting down: never leave a commit half-watched
            wait([committing])
            raise

    async def _lock_writers(self, store: WriterStore, deadline: float) -> None:
        """The writers' lock: at once if free, else from a thread that waits on it.

        The thread wakes the moment the other worker lets go (polling from the loop either
        left the lock idle between tries or burnt a core). If the wait outlasts the deadline
        the batch fails closed and the thread keeps waiting; a lock it takes later with no
        batch waiting for it is let go at once (``_lock_taken``).
        """
        if store.try_lock():
            return
        loop = asyncio.get_running_loop()
        if self._locking is None:
            self._locking = self._lock_waiter.wait(loop, store)
            self._locking.add_done_callback(lambda taken: self._lock_taken(store, taken))
        self._awaiting_lock = True
        try:
            await asyncio.wait({self._locking}, timeout=max(0.0, deadline - loop.time()))
        finally:
            self._awaiting_lock = False
        locking = self._locking
        if not locking.done():
            raise TimeoutError("another worker held the SQLite writers' lock too long")
        self._locking = None
        locking.result()  # a lock file that broke fails the batch

    def _lock_taken(self, store: WriterStore, taken: "asyncio.Future[None]") -> None:
        if self._awaiting_lock:
            return  # the batch waiting for it uses it
        self._locking = None
        if not taken.cancelled() and taken.exception() is None:
            store.unlock()

    def _open(self) -> WriterStore:
        if self._store is None:
            store = WriterStore.open(self._path)
            store.conn.execute("PRAGMA busy_timeout=0")  # never wait inside the loop
            self._store = store
        return self._store


async def _begin_immediate(store: WriterStore, deadline: float) -> None:
    """SQLite's write lock, which the admin and portal paths may hold for a moment."""
    loop = asyncio.get_running_loop()
    pause = _FIRST_PAUSE
    while True:
        try:
            store.conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
        if loop.time() >= deadline:
            raise TimeoutError("another writer held the SQLite store too long")
        await asyncio.sleep(pause)
        pause = min(pause * 2, _LAST_PAUSE)


class _Snapshot:
    """The batch's snapshot: where it stood, and what changed since (``snapshot_changes``)."""

    def __init__(self, watermark: Watermark) -> None:
        self.watermark = watermark
        self.changes = SnapshotChanges()  # "anything may have changed" until confirmed

    def confirm(self, cursor: Any) -> None:
        """Under the lock, before the batch runs: what other writers committed since."""
        try:
            self.changes.read(cursor, self.watermark)
        except sqlite3.Error:  # every check reads its rows again, as without this
            self.changes.ran_in_full()

    def complete(self, ready: Prepared, make_steps: Callable[[], Steps[Any]]) -> Work[Any]:
        def work(locked: GateTransaction) -> Any:
            begin = ready.begin
            unchanged = self.changes.holds(begin)
            self.changes.wrote(begin)  # before: a failure below leaves the rest re-reading
            return complete(ready, _sqlite(locked), make_steps, unchanged=unchanged)

        return work

    def in_full(self, plain: Work[Any]) -> Work[Any]:
        def work(locked: GateTransaction) -> Any:
            self.changes.ran_in_full()
            return plain(locked)

        return work


def _prepared(store: WriterStore, batch: list[_Job]) -> tuple[list[Work[Any]], _Snapshot | None]:
    """Each check decided on one read snapshot, to be confirmed and written under the lock.

    A check that cannot be prepared (a replay, an error, not a gate check) runs in full
    under the lock, as it would have without the contention; so does the whole batch if
    the snapshot cannot be read.
    """
    try:
        return _decided_on_snapshot(store, batch)
    except sqlite3.Error:
        if store.conn.in_transaction:
            store.conn.rollback()
        return [job.work for job in batch], None


def _decided_on_snapshot(
    store: WriterStore, batch: list[_Job]
) -> tuple[list[Work[Any]], _Snapshot]:
    cursor = store.conn.cursor()
    cursor.execute("BEGIN")  # deferred: a WAL snapshot, no lock on anyone
    try:
        snapshot = _Snapshot(watermark(cursor))
        tx = SqliteTransaction(cursor)
        return [_prepared_work(job, tx, snapshot) for job in batch], snapshot
    finally:
        cursor.execute("ROLLBACK")  # it only read


def _prepared_work(job: _Job, tx: SqliteTransaction, snapshot: _Snapshot) -> Work[Any]:
    make_steps = job.make_steps
    if make_steps is None:
        return snapshot.in_full(job.work)
    try:
        ready = prepare(make_steps(), tx)
    except Exception:  # decided again under the lock, where its error belongs
        return snapshot.in_full(job.work)
    if ready is None:
        return snapshot.in_full(job.work)
    return snapshot.complete(ready, make_steps)


def _sqlite(tx: GateTransaction) -> SqliteTransaction:
    """The batch's transaction, which on this runner is always SQLite's."""
    if not isinstance(tx, SqliteTransaction):
        raise TypeError(f"a prepared check completes on SQLite, not {type(tx).__name__}")
    return tx


def _commit_then_unlock(store: WriterStore) -> None:
    try:
        commit_or_roll_back(store.conn)
    finally:
        store.unlock()


def _fail(batch: list[_Job], cause: BaseException) -> None:
    for job in batch:
        if not job.future.done():
            job.future.set_exception(store_failure(cause))


class _LockWaiter:
    """A daemon thread, kept for the runner's life, that waits on the writers' lock.

    A thread started for each wait cost the loop itself: ``Thread.start`` blocks until the
    new thread runs, and with two busy workers a wait comes every few batches (py-spy: 2.7%
    of a worker's samples). Daemon, so a wait that never ends cannot hold up the exit.
    """

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[_LockRequest | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def wait(self, loop: asyncio.AbstractEventLoop, store: WriterStore) -> "asyncio.Future[None]":
        """A future that resolves, in ``loop``, once this process holds the lock."""
        future: asyncio.Future[None] = loop.create_future()
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._serve, name="sqlite-writers-lock", daemon=True
            )
            self._thread.start()
        self._requests.put(_LockRequest(loop, store, future))
        return future

    def stop(self) -> None:
        if self._thread is not None:
            self._requests.put(None)
            self._thread = None

    def _serve(self) -> None:
        while (request := self._requests.get()) is not None:
            request.serve()


@dataclass(frozen=True, slots=True)
class _LockRequest:
    loop: asyncio.AbstractEventLoop
    store: WriterStore
    future: "asyncio.Future[None]"

    def serve(self) -> None:
        error: OSError | None = None
        try:
            self.store.lock()
        except OSError as exc:
            error = exc
        try:
            self.loop.call_soon_threadsafe(settle, self.future, None, error)
        except RuntimeError:  # the loop has closed: nobody will write with this lock
            if error is None:
                self.store.unlock()
