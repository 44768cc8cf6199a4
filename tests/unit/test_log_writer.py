"""The log writer: one write an event-loop turn, lines in order, nothing left behind."""

import asyncio
import gc
import threading

import pytest

from api.log_writer import TurnWriter
from tests.streams import stdout_writes


def test_lines_of_one_turn_are_one_write_after_the_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    stdout = stdout_writes(monkeypatch)
    writer = TurnWriter()
    seen_during_turn: list[int] = []

    async def one_turn() -> None:
        writer.msg("first")
        writer.info("second")
        writer.error("third")
        seen_during_turn.append(len(stdout.calls))
        await asyncio.sleep(0)  # lets the turn end
        await asyncio.sleep(0)

    asyncio.run(one_turn())
    assert seen_during_turn == [0]
    assert stdout.calls == ["first\nsecond\nthird\n"]


def test_each_turn_writes_its_own_lines_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    stdout = stdout_writes(monkeypatch)
    writer = TurnWriter()

    async def turns() -> None:
        for turn in range(3):
            writer.msg(f"turn {turn} a")
            writer.msg(f"turn {turn} b")
            await asyncio.sleep(0.001)

    asyncio.run(turns())
    assert stdout.calls == [f"turn {t} a\nturn {t} b\n" for t in range(3)]


def test_a_line_logged_as_the_loop_ends_is_written_before_asyncio_run_returns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stdout = stdout_writes(monkeypatch)
    writer = TurnWriter()

    async def last_words() -> None:
        writer.msg("shutting down")

    asyncio.run(last_words())
    assert stdout.getvalue() == "shutting down\n"


def test_outside_a_loop_each_line_is_written_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    stdout = stdout_writes(monkeypatch)
    writer = TurnWriter()
    writer.msg("one")
    assert stdout.calls == ["one\n"]
    done = threading.Thread(target=writer.warning, args=("from a thread",))
    done.start()
    done.join()
    assert stdout.calls == ["one\n", "from a thread\n"]


def _log_in_a_loop_that_stops_too_soon(writer: TurnWriter, line: str) -> None:
    """Log ``line`` in a loop that stops and closes before the turn that would write it."""
    loop = asyncio.new_event_loop()

    async def log() -> None:
        writer.msg(line)

    task = loop.create_task(log())
    loop.call_soon(loop.stop)  # runs in the same turn as the task: the write comes after
    loop.run_forever()
    assert task.done()
    loop.close()  # its pending write dies with it


def test_lines_a_dead_loop_never_wrote_come_first_in_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stdout = stdout_writes(monkeypatch)
    writer = TurnWriter()
    _log_in_a_loop_that_stops_too_soon(writer, "left behind")
    assert stdout.calls == []

    writer.msg("outside")  # this thread's next line keeps the order
    assert stdout.getvalue() == "left behind\noutside\n"


def test_what_no_turn_wrote_is_written_at_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    stdout = stdout_writes(monkeypatch)
    writer = TurnWriter()
    _log_in_a_loop_that_stops_too_soon(writer, "pending at exit")
    assert stdout.calls == []
    writer.write_pending()  # what atexit calls
    assert stdout.getvalue() == "pending at exit\n"


def test_threads_keep_no_turn_after_they_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker threads come and go all day: those with no loop never hold a turn, and a loop
    thread's turn goes with it (the registry is private; nothing else can see a leak)."""
    stdout = stdout_writes(monkeypatch)
    writer = TurnWriter()

    def in_a_loop() -> None:
        asyncio.run(_log(writer, "from a loop thread"))

    threads = [threading.Thread(target=writer.info, args=(f"plain {n}",)) for n in range(20)]
    threads.append(threading.Thread(target=in_a_loop))
    for thread in threads:
        thread.start()
        thread.join()
    gc.collect()
    assert len(writer._turns) == 0
    assert stdout.getvalue().count("\n") == 21


async def _log(writer: TurnWriter, line: str) -> None:
    writer.msg(line)
