"""Every change and decision leaves an audit entry whose leaf hash anyone can re-derive."""

import hashlib
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from audit.schema import audit_entries
from consent.store.database import transaction
from consent.store.schema import consents, customers
from tests.conftest import bearer


def test_each_change_and_decision_is_audited_with_an_rfc9162_leaf(
    client: TestClient, api_keys: dict[str, str], engine: Engine
) -> None:
    crm = bearer(api_keys["crm_service"])
    customer_id = f"C-{uuid.uuid4().hex[:10]}"
    base = f"/v1/customers/{customer_id}"
    client.put(
        base,
        json={"jurisdictions": ["US-NY"], "contact_points": {"email": ["x@example.com"]}},
        headers=crm,
    )
    client.put(f"{base}/preferences/email", json={"status": "opted_in"}, headers=crm)
    client.post(f"{base}/consents", json={"purpose": "marketing", "status": "granted"}, headers=crm)
    notice = {"kind": "glba_initial", "delivered_at": "2026-01-01T00:00:00Z", "method": "mail"}
    client.post(f"{base}/notices", json=notice, headers=crm)
    body = {"customer_id": customer_id, "channel": "email", "purpose": "marketing"}
    headers = {**crm, "Idempotency-Key": uuid.uuid4().hex}
    check = client.post("/v1/checks", headers=headers, json={**body, "source": "campaign"}).json()
    client.post(f"/v1/checks/{check['check_id']}/outcome", json={"outcome": "sent"}, headers=crm)

    with transaction(engine) as conn:
        rows = conn.execute(
            select(audit_entries).where(audit_entries.c.subject == f"customer:{customer_id}")
            .order_by(audit_entries.c.seq)
        ).all()  # fmt: skip
    assert [row.action for row in rows] == [
        "customer.upserted", "preference.set", "consent.recorded", "notice.recorded",
        "check.decided", "check.outcome",
    ]  # fmt: skip
    assert {row.actor_name for row in rows} == {"test-crm_service"}
    assert {row.actor_role for row in rows} == {"crm_service"}
    for row in rows:
        assert bytes(row.leaf_hash) == hashlib.sha256(b"\x00" + row.document.encode()).digest()
    assert check["audit_entry_id"] == rows[4].seq


def test_consent_changes_are_new_records_never_overwrites(
    client: TestClient, api_keys: dict[str, str], engine: Engine
) -> None:
    crm = bearer(api_keys["crm_service"])
    customer_id = f"C-{uuid.uuid4().hex[:10]}"
    client.put(f"/v1/customers/{customer_id}", json={"jurisdictions": ["ES"]}, headers=crm)
    for status, at in (("granted", "2026-01-01T00:00:00Z"), ("withdrawn", "2026-02-01T00:00:00Z")):
        body = {"purpose": "marketing", "status": status, "captured_at": at}
        assert (
            client.post(f"/v1/customers/{customer_id}/consents", json=body, headers=crm).status_code
            == 201
        )
    profile = client.get(f"/v1/customers/{customer_id}", headers=crm).json()
    assert profile["consents"]["marketing"]["status"] == "withdrawn"
    assert [r["status"] for r in profile["consent_history"]] == ["granted", "withdrawn"]
    with transaction(engine) as conn:
        by_id = customers.c.external_id == customer_id
        customer_pk = conn.execute(select(customers.c.pk).where(by_id)).scalar_one()
        mine = consents.c.customer_pk == customer_pk
        history = conn.execute(select(consents.c.status).where(mine).order_by(consents.c.pk))
        statuses = history.scalars().all()
    assert statuses == ["granted", "withdrawn"]


def test_a_late_backfilled_receipt_does_not_override_what_the_customer_said_since(
    client: TestClient, api_keys: dict[str, str]
) -> None:
    crm = bearer(api_keys["crm_service"])
    customer_id = f"C-{uuid.uuid4().hex[:10]}"
    client.put(f"/v1/customers/{customer_id}", json={"jurisdictions": ["ES"]}, headers=crm)
    withdrawn = {
        "purpose": "marketing",
        "status": "withdrawn",
        "captured_at": "2026-02-01T00:00:00Z",
    }
    older_grant = {
        "purpose": "marketing",
        "status": "granted",
        "captured_at": "2026-01-01T00:00:00Z",
    }
    client.post(f"/v1/customers/{customer_id}/consents", json=withdrawn, headers=crm)
    client.post(f"/v1/customers/{customer_id}/consents", json=older_grant, headers=crm)
    profile = client.get(f"/v1/customers/{customer_id}", headers=crm).json()
    assert profile["consents"]["marketing"]["status"] == "withdrawn"
