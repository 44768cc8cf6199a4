"""The gate: check-and-record, outcomes, and the recorded decision."""

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

from api.deps import (
    CurrentCaller,
    Services,
    ServicesDep,
    actor_of,
    caller_of,
    no_repeated_keys,
    utc_now,
)
from api.errors import ApiProblem, parse_body
from api.media_type import refuse_unless_json
from api.schemas.checks import CheckIn, CheckOut, OutcomeIn, OutcomeOut, RecordedCheckOut
from consent.gate import CheckCommand
from consent.outcomes import record_outcome, recorded_check

router = APIRouter(prefix="/v1/checks", tags=["gate"])

_IDEMPOTENCY_KEY_DOC = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "A retry with the same key and body replays the first answer and counts "
    "nothing; the same key with another body is a 409.",
    "schema": {"type": "string", "maxLength": 255},
}


_CHECK_OPENAPI = {
    "parameters": [_IDEMPOTENCY_KEY_DOC],
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CheckIn"}}},
    },
}


# The hot path reads its body and headers itself: through FastAPI's body parameter and
# dependencies the same work measured about 1.8x slower per request on this machine. The
# contract and the errors are the same; the documentation comes from _CHECK_OPENAPI.
@router.post("", response_model=CheckOut, openapi_extra=_CHECK_OPENAPI)
async def post_check(request: Request) -> Response:
    """Decide allow or deny for one outbound contact, reserve it and audit it, atomically."""
    svc: Services = request.app.state.services
    caller = await caller_of(request, svc, request.headers.get("authorization"))
    # Exactly one: of two, a proxy may pass on either or join them ("a, b"), and a retry
    # read with another key than its first attempt would be counted twice.
    keys = request.headers.getlist("idempotency-key")
    if len(keys) != 1 or not keys[0] or len(keys[0]) > 255:
        raise ApiProblem(
            400,
            "idempotency-key-missing",
            "Idempotency-Key header required",
            "send one unique Idempotency-Key header (at most 255 characters) with every "
            "check so that a retry is never counted twice",
        )
    idempotency_key = keys[0]
    refuse_unless_json(request.headers.get("content-type"))
    body = parse_body(CheckIn, await request.body())
    command = CheckCommand(
        customer_id=body.customer_id,
        channel=body.channel,
        purpose=body.purpose,
        source=body.source,
        idempotency_key=idempotency_key,
        campaign_id=body.campaign_id,
        destination=body.destination,
        send_at=body.send_at,
        dry_run=body.dry_run,
        automated=body.automated,
        exception=body.exception,
        data_categories=frozenset(body.data_categories or ()),
    )
    result = await svc.gate.check_async(command, actor_of(caller), utc_now())
    document = result.document
    # One log line a request: the decision rides on the request log's closing event.
    request.state.log_fields = {
        "check_id": document["check_id"],
        "decision": document["decision"],
        "rules": [r["rule"] for r in document["reasons"]],
        "replayed": result.replayed,
    }
    # Already the contract's shape: answered as is, not re-validated against CheckOut.
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    return Response(orjson.dumps(document), media_type="application/json", headers=headers)


def check_route() -> APIRoute:
    """The check's route, which the app serves on its fast path (``api/fast_path.py``)."""
    return next(
        route
        for route in router.routes
        if isinstance(route, APIRoute) and route.endpoint is post_check
    )


@router.post(
    "/{check_id}/outcome", response_model=OutcomeOut, dependencies=[Depends(no_repeated_keys)]
)
def post_outcome(
    check_id: str, body: OutcomeIn, caller: CurrentCaller, svc: ServicesDep
) -> dict[str, Any]:
    """Report what happened: ``failed`` or ``cancelled`` gives the frequency slot back (the
    law's caps still count a ``failed`` attempt)."""
    return record_outcome(svc.engine, check_id, body.outcome, actor_of(caller), utc_now())


@router.get("/{check_id}", response_model=RecordedCheckOut)
def get_check(check_id: str, caller: CurrentCaller, svc: ServicesDep) -> dict[str, Any]:
    """The decision as recorded, with its outcome once reported."""
    return recorded_check(svc.engine, check_id)
