"""How a consent was given, the customer's age when they gave it, and the `automated` flag.

TCPA 47 CFR 64.1200(a)(2): autodialed or prerecorded marketing calls and texts need prior
express written consent ((f)(9): a signed written agreement, E-SIGN signatures included).
"""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from audit.schema import audit_entries
from bench.gate import noon_in_dallas_ahead
from consent.store.database import transaction

# Noon in Dallas on a weekday ahead, inside the TCPA's and Texas's calling hours whenever the
# suite runs (a send_at already past would be decided as now, at the run's time of day).
SEND_AT = noon_in_dallas_ahead(datetime.now(UTC))
WRITTEN_RULE = "tcpa.written_consent"


def put_customer(client: TestClient, crm: dict[str, str], customer_id: str, **body: Any) -> None:
    payload = {"jurisdictions": ["US-TX"], "time_zone": "America/Chicago",
               "contact_points": {"phone": ["+1 214 555 0100"]}, **body}  # fmt: skip
    response = client.put(f"/v1/customers/{customer_id}", json=payload, headers=crm)
    assert response.status_code in (200, 201), response.text


def texas_customer(client: TestClient, crm: dict[str, str], **body: Any) -> str:
    customer_id = f"C-{uuid.uuid4().hex[:10]}"
    put_customer(client, crm, customer_id, **body)
    return customer_id


def grant(client: TestClient, crm: dict[str, str], customer_id: str, **body: Any) -> None:
    payload = {"purpose": "marketing", "status": "granted",
               "captured_at": "2026-01-01T00:00:00Z", **body}  # fmt: skip
    response = client.post(f"/v1/customers/{customer_id}/consents", json=payload, headers=crm)
    assert response.status_code == 201, response.text


def check(
    client: TestClient, crm: dict[str, str], customer_id: str, key: str | None = None, **body: Any
) -> dict[str, Any]:
    payload = {"customer_id": customer_id, "channel": "sms", "purpose": "marketing",
               "source": "campaign", "send_at": SEND_AT, **body}  # fmt: skip
    headers = {**crm, "Idempotency-Key": key or uuid.uuid4().hex}
    response = client.post("/v1/checks", json=payload, headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def rule_ids(answer: dict[str, Any]) -> list[str]:
    return [reason["rule"] for reason in answer["reasons"]]


def profile(client: TestClient, crm: dict[str, str], customer_id: str) -> dict[str, Any]:
    found: dict[str, Any] = client.get(f"/v1/customers/{customer_id}", headers=crm).json()
    return found


# --- the form ---------------------------------------------------------------------------------


def test_the_form_is_kept_in_the_history_and_shown_as_written(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = texas_customer(client, crm)
    grant(client, crm, customer_id, form="written")
    shown = profile(client, crm, customer_id)
    assert shown["consents"]["marketing"]["written"] is True
    assert [r["form"] for r in shown["consent_history"]] == ["written"]


def test_a_web_form_consent_is_not_written(client: TestClient, crm: dict[str, str]) -> None:
    customer_id = texas_customer(client, crm)
    grant(client, crm, customer_id, form="web_form")
    shown = profile(client, crm, customer_id)
    assert shown["consents"]["marketing"]["written"] is False
    assert shown["consent_history"][0]["form"] == "web_form"


def test_a_consent_without_a_form_is_not_written(client: TestClient, crm: dict[str, str]) -> None:
    customer_id = texas_customer(client, crm)
    grant(client, crm, customer_id)
    shown = profile(client, crm, customer_id)
    assert shown["consents"]["marketing"]["written"] is False
    assert shown["consent_history"][0]["form"] is None


def test_an_unknown_form_is_a_422_problem(client: TestClient, crm: dict[str, str]) -> None:
    customer_id = texas_customer(client, crm)
    body = {"purpose": "marketing", "status": "granted", "form": "handshake"}
    response = client.post(f"/v1/customers/{customer_id}/consents", json=body, headers=crm)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.form"


def test_the_consent_audit_entry_says_how_it_was_given(
    client: TestClient, crm: dict[str, str], engine: Engine
) -> None:
    customer_id = texas_customer(client, crm)
    grant(client, crm, customer_id, form="written")
    with transaction(engine) as conn:
        documents = conn.execute(
            select(audit_entries.c.document)
            .where(audit_entries.c.subject == f"customer:{customer_id}")
            .order_by(audit_entries.c.seq)
        ).scalars().all()  # fmt: skip
    (recorded,) = [json.loads(d) for d in documents if '"consent.recorded"' in d]
    assert recorded["payload"]["form"] == "written"


# --- written consent at the gate --------------------------------------------------------------


def test_an_automated_marketing_text_with_a_web_form_consent_is_denied(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = texas_customer(client, crm)
    grant(client, crm, customer_id, form="web_form")
    assert WRITTEN_RULE in rule_ids(check(client, crm, customer_id))


def test_an_automated_marketing_text_with_written_consent_passes_that_rule(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = texas_customer(client, crm)
    grant(client, crm, customer_id, form="written")
    assert WRITTEN_RULE not in rule_ids(check(client, crm, customer_id))


def test_unsaid_automated_means_automated(client: TestClient, crm: dict[str, str]) -> None:
    customer_id = texas_customer(client, crm)
    assert WRITTEN_RULE in rule_ids(check(client, crm, customer_id, channel="phone"))


def test_a_manual_call_needs_no_written_consent(client: TestClient, crm: dict[str, str]) -> None:
    customer_id = texas_customer(client, crm)
    call = check(client, crm, customer_id, channel="phone", automated=False)
    assert WRITTEN_RULE not in rule_ids(call)


def test_a_non_boolean_automated_is_a_422_problem(client: TestClient, crm: dict[str, str]) -> None:
    body = {"customer_id": "C-1", "channel": "phone", "purpose": "marketing",
            "source": "telemarketing", "automated": "maybe"}  # fmt: skip
    headers = {**crm, "Idempotency-Key": uuid.uuid4().hex}
    response = client.post("/v1/checks", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.automated"


def test_the_decision_audit_entry_records_what_the_caller_said_about_automation(
    client: TestClient, crm: dict[str, str], engine: Engine
) -> None:
    customer_id = texas_customer(client, crm)
    answer = check(client, crm, customer_id, channel="phone", automated=False)
    with transaction(engine) as conn:
        document = conn.execute(
            select(audit_entries.c.document).where(audit_entries.c.seq == answer["audit_entry_id"])
        ).scalar_one()
    assert json.loads(document)["payload"]["automated"] is False


def test_the_same_key_with_another_automated_is_a_409(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = texas_customer(client, crm)
    key = uuid.uuid4().hex
    check(client, crm, customer_id, key=key, channel="phone", automated=False)
    payload = {"customer_id": customer_id, "channel": "phone", "purpose": "marketing",
               "source": "campaign", "send_at": SEND_AT, "automated": True}  # fmt: skip
    response = client.post("/v1/checks", json=payload, headers={**crm, "Idempotency-Key": key})
    assert response.status_code == 409


def test_saying_automated_true_is_the_same_request_as_not_saying_it(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = texas_customer(client, crm)
    key = uuid.uuid4().hex
    first = check(client, crm, customer_id, key=key)
    again = check(client, crm, customer_id, key=key, automated=True)
    assert again["check_id"] == first["check_id"]


# --- age at capture ---------------------------------------------------------------------------


@pytest.fixture
def born_26_november_2012(client: TestClient, crm: dict[str, str]) -> str:
    """A customer in Madrid who turns 14 at midnight on 26 November 2026, local time."""
    return texas_customer(client, crm, jurisdictions=["ES"], time_zone="Europe/Madrid",
                          birth_date="2012-11-26", contact_points={})  # fmt: skip


def age_at_capture(client: TestClient, crm: dict[str, str], customer_id: str) -> int | None:
    found: int | None = profile(client, crm, customer_id)["consents"]["marketing"]["age_at_capture"]
    return found


def test_the_age_at_capture_is_counted_on_the_customers_calendar(
    client: TestClient, crm: dict[str, str], born_26_november_2012: str
) -> None:
    # 00:00 on 26 November in Madrid (still the 25th in UTC): the fourteenth birthday.
    grant(client, crm, born_26_november_2012, captured_at="2026-11-25T23:00:00Z")
    assert age_at_capture(client, crm, born_26_november_2012) == 14


def test_one_second_before_the_birthday_the_age_is_a_year_less(
    client: TestClient, crm: dict[str, str], born_26_november_2012: str
) -> None:
    grant(client, crm, born_26_november_2012, captured_at="2026-11-25T22:59:59Z")
    assert age_at_capture(client, crm, born_26_november_2012) == 13


def test_without_a_zone_the_age_is_the_youngest_across_the_customers_country(
    client: TestClient, crm: dict[str, str]
) -> None:
    """No zone, no phone: at 03:00 UTC on 26 November it is still the 25th across the US,
    so a customer born on 26 November 2008 is 17 there, not 18 as in UTC."""
    customer_id = texas_customer(client, crm, jurisdictions=["US-NY"], time_zone=None,
                                 birth_date="2008-11-26",
                                 contact_points={"email": ["ny@example.com"]})  # fmt: skip
    grant(client, crm, customer_id, captured_at="2026-11-26T03:00:00Z")
    assert age_at_capture(client, crm, customer_id) == 17


def test_the_age_is_unknown_without_a_birth_date(client: TestClient, crm: dict[str, str]) -> None:
    customer_id = texas_customer(client, crm)
    grant(client, crm, customer_id)
    assert age_at_capture(client, crm, customer_id) is None


def test_a_corrected_birth_date_recomputes_the_age_at_capture(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = texas_customer(client, crm, birth_date="2000-06-01")
    grant(client, crm, customer_id)  # captured 2026-01-01
    assert age_at_capture(client, crm, customer_id) == 25
    put_customer(client, crm, customer_id, birth_date="2010-06-01")
    assert age_at_capture(client, crm, customer_id) == 15


def test_a_removed_birth_date_makes_the_age_unknown(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = texas_customer(client, crm, birth_date="2000-06-01")
    grant(client, crm, customer_id)
    put_customer(client, crm, customer_id)
    assert age_at_capture(client, crm, customer_id) is None
