"""A request body past CONSENT_MAX_BODY_BYTES is a 413 problem, and nothing of it is kept.

The app here has a 2 KiB limit, so that bodies just over and exactly at it are small.
"""

import json
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.conftest import CustomerFactory, bearer

LIMIT = 2048
TOO_LARGE = "urn:consent-gate:problem:payload-too-large"


@pytest.fixture(scope="module")
def small_app(settings: Settings) -> FastAPI:
    return create_app(settings.model_copy(update={"max_body_bytes": LIMIT}))


@pytest.fixture
def small(small_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(small_app, raise_server_exceptions=False) as client:
        yield client


def _check(customer_id: str, size: int) -> bytes:
    """A valid check body padded with trailing whitespace (still valid JSON) to ``size``."""
    body = json.dumps({
        "customer_id": customer_id, "channel": "email", "purpose": "service",
        "source": "transactional",
    }).encode()  # fmt: skip
    return body + b" " * (size - len(body))


def _post_check(
    client: TestClient, key: str, idempotency_key: str, content: bytes | Iterable[bytes]
) -> httpx.Response:
    headers = {**bearer(key), "Idempotency-Key": idempotency_key}
    headers["Content-Type"] = "application/json"
    return client.post("/v1/checks", content=content, headers=headers)


def _chunks(body: bytes, size: int = 512) -> Iterator[bytes]:
    """Sent as a generator: httpx streams it chunked, with no Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_a_check_over_the_limit_is_413_and_records_nothing(
    small: TestClient, api_keys: dict[str, str], customers: CustomerFactory, chunked: bool
) -> None:
    customer_id = customers.create(("US-NY",), email="big@example.com")
    key = api_keys["crm_service"]
    idempotency_key = uuid.uuid4().hex
    body = _check(customer_id, LIMIT + 1)
    response = _post_check(small, key, idempotency_key, _chunks(body) if chunked else body)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == TOO_LARGE
    # The same key with a body within the limit is decided afresh, not replayed.
    retry = _post_check(small, key, idempotency_key, _check(customer_id, 200))
    assert retry.status_code == 200
    assert "idempotent-replayed" not in retry.headers


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_a_check_exactly_at_the_limit_is_decided(
    small: TestClient, api_keys: dict[str, str], customers: CustomerFactory, chunked: bool
) -> None:
    customer_id = customers.create(("US-NY",), email="edge@example.com")
    body = _check(customer_id, LIMIT)
    content = _chunks(body) if chunked else body
    response = _post_check(small, api_keys["crm_service"], uuid.uuid4().hex, content)
    assert response.status_code == 200


def test_a_profile_over_the_limit_is_413_and_not_stored(
    small: TestClient, api_keys: dict[str, str]
) -> None:
    customer_id = f"C-{uuid.uuid4().hex[:10]}"
    profile = {"jurisdictions": ["ES"], "contact_points": {"post": ["x" * LIMIT]}}
    headers = bearer(api_keys["crm_service"])
    response = small.put(f"/v1/customers/{customer_id}", json=profile, headers=headers)
    assert response.status_code == 413
    assert response.json()["type"] == TOO_LARGE
    assert small.get(f"/v1/customers/{customer_id}", headers=headers).status_code == 404


def test_a_suppression_list_copy_is_streamed_whatever_its_size(
    small: TestClient, api_keys: dict[str, str]
) -> None:
    numbers = "".join(f"+1212555{i:04d}\n" for i in range(400))  # about 5 KiB
    assert len(numbers) > LIMIT
    response = small.put(
        f"/v1/suppression-lists/test_{uuid.uuid4().hex[:12]}",
        content=numbers.encode(),
        params={"source_date": datetime.now(UTC).date().isoformat()},
        headers={**bearer(api_keys["admin"]), "Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["entry_count"] == 400
