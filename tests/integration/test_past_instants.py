"""What a request says has happened must not lie after now (``api/past.py``).

A consent captured an hour ahead used to become the current one, and the customer's
withdrawal recorded after it counted as a late back-fill: a send two hours out was allowed.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from freezegun import freeze_time

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# The first calendar day anywhere: at NOW it is already 8 December in Kiribati (UTC+14).
LATEST_DAY = "2026-12-08"
DAY_AFTER = "2026-12-09"


def _z(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _customer(client: TestClient, crm: dict[str, str], **extra: Any) -> tuple[int, Any]:
    customer_id = f"C-past-{uuid.uuid4().hex[:8]}"
    body = {"jurisdictions": ["ES"], "contact_points": {"email": ["past@example.com"]}, **extra}
    with freeze_time(NOW, real_asyncio=True):
        answer = client.put(f"/v1/customers/{customer_id}", json=body, headers=crm)
    return answer.status_code, answer.json() if answer.status_code != 201 else customer_id


def _new_customer(client: TestClient, crm: dict[str, str]) -> str:
    status, customer_id = _customer(client, crm)
    assert status == 201
    return str(customer_id)


def _post(client: TestClient, crm: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    with freeze_time(NOW, real_asyncio=True):
        return client.post(path, json=body, headers=crm)


def _fields(problem: dict[str, Any]) -> list[tuple[str, str]]:
    return [(error["field"], error["message"]) for error in problem["errors"]]


def test_a_withdrawal_after_a_consent_dated_ahead_is_not_ignored(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = _new_customer(client, crm)
    consents = f"/v1/customers/{customer_id}/consents"
    ahead = {
        "purpose": "marketing",
        "status": "granted",
        "captured_at": _z(NOW + timedelta(hours=1)),
    }
    refused = _post(client, crm, consents, ahead)
    assert refused.status_code == 422
    assert _fields(refused.json()) == [
        ("body.captured_at", "must not be in the future; leave it out to mean now")
    ]
    with freeze_time(NOW, real_asyncio=True):
        consents_held = client.get(f"/v1/customers/{customer_id}", headers=crm).json()["consents"]
    assert consents_held == {}  # nothing was recorded


@pytest.mark.parametrize(
    ("path", "field", "body"),
    [
        ("consents", "captured_at", {"purpose": "marketing", "status": "granted"}),
        ("notices", "delivered_at", {"kind": "glba_initial", "method": "mail"}),
    ],
)
def test_an_instant_at_now_is_taken_and_one_microsecond_later_is_not(
    client: TestClient, crm: dict[str, str], path: str, field: str, body: dict[str, Any]
) -> None:
    customer_id = _new_customer(client, crm)
    url = f"/v1/customers/{customer_id}/{path}"
    assert _post(client, crm, url, {**body, field: _z(NOW)}).status_code == 201
    later = _post(client, crm, url, {**body, field: _z(NOW + MICROSECOND)})
    assert later.status_code == 422
    assert [name for name, _ in _fields(later.json())] == [f"body.{field}"]


@pytest.mark.parametrize("field", ["last_purchase_at", "last_inquiry_at"])
def test_a_relationship_instant_after_now_is_refused(
    client: TestClient, crm: dict[str, str], field: str
) -> None:
    """A last purchase dated ahead would stretch the established business relationship."""
    assert _customer(client, crm, relationship={field: _z(NOW)})[0] == 201
    status, problem = _customer(client, crm, relationship={field: _z(NOW + MICROSECOND)})
    assert status == 422
    assert _fields(problem) == [(f"body.relationship.{field}", "must not be in the future")]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"birth_date": DAY_AFTER}, "body.birth_date"),
        ({"relationship": {"customer_since": DAY_AFTER}}, "body.relationship.customer_since"),
    ],
)
def test_a_date_after_the_first_calendar_day_anywhere_is_refused(
    client: TestClient, crm: dict[str, str], extra: dict[str, Any], field: str
) -> None:
    status, problem = _customer(client, crm, **extra)
    assert status == 422
    assert _fields(problem) == [(field, "must not be in the future")]


@pytest.mark.parametrize(
    "extra",
    [{"birth_date": LATEST_DAY}, {"relationship": {"customer_since": LATEST_DAY}}],
)
def test_a_date_that_is_already_today_somewhere_is_taken(
    client: TestClient, crm: dict[str, str], extra: dict[str, Any]
) -> None:
    assert _customer(client, crm, **extra)[0] == 201


def test_every_field_ahead_is_named_at_once(client: TestClient, crm: dict[str, str]) -> None:
    ahead = _z(NOW + timedelta(days=1))
    relationship = {
        "customer_since": DAY_AFTER,
        "last_purchase_at": ahead,
        "last_inquiry_at": ahead,
    }
    status, problem = _customer(client, crm, birth_date=DAY_AFTER, relationship=relationship)
    assert status == 422
    assert [name for name, _ in _fields(problem)] == [
        "body.birth_date",
        "body.relationship.customer_since",
        "body.relationship.last_purchase_at",
        "body.relationship.last_inquiry_at",
    ]
