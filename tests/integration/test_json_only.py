"""Bodies are JSON, and JSON's types are taken at their word (``api/schemas/base.py``).

pydantic's lax mode read a number as seconds since 1970: a birth date of 20121231 became
1970-08-21, an adult. It read ``true`` as a limit of one and ``"yes"`` as a dry run. And
a body declared as text or a form reached the check's parser, or got a 422 elsewhere.
"""

import uuid
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

CUSTOMER = {"jurisdictions": ["ES"], "contact_points": {"email": ["json@example.com"]}}
CHECK = {"customer_id": "C-json", "channel": "email", "purpose": "marketing", "source": "campaign"}


@pytest.fixture
def customer_path(client: TestClient, admin: dict[str, str]) -> str:
    path = f"/v1/customers/C-json-{uuid.uuid4().hex[:8]}"
    assert client.put(path, json=CUSTOMER, headers=admin).status_code == 201
    return path


def _problem(answer: Any, status: int, kind: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    document: dict[str, Any] = answer.json()
    assert document["type"] == f"urn:consent-gate:problem:{kind}"
    return document


def _fields(answer: Any) -> list[str]:
    errors = _problem(answer, 422, "validation-error")["errors"]
    return [error["field"].removeprefix("body.") for error in errors]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"birth_date": 20121231}, "birth_date"),  # was 1970-08-21: a child read as an adult
        ({"birth_date": "20121231"}, "birth_date"),
        ({"relationship": {"customer_since": 0}}, "relationship.customer_since"),
        ({"relationship": {"last_purchase_at": 1765000000}}, "relationship.last_purchase_at"),
        ({"relationship": {"last_inquiry_at": "1765000000"}}, "relationship.last_inquiry_at"),
    ],
)
def test_a_customer_s_dates_are_text_not_numbers(
    client: TestClient, admin: dict[str, str], extra: dict[str, Any], field: str
) -> None:
    answer = client.put("/v1/customers/C-json-dates", json={**CUSTOMER, **extra}, headers=admin)
    assert _fields(answer) == [field]


@pytest.mark.parametrize(
    ("suffix", "body", "field"),
    [
        ("/consents", {"purpose": "marketing", "status": "granted", "captured_at": 1765000000},
         "captured_at"),
        ("/consents", {"purpose": "marketing", "status": "granted", "expires_at": "1.9e9"},
         "expires_at"),
        ("/notices", {"kind": "glba_initial", "delivered_at": 1765000000.5, "method": "mail"},
         "delivered_at"),
        ("/revocations", {"channel": "sms", "words": "STOP", "received_at": 1765000000},
         "received_at"),
        ("/preferences/phone", {"status": "opted_in",
                                "quiet_hours": [{"days": ["sat"], "start": 9, "end": "14:00"}]},
         "quiet_hours.0.start"),
        ("/preferences/phone", {"status": "opted_in", "limits": [{"count": True, "period": "P1D"}]},
         "limits.0.count"),
        ("/preferences/phone", {"status": "opted_in", "limits": [{"count": 2.0, "period": "P1D"}]},
         "limits.0.count"),
        ("/preferences/phone", {"status": "opted_in", "limits": [{"count": "3", "period": "P1D"}]},
         "limits.0.count"),
    ],
)  # fmt: skip
def test_dates_times_and_counts_keep_their_json_type(
    client: TestClient,
    admin: dict[str, str],
    customer_path: str,
    suffix: str,
    body: dict[str, Any],
    field: str,
) -> None:
    method = "PUT" if suffix.startswith("/preferences") else "POST"
    answer = client.request(method, customer_path + suffix, json=body, headers=admin)
    assert _fields(answer) == [field]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"dry_run": "yes"}, "dry_run"),  # was a dry run
        ({"dry_run": 1}, "dry_run"),
        ({"automated": 0}, "automated"),  # was a call dialled by hand
        ({"send_at": 1765000000}, "send_at"),
        ({"send_at": "+1765000000"}, "send_at"),  # forms pydantic reads as seconds
        ({"send_at": "1.5e3"}, "send_at"),
        ({"send_at": ".5"}, "send_at"),
    ],
)
def test_a_check_s_flags_are_booleans_and_its_time_is_text(
    client: TestClient, admin: dict[str, str], extra: dict[str, Any], field: str
) -> None:
    headers = {**admin, "Idempotency-Key": uuid.uuid4().hex}
    assert _fields(client.post("/v1/checks", json={**CHECK, **extra}, headers=headers)) == [field]


def test_a_list_s_source_date_is_a_date_not_a_number(
    client: TestClient, admin: dict[str, str]
) -> None:
    answer = client.put(
        "/v1/suppression-lists/national_dnc?source_date=20261201",
        content=b"+12025550123\n",
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert _fields(answer) == ["query.source_date"]


def test_iso_text_is_still_read(client: TestClient, admin: dict[str, str]) -> None:
    body = {
        **CUSTOMER,
        "birth_date": "2012-12-31",
        "relationship": {"customer_since": "2019-03-01", "last_purchase_at": "2026-10-02T09:30Z"},
    }
    answer = client.put("/v1/customers/C-json-iso", json=body, headers=admin)
    assert answer.status_code in (200, 201)
    profile = client.get("/v1/customers/C-json-iso", headers=admin).json()
    assert profile["birth_date"] == "2012-12-31"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
@pytest.mark.parametrize("path", ["/v1/checks", "/v1/customers/C-json-media"])
def test_a_body_declared_as_anything_but_json_is_a_415(
    client: TestClient, admin: dict[str, str], path: str, content_type: str
) -> None:
    body = CHECK if path == "/v1/checks" else CUSTOMER
    method = "POST" if path == "/v1/checks" else "PUT"
    headers = {**admin, "Idempotency-Key": uuid.uuid4().hex, "Content-Type": content_type}
    answer = client.request(method, path, json=body, headers=headers)
    assert "application/json" in _problem(answer, 415, "unsupported-media-type")["detail"]
    assert client.get("/v1/customers/C-json-media", headers=admin).status_code == 404


@pytest.mark.parametrize(
    "content_type", [None, "application/json; charset=utf-8", "APPLICATION/JSON",
                     "application/merge-patch+json"]
)  # fmt: skip
@pytest.mark.parametrize("path", ["/v1/checks", "/v1/customers/C-json-plain"])
def test_json_or_no_content_type_is_read_as_json(
    client: TestClient, admin: dict[str, str], path: str, content_type: str | None
) -> None:
    body = CHECK if path == "/v1/checks" else CUSTOMER
    method = "POST" if path == "/v1/checks" else "PUT"
    headers = {**admin, "Idempotency-Key": uuid.uuid4().hex}
    if content_type is not None:
        headers["Content-Type"] = content_type
    answer = client.request(method, path, content=orjson.dumps(body), headers=headers)
    assert answer.status_code in (200, 201), answer.text


@pytest.mark.parametrize("source", ["campaign", "telemarketing", "event_trigger", "transactional"])
def test_a_contact_without_a_channel_is_a_422(
    client: TestClient, admin: dict[str, str], source: str
) -> None:
    """It was allowed with no channel rule read, an opted-out customer's included."""
    body = {key: value for key, value in CHECK.items() if key != "channel"}
    headers = {**admin, "Idempotency-Key": uuid.uuid4().hex}
    answer = client.post("/v1/checks", json={**body, "source": source}, headers=headers)
    assert _fields(answer) == ["body"]
    assert "channel is required" in answer.json()["errors"][0]["message"]


def test_a_data_use_needs_no_channel(client: TestClient, admin: dict[str, str]) -> None:
    body = {"customer_id": "C-json", "purpose": "share_third_parties", "source": "data_use"}
    headers = {**admin, "Idempotency-Key": uuid.uuid4().hex}
    assert client.post("/v1/checks", json=body, headers=headers).status_code == 200


def test_a_data_use_that_names_a_channel_is_a_422(
    client: TestClient, admin: dict[str, str]
) -> None:
    """It was decided as a contact and took a slot of the channel's limits."""
    body = {**CHECK, "purpose": "profiling", "source": "data_use"}
    headers = {**admin, "Idempotency-Key": uuid.uuid4().hex}
    answer = client.post("/v1/checks", json=body, headers=headers)
    assert _fields(answer) == ["body"]
    assert "a data_use check names no channel" in answer.json()["errors"][0]["message"]


@pytest.mark.parametrize("field", ["campaign_id", "destination"])
def test_a_nul_in_a_check_s_text_is_a_422(
    client: TestClient, admin: dict[str, str], field: str
) -> None:
    """PostgreSQL text cannot hold NUL: it would be a 500 at the store, not a 422 here."""
    headers = {**admin, "Idempotency-Key": uuid.uuid4().hex}
    answer = client.post("/v1/checks", json={**CHECK, field: "a\x00b"}, headers=headers)
    assert _fields(answer) == [field]
