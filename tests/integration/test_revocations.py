"""STOP replies and do-not-call requests through the API, on both stores.

47 CFR 64.1200(a)(10): any reasonable means revokes, and must be honoured within ten
business days of receipt; the gate honours it from the moment it is recorded.
"""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from freezegun import freeze_time
from sqlalchemy import Engine, select
from structlog.testing import capture_logs

from audit.schema import audit_entries
from consent.customers import erase_customer
from consent.store.database import transaction
from consent.store.revocations import ERASED_WORDS
from consent.store.schema import customers, revocations
from tests.conftest import ACTOR, bearer

PROBLEM = "application/problem+json"
PHONE = "+34 600 000 001"
SECOND = timedelta(seconds=1)
# Thursday 2026-11-26, 16:00 in Madrid: no one's quiet hours, no holiday in Spain.
STOP_AT = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def new_customer(client: TestClient, crm: dict[str, str], **profile: Any) -> str:
    customer_id = f"C-{uuid.uuid4().hex[:10]}"
    body = {
        "jurisdictions": ["ES"],
        "time_zone": "Europe/Madrid",
        "contact_points": {"email": ["ana@example.com"], "phone": [PHONE]},
        **profile,
    }
    response = client.put(f"/v1/customers/{customer_id}", json=body, headers=crm)
    assert response.status_code == 201, response.text
    return customer_id


def consent(client: TestClient, crm: dict[str, str], customer_id: str, captured_at: str) -> None:
    body = {"purpose": "marketing", "status": "granted", "captured_at": captured_at}
    response = client.post(f"/v1/customers/{customer_id}/consents", json=body, headers=crm)
    assert response.status_code == 201, response.text


@pytest.fixture
def texted(client: TestClient, crm: dict[str, str]) -> str:
    """An EU customer who may be sent marketing texts: consent and SMS opted in."""
    customer_id = new_customer(client, crm)
    consent(client, crm, customer_id, "2026-01-01T00:00:00Z")
    path = f"/v1/customers/{customer_id}/preferences/sms"
    assert client.put(path, json={"status": "opted_in"}, headers=crm).status_code == 200
    return customer_id


def revoke(
    client: TestClient, headers: dict[str, str], customer_id: str, **body: Any
) -> tuple[int, dict[str, Any]]:
    payload = {"channel": "sms", "words": "STOP", **body}
    response = client.post(
        f"/v1/customers/{customer_id}/revocations", json=payload, headers=headers
    )
    return response.status_code, response.json()


def revoke_at(client: TestClient, crm: dict[str, str], at: datetime, customer_id: str) -> None:
    with freeze_time(at, real_asyncio=True):
        status, answer = revoke(client, crm, customer_id)
    assert status == 201, answer


def check_at(
    client: TestClient, crm: dict[str, str], at: datetime, customer_id: str, **body: Any
) -> dict[str, Any]:
    payload = {"customer_id": customer_id, "channel": "sms", "purpose": "marketing",
               "source": "campaign", **body}  # fmt: skip
    with freeze_time(at, real_asyncio=True):
        response = client.post(
            "/v1/checks", json=payload, headers={**crm, "Idempotency-Key": uuid.uuid4().hex}
        )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def rule_ids(answer: dict[str, Any]) -> list[str]:
    return [reason["rule"] for reason in answer["reasons"]]


def stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


# --- recording ------------------------------------------------------------------------------


def test_a_stop_is_recorded_with_when_it_came_and_the_laws_deadline(
    client: TestClient, crm: dict[str, str], texted: str
) -> None:
    received = STOP_AT - timedelta(minutes=5)
    with freeze_time(STOP_AT, real_asyncio=True):
        status, answer = revoke(client, crm, texted, words=" stop ", received_at=stamp(received))
    assert status == 201
    assert answer == {
        "customer_id": texted,
        "channel": "sms",
        "words": "stop",
        "recognised": True,
        "destination_given": False,
        "received_at": stamp(received),
        "recorded_at": stamp(STOP_AT),
        # Ten business days after Thursday 26 November in Spain, skipping the weekends and
        # 8 December (Inmaculada Concepción, a national holiday).
        "honour_by": "2026-12-11",
        "audit_entry_id": answer["audit_entry_id"],
    }


def test_other_words_are_recorded_and_honoured_but_not_recognised(
    client: TestClient, crm: dict[str, str], texted: str
) -> None:
    with freeze_time(STOP_AT, real_asyncio=True):
        status, answer = revoke(client, crm, texted, words="please don't text me any more")
    assert status == 201
    assert answer["recognised"] is False
    assert rule_ids(check_at(client, crm, STOP_AT + SECOND, texted)) == ["customer.revoked"]


def test_honour_by_skips_thanksgiving_for_a_us_customer(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = new_customer(client, crm, jurisdictions=["US-NY"], time_zone="America/New_York",
                               contact_points={"phone": ["+1 212 555 0123"]})  # fmt: skip
    monday_noon = datetime(2026, 11, 23, 17, tzinfo=UTC)
    _, answer = revoke(client, crm, customer_id, received_at=stamp(monday_noon))
    # 24, 25, (26 Thanksgiving), 27, 30 Nov, 1, 2, 3, 4, 7, 8 Dec: the tenth is 8 December.
    assert answer["honour_by"] == "2026-12-08"


def test_honour_by_without_the_holiday_is_a_day_earlier_in_spain(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = new_customer(client, crm)
    _, answer = revoke(client, crm, customer_id, received_at="2026-11-23T12:00:00Z")
    assert answer["honour_by"] == "2026-12-07"


def test_the_day_of_receipt_is_the_customers_own(client: TestClient, crm: dict[str, str]) -> None:
    customer_id = new_customer(client, crm, jurisdictions=["US-NY"], time_zone="America/New_York",
                               contact_points={"phone": ["+1 212 555 0123"]})  # fmt: skip
    # 22:00 on Monday 23 November in New York is already Tuesday in UTC.
    _, answer = revoke(client, crm, customer_id, received_at="2026-11-24T03:00:00Z")
    assert answer["honour_by"] == "2026-12-08"


def test_without_a_zone_the_day_of_receipt_is_the_earliest_in_the_customers_country(
    client: TestClient, crm: dict[str, str]
) -> None:
    """No zone and no phone: 03:00 UTC on Tuesday is still Monday across the US, so the
    deadline runs from Monday, as with a New York zone, not from Tuesday as in UTC."""
    customer_id = new_customer(client, crm, jurisdictions=["US-NY"], time_zone=None,
                               contact_points={"email": ["ny@example.com"]})  # fmt: skip
    _, answer = revoke(client, crm, customer_id, received_at="2026-11-24T03:00:00Z")
    assert answer["honour_by"] == "2026-12-08"


def test_a_destination_that_is_the_customers_is_accepted(
    client: TestClient, crm: dict[str, str], texted: str
) -> None:
    status, answer = revoke(client, crm, texted, destination="+34600000001")
    assert status == 201
    assert answer["destination_given"] is True


# --- deciding -------------------------------------------------------------------------------


def test_one_second_before_the_stop_is_recorded_a_text_is_allowed(
    client: TestClient, crm: dict[str, str], texted: str
) -> None:
    assert check_at(client, crm, STOP_AT - SECOND, texted)["decision"] == "allow"


def test_from_the_moment_the_stop_is_recorded_a_text_is_denied(
    client: TestClient, crm: dict[str, str], texted: str
) -> None:
    revoke_at(client, crm, STOP_AT, texted)
    answer = check_at(client, crm, STOP_AT, texted)
    assert answer["decision"] == "deny"
    assert rule_ids(answer) == ["customer.revoked"]
    assert answer["earliest_allowed_at"] is None  # no time makes it allowed again


def test_one_second_after_the_stop_is_recorded_a_text_is_denied(
    client: TestClient, crm: dict[str, str], texted: str
) -> None:
    revoke_at(client, crm, STOP_AT, texted)
    assert rule_ids(check_at(client, crm, STOP_AT + SECOND, texted)) == ["customer.revoked"]


def test_a_stop_stops_profiling_contacts_on_the_channel_too(
    client: TestClient, crm: dict[str, str], texted: str
) -> None:
    revoke_at(client, crm, STOP_AT, texted)
    answer = check_at(client, crm, STOP_AT + SECOND, texted, purpose="profiling")
    assert "customer.revoked" in rule_ids(answer)


def test_a_stop_does_not_stop_service_messages(
    client: TestClient, crm: dict[str, str], texted: str
) -> None:
    revoke_at(client, crm, STOP_AT, texted)
    answer = check_at(client, crm, STOP_AT + SECOND, texted, purpose="service",
                      source="transactional")  # fmt: skip
    assert answer["decision"] == "allow"


def test_a_stop_by_text_does_not_stop_email(client: TestClient, crm: dict[str, str]) -> None:
    customer_id = new_customer(client, crm)
    consent(client, crm, customer_id, "2026-01-01T00:00:00Z")
    path = f"/v1/customers/{customer_id}/preferences/email"
    assert client.put(path, json={"status": "opted_in"}, headers=crm).status_code == 200
    revoke_at(client, crm, STOP_AT, customer_id)
    answer = check_at(client, crm, STOP_AT + SECOND, customer_id, channel="email")
    assert answer["decision"] == "allow"


def test_a_consent_granted_after_the_stop_supersedes_it(
    client: TestClient, crm: dict[str, str], texted: str
) -> None:
    revoke_at(client, crm, STOP_AT, texted)
    consent(client, crm, texted, stamp(STOP_AT + timedelta(hours=1)))
    answer = check_at(client, crm, STOP_AT + timedelta(hours=2), texted)
    assert answer["decision"] == "allow"


def test_a_consent_back_filled_from_before_the_stop_does_not_supersede_it(
    client: TestClient, crm: dict[str, str], texted: str
) -> None:
    revoke_at(client, crm, STOP_AT, texted)
    consent(client, crm, texted, stamp(STOP_AT - timedelta(hours=1)))
    answer = check_at(client, crm, STOP_AT + timedelta(hours=2), texted)
    assert rule_ids(answer) == ["customer.revoked"]


def test_a_us_stop_by_text_also_stops_marketing_calls_under_the_tcpa(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = new_customer(client, crm, jurisdictions=["US-TX"], time_zone="America/Chicago",
                               contact_points={"phone": ["+1 214 555 0100"]})  # fmt: skip
    revoke_at(client, crm, STOP_AT, customer_id)
    call = check_at(client, crm, STOP_AT + SECOND, customer_id, channel="phone", automated=False)
    assert "tcpa.revocation" in rule_ids(call)
    assert "customer.revoked" not in rule_ids(call), "the customer's own reason is per channel"


# --- what is kept -----------------------------------------------------------------------------


def test_the_profile_shows_the_revocations(
    client: TestClient, crm: dict[str, str], texted: str
) -> None:
    revoke_at(client, crm, STOP_AT, texted)
    profile = client.get(f"/v1/customers/{texted}", headers=crm).json()
    (shown,) = profile["revocations"]
    assert shown["channel"] == "sms"
    assert shown["words"] == "STOP"
    assert shown["recorded_at"] == stamp(STOP_AT)
    assert shown["honour_by"] == "2026-12-11"


def test_the_audit_entry_shows_when_and_seals_the_words(
    client: TestClient, crm: dict[str, str], texted: str, engine: Engine
) -> None:
    words = "Stop texting Maria Lopez"
    received = STOP_AT - timedelta(minutes=3)
    with freeze_time(STOP_AT, real_asyncio=True):
        _, answer = revoke(client, crm, texted, words=words, received_at=stamp(received))
    with transaction(engine) as conn:
        entry = conn.execute(
            select(audit_entries).where(audit_entries.c.seq == answer["audit_entry_id"])
        ).one()
    document = json.loads(entry.document)
    assert document["action"] == "revocation.recorded"
    assert document["subject"] == f"customer:{texted}"
    assert document["at"] == "2026-11-26T15:00:00.000000Z"  # recorded: honoured from then
    assert document["payload"]["received_at"] == stamp(received)
    assert document["payload"]["honour_by"] == "2026-12-11"
    assert document["payload"]["recognised"] is False
    assert document["payload"]["sealed_words"]
    assert "Maria" not in entry.document


def test_the_revocation_row_points_at_its_audit_entry(
    client: TestClient, crm: dict[str, str], texted: str, engine: Engine
) -> None:
    _, answer = revoke(client, crm, texted)
    with transaction(engine) as conn:
        by_id = customers.c.external_id == texted
        customer_pk = conn.execute(select(customers.c.pk).where(by_id)).scalar_one()
        row = conn.execute(
            select(revocations).where(revocations.c.customer_pk == customer_pk)
        ).one()
    assert row.audit_seq == answer["audit_entry_id"]
    assert row.recorded_by == "test-crm_service"


def test_erasure_forgets_what_the_customer_wrote(
    client: TestClient, crm: dict[str, str], engine: Engine
) -> None:
    # Contact points of its own: an erased customer's stay on ``erased_customers``.
    points = {"email": [f"{uuid.uuid4().hex[:10]}@example.com"]}
    texted = new_customer(client, crm, contact_points=points)
    revoke(client, crm, texted, words="STOP this is Maria")
    with transaction(engine) as conn:
        erase_customer(conn, texted, ACTOR, datetime.now(UTC))
    with transaction(engine) as conn:
        by_id = customers.c.external_id == texted
        customer_pk = conn.execute(select(customers.c.pk).where(by_id)).scalar_one()
        mine = revocations.c.customer_pk == customer_pk
        words = conn.execute(select(revocations.c.words).where(mine)).scalars().all()
    assert words == [ERASED_WORDS]


def test_no_log_line_carries_the_destination(
    client: TestClient, crm: dict[str, str], texted: str
) -> None:
    with capture_logs() as events:
        revoke(client, crm, texted, destination=PHONE)
    text = json.dumps(events, default=str)
    for secret in (PHONE, PHONE.replace(" ", ""), "600000001"):
        assert secret not in text


# --- bad input and access -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"words": ""}, "body.words"),
        ({"words": "   "}, "body.words"),
        ({"words": "x" * 161}, "body.words"),
        ({"channel": "fax"}, "body.channel"),
        ({"received_at": "2026-11-26T10:00:00"}, "body.received_at"),
        ({"received_at": "yesterday"}, "body.received_at"),
        ({"reason": "angry"}, "body.reason"),
    ],
)
def test_bad_revocations_are_422_problems_naming_the_field(
    client: TestClient, crm: dict[str, str], texted: str, body: dict[str, Any], field: str
) -> None:
    payload = {"channel": "sms", "words": "STOP", **body}
    response = client.post(f"/v1/customers/{texted}/revocations", json=payload, headers=crm)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert field in [error["field"] for error in response.json()["errors"]]


def test_a_revocation_received_in_the_future_is_refused(
    client: TestClient, crm: dict[str, str], texted: str
) -> None:
    with freeze_time(STOP_AT, real_asyncio=True):
        status, problem = revoke(client, crm, texted, received_at=stamp(STOP_AT + SECOND))
    assert status == 422
    assert problem["errors"][0]["field"] == "body.received_at"
    assert "future" in problem["errors"][0]["message"]


def test_a_revocation_received_now_is_accepted(
    client: TestClient, crm: dict[str, str], texted: str
) -> None:
    with freeze_time(STOP_AT, real_asyncio=True):
        status, _ = revoke(client, crm, texted, received_at=stamp(STOP_AT))
    assert status == 201


@pytest.mark.parametrize("destination", ["+34 699 999 999", "not a number"])
def test_a_destination_that_is_not_the_customers_is_a_422(
    client: TestClient, crm: dict[str, str], texted: str, destination: str
) -> None:
    status, problem = revoke(client, crm, texted, destination=destination)
    assert status == 422
    assert problem["type"] == "urn:consent-gate:problem:invalid-contact-point"


def test_a_refused_destination_records_nothing(
    client: TestClient, crm: dict[str, str], texted: str
) -> None:
    revoke(client, crm, texted, destination="+34 699 999 999")
    assert client.get(f"/v1/customers/{texted}", headers=crm).json()["revocations"] == []


def test_a_revocation_for_an_unknown_customer_is_404(
    client: TestClient, crm: dict[str, str]
) -> None:
    status, problem = revoke(client, crm, "nobody-here")
    assert status == 404
    assert problem["type"] == "urn:consent-gate:problem:customer-not-found"


def test_a_customer_may_revoke_on_their_own_record_only(
    client: TestClient, crm: dict[str, str], api_keys: dict[str, str], texted: str
) -> None:
    own = {"jurisdictions": ["ES"], "contact_points": {"phone": [PHONE]}}
    assert client.put("/v1/customers/C-self", json=own, headers=crm).status_code in (200, 201)
    mine = bearer(api_keys["customer"])
    assert revoke(client, mine, "C-self")[0] == 201
    assert revoke(client, mine, texted)[0] == 403


def test_a_compliance_officer_may_not_record_revocations(
    client: TestClient, api_keys: dict[str, str], texted: str
) -> None:
    assert revoke(client, bearer(api_keys["compliance_officer"]), texted)[0] == 403
