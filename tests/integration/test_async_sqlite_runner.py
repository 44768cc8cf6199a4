"""The SQLite gate in the event loop: group commit, and never blocking the loop on a lock."""

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from consent.errors import StoreUnavailableError
from consent.store.async_sqlite import AsyncSqliteRunner
from consent.store.gate_sql import GateTransaction, SqliteTransaction
from consent.store.runners import WriterStore
from tests.integration.test_sqlite_writer import _entries, _fails_after_writing, _record


def _path(engine: Engine) -> str:
    return str(engine.url.database)


def _ok(tx: GateTransaction) -> int:
    return _record(tx, "subject:ok")


def test_checks_waiting_together_commit_together_and_a_failing_one_alone(
    sqlite_engine: Engine,
) -> None:
    async def scenario() -> list[int | BaseException]:
        runner = AsyncSqliteRunner(_path(sqlite_engine))
        try:
            works = [_ok] * 5 + [_fails_after_writing] + [_ok] * 5
            return await asyncio.gather(
                *(runner.run_work(work) for work in works), return_exceptions=True
            )
        finally:
            await runner.close()

    results = asyncio.run(scenario())
    assert isinstance(results[5], ValueError)
    sequence_numbers = [r for r in results if isinstance(r, int)]
    assert len(set(sequence_numbers)) == 10
    assert _entries(sqlite_engine, "subject:ok") == 10
    assert _entries(sqlite_engine, "subject:failed") == 0


def test_while_another_writer_holds_the_lock_the_loop_keeps_running(
    sqlite_engine: Engine,
) -> None:
    """Another worker process's writer holds the lock: the check waits, the loop does not."""
    other = WriterStore.open(_path(sqlite_engine))
    assert other.try_lock()

    async def scenario() -> tuple[int, int]:
        runner = AsyncSqliteRunner(_path(sqlite_engine))
        ticks = 0
        try:
            check = asyncio.ensure_future(runner.run_work(_ok))
            while ticks < 20:  # the loop turns while the check waits for the lock
                await asyncio.sleep(0.001)
                ticks += 1
            assert not check.done()
            other.unlock()
            return ticks, await asyncio.wait_for(check, 5)
        finally:
            await runner.close()

    try:
        ticks, seq = asyncio.run(scenario())
    finally:
        other.close()
    assert ticks == 20
    assert seq > 0
    assert _entries(sqlite_engine, "subject:ok") == 1


def test_every_wait_for_the_writers_lock_is_served_by_one_thread(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Starting a thread per wait blocked the loop ~0.1 ms each time: one thread serves all."""
    waiters: set[threading.Thread] = set()  # the objects, whose ids are never reused
    lock = WriterStore.lock

    def lock_from(store: WriterStore) -> None:
        waiters.add(threading.current_thread())
        lock(store)

    monkeypatch.setattr(WriterStore, "lock", lock_from)
    other = WriterStore.open(_path(sqlite_engine))

    async def scenario() -> list[int]:
        runner = AsyncSqliteRunner(_path(sqlite_engine))
        try:
            results = []
            for _ in range(3):
                assert other.try_lock()
                check = asyncio.ensure_future(runner.run_work(_ok))
                await asyncio.sleep(0.05)  # the check now waits for the lock
                other.unlock()
                results.append(await asyncio.wait_for(check, 5))
            return results
        finally:
            await runner.close()

    try:
        results = asyncio.run(scenario())
    finally:
        other.close()
    assert len(set(results)) == 3
    assert len(waiters) == 1


def test_a_write_lock_held_past_the_timeout_fails_closed(sqlite_engine: Engine) -> None:
    """The admin path (another connection) holds SQLite's write lock: 503, not a hang."""
    blocker = sqlite3.connect(_path(sqlite_engine), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")

    async def scenario() -> None:
        runner = AsyncSqliteRunner(_path(sqlite_engine), timeout=0.2)
        ticks = 0
        try:
            check = asyncio.ensure_future(runner.run_work(_ok))
            while not check.done():  # a loop blocked in SQLite's busy handler would not turn
                await asyncio.sleep(0.001)
                ticks += 1
            with pytest.raises(StoreUnavailableError):
                check.result()
            assert ticks >= 20
            blocker.execute("COMMIT")
            assert await runner.run_work(_ok) > 0  # and the next check gets through
        finally:
            await runner.close()

    try:
        asyncio.run(scenario())
    finally:
        blocker.close()
    assert _entries(sqlite_engine, "subject:ok") == 1


def test_a_store_that_cannot_be_opened_fails_every_waiting_check(tmp_path: Path) -> None:
    async def scenario() -> list[int | BaseException]:
        runner = AsyncSqliteRunner(str(tmp_path / "no-such-dir" / "x.db"))
        try:
            return await asyncio.gather(
                *(runner.run_work(_ok) for _ in range(3)), return_exceptions=True
            )
        finally:
            await runner.close()

    results = asyncio.run(scenario())
    assert all(isinstance(r, StoreUnavailableError) for r in results)


def test_runners_of_two_processes_take_turns_on_one_file(sqlite_engine: Engine) -> None:
    """Two workers' runners (here two loops' runners in threads) both get through."""

    def one_worker() -> list[int]:
        async def scenario() -> list[int]:
            runner = AsyncSqliteRunner(_path(sqlite_engine))
            try:
                return list(await asyncio.gather(*(runner.run_work(_ok) for _ in range(50))))
            finally:
                await runner.close()

        return asyncio.run(scenario())

    async def both() -> list[list[int]]:
        return list(await asyncio.gather(*(asyncio.to_thread(one_worker) for _ in range(2))))

    first, second = asyncio.run(both())
    assert len(set(first) | set(second)) == 100
    assert _entries(sqlite_engine, "subject:ok") == 100


def test_a_writer_that_lets_go_cannot_take_the_lock_back_from_one_that_waits(
    sqlite_engine: Engine,
) -> None:
    """Turns are fair: a busy worker that unlocks and at once tries again must not starve
    the one whose thread is waiting (the kernel's flock wakes waiters, it does not queue them).
    """
    holder = WriterStore.open(_path(sqlite_engine))
    waiter = WriterStore.open(_path(sqlite_engine))
    assert holder.try_lock()
    got_it = threading.Event()

    def wait_for_turn() -> None:
        waiter.lock()
        got_it.set()

    thread = threading.Thread(target=wait_for_turn, daemon=True)
    thread.start()
    try:
        time.sleep(0.1)  # the waiter is blocked on the lock
        holder.unlock()
        assert not holder.try_lock()  # the waiter's turn, however soon the holder asks again
        assert got_it.wait(5)
        assert not holder.try_lock()
        waiter.unlock()
        assert holder.try_lock()
        holder.unlock()
    finally:
        thread.join(5)
        holder.close()
        waiter.close()


def test_a_writers_lock_held_past_the_timeout_fails_closed_and_is_not_kept(
    sqlite_engine: Engine,
) -> None:
    """The waiting thread takes the lock after the check gave up: it is let go, not kept."""
    other = WriterStore.open(_path(sqlite_engine))
    assert other.try_lock()

    async def scenario() -> bool:
        runner = AsyncSqliteRunner(_path(sqlite_engine), timeout=0.2)
        try:
            with pytest.raises(StoreUnavailableError):
                await runner.run_work(_ok)
            other.unlock()  # the runner's thread now takes it, with no check left to use it
            for _ in range(200):
                await asyncio.sleep(0.005)
                if other.try_lock():
                    other.unlock()
                    break
            else:
                return False
            assert await runner.run_work(_ok) > 0  # and the next check gets through
            return True
        finally:
            await runner.close()

    try:
        assert asyncio.run(scenario())
    finally:
        other.close()
    assert _entries(sqlite_engine, "subject:ok") == 1


def test_only_a_check_that_failed_mid_record_makes_the_batch_run_again(
    sqlite_engine: Engine,
) -> None:
    """Checks run without a savepoint each; a failure before writing needs none."""
    calls: list[str] = []

    def counted(tx: GateTransaction) -> int:
        calls.append("ok")
        return _ok(tx)

    def refused(_: GateTransaction) -> int:
        raise ValueError("refused before writing anything")

    async def batch(failing: Callable[[GateTransaction], int]) -> list[int | BaseException]:
        runner = AsyncSqliteRunner(_path(sqlite_engine))
        try:
            works = [counted, failing, counted]
            return await asyncio.gather(
                *(runner.run_work(work) for work in works), return_exceptions=True
            )
        finally:
            await runner.close()

    results = asyncio.run(batch(refused))
    assert isinstance(results[1], ValueError)
    assert calls == ["ok", "ok"]  # nothing ran twice
    calls.clear()
    results = asyncio.run(batch(_fails_after_writing))
    assert isinstance(results[1], ValueError)
    assert calls == ["ok"] * 3  # the first ran, then the batch again, each in a savepoint
    assert _entries(sqlite_engine, "subject:ok") == 4
    assert _entries(sqlite_engine, "subject:failed") == 0


def _breaks_the_commit(tx: GateTransaction) -> int:
    """Records, then leaves a foreign key that only COMMIT checks (deferred) dangling."""
    seq = _ok(tx)
    assert isinstance(tx, SqliteTransaction)
    cursor = tx._cursor  # past the gate's own statements, for a fault only COMMIT sees
    cursor.execute("PRAGMA defer_foreign_keys=ON")
    cursor.execute(
        "INSERT INTO notices (customer_pk, kind, delivered_at, method, recorded_at, recorded_by)"
        " VALUES (999999, 'glba_initial', '2026-01-01', 'mail', '2026-01-01', 't')"
    )
    return seq


@pytest.mark.parametrize("checks", [3, 12], ids=["commits-in-the-loop", "commits-in-a-thread"])
def test_a_commit_that_fails_fails_every_check_of_its_batch_and_keeps_nothing(
    sqlite_engine: Engine, checks: int
) -> None:
    """Wherever the COMMIT runs, its failure reaches every caller, never an answer, and the
    next batch starts clean."""

    async def scenario() -> tuple[list[int | BaseException], int]:
        runner = AsyncSqliteRunner(_path(sqlite_engine))
        try:
            works = [_ok] * (checks - 2) + [_breaks_the_commit, _ok]
            failed = await asyncio.gather(
                *(runner.run_work(work) for work in works), return_exceptions=True
            )
            return failed, await runner.run_work(_ok)  # the next batch starts clean
        finally:
            await runner.close()

    failed, after = asyncio.run(scenario())
    assert all(isinstance(result, StoreUnavailableError) for result in failed)
    assert isinstance(failed[0].__cause__, sqlite3.IntegrityError)  # type: ignore[union-attr]
    assert after > 0
    assert _entries(sqlite_engine, "subject:ok") == 1
