"""The gate writer's WAL checkpoints, run from a thread of their own (SQLite only)."""

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from consent.store.runners import WriterStore
from consent.store.wal_checkpoints import BACKSTOP_PAGES, WalCheckpointer, checkpoint_round


@pytest.fixture
def store(tmp_path: Path) -> Iterator[WriterStore]:
    opened = WriterStore.open(str(tmp_path / "wal.db"))
    yield opened
    opened.close()


def _writer(path: Path, autocheckpoint: int) -> sqlite3.Connection:
    """A WAL writer with a table to fill, checkpointing itself past ``autocheckpoint`` pages."""
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute(f"PRAGMA wal_autocheckpoint={autocheckpoint}")
    writer.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)")
    return writer


def _commit_rows(conn: sqlite3.Connection, count: int) -> None:
    for _ in range(count):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (v) VALUES (randomblob(3000))")
        conn.execute("COMMIT")


def _wal_frames(conn: sqlite3.Connection) -> int:
    """The frames in the WAL, as a PASSIVE checkpoint answers."""
    ((_, frames, _),) = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    return int(frames)


def test_the_writer_leaves_checkpoints_to_the_thread_until_its_backstop(
    store: WriterStore,
) -> None:
    ((pages,),) = store.conn.execute("PRAGMA wal_autocheckpoint").fetchall()
    assert pages == BACKSTOP_PAGES


def test_a_round_copies_every_frame_and_the_next_write_starts_the_wal_again(
    tmp_path: Path,
) -> None:
    writer = _writer(tmp_path / "round.db", autocheckpoint=0)  # only the round checkpoints
    _commit_rows(writer, 50)
    checkpointing = sqlite3.connect(tmp_path / "round.db", isolation_level=None)

    frames, copied = checkpoint_round(checkpointing)
    _commit_rows(writer, 1)

    assert frames >= 50
    assert copied == frames
    # Restarted: the one new commit's frames are all the WAL holds.
    assert _wal_frames(checkpointing) < 5
    writer.close()
    checkpointing.close()


class _ScriptedConnection:
    """Answers each PASSIVE checkpoint from a script: (busy, frames, copied)."""

    def __init__(self, answers: list[tuple[int, int, int]]) -> None:
        self.answers = answers
        self.passes = 0

    def execute(self, _sql: str) -> "_ScriptedConnection":
        self.passes += 1
        return self

    def fetchone(self) -> tuple[int, int, int]:
        return self.answers[self.passes - 1]


def test_a_round_goes_on_while_the_writer_appends_during_its_passes() -> None:
    # The first pass copied all 100 frames it saw, but 3 more came meanwhile.
    conn = _ScriptedConnection([(0, 100, 100), (0, 103, 103), (0, 103, 103)])

    assert checkpoint_round(conn) == (103, 103)  # type: ignore[arg-type]
    assert conn.passes == 3


def test_a_round_stops_when_another_checkpoint_is_running() -> None:
    conn = _ScriptedConnection([(1, 100, 40), (0, 100, 100)])

    checkpoint_round(conn)  # type: ignore[arg-type]
    assert conn.passes == 1


def test_the_thread_keeps_the_wal_short_while_the_writer_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "thread.db"
    writer = _writer(path, autocheckpoint=BACKSTOP_PAGES)  # as the gate's writer
    checkpointer = WalCheckpointer(str(path), interval=0.01)
    checkpointer.start()
    try:
        for _ in range(80):
            _commit_rows(writer, 5)
            time.sleep(0.005)
        wal_pages = (tmp_path / "thread.db-wal").stat().st_size // 4096
    finally:
        checkpointer.stop()
        writer.close()
    # 400 commits: without the thread the WAL reaches 1,208 pages. With it, its size is the
    # most written between two restarts, which grows while the thread waits for a core:
    # 45 pages on an idle machine; 105 for half as many commits in a loaded test run.
    assert wal_pages < 200


def test_a_stopped_checkpointer_closes_its_connection(tmp_path: Path) -> None:
    checkpointer = WalCheckpointer(str(tmp_path / "stop.db"), interval=0.01)
    checkpointer.start()
    checkpointer.stop()

    assert not checkpointer._thread.is_alive()
    with pytest.raises(sqlite3.ProgrammingError):  # closed
        checkpointer._conn.execute("SELECT 1")


def test_a_checkpointer_stopped_before_it_started_closes_its_connection(tmp_path: Path) -> None:
    checkpointer = WalCheckpointer(str(tmp_path / "unstarted.db"))
    checkpointer.stop()

    with pytest.raises(sqlite3.ProgrammingError):  # closed
        checkpointer._conn.execute("SELECT 1")
