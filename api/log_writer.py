"""Where structlog's lines go: stdout, one write per event-loop turn.

A write per line was a system call per request (py-spy: 6.6 % of the SQLite worker's loop
thread at 64 connections), and each one let go of the GIL, which the commit thread could
then hold while the loop waited. A line logged in a running event loop is kept until the
end of the loop's current turn, then written with the others of that turn in one call;
a busy turn answers dozens of requests. Outside a loop (the CLI, worker threads, tests)
each line is written at once, as before.

Lines are never reordered within a thread. A line still waiting when the process exits
is written by ``atexit``; ``asyncio.run`` (uvicorn's) runs the loop's pending callbacks
while it shuts down, so the turn's write normally happens before that.
"""

import asyncio
import atexit
import sys
import threading
import weakref
from typing import Any


class _Turn:
    """One loop thread's lines not yet written, and the loop that is to write them."""

    __slots__ = ("__weakref__", "lines", "loop")

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.loop: asyncio.AbstractEventLoop | None = None


class TurnWriter:
    """A structlog logger (``msg`` and its aliases) shared by every bound logger."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one write at a time: lines never interleave
        self._local = threading.local()  # each loop thread keeps its own turn
        # Every live loop thread's turn, for the write at exit; a thread's goes with it.
        self._turns: weakref.WeakSet[_Turn] = weakref.WeakSet()
        atexit.register(self.write_pending)

    def msg(self, message: str) -> None:
        loop = _running_loop()
        turn: _Turn | None = getattr(self._local, "turn", None)
        if turn is not None and turn.lines and turn.loop is not loop:
            self._write_turn(turn)  # the loop meant to write them has gone: keep the order
        if loop is None:  # no loop in this thread: nobody would end a turn
            self._write(message + "\n")
            return
        if turn is None:
            turn = self._local.turn = _Turn()
            with self._lock:
                self._turns.add(turn)
        if not turn.lines:
            loop.call_soon(self._write_turn, turn)
            turn.loop = loop
        turn.lines.append(message)

    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg

    def write_pending(self) -> None:
        """Write whatever no turn has written yet (at exit)."""
        with self._lock:
            turns = list(self._turns)
        for turn in turns:
            try:
                self._write_turn(turn)
            except (OSError, ValueError):  # stdout already closed: nowhere left to write
                return

    def _write_turn(self, turn: _Turn) -> None:
        if turn.lines:
            text = "\n".join(turn.lines) + "\n"
            turn.lines.clear()
            self._write(text)

    def _write(self, text: str) -> None:
        with self._lock:
            stream = sys.stdout  # looked up each time: tests and uvicorn may replace it
            stream.write(text)
            stream.flush()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


_WRITER = TurnWriter()


def turn_writer(*_: Any) -> TurnWriter:
    """structlog's ``logger_factory``: every logger shares the one writer."""
    return _WRITER
