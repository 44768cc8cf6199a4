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
from typing import Any


class TurnWriter:
    """A structlog logger (``msg`` and its aliases) shared by every bound logger."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one write at a time: lines never interleave
        self._local = threading.local()  # each loop thread keeps its own turn's lines
        self._pending: list[list[str]] = []  # every thread's, for the write at exit
        atexit.register(self.write_pending)

    def msg(self, message: str) -> None:
        loop = _running_loop()
        lines = self._lines()
        if lines and self._local.loop is not loop:  # the loop meant to write them has gone
            self._write_turn(lines)
        if loop is None:  # no loop in this thread: nobody would end a turn
            self._write(message + "\n")
            return
        if not lines:
            loop.call_soon(self._write_turn, lines)
            self._local.loop = loop
        lines.append(message)

    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg

    def write_pending(self) -> None:
        """Write whatever no turn has written yet (at exit)."""
        for lines in list(self._pending):
            self._write_turn(lines)

    def _lines(self) -> list[str]:
        lines: list[str] | None = getattr(self._local, "lines", None)
        if lines is None:
            lines = self._local.lines = []
            self._local.loop = None
            with self._lock:
                self._pending.append(lines)
        return lines

    def _write_turn(self, lines: list[str]) -> None:
        if lines:
            text = "\n".join(lines) + "\n"
            lines.clear()
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
