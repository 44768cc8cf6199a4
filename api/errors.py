"""RFC 9457 problem details: one table from domain errors to problem types.

Every error the service answers is ``application/problem+json`` with a stable ``type``;
clients branch on ``type``, never on ``title`` or ``detail``.
"""

from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from consent import errors as domain
from consent.json_keys import repeated_keys

PROBLEM_JSON = "application/problem+json"
M = TypeVar("M", bound=BaseModel)
log = structlog.get_logger()
CLIENT_CLOSED_REQUEST = 499  # not in HTTP; the code nginx logs when a client hangs up


def problem_type(code: str) -> str:
    return f"urn:consent-gate:problem:{code}"


@dataclass(frozen=True)
class ProblemSpec:
    status: int
    title: str


# The one mapping from domain errors to HTTP. Most specific classes first.
DOMAIN_PROBLEMS: dict[type[domain.ConsentError], ProblemSpec] = {
    domain.CustomerNotFoundError: ProblemSpec(404, "Customer not found"),
    domain.CheckNotFoundError: ProblemSpec(404, "Check not found"),
    domain.NotFoundError: ProblemSpec(404, "Not found"),
    domain.CustomerErasedError: ProblemSpec(410, "Customer erased"),
    domain.InvalidContactPointError: ProblemSpec(422, "Invalid contact point"),
    domain.IdempotencyConflictError: ProblemSpec(
        409, "Idempotency key reused with another request"
    ),
    domain.OutcomeConflictError: ProblemSpec(409, "Outcome conflict"),
    domain.ListReservedError: ProblemSpec(409, "List kept by the gate"),
    domain.StoreUnavailableError: ProblemSpec(503, "Store unavailable"),
    domain.SchemaAheadError: ProblemSpec(503, "Database schema ahead of this release"),
}

_HTTP_CODES = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "payload-too-large",
    415: "unsupported-media-type",
}


def problem(
    status: int, code: str, title: str, detail: str | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"type": problem_type(code), "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    headers = {"Retry-After": "1"} if status == 503 else None
    if status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="consent-gate"'}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


class BodyTooLargeError(Exception):
    """A chunked request body grew past the limit while it was read (``body_limit.py``)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"request body over {max_bytes} bytes")
        self.max_bytes = max_bytes


def too_large(max_bytes: int) -> JSONResponse:
    return problem(
        413,
        "payload-too-large",
        "Request body too large",
        f"the request body may be at most {max_bytes} bytes; nothing was recorded",
    )


class ApiProblem(Exception):
    """An error found at the edge itself (auth, headers), already in problem terms."""

    def __init__(self, status: int, code: str, title: str, detail: str | None = None) -> None:
        super().__init__(detail or title)
        self.status, self.code, self.title, self.detail = status, code, title, detail

    def response(self) -> JSONResponse:
        return problem(self.status, self.code, self.title, self.detail)


def parse_body(model: type[M], raw: bytes) -> M:
    """Validate a flat JSON body (no objects within) as FastAPI would, with the same 400 /
    422 problems on failure, and a 422 for a key given twice."""
    try:
        body = model.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors) from exc
    refuse_repeated_keys(raw, distinct=len(body.model_fields_set))
    return body


def refuse_repeated_keys(raw: bytes, distinct: int | None = None) -> None:
    """A 422 naming each key that an object in the body gives more than once."""
    repeated = repeated_keys(raw, distinct)
    if repeated:
        raise RequestValidationError(
            [
                {"loc": ("body", *path), "msg": "is given more than once", "type": "duplicate_key"}
                for path in repeated
            ]
        )


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        return _malformed_json(request)
    fields = [
        {"field": _field(error["loc"]), "message": error["msg"], "type": error["type"]}
        for error in errors
    ]
    return problem(
        422,
        "validation-error",
        "Invalid request",
        f"{len(fields)} field(s) are invalid",
        errors=fields,
    )


async def _on_domain(_: Request, exc: domain.ConsentError) -> JSONResponse:
    spec = next(
        (spec for cls, spec in DOMAIN_PROBLEMS.items() if isinstance(exc, cls)),
        ProblemSpec(400, "Request refused"),
    )
    if spec.status >= 500:
        log.error("request.unavailable", code=exc.code)
    return problem(spec.status, exc.code, spec.title, exc.detail)


async def _on_api_problem(_: Request, exc: ApiProblem) -> JSONResponse:
    return exc.response()


async def _on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError | ValueError):
        # FastAPI's json.loads failed other than by JSONDecodeError ("There was an error
        # parsing the body"): it recursed into a deeply nested body, or the bytes are not
        # UTF-8 (a compressed body). The same problem as any other body that is no JSON.
        return _malformed_json(request)
    code = _HTTP_CODES.get(exc.status_code, "http-error")
    return problem(exc.status_code, code, str(exc.detail), None)


def _malformed_json(request: Request) -> JSONResponse:
    """A body that is no JSON; a 415 if it came compressed, which the API does not read.

    Asked only once the body failed to parse, so the header costs nothing on the hot path
    (RFC 9110 15.5.16: a content coding the server does not support is a 415, with the
    codings it accepts in Accept-Encoding)."""
    coding = request.headers.get("content-encoding", "").strip().lower()
    if coding not in ("", "identity"):
        response = problem(
            415,
            "unsupported-content-encoding",
            "Unsupported content encoding",
            f"the request body is sent with Content-Encoding {coding[:32]!r}; send it "
            "uncompressed (identity)",
        )
        response.headers["Accept-Encoding"] = "identity"
        return response
    return problem(400, "malformed-json", "Malformed JSON", "the request body is not valid JSON")


async def _on_too_large(_: Request, exc: BodyTooLargeError) -> JSONResponse:
    return too_large(exc.max_bytes)


async def _on_client_gone(_: Request, __: ClientDisconnect) -> Response:
    # The caller hung up while its request was still being read: nothing was decided, and
    # nobody is there to answer. Not a server error; 499 as proxies log it.
    log.info("request.client_disconnected")
    return Response(status_code=CLIENT_CLOSED_REQUEST)


async def _on_unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("request.failed", error=type(exc).__name__)
    return problem(
        500, "internal-error", "Internal error", "the error was logged; nothing was decided"
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(domain.ConsentError, _on_domain)  # type: ignore[arg-type]
    app.add_exception_handler(ApiProblem, _on_api_problem)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http)  # type: ignore[arg-type]
    app.add_exception_handler(BodyTooLargeError, _on_too_large)  # type: ignore[arg-type]
    app.add_exception_handler(ClientDisconnect, _on_client_gone)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _on_unexpected)
