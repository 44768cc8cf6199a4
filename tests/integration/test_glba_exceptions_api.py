"""GLBA exceptions and account numbers through the API, on both stores: what a caller says
(`exception`, `data_categories`), what the law then decides, and what the audit keeps."""

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from audit.canonical import canonical_bytes
from audit.schema import audit_entries
from consent.gate import CheckCommand
from consent.store.database import transaction
from policy.vocabulary import Purpose, Source

PROBLEM = "application/problem+json"
WINDOW = "glba.initial_notice.opt_out_window"
ACCOUNT_NUMBERS = "glba.account_numbers"


def new_yorker(client: TestClient, crm: dict[str, str], notice_days_ago: int | None) -> str:
    customer_id = f"C-{uuid.uuid4().hex[:10]}"
    body = {"jurisdictions": ["US-NY"], "time_zone": "America/New_York"}
    response = client.put(f"/v1/customers/{customer_id}", json=body, headers=crm)
    assert response.status_code == 201, response.text
    if notice_days_ago is not None:
        delivered = datetime.now(UTC) - timedelta(days=notice_days_ago)
        notice = {"kind": "glba_initial", "delivered_at": delivered.isoformat(), "method": "mail"}
        path = f"/v1/customers/{customer_id}/notices"
        assert client.post(path, json=notice, headers=crm).status_code == 201
    return customer_id


def share(
    client: TestClient, crm: dict[str, str], customer_id: str, key: str | None = None, **body: Any
) -> Any:
    payload = {"customer_id": customer_id, "purpose": "share_third_parties",
               "source": "data_use", **body}  # fmt: skip
    headers = {**crm, "Idempotency-Key": key or uuid.uuid4().hex}
    return client.post("/v1/checks", json=payload, headers=headers)


def decided(client: TestClient, crm: dict[str, str], customer_id: str, **body: Any) -> Any:
    response = share(client, crm, customer_id, **body)
    assert response.status_code == 200, response.text
    return response.json()


def rule_ids(answer: dict[str, Any]) -> list[str]:
    return [reason["rule"] for reason in answer["reasons"]]


def audit_payload(engine: Engine, seq: int) -> dict[str, Any]:
    with transaction(engine) as conn:
        document = conn.execute(
            select(audit_entries.c.document).where(audit_entries.c.seq == seq)
        ).scalar_one()
    payload: dict[str, Any] = json.loads(document)["payload"]
    return payload


# --- decisions ------------------------------------------------------------------------------


def test_sharing_10_days_after_the_notice_is_allowed_only_with_a_service_provider(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = new_yorker(client, crm, notice_days_ago=10)
    assert rule_ids(decided(client, crm, customer_id)) == [WINDOW]
    answer = decided(client, crm, customer_id, exception="service_provider")
    assert answer["decision"] == "allow"


def test_sharing_with_a_service_provider_before_any_notice_is_denied(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = new_yorker(client, crm, notice_days_ago=None)
    answer = decided(client, crm, customer_id, exception="service_provider")
    assert rule_ids(answer) == ["glba.service_providers.initial_notice"]


def test_a_disclosure_under_legal_process_needs_no_notice(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = new_yorker(client, crm, notice_days_ago=None)
    assert decided(client, crm, customer_id, exception="legal_process")["decision"] == "allow"


def test_account_numbers_for_marketing_are_denied(client: TestClient, crm: dict[str, str]) -> None:
    customer_id = new_yorker(client, crm, notice_days_ago=40)
    answer = decided(client, crm, customer_id, data_categories=["account_number"])
    assert rule_ids(answer) == [ACCOUNT_NUMBERS]
    assert answer["reasons"][0]["citation"] == "12 CFR 1016.12(a)-(b)"
    with_provider = decided(
        client, crm, customer_id, exception="service_provider", data_categories=["account_number"]
    )
    assert rule_ids(with_provider) == [ACCOUNT_NUMBERS]


def test_account_numbers_to_process_the_customers_transaction_are_allowed(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = new_yorker(client, crm, notice_days_ago=40)
    answer = decided(
        client,
        crm,
        customer_id,
        exception="processing_servicing",
        data_categories=["account_number", "nonpublic_personal_information"],
    )
    assert answer["decision"] == "allow"


def test_the_customers_sharing_opt_out_does_not_reach_a_named_exception(
    client: TestClient, crm: dict[str, str]
) -> None:
    # 12 CFR 1016.10(a)(2): an opt-out is a direction not to disclose other than as
    # permitted by 1016.13-15, so a disclosure to answer a subpoena is outside it.
    customer_id = new_yorker(client, crm, notice_days_ago=40)
    withdrawal = {"purpose": "share_third_parties", "status": "withdrawn"}
    path = f"/v1/customers/{customer_id}/consents"
    assert client.post(path, json=withdrawal, headers=crm).status_code == 201
    assert rule_ids(decided(client, crm, customer_id, exception="legal_process")) == []
    assert rule_ids(decided(client, crm, customer_id)) == [
        "customer.consent_withdrawn",
        "glba.opt_out.third_party_sharing",
    ]


# --- the audit ------------------------------------------------------------------------------


def test_the_audit_entry_records_the_exception_and_data_categories_claimed(
    client: TestClient, crm: dict[str, str], engine: Engine
) -> None:
    customer_id = new_yorker(client, crm, notice_days_ago=40)
    answer = decided(
        client,
        crm,
        customer_id,
        exception="fraud_security",
        data_categories=["nonpublic_personal_information", "account_number"],
    )
    payload = audit_payload(engine, answer["audit_entry_id"])
    assert payload["exception"] == "fraud_security"
    assert payload["data_categories"] == ["account_number", "nonpublic_personal_information"]


def test_the_audit_entry_of_a_check_that_claims_nothing_has_no_such_keys(
    client: TestClient, crm: dict[str, str], engine: Engine
) -> None:
    customer_id = new_yorker(client, crm, notice_days_ago=40)
    payload = audit_payload(engine, decided(client, crm, customer_id)["audit_entry_id"])
    assert "exception" not in payload
    assert "data_categories" not in payload


# --- idempotency ----------------------------------------------------------------------------


def test_the_same_key_with_another_exception_is_a_409(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = new_yorker(client, crm, notice_days_ago=40)
    key = uuid.uuid4().hex
    first = share(client, crm, customer_id, key=key, exception="service_provider")
    assert first.status_code == 200
    again = share(client, crm, customer_id, key=key, exception="joint_marketing")
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert again.json()["type"] == "urn:consent-gate:problem:idempotency-key-reused"
    without = share(client, crm, customer_id, key=key)
    assert without.status_code == 409


def test_the_same_key_with_another_data_category_is_a_409(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = new_yorker(client, crm, notice_days_ago=40)
    key = uuid.uuid4().hex
    share(client, crm, customer_id, key=key, data_categories=["nonpublic_personal_information"])
    again = share(client, crm, customer_id, key=key, data_categories=["account_number"])
    assert again.status_code == 409


def test_the_same_categories_in_another_order_replay_the_first_answer(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = new_yorker(client, crm, notice_days_ago=40)
    key = uuid.uuid4().hex
    both = ["account_number", "nonpublic_personal_information"]
    first = share(client, crm, customer_id, key=key, exception="legal_process",
                  data_categories=both)  # fmt: skip
    again = share(client, crm, customer_id, key=key, exception="legal_process",
                  data_categories=both[::-1])  # fmt: skip
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["check_id"] == first.json()["check_id"]


def test_a_check_that_claims_nothing_hashes_as_before_the_fields_existed() -> None:
    # A retry across the upgrade must still match the answer recorded before it.
    command = CheckCommand("C-1", Purpose.SHARE_THIRD_PARTIES, Source.DATA_USE, "k")
    before = {"customer_id": "C-1", "channel": None, "purpose": "share_third_parties",
              "source": "data_use", "campaign_id": None, "destination": None,
              "send_at": None, "dry_run": False}  # fmt: skip
    assert command.request_hash() == hashlib.sha256(canonical_bytes(before)).hexdigest()


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"exception": "friendship"}, "body.exception"),
        ({"exception": ["legal_process"]}, "body.exception"),
        ({"data_categories": ["pin_code"]}, "body.data_categories.0"),
        ({"data_categories": []}, "body.data_categories"),
        ({"data_categories": "account_number"}, "body.data_categories"),
    ],
    ids=["unknown-exception", "exception-list", "unknown-category", "no-category", "not-a-list"],
)
def test_an_unknown_exception_or_data_category_is_a_422_problem(
    client: TestClient, crm: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = share(client, crm, "C-anyone", **body)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:consent-gate:problem:validation-error"
    assert [error["field"] for error in response.json()["errors"]] == [field]
