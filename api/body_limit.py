"""Request bodies past a size are refused with a 413 problem instead of being read whole.

Every JSON body is read into memory before it is parsed (FastAPI reads it before a route's
dependencies, the API key among them, have run), so without a limit one request could make
a worker hold any amount of memory. A body that declares its length is refused before any
of it is read; a chunked one as soon as it grows past the limit, while the endpoint reads
it. Suppression-list copies are streamed and parsed chunk by chunk, whatever their size,
and may run to millions of lines: they are not limited here.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import BodyTooLargeError, too_large

STREAMED_PREFIX = "/v1/suppression-lists/"


class BodyLimitMiddleware:
    """Pure ASGI, in front of both the check's fast path and FastAPI's routing."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(STREAMED_PREFIX):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None:
            if declared > self.max_bytes:
                await too_large(self.max_bytes)(scope, receive, send)
                return
            # The server parses the body by this length: no more of it ever arrives.
            await self.app(scope, receive, send)
            return
        await self.app(scope, _counted(receive, self.max_bytes), send)


def _counted(receive: Receive, max_bytes: int) -> Receive:
    received = 0

    async def receive_within_limit() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise BodyTooLargeError(max_bytes)
        return message

    return receive_within_limit


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length before we see it
    return None
