"""A customer's rights over the API, on both stores.

`DELETE /v1/customers/{id}`, erasure (GDPR Art 17): the data key goes, so nothing of the
customer's contact details can be read again, in their row or in the audit log; every later
check is denied; the id stays taken. `GET /v1/customers/{id}/export`, access and
portability (Art 15, 20): the profile and every check decided for them, audited."""

import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from audit.schema import audit_entries
from consent.keys import Role, create_key
from consent.store.database import transaction
from consent.store.schema import contact_points, customers
from tests.conftest import bearer


@pytest.fixture
def email() -> str:
    """An address of the test's own: an erased customer's stays on ``erased_customers``."""
    return f"erase.me.{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def reachable(client: TestClient, crm: dict[str, str], email: str) -> str:
    """A US customer with an e-mail address, to whom marketing e-mail is allowed."""
    customer_id = f"E-{uuid.uuid4().hex[:10]}"
    body = {
        "jurisdictions": ["US-NY"],
        "time_zone": "America/New_York",
        "birth_date": "1980-05-17",
        "contact_points": {"email": [email]},
    }
    assert client.put(f"/v1/customers/{customer_id}", json=body, headers=crm).status_code == 201
    assert check(client, crm, customer_id)["decision"] == "allow"
    return customer_id


def portal_key(engine: Engine, customer_id: str) -> str:
    """A customer key bound to ``customer_id``, as a self-service portal holds."""
    with transaction(engine) as conn:
        return create_key(conn, "portal", Role.CUSTOMER, datetime.now(UTC), customer_id=customer_id)


def check(client: TestClient, crm: dict[str, str], customer_id: str) -> dict:
    body = {"customer_id": customer_id, "channel": "email", "purpose": "marketing",
            "source": "campaign", "dry_run": True}  # fmt: skip
    headers = {**crm, "Idempotency-Key": uuid.uuid4().hex}
    response = client.post("/v1/checks", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_an_erased_customer_is_denied_and_gone(
    client: TestClient, crm: dict[str, str], admin: dict[str, str], reachable: str
) -> None:
    erased = client.delete(f"/v1/customers/{reachable}", headers=admin)
    assert erased.status_code == 200, erased.text
    assert erased.json()["audit_entry_id"] > 0
    denied = check(client, crm, reachable)
    assert denied["decision"] == "deny"
    assert [reason["rule"] for reason in denied["reasons"]] == ["gate.customer_erased"]
    profile = client.get(f"/v1/customers/{reachable}", headers=crm)
    assert profile.status_code == 410
    assert profile.json()["type"] == "urn:consent-gate:problem:customer-erased"


def test_erasure_destroys_the_key_and_the_contact_points(
    client: TestClient, admin: dict[str, str], reachable: str, engine: Engine
) -> None:
    assert client.delete(f"/v1/customers/{reachable}", headers=admin).status_code == 200
    with engine.connect() as conn:
        row = conn.execute(
            select(customers.c.pk, customers.c.wrapped_key, customers.c.pii, customers.c.erased_at)
            .where(customers.c.external_id == reachable)
        ).one()  # fmt: skip
        points = conn.execute(
            select(func.count()).where(contact_points.c.customer_pk == row.pk)
        ).scalar_one()
        entry = conn.execute(
            select(audit_entries.c.actor_role, audit_entries.c.action)
            .where(audit_entries.c.subject == f"customer:{reachable}")
            .order_by(audit_entries.c.seq.desc())
            .limit(1)
        ).one()  # fmt: skip
    assert (row.wrapped_key, row.pii, points) == (None, None, 0)
    assert row.erased_at is not None
    assert entry.actor_role == "admin"
    assert entry.action == "customer.erased"


def test_an_erased_id_cannot_be_erased_again_nor_re_created(
    client: TestClient, crm: dict[str, str], admin: dict[str, str], reachable: str, email: str
) -> None:
    assert client.delete(f"/v1/customers/{reachable}", headers=admin).status_code == 200
    again = client.delete(f"/v1/customers/{reachable}", headers=admin)
    assert again.status_code == 410
    assert again.json()["type"] == "urn:consent-gate:problem:customer-erased"
    body = {"jurisdictions": ["US-NY"], "contact_points": {"email": [email]}}
    recreated = client.put(f"/v1/customers/{reachable}", json=body, headers=crm)
    assert recreated.status_code == 410


def test_erasing_an_unknown_customer_is_404(client: TestClient, admin: dict[str, str]) -> None:
    response = client.delete(f"/v1/customers/nobody-{uuid.uuid4().hex[:8]}", headers=admin)
    assert response.status_code == 404
    assert response.json()["type"] == "urn:consent-gate:problem:customer-not-found"


def test_a_customer_may_erase_their_own_record_only(
    client: TestClient, crm: dict[str, str], reachable: str, engine: Engine
) -> None:
    key = portal_key(engine, reachable)
    others = f"E-{uuid.uuid4().hex[:10]}"
    assert client.delete(f"/v1/customers/{others}", headers=bearer(key)).status_code == 403
    assert client.delete(f"/v1/customers/{reachable}", headers=bearer(key)).status_code == 200
    assert check(client, crm, reachable)["decision"] == "deny"


@pytest.mark.parametrize("role", ["crm_service", "compliance_officer"])
def test_other_roles_may_not_erase(
    client: TestClient, api_keys: dict[str, str], crm: dict[str, str], reachable: str, role: str
) -> None:
    response = client.delete(f"/v1/customers/{reachable}", headers=bearer(api_keys[role]))
    assert response.status_code == 403
    assert check(client, crm, reachable)["decision"] == "allow"


# --- the export: GET /v1/customers/{id}/export ----------------------------------------------


def test_the_export_holds_the_profile_and_every_check_with_its_outcome(
    client: TestClient, crm: dict[str, str], api_keys: dict[str, str], reachable: str, email: str
) -> None:
    body = {"customer_id": reachable, "channel": "email", "purpose": "marketing",
            "source": "campaign"}  # fmt: skip
    sent = client.post("/v1/checks", json=body, headers={**crm, "Idempotency-Key": "x1"}).json()
    outcome = {"outcome": "sent"}
    path = f"/v1/checks/{sent['check_id']}/outcome"
    assert client.post(path, json=outcome, headers=crm).status_code == 200
    officer = bearer(api_keys["compliance_officer"])
    response = client.get(f"/v1/customers/{reachable}/export", headers=officer)
    assert response.status_code == 200, response.text
    export = response.json()
    assert export["contact_points"] == {"email": [email]}
    assert export["birth_date"] == "1980-05-17"
    # The fixture's dry run, then the check sent: each as GET /v1/checks/{id} shows it.
    assert [check["dry_run"] for check in export["checks"]] == [True, False]
    recorded = client.get(f"/v1/checks/{sent['check_id']}", headers=crm).json()
    assert export["checks"][1] == recorded
    assert export["checks"][1]["outcome"]["outcome"] == "sent"
    assert export["audit_entry_id"] > recorded["audit_entry_id"]  # logged after the check


def test_the_export_is_audited_with_who_took_it(
    client: TestClient, api_keys: dict[str, str], reachable: str, engine: Engine
) -> None:
    officer = bearer(api_keys["compliance_officer"])
    export = client.get(f"/v1/customers/{reachable}/export", headers=officer).json()
    with engine.connect() as conn:
        entry = conn.execute(
            select(audit_entries.c.action, audit_entries.c.actor_role)
            .where(audit_entries.c.seq == export["audit_entry_id"])
        ).one()  # fmt: skip
    assert (entry.action, entry.actor_role) == ("customer.exported", "compliance_officer")


def test_a_customer_may_export_their_own_record_only(
    client: TestClient, reachable: str, engine: Engine
) -> None:
    key = portal_key(engine, reachable)
    mine = client.get(f"/v1/customers/{reachable}/export", headers=bearer(key))
    assert mine.status_code == 200
    other = client.get(f"/v1/customers/E-{uuid.uuid4().hex[:10]}/export", headers=bearer(key))
    assert other.status_code == 403


def test_a_crm_service_may_not_export(
    client: TestClient, crm: dict[str, str], reachable: str
) -> None:
    assert client.get(f"/v1/customers/{reachable}/export", headers=crm).status_code == 403


def test_an_erased_customer_has_nothing_to_export(
    client: TestClient, admin: dict[str, str], reachable: str
) -> None:
    assert client.delete(f"/v1/customers/{reachable}", headers=admin).status_code == 200
    response = client.get(f"/v1/customers/{reachable}/export", headers=admin)
    assert response.status_code == 410
    assert response.json()["type"] == "urn:consent-gate:problem:customer-erased"
