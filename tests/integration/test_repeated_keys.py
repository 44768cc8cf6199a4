"""A body that gives a key twice is refused, on every endpoint that takes one, on both stores.

RFC 8259 leaves such a document's meaning to the parser (most keep the last value): a
consent whose status is both granted and withdrawn, or a check for two channels, was
read one way and recorded. Now it is a 422 naming the key, and nothing is recorded.
"""

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from audit.schema import audit_entries
from tests.conftest import bearer

JSON = {"Content-Type": "application/json"}
PROBLEM = "application/problem+json"


@pytest.fixture
def customer_id(client: TestClient, crm: dict[str, str]) -> str:
    customer_id = f"K-{uuid.uuid4().hex[:10]}"
    body = {"jurisdictions": ["ES"], "contact_points": {"email": ["dup@example.es"]}}
    assert client.put(f"/v1/customers/{customer_id}", json=body, headers=crm).status_code == 201
    return customer_id


@pytest.fixture
def check_id(client: TestClient, crm: dict[str, str], customer_id: str) -> str:
    body = {"customer_id": customer_id, "channel": "email", "purpose": "service",
            "source": "transactional"}  # fmt: skip
    answer = client.post(
        "/v1/checks", json=body, headers={**crm, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert answer.json()["decision"] == "allow", answer.text
    return str(answer.json()["check_id"])


def audit_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_entries)).scalar_one())


# (method, path under the customer or check, raw body, the field named)
CASES = [
    ("PUT", "/v1/customers/{customer}",
     '{"jurisdictions": ["ES"], "relationship": {"customer_since": "2020-01-01T00:00:00Z",'
     ' "customer_since": "2024-01-01T00:00:00Z"}}', "body.relationship.customer_since"),
    ("PUT", "/v1/customers/{customer}/preferences/email",
     '{"status": "opted_in", "status": "opted_out"}', "body.status"),
    ("PUT", "/v1/customers/{customer}/preferences/phone",
     '{"status": "opted_in", "limits": [{"count": 1, "period": "P1D", "count": 9}]}',
     "body.limits.0.count"),
    ("POST", "/v1/customers/{customer}/consents",
     '{"purpose": "marketing", "status": "granted", "status": "withdrawn"}', "body.status"),
    ("POST", "/v1/customers/{customer}/notices",
     '{"kind": "glba_initial", "kind": "glba_annual", "delivered_at": "2026-11-01T00:00:00Z",'
     ' "method": "mail"}', "body.kind"),
    ("POST", "/v1/customers/{customer}/revocations",
     '{"channel": "sms", "channel": "phone", "words": "STOP"}', "body.channel"),
    ("POST", "/v1/checks",
     '{"customer_id": "{customer}", "channel": "email", "channel": "sms",'
     ' "purpose": "service", "source": "transactional"}', "body.channel"),
    ("POST", "/v1/checks",
     '{"customer_id": "{customer}", "channel": "email", "purpose": "service",'
     ' "source" : "transactional", "source": "campaign"}', "body.source"),
    ("POST", "/v1/checks/{check}/outcome", '{"outcome": "sent", "outcome": "failed"}',
     "body.outcome"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "raw", "field"), CASES)
def test_a_key_given_twice_is_a_422_naming_it_and_records_nothing(
    client: TestClient,
    crm: dict[str, str],
    engine: Engine,
    customer_id: str,
    check_id: str,
    method: str,
    path: str,
    raw: str,
    field: str,
) -> None:
    before = audit_count(engine)
    headers = {**crm, **JSON, "Idempotency-Key": uuid.uuid4().hex}
    url = path.format(customer=customer_id, check=check_id)
    response = client.request(method, url, content=raw.replace("{customer}", customer_id),
                              headers=headers)  # fmt: skip
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "urn:consent-gate:problem:validation-error"
    assert problem["errors"] == [
        {"field": field, "message": "is given more than once", "type": "duplicate_key"}
    ]
    assert audit_count(engine) == before


def test_the_same_bodies_with_each_key_once_are_taken(
    client: TestClient, crm: dict[str, str], customer_id: str
) -> None:
    """The refusals above are for the repeated key: the body without it is recorded."""
    consent = '{"purpose": "marketing", "status": "withdrawn"}'
    path = f"/v1/customers/{customer_id}/consents"
    assert client.post(path, content=consent, headers={**crm, **JSON}).status_code == 201
    check = (
        f'{{"customer_id": "{customer_id}", "channel": "email", "purpose": "service",'
        ' "source" : "transactional", "campaign_id": "a\\":b"}'
    )
    headers = {**crm, **JSON, "Idempotency-Key": uuid.uuid4().hex}
    answer = client.post("/v1/checks", content=check, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["campaign_id"] == 'a":b'


def test_a_stranger_is_told_401_before_anything_about_the_body(
    client: TestClient, customer_id: str
) -> None:
    raw = '{"status": "opted_in", "status": "opted_out"}'
    path = f"/v1/customers/{customer_id}/preferences/email"
    response = client.put(path, content=raw, headers={**bearer("not-a-key"), **JSON})
    assert response.status_code == 401


def test_a_list_line_with_two_phone_numbers_is_rejected_by_number(
    client: TestClient, api_keys: dict[str, str]
) -> None:
    """Only one of the two would have been loaded, and the other number called."""
    body = (
        '{"phone": "+12125550100"}\n'
        '{"phone": "+12125550101", "phone": "+12125550102"}\n'
        '{"email": "a@example.com", "listed_on": "2026-01-01", "listed_on": "2026-02-01"}\n'
        '{"phone": "+12125550103"}\n'
    )
    name = f"dup_{uuid.uuid4().hex[:8]}"
    response = client.put(
        f"/v1/suppression-lists/{name}",
        params={"source_date": "2026-12-01"},
        content=body,
        headers={**bearer(api_keys["admin"]), "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 201, response.text
    loaded = response.json()
    assert loaded["entry_count"] == 2
    assert loaded["rejected"] == [
        {"line": 2, "reason": "field 'phone' given more than once"},
        {"line": 3, "reason": "field 'listed_on' given more than once"},
    ]
