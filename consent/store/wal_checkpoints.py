"""The gate's WAL checkpoints, run in a thread of their own instead of inside a commit.

SQLite checkpoints by itself in the commit that takes the WAL past ``wal_autocheckpoint``
pages: that commit copies every page changed since the last checkpoint back into the
database file and syncs it. Small batches commit in the event loop (``async_sqlite.py``),
so a checkpoint stood the loop still while requests waited. One check at a time in
process (5,000 commits, three runs each), the longest commit took 18.0-23.9 ms with
SQLite's own checkpoints (every 10,000 pages) and 6.4-13.4 ms with this thread. A PASSIVE
checkpoint from a second connection copies the same pages while the writer goes on, and
SQLite lets go of the GIL meanwhile.

A checkpoint only lets the WAL start again from its beginning once it has copied every
frame: the writer restarts it when it begins a transaction with nothing left to copy. So
each round checkpoints again, at once, until a pass finds no frame the last one did not:
the last few frames take microseconds and are copied between two batches (with one pass
a round, the WAL of a writer committing every millisecond never started again). The
writer keeps its own automatic checkpoint as a backstop, further out, for a WAL that this
thread could not keep short.
"""

import sqlite3
import threading

import structlog

log = structlog.get_logger(__name__)

INTERVAL = 0.5  # seconds between rounds
BACKSTOP_PAGES = 20_000  # the writer's own wal_autocheckpoint: only if this thread falls behind
_MAX_PASSES = 8  # checkpoints a round, while the writer keeps appending


class WalCheckpointer:
    """A daemon thread with its own connection to ``path``, checkpointing every
    ``interval`` seconds until stopped. The connection opens here, so that a file that
    cannot be opened fails the writer's start rather than the thread."""

    def __init__(self, path: str, interval: float = INTERVAL) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout=0")  # PASSIVE never waits; nor should this
        self._interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Let a round in progress finish, and the connection close."""
        self._stopped.set()
        if self._thread.ident is None:  # never started: nothing else will close it
            self._conn.close()
        elif self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            while not self._stopped.wait(self._interval):
                try:
                    checkpoint_round(self._conn)
                except sqlite3.Error as exc:  # tried again next round; the backstop holds
                    log.warning("sqlite.checkpoint_failed", error=type(exc).__name__)
        finally:
            self._conn.close()


def checkpoint_round(conn: sqlite3.Connection) -> tuple[int, int]:
    """Checkpoint again until a pass finds nothing new (the writer appended nothing since
    the pass before), or the passes run out: (frames in the WAL, frames copied) at the end.

    A pass that copied every frame it saw is not enough: the writer may have appended
    more while it copied, and the WAL then cannot start again.
    """
    last = (0, 0)
    for _ in range(_MAX_PASSES):
        busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if busy or frames <= 0 or (frames, copied) == last:
            return frames, copied
        last = (frames, copied)
    return last
