"""A contact allowed, then refused by the customer before it was reported sent: the outcome
says so (`after_refusal`), in its answer, when read back and in its audit entry, on both
stores. Nothing refused, a contact given back, or a service message: it does not."""

import json
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from audit.schema import audit_entries
from tests.conftest import bearer


@pytest.fixture
def customer(client: TestClient, crm: dict[str, str]) -> str:
    """A US customer with an e-mail address: marketing e-mail is allowed (CAN-SPAM)."""
    customer_id = f"R-{uuid.uuid4().hex[:10]}"
    body = {"jurisdictions": ["US-NY"], "time_zone": "America/New_York",
            "contact_points": {"email": [f"rita.{customer_id}@example.com"]}}  # fmt: skip
    assert client.put(f"/v1/customers/{customer_id}", json=body, headers=crm).status_code == 201
    return customer_id


def allowed(client: TestClient, crm: dict[str, str], customer_id: str, **body: str) -> str:
    payload = {"customer_id": customer_id, "channel": "email", "purpose": "marketing",
               "source": "campaign", **body}  # fmt: skip
    headers = {**crm, "Idempotency-Key": uuid.uuid4().hex}
    answer = client.post("/v1/checks", json=payload, headers=headers).json()
    assert answer["decision"] == "allow", answer["reasons"]
    return str(answer["check_id"])


def report(client: TestClient, crm: dict[str, str], check_id: str, outcome: str = "sent") -> dict:
    response = client.post(f"/v1/checks/{check_id}/outcome", json={"outcome": outcome}, headers=crm)
    assert response.status_code == 200, response.text
    reported: dict = response.json()
    return reported


def refusals_logged(engine: Engine, seq: int) -> list[str]:
    with engine.connect() as conn:
        document = conn.execute(
            select(audit_entries.c.document).where(audit_entries.c.seq == seq)
        ).scalar_one()
    found: list[str] = json.loads(document)["payload"]["refusals"]
    return found


@pytest.mark.parametrize(
    ("path", "body", "rule"),
    [
        ("/preferences/email", {"status": "opted_out", "source": "portal"},
         "customer.channel_opted_out"),
        ("/preferences/any", {"status": "not_asked", "direction": "inbound_only",
                              "source": "portal"}, "customer.inbound_only"),
        ("/consents", {"purpose": "marketing", "status": "withdrawn", "source": "portal"},
         "customer.consent_withdrawn"),
        ("/revocations", {"channel": "email", "words": "unsubscribe"}, "customer.revoked"),
    ],
)  # fmt: skip
def test_a_send_reported_after_a_refusal_says_so(
    client: TestClient,
    crm: dict[str, str],
    engine: Engine,
    customer: str,
    path: str,
    body: dict[str, str],
    rule: str,
) -> None:
    check_id = allowed(client, crm, customer)
    changed = client.request(
        "PUT" if path.startswith("/preferences") else "POST",
        f"/v1/customers/{customer}{path}",
        json=body,
        headers=crm,
    )
    assert changed.status_code in (200, 201), changed.text
    reported = report(client, crm, check_id)
    assert reported["after_refusal"] is True
    assert rule in refusals_logged(engine, reported["audit_entry_id"])
    recorded = client.get(f"/v1/checks/{check_id}", headers=crm).json()
    assert recorded["outcome"]["after_refusal"] is True


def test_a_send_with_nothing_refused_does_not(
    client: TestClient, crm: dict[str, str], engine: Engine, customer: str
) -> None:
    reported = report(client, crm, allowed(client, crm, customer))
    assert reported["after_refusal"] is False
    assert refusals_logged(engine, reported["audit_entry_id"]) == []


def test_a_contact_given_back_after_a_refusal_is_no_send(
    client: TestClient, crm: dict[str, str], customer: str
) -> None:
    check_id = allowed(client, crm, customer)
    opt_out = {"status": "opted_out", "source": "portal"}
    client.put(f"/v1/customers/{customer}/preferences/email", json=opt_out, headers=crm)
    assert report(client, crm, check_id, "cancelled")["after_refusal"] is False


def test_a_service_message_after_an_opt_out_is_no_refused_send(
    client: TestClient, crm: dict[str, str], customer: str
) -> None:
    check_id = allowed(client, crm, customer, purpose="service", source="transactional")
    opt_out = {"status": "opted_out", "source": "portal"}
    client.put(f"/v1/customers/{customer}/preferences/email", json=opt_out, headers=crm)
    assert report(client, crm, check_id)["after_refusal"] is False


def test_a_send_reported_after_erasure_says_so(
    client: TestClient, crm: dict[str, str], api_keys: dict[str, str], customer: str
) -> None:
    check_id = allowed(client, crm, customer)
    admin = bearer(api_keys["admin"])
    assert client.delete(f"/v1/customers/{customer}", headers=admin).status_code == 200
    assert report(client, crm, check_id)["after_refusal"] is True
