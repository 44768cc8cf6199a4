"""uvicorn's HTTP protocol, answering what it refuses with problems, and bounding the head.

A request the parser refuses (a control character in a header, a malformed request line)
never reaches the app: uvicorn answered it 400 with ``text/plain`` "Invalid HTTP request
received.", the one error a CRM's client could not read as RFC 9457. This is the same
protocol (httptools, which ``uvicorn[standard]`` installs) with that answer replaced.

uvicorn also read a request's head without limit, before any API key was looked at: one
header of 10 MiB, or 100,000 headers, were held and answered 200. The head is now bounded
as web servers bound it (Apache: 100 fields; nginx: 32 KiB), answered 431 past either.

Nor did uvicorn time a request's arrival: a client sending a byte a minute, or opening a
connection and sending nothing, held it (and a file descriptor) for ever, so enough of them
left no connection for a CRM's checks. A head must now arrive within
``head_timeout_seconds``, and a body may pause at most ``body_idle_timeout_seconds``
(Apache's and nginx's timeouts). Past either the request is answered 408, or the
connection closed if no request had begun.
"""

from asyncio import TimerHandle, Transport
from dataclasses import dataclass
from functools import cache

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.errors import PROBLEM_JSON, problem_type
from api.settings import Settings

MAX_HEAD_BYTES = 32 * 1024  # request line and headers, as far as they are still arriving
MAX_HEADER_FIELDS = 100


# An answer: its status line, and what follows uvicorn's default headers (the date).
Answer = tuple[bytes, bytes]


def _problem(status: int, reason: str, code: str, title: str, detail: str) -> Answer:
    body = {"type": problem_type(code), "title": title, "status": status, "detail": detail}
    content = orjson.dumps(body)
    rest = (
        f"content-type: {PROBLEM_JSON}\r\ncontent-length: {len(content)}\r\n"
        "connection: close\r\n\r\n"
    )
    return f"HTTP/1.1 {status} {reason}\r\n".encode(), rest.encode() + content


UNPARSABLE = _problem(
    400, "Bad Request", "bad-request", "Bad request",
    "the HTTP request could not be parsed (its request line or a header is malformed); "
    "nothing was recorded",
)  # fmt: skip
HEAD_TOO_LARGE = _problem(
    431, "Request Header Fields Too Large", "request-header-fields-too-large",
    "Request header fields too large",
    f"the request line and headers may be at most {MAX_HEAD_BYTES} bytes, in at most "
    f"{MAX_HEADER_FIELDS} fields; nothing was recorded",
)  # fmt: skip


@dataclass(frozen=True)
class _Timeouts:
    head: float  # seconds
    body_idle: float
    answer: Answer


@cache
def _timeouts() -> _Timeouts:
    """Read once a worker: ``consent serve`` has already refused settings that do not load."""
    settings = Settings()
    head, body_idle = settings.head_timeout_seconds, settings.body_idle_timeout_seconds
    answer = _problem(
        408, "Request Timeout", "request-timeout", "Request timeout",
        f"a request's line and headers must arrive within {head:g} s, and its body may "
        f"pause at most {body_idle:g} s; nothing was recorded",
    )  # fmt: skip
    return _Timeouts(head, body_idle, answer)


class _HeadTooLargeError(Exception):
    """Raised from a parser callback: httptools reports it as a parse error."""


class ProblemHttpToolsProtocol(HttpToolsProtocol):
    _head_bytes = 0  # received while this request's head is incomplete
    _large_read = False  # the last read could hold a whole head past the limit
    _refusal = UNPARSABLE  # what send_400_response answers
    _deadline: TimerHandle | None = None  # for the head, or the body's next read
    _deadline_is_head = False

    def connection_made(self, transport: Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # A new connection's head is timed from the connection, so that sending nothing
        # holds it no longer than sending a byte a minute.
        self._arm(head=True)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        if len(self.headers) > MAX_HEADER_FIELDS or (self._large_read and self._head_too_large()):
            self._refusal = HEAD_TOO_LARGE
            raise _HeadTooLargeError
        super().on_headers_complete()

    def _head_too_large(self) -> bool:
        fields = sum(len(name) + len(value) + 4 for name, value in self.headers)  # ": ", CRLF
        return len(self.url) + fields > MAX_HEAD_BYTES

    def data_received(self, data: bytes) -> None:
        # Sizes are summed only after a read this large: the usual request pays nothing more.
        self._large_read = len(data) > MAX_HEAD_BYTES
        super().data_received(data)
        # Until its head is complete (uvicorn then names the method) a request reaches no
        # app, and the parser holds what it has of the header being read.
        if self.scope is not None and "method" not in self.scope:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES and not self.transport.is_closing():
                self.logger.warning("Request head too large.")
                self._refuse(HEAD_TOO_LARGE)
            elif not self._deadline_is_head:  # a kept-alive connection: timed from this byte
                self._arm(head=True)
        elif self.cycle is not None and self.cycle.more_body:
            self._arm(head=False)  # again at every read: a body may pause, not stall
        elif self._deadline is not None:  # the usual request, whole in one read, ends here
            self._disarm()

    def _arm(self, *, head: bool) -> None:
        self._disarm()
        timeouts = _timeouts()
        delay = timeouts.head if head else timeouts.body_idle
        self._deadline = self.loop.call_later(delay, self._timed_out)
        self._deadline_is_head = head

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._deadline_is_head = False

    def _timed_out(self) -> None:
        was_head = self._deadline_is_head
        self._deadline = None
        self._deadline_is_head = False
        if self.transport.is_closing():
            return
        if self._server_behind(was_head):
            self._arm(head=was_head)
            return
        if was_head:
            begun = self.scope is not None and "method" not in self.scope
        else:
            begun = not self.cycle.response_started
        if begun:
            self.logger.warning("Request timed out.")
            self._refuse(_timeouts().answer)
        else:  # no request begun, or its answer already on its way
            self.transport.close()

    def _server_behind(self, head: bool) -> bool:
        """Whether the wait is ours, not the client's: a body the app is not reading yet, or
        a pipelined head behind an answer still being made."""
        if not head:
            return self.flow.read_paused
        return self.cycle is not None and not self.cycle.response_complete

    def send_400_response(self, msg: str) -> None:
        """Called by uvicorn when the parser fails: our problem instead of its text."""
        self._refuse(self._refusal)

    def _refuse(self, answer: Answer) -> None:
        status_line, rest = answer
        content = [status_line]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.append(rest)
        self.transport.write(b"".join(content))
        self.transport.close()
