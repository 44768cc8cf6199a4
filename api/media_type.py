"""Request bodies declared as anything but JSON are refused with a 415 problem.

FastAPI leaves a body it does not take for JSON unparsed, and the route then answered a 422
saying the body "should be a valid dictionary"; the check's fast path parsed whatever came,
text/plain and forms included. A body without a Content-Type is read as JSON on every
path, as the check always read it. Suppression-list copies (CSV or NDJSON) name their own
formats (``api/routes/suppression_lists.py``).
"""

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.body_limit import STREAMED_PREFIX
from api.errors import problem

_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class JsonMediaTypeMiddleware:
    """Pure ASGI, in front of both the check's fast path and FastAPI's routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in _WITH_BODY
            and not scope["path"].startswith(STREAMED_PREFIX)
        ):
            declared = _content_type(scope["headers"])
            if declared is not None and not is_json(declared):
                await unsupported(declared)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def is_json(content_type: bytes) -> bool:
    """``application/json`` or a ``+json`` type, parameters (``charset=utf-8``) aside."""
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return media_type == b"application/json" or (
        media_type.startswith(b"application/") and media_type.endswith(b"+json")
    )


def unsupported(content_type: bytes) -> JSONResponse:
    shown = content_type.split(b";", 1)[0].strip().decode("latin-1")[:100]
    return problem(
        415,
        "unsupported-media-type",
        "Unsupported media type",
        f"send the body as application/json, not {shown or 'an empty media type'}; "
        "nothing was recorded",
    )


def _content_type(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    for name, value in headers:
        if name == b"content-type":
            return value
    return None
