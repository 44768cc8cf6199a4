"""Request bodies declared as anything but JSON are refused with a 415 problem.

FastAPI leaves a body it does not take for JSON unparsed, and the route then answered a 422
saying the body "should be a valid dictionary"; the check's fast path parsed whatever came,
text/plain and forms included. A body without a Content-Type is read as JSON on every
path, as the check always read it. Suppression-list copies (CSV or NDJSON) name their own
formats (``api/routes/suppression_lists.py``).
"""

from starlette.types import ASGIApp, Receive, Scope, Send

from api.body_limit import STREAMED_PREFIX
from api.errors import ApiProblem

METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class JsonMediaTypeMiddleware:
    """Pure ASGI, in front of FastAPI's routing; the check's fast path asks ``refuse_unless_json``
    itself, so that every check does not pay for one more layer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in METHODS_WITH_BODY
            and not scope["path"].startswith(STREAMED_PREFIX)
        ):
            try:
                refuse_unless_json(_content_type(scope["headers"]))
            except ApiProblem as refused:
                await refused.response()(scope, receive, send)
                return
        await self.app(scope, receive, send)


def refuse_unless_json(content_type: str | None) -> None:
    """None (no header), ``application/json`` or a ``+json`` type; parameters aside."""
    if content_type is None:
        return
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        return
    raise ApiProblem(
        415,
        "unsupported-media-type",
        "Unsupported media type",
        f"send the body as application/json, not {media_type[:100] or 'an empty media type'}; "
        "nothing was recorded",
    )


def _content_type(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"content-type":
            return value.decode("latin-1")
    return None
