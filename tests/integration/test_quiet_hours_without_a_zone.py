"""A customer's quiet hours when neither a time zone nor a phone says where they are: kept
in every zone of their country, not in UTC (which let a customer in Berlin be emailed at
22:30 their time, inside quiet hours from 22:00)."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

QUIET = {
    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    "start": "22:00",
    "end": "08:00",
}


# A winter evening ahead (Berlin on UTC+1), whenever the suite runs: a send_at already past
# is decided as now, which would put the check at the run's own time of day.
_YEAR = datetime.now(UTC).year + 1
DAY, NEXT_DAY = f"{_YEAR}-12-07", f"{_YEAR}-12-08"


def _customer(client: TestClient, crm: dict[str, str], jurisdiction: str) -> str:
    customer_id = f"C-quiet-{uuid.uuid4().hex[:8]}"
    profile = {"jurisdictions": [jurisdiction], "contact_points": {"email": ["q@example.com"]}}
    assert client.put(f"/v1/customers/{customer_id}", json=profile, headers=crm).status_code == 201
    preference = {"status": "opted_in", "quiet_hours": [QUIET]}
    path = f"/v1/customers/{customer_id}/preferences/email"
    assert client.put(path, json=preference, headers=crm).status_code == 200
    return customer_id


def _check(client: TestClient, crm: dict[str, str], customer_id: str, send_at: str) -> Any:
    body = {
        "customer_id": customer_id,
        "channel": "email",
        "purpose": "marketing",
        "source": "campaign",
        "send_at": send_at,
        "dry_run": True,
    }
    response = client.post(
        "/v1/checks", json=body, headers={**crm, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert response.status_code == 200, response.text
    return response.json()


def _quiet(answer: Any) -> list[Any]:
    return [reason for reason in answer["reasons"] if reason["rule"] == "customer.quiet_hours"]


@pytest.mark.parametrize(
    ("send_at", "quiet"),
    [
        (f"{DAY}T20:59:59Z", False),  # 21:59:59 in Berlin (UTC+1)
        (f"{DAY}T21:00:00Z", True),  # 22:00 in Berlin: quiet from here
        (f"{DAY}T21:30:00Z", True),  # 21:30 UTC: outside 22:00-08:00 there
        (f"{NEXT_DAY}T06:59:59Z", True),  # 07:59:59 in Berlin
        (f"{NEXT_DAY}T07:00:00Z", False),  # 08:00 in Berlin; 07:00 UTC would still be quiet
    ],
)
def test_quiet_hours_are_kept_in_the_countrys_zone(
    client: TestClient, crm: dict[str, str], send_at: str, quiet: bool
) -> None:
    customer_id = _customer(client, crm, "DE")
    assert bool(_quiet(_check(client, crm, customer_id, send_at))) is quiet


def test_where_the_country_spans_zones_they_are_kept_in_every_one(
    client: TestClient, crm: dict[str, str]
) -> None:
    """Spain: the Canaries are an hour behind Madrid, so 07:30 UTC (08:30 in Madrid) is
    still 07:30 there, and the contact waits for 08:00 in the Canaries."""
    customer_id = _customer(client, crm, "ES")
    reasons = _quiet(_check(client, crm, customer_id, f"{NEXT_DAY}T07:30:00Z"))
    assert len(reasons) == 1
    assert reasons[0]["earliest_allowed_at"] == f"{NEXT_DAY}T08:00:00Z"
