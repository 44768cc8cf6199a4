"""Instants at the ends of the span the engine decides about (``policy/instants.py``).

A ``send_at`` of 9999-12-31 once made the lookback and local-day arithmetic overflow: a 500
for a typo. Inside the span every rule of every pack must decide; outside it, a 422 that
names the field, and nothing recorded.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from policy.instants import EARLIEST, END

MICROSECOND = timedelta(microseconds=1)
FIRST = EARLIEST
LAST = END - MICROSECOND


def _z(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


# A customer in each pack's territory, with a phone of its own country.
_CUSTOMERS = {
    "ES": "+34600000001",
    "DE": "+4915100000001",
    "US-FL": "+13055550101",
    "US-TX": "+12145550101",
    "CA": "+14165550101",
}
_CHANNELS = ["email", "sms", "phone", "post", "push", None]
_PURPOSES = ["marketing", "service", "profiling", "share_affiliates", "share_third_parties"]
_SOURCES = ["campaign", "telemarketing", "event_trigger", "transactional", "data_use"]


def _new_customer(client: TestClient, admin: dict[str, str], profile: dict[str, Any]) -> str:
    customer_id = f"C-span-{uuid.uuid4().hex[:8]}"
    answer = client.put(f"/v1/customers/{customer_id}", json=profile, headers=admin)
    assert answer.status_code == 201, answer.text
    return customer_id


def _customer_at_the_edges(
    client: TestClient, admin: dict[str, str], jurisdiction: str, phone: str
) -> str:
    """Everything the engine shifts, set at the ends of the span it may be: relationship,
    consents (captured at the start, expiring at the end), notices, and the longest limit
    there is. What must already have happened lies at the start (``api/past.py``)."""
    profile = {
        "jurisdictions": [jurisdiction],
        "relationship": {"last_purchase_at": _z(FIRST), "last_inquiry_at": _z(FIRST)},
        "contact_points": {"email": ["edge@example.com"], "phone": [phone]},
    }
    customer_id = _new_customer(client, admin, profile)
    for purpose in _PURPOSES:
        consent = {
            "purpose": purpose,
            "status": "granted",
            "captured_at": _z(FIRST),
            "expires_at": _z(LAST),
        }
        answer = client.post(f"/v1/customers/{customer_id}/consents", json=consent, headers=admin)
        assert answer.status_code == 201, answer.text
    for kind in ("glba_initial", "glba_annual"):
        notice = {"kind": kind, "delivered_at": _z(FIRST), "method": "mail"}
        answer = client.post(f"/v1/customers/{customer_id}/notices", json=notice, headers=admin)
        assert answer.status_code == 201, answer.text
    preference = {
        "status": "opted_in",
        "limits": [{"count": 5, "period": "P100Y"}],
        "quiet_hours": [{"days": ["sun"], "start": "22:00", "end": "06:00"}],
    }
    path = f"/v1/customers/{customer_id}/preferences/any"
    assert client.put(path, json=preference, headers=admin).status_code == 200
    opted_out = {"status": "opted_out"}  # a deny in every pack, besides what the law says
    path = f"/v1/customers/{customer_id}/preferences/push"
    assert client.put(path, json=opted_out, headers=admin).status_code == 200
    return customer_id


def _check(client: TestClient, crm: dict[str, str], body: dict[str, Any]) -> Any:
    return client.post(
        "/v1/checks", json=body, headers={**crm, "Idempotency-Key": uuid.uuid4().hex}
    )


@pytest.mark.parametrize("jurisdiction", list(_CUSTOMERS))
def test_every_rule_decides_at_both_ends_of_the_span(
    client: TestClient, admin: dict[str, str], crm: dict[str, str], jurisdiction: str
) -> None:
    customer_id = _customer_at_the_edges(client, admin, jurisdiction, _CUSTOMERS[jurisdiction])
    decisions = set()
    for at in (FIRST, LAST):
        for channel in _CHANNELS:
            for purpose in _PURPOSES:
                for source in _SOURCES:
                    body = {
                        "customer_id": customer_id,
                        "purpose": purpose,
                        "source": source,
                        "send_at": _z(at),
                        "dry_run": True,  # every combination, not only those under the limit
                    }
                    if channel is not None:
                        body["channel"] = channel
                    asked = datetime.now(UTC)
                    answer = _check(client, crm, body)
                    assert answer.status_code in (200, 422), (body, answer.text)
                    if answer.status_code == 200:
                        decided_for = datetime.fromisoformat(answer.json()["send_at"])
                        # A send_at already past is decided as now (consent/gate.py).
                        assert decided_for == at if at is LAST else decided_for >= asked
                        decisions.add(answer.json()["decision"])
    assert decisions == {"allow", "deny"}  # the rules did decide, both ways


@pytest.mark.parametrize(
    "send_at",
    [
        _z(FIRST - MICROSECOND),
        _z(END),
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",  # before UTC's year 1: converting it overflows
        "9999-12-31T23:00:00-05:00",  # after UTC's year 9999
        "1900-01-01T00:30:00+01:00",  # 1899-12-31T23:30Z
    ],
)
def test_an_instant_outside_the_span_is_a_422_and_records_nothing(
    client: TestClient, crm: dict[str, str], admin: dict[str, str], send_at: str
) -> None:
    profile = {"jurisdictions": ["ES"], "contact_points": {"email": ["span@example.com"]}}
    customer_id = _new_customer(client, admin, profile)
    key = uuid.uuid4().hex
    body = {
        "customer_id": customer_id,
        "channel": "post",
        "purpose": "service",
        "source": "campaign",
    }
    refused = client.post(
        "/v1/checks", json={**body, "send_at": send_at}, headers={**crm, "Idempotency-Key": key}
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"] == "urn:consent-gate:problem:validation-error"
    assert [error["field"] for error in problem["errors"]] == ["body.send_at"]
    assert "1900-01-01" in problem["errors"][0]["message"]
    # Nothing was recorded under the key: the same key with a good body decides afresh.
    again = client.post("/v1/checks", json=body, headers={**crm, "Idempotency-Key": key})
    assert again.status_code == 200, again.text
    assert "Idempotent-Replayed" not in again.headers


@pytest.mark.parametrize("field", ["captured_at", "expires_at"])
def test_a_consent_outside_the_span_is_a_422(
    client: TestClient, admin: dict[str, str], field: str
) -> None:
    customer_id = _new_customer(client, admin, {"jurisdictions": ["ES"]})
    consent = {"purpose": "marketing", "status": "granted", field: "9999-12-31T23:59:59Z"}
    answer = client.post(f"/v1/customers/{customer_id}/consents", json=consent, headers=admin)
    assert answer.status_code == 422, answer.text
    assert [error["field"] for error in answer.json()["errors"]] == [f"body.{field}"]
    profile = client.get(f"/v1/customers/{customer_id}", headers=admin).json()
    assert profile["consents"] == {}
