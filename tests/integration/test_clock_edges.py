"""Time boundaries through the API, with the service's own clock frozen (freezegun).

The API reads the clock once per request and hands it to the domain; freezing it moves
``send_at`` (defaulted to now), the decision time and ``valid_until`` together.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from freezegun import freeze_time

ONE_SECOND = timedelta(seconds=1)
# Saturday 2026-11-28; Madrid is UTC+1 in November.
SATURDAY_0900_MADRID = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
SATURDAY_1400_MADRID = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)


def opted_in_customer(client: TestClient, crm: dict[str, str], preference: dict[str, Any]) -> str:
    customer_id = f"C-{uuid.uuid4().hex[:10]}"
    profile = {
        "jurisdictions": ["ES"],
        "time_zone": "Europe/Madrid",
        "contact_points": {"email": ["ana@example.com"]},
    }
    assert client.put(f"/v1/customers/{customer_id}", json=profile, headers=crm).status_code == 201
    consent = {"purpose": "marketing", "status": "granted", "captured_at": "2026-01-01T00:00:00Z"}
    assert (
        client.post(f"/v1/customers/{customer_id}/consents", json=consent, headers=crm).status_code
        == 201
    )
    pref = {"status": "opted_in", **preference}
    path = f"/v1/customers/{customer_id}/preferences/email"
    assert client.put(path, json=pref, headers=crm).status_code == 200
    return customer_id


def check_at(
    client: TestClient, crm: dict[str, str], at: datetime, customer_id: str, **body: Any
) -> dict[str, Any]:
    payload = {
        "customer_id": customer_id,
        "channel": "email",
        "purpose": "marketing",
        "source": "campaign",
        **body,
    }
    with freeze_time(at, real_asyncio=True):
        response = client.post(
            "/v1/checks", json=payload, headers={**crm, "Idempotency-Key": uuid.uuid4().hex}
        )
    assert response.status_code == 200, response.text
    return response.json()


def stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


@pytest.fixture
def saturday_quiet(client: TestClient, crm: dict[str, str]) -> str:
    quiet = [{"days": ["sat"], "start": "09:00", "end": "14:00"}]
    return opted_in_customer(client, crm, {"quiet_hours": quiet})


def test_one_second_before_quiet_hours_is_allowed(
    client: TestClient, crm: dict[str, str], saturday_quiet: str
) -> None:
    assert (
        check_at(client, crm, SATURDAY_0900_MADRID - ONE_SECOND, saturday_quiet)["decision"]
        == "allow"
    )


def test_quiet_hours_start_is_denied_until_they_end(
    client: TestClient, crm: dict[str, str], saturday_quiet: str
) -> None:
    answer = check_at(client, crm, SATURDAY_0900_MADRID, saturday_quiet)
    assert answer["decision"] == "deny"
    assert [r["rule"] for r in answer["reasons"]] == ["customer.quiet_hours"]
    assert answer["earliest_allowed_at"] == stamp(SATURDAY_1400_MADRID)
    assert answer["earliest_allowed_at_local"] == "2026-11-28T14:00:00+01:00"


def test_one_second_before_quiet_hours_end_is_denied(
    client: TestClient, crm: dict[str, str], saturday_quiet: str
) -> None:
    assert (
        check_at(client, crm, SATURDAY_1400_MADRID - ONE_SECOND, saturday_quiet)["decision"]
        == "deny"
    )


def test_quiet_hours_end_is_allowed(
    client: TestClient, crm: dict[str, str], saturday_quiet: str
) -> None:
    assert check_at(client, crm, SATURDAY_1400_MADRID, saturday_quiet)["decision"] == "allow"


def test_rolling_day_window_edges(client: TestClient, crm: dict[str, str]) -> None:
    customer_id = opted_in_customer(client, crm, {"limits": [{"count": 1, "period": "P1D"}]})
    first = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert check_at(client, crm, first, customer_id)["decision"] == "allow"
    almost = check_at(client, crm, first + timedelta(days=1) - ONE_SECOND, customer_id)
    assert almost["decision"] == "deny"
    assert almost["earliest_allowed_at"] == stamp(first + timedelta(days=1))
    assert check_at(client, crm, first + timedelta(days=1), customer_id)["decision"] == "allow"


def test_event_trigger_is_valid_one_hour_and_a_later_send_is_late(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = opted_in_customer(client, crm, {})
    decided = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    on_time = check_at(client, crm, decided, customer_id, source="event_trigger")
    late = check_at(client, crm, decided, customer_id, source="event_trigger")
    assert on_time["valid_until"] == stamp(decided + timedelta(hours=1))
    with freeze_time(decided + timedelta(hours=1), real_asyncio=True):
        sent = client.post(
            f"/v1/checks/{on_time['check_id']}/outcome", json={"outcome": "sent"}, headers=crm
        )
    assert sent.json()["late"] is False
    with freeze_time(decided + timedelta(hours=1) + ONE_SECOND, real_asyncio=True):
        sent_late = client.post(
            f"/v1/checks/{late['check_id']}/outcome", json={"outcome": "sent"}, headers=crm
        )
    assert sent_late.json()["late"] is True


def test_a_send_before_the_decided_send_at_is_early(
    client: TestClient, crm: dict[str, str]
) -> None:
    """Decided for 14:00 (after Saturday's quiet window), sent at 13:59:59: inside it."""
    quiet = [{"days": ["sat"], "start": "09:00", "end": "14:00"}]
    customer_id = opted_in_customer(client, crm, {"quiet_hours": quiet})
    decided = SATURDAY_0900_MADRID
    body = {"send_at": stamp(SATURDAY_1400_MADRID)}
    before, at_time, failed = (check_at(client, crm, decided, customer_id, **body) for _ in "123")
    assert before["decision"] == "allow"

    def report(check: dict[str, Any], outcome: str, at: datetime) -> dict[str, Any]:
        with freeze_time(at, real_asyncio=True):
            answer = client.post(
                f"/v1/checks/{check['check_id']}/outcome", json={"outcome": outcome}, headers=crm
            )
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert report(before, "sent", SATURDAY_1400_MADRID - ONE_SECOND)["early"] is True
    assert report(at_time, "sent", SATURDAY_1400_MADRID)["early"] is False
    assert report(failed, "failed", SATURDAY_1400_MADRID - ONE_SECOND)["early"] is False
    recorded = client.get(f"/v1/checks/{before['check_id']}", headers=crm).json()
    assert recorded["outcome"]["early"] is True
    assert recorded["outcome"]["late"] is False
