"""structlog JSON logs with a request id, and a last guard against personal data.

Log calls pass only ids, codes and counts; the scrubber below is defence in depth, so that
an email address or phone number that slips into an event (say, in an exception message)
is masked before the line is written.
"""

import logging
import random
import re
import time
from collections.abc import MutableMapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.log_writer import turn_writer
from audit.timestamps import iso_z

_EMAIL = re.compile(r"[^\s@\"'<>]+@[^\s@\"'<>]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?\d[\d ().-]{6,}\d")
_MAY_HOLD_PII = re.compile(r"[@\d]")  # an email needs its "@", a phone number its digits
MASK = "[redacted]"


def _scrub_text(text: str) -> str:
    # Most values (event names, methods) have neither: one scan instead of two substitutions.
    if _MAY_HOLD_PII.search(text) is None:
        return text
    return _PHONE.sub(MASK, _EMAIL.sub(MASK, text))


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _scrub_text(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


# Values the service makes itself, never from a caller's text: not scanned (the request
# log's line is written for every check, and each scan is two regular expressions).
_SAFE_KEYS = frozenset({
    "timestamp", "level", "request_id", "duration_ms", "status", "check_id",
    "route", "decision", "rules", "replayed",
})  # fmt: skip


def scrub_pii(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if key not in _SAFE_KEYS:
            event[key] = _scrub(value)
    return event


def configure_logging(level: str = "info", *, cache_loggers: bool = True) -> None:
    """JSON lines on stdout. ``cache_loggers`` binds each logger once (a bound logger per call
    costs ~80 us a request); tests turn it off so that ``capture_logs`` sees every logger.
    """
    structlog.configure(
        processors=[
            _request_id,
            structlog.processors.add_log_level,
            _timestamp,
            structlog.processors.format_exc_info,
            scrub_pii,
            _json_renderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        # One write an event-loop turn, of whole lines (see log_writer): a write a line was a
        # system call for every request.
        logger_factory=turn_writer,
        cache_logger_on_first_use=cache_loggers,
    )


def _json_renderer() -> structlog.processors.JSONRenderer:
    return structlog.processors.JSONRenderer(serializer=_orjson_text)


def stdlib_log_config(level: str = "warning") -> dict[str, Any]:
    """``logging.config.dictConfig`` for the server's own loggers (uvicorn's).

    Without it uvicorn writes plain text to stderr: a traceback over many lines for an
    error our handler has already logged, with its exception message unscrubbed. Through
    this, each record is one JSON line on stdout, stamped, levelled and scrubbed as ours
    are. Only names, so that uvicorn can hand it to worker processes.
    """
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}
    logger = {"handlers": ["json"], "level": level.upper(), "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "api.logs.json_formatter"}},
        "handlers": {"json": handler},
        "loggers": {name: logger for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }


def json_formatter() -> logging.Formatter:
    """A stdlib record as our JSON line: its message as ``event``, its traceback rendered
    into ``exception``, and contact details masked."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_logger_name,
            structlog.processors.add_log_level,
            _timestamp,
            structlog.processors.format_exc_info,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            scrub_pii,
            _json_renderer(),
        ],
    )


# The one value bound for a request's every log line. structlog's contextvars (bind,
# clear, merge) walked the whole context, every variable anyio and Starlette set, for each
# line and each request: 3 us a request against 0.25 us for this one variable.
REQUEST_ID: ContextVar[str | None] = ContextVar("consent_request_id", default=None)


def _request_id(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


def _timestamp(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog's ``TimeStamper(fmt="iso", utc=True)`` text, written by orjson: its
    ``isoformat`` was a fifth of the request line's cost (callgrind)."""
    event["timestamp"] = iso_z(datetime.now(UTC))
    return event


def _orjson_text(event: Any, **options: Any) -> str:
    """structlog's JSON line through orjson (a quarter of the request line's cost); values
    orjson cannot write go to structlog's fallback (``default``), as with json.dumps."""
    return orjson.dumps(event, default=options.get("default")).decode()


class RequestLogMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware: it costs a task per request on the hot path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = structlog.get_logger()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or _new_request_id()
        bound = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            # What the endpoint added through request.state (the gate's decision): one line
            # a request. Starlette keeps request.state in scope["state"], a plain dict.
            extra = scope.get("state", {}).get("log_fields", {})
            self.log.info(
                "request.completed",
                **extra,
                method=scope["method"],
                route=getattr(route, "path", "unmatched"),  # the template: ids stay out of logs
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            REQUEST_ID.reset(bound)


def _new_request_id() -> str:
    """32 hex digits, as uuid4().hex gave. A request id only ties log lines together and is
    sent back to the caller, so it needs no secret randomness: ``secrets`` reads the kernel's
    (a system call that lets go of the GIL) for every request. Measured with the one-write
    log turn, alternated over HTTP (SQLite, 1 worker, 64 connections): +3.8 % checks a
    second and -5 % CPU a request together, against about +1.5 % for either alone."""
    return f"{random.getrandbits(128):032x}"


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if re.fullmatch(r"[A-Za-z0-9._-]{1,64}", text) else None
    return None
