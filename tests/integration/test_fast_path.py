"""The check's fast path answers exactly as FastAPI's router would, errors included."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from api.app import create_app
from api.fast_path import FastPath
from api.routes.checks import check_route
from api.settings import Settings
from tests.conftest import CustomerFactory, bearer

# What differs between two answers to the same request: fresh ids and the decision time.
_VOLATILE = {"check_id", "audit_entry_id", "decided_at", "valid_until", "send_at"}


@pytest.fixture(scope="module")
def routed_app(settings: Settings) -> FastAPI:
    """The same service with the check left to FastAPI's router."""
    app = create_app(settings)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not FastPath]
    return app


@pytest.fixture
def both(app: FastAPI, routed_app: FastAPI) -> Iterator[tuple[TestClient, TestClient]]:
    with (
        TestClient(app, raise_server_exceptions=False) as fast,
        TestClient(routed_app, raise_server_exceptions=False) as routed,
    ):
        yield fast, routed


def _answer(client: TestClient, headers: dict[str, str], body: Any) -> tuple[Any, ...]:
    content = body if isinstance(body, str) else None
    response = client.post(
        "/v1/checks", headers=headers, content=content, json=None if content else body
    )
    document = response.json()
    stable = {k: v for k, v in document.items() if k not in _VOLATILE}
    return response.status_code, response.headers["content-type"], stable


def test_every_kind_of_answer_is_the_routers(
    both: tuple[TestClient, TestClient], api_keys: dict[str, str], customers: CustomerFactory
) -> None:
    fast, routed = both
    crm = bearer(api_keys["crm_service"])
    customer_id = customers.create(("ES",))
    valid = {"customer_id": customer_id, "channel": "email", "purpose": "service",
             "source": "transactional"}  # fmt: skip
    cases: list[tuple[dict[str, str], Any]] = [
        ({}, valid),  # 401: no key
        ({**bearer("not-a-key")}, valid),  # 401: unknown key
        (bearer(api_keys["customer"]), valid),  # 403: wrong role
        (crm, valid),  # 400: no Idempotency-Key
        ({**crm, "Idempotency-Key": "k"}, "{not json"),  # 400: malformed JSON
        ({**crm, "Idempotency-Key": "k"}, {**valid, "colour": "red"}),  # 422: unknown field
        ({**crm, "Idempotency-Key": "k"}, {**valid, "channel": "fax"}),  # 422: bad value
        ({**crm, "Idempotency-Key": "k"}, {**valid, "customer_id": "nobody"}),  # 200 deny
        ({**crm, "Idempotency-Key": "k"}, valid),  # 200 allow
    ]
    statuses = []
    for headers, body in cases:
        answers = []
        for client in (fast, routed):
            sent = dict(headers)
            if "Idempotency-Key" in sent:  # the two apps share a store: a key each
                sent["Idempotency-Key"] = uuid.uuid4().hex
            answers.append(_answer(client, sent, body))
        assert answers[0] == answers[1], (headers.keys(), body)
        statuses.append(answers[0][0])
    assert statuses == [401, 401, 403, 400, 400, 422, 422, 200, 200]


def test_a_reused_key_is_the_same_conflict_on_both_paths(
    both: tuple[TestClient, TestClient], api_keys: dict[str, str], customers: CustomerFactory
) -> None:
    crm = bearer(api_keys["crm_service"])
    customer_id = customers.create(("ES",))
    body = {"customer_id": customer_id, "channel": "email", "purpose": "service",
            "source": "transactional"}  # fmt: skip
    answers = []
    for client in both:
        headers = {**crm, "Idempotency-Key": uuid.uuid4().hex}
        first = client.post("/v1/checks", json=body, headers=headers)
        replay = client.post("/v1/checks", json=body, headers=headers)
        conflict = client.post("/v1/checks", json={**body, "channel": "sms"}, headers=headers)
        assert replay.json() == first.json()
        answers.append(
            (first.status_code, replay.headers.get("idempotent-replayed"), conflict.json())
        )
    assert answers[0] == answers[1]
    assert answers[0][:2] == (200, "true")
    assert answers[0][2]["status"] == 409


async def _router_stand_in(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("router", status_code=418)(scope, receive, send)


def test_only_a_post_to_the_exact_path_takes_the_fast_path() -> None:
    route = check_route()

    async def endpoint(_: Any) -> PlainTextResponse:
        return PlainTextResponse("fast")

    route_copy = type(route).__new__(type(route))
    route_copy.__dict__.update(route.__dict__, endpoint=endpoint)
    outer = FastAPI()
    outer.mount("/", FastPath(_router_stand_in, route_copy))
    with TestClient(outer) as client:
        assert client.post("/v1/checks").text == "fast"
        assert client.post("/v1/checks/").status_code == 418
        assert client.get("/v1/checks").status_code == 418
        assert client.post("/v1/checks/abc/outcome").status_code == 418
