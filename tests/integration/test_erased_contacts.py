"""An erased customer's contact points stay on ``erased_customers``, on both stores.

Erasure (GDPR Art 17) ends the record, not the person's wish: the same address under
another id, re-created or a duplicate kept by the CRM, is not marketed to until a consent
given on or after the day of the erasure. The list holds keyed hashes only, and no one can
load or remove it. Each test uses addresses of its own: the store is the session's.
"""

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from consent.crypto import KeyRing
from consent.store import suppression as kept_rows
from consent.store.database import transaction
from consent.store.schema import suppression_entries, suppression_lists
from consent.store.suppression import ListEntry, add_to_kept_list
from consent.suppression import ERASED_CUSTOMERS, remember_erased
from tests.concurrency import run_together
from tests.conftest import ACTOR

PROBLEM = "application/problem+json"


def an_email() -> str:
    return f"gone.{uuid.uuid4().hex[:10]}@example.com"


def create(client: TestClient, crm: dict[str, str], email: str) -> str:
    """A US customer with this e-mail address: marketing e-mail needs no prior consent."""
    customer_id = f"X-{uuid.uuid4().hex[:10]}"
    body = {"jurisdictions": ["US-NY"], "time_zone": "America/New_York",
            "contact_points": {"email": [email]}}  # fmt: skip
    response = client.put(f"/v1/customers/{customer_id}", json=body, headers=crm)
    assert response.status_code == 201, response.text
    return customer_id


def check(
    client: TestClient, crm: dict[str, str], customer_id: str, purpose: str = "marketing"
) -> dict[str, Any]:
    body = {"customer_id": customer_id, "channel": "email", "purpose": purpose,
            "source": "campaign" if purpose == "marketing" else "transactional"}  # fmt: skip
    headers = {**crm, "Idempotency-Key": uuid.uuid4().hex}
    response = client.post("/v1/checks", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def rules(answer: dict[str, Any]) -> list[str]:
    return [reason["rule"] for reason in answer["reasons"]]


def consent(client: TestClient, crm: dict[str, str], customer_id: str, at: datetime) -> None:
    body = {"purpose": "marketing", "status": "granted", "legal_basis": "consent",
            "source": "web_form", "captured_at": at.isoformat()}  # fmt: skip
    response = client.post(f"/v1/customers/{customer_id}/consents", json=body, headers=crm)
    assert response.status_code == 201, response.text


def erase(client: TestClient, admin: dict[str, str], customer_id: str) -> None:
    assert client.delete(f"/v1/customers/{customer_id}", headers=admin).status_code == 200


def test_the_address_of_an_erased_customer_is_not_marketed_to_under_another_id(
    client: TestClient, crm: dict[str, str], admin: dict[str, str]
) -> None:
    email = an_email()
    erased, duplicate = create(client, crm, email), create(client, crm, email)
    assert check(client, crm, duplicate)["decision"] == "allow"
    erase(client, admin, erased)
    recreated = create(client, crm, email)
    for customer_id in (duplicate, recreated):
        denied = check(client, crm, customer_id)
        assert rules(denied) == ["customer.erased_contact"]
        today = datetime.now(UTC).date().isoformat()
        assert denied["reasons"][0]["citation"].endswith(f"recorded on {today}")
        assert check(client, crm, customer_id, purpose="service")["decision"] == "allow"
    assert check(client, crm, create(client, crm, an_email()))["decision"] == "allow"


def test_a_consent_given_since_the_erasure_lifts_it(
    client: TestClient, crm: dict[str, str], admin: dict[str, str]
) -> None:
    email = an_email()
    erase(client, admin, create(client, crm, email))
    before, after = create(client, crm, email), create(client, crm, email)
    consent(client, crm, before, datetime.now(UTC) - timedelta(days=2))
    consent(client, crm, after, datetime.now(UTC) - timedelta(seconds=1))
    assert rules(check(client, crm, before)) == ["customer.erased_contact"]
    assert check(client, crm, after)["decision"] == "allow"


def test_the_list_keeps_keyed_hashes_and_cannot_be_loaded_or_removed(
    client: TestClient,
    crm: dict[str, str],
    admin: dict[str, str],
    engine: Engine,
    keyring: KeyRing,
) -> None:
    email = an_email()
    erase(client, admin, create(client, crm, email))
    with engine.connect() as conn:
        kept = conn.execute(
            select(suppression_entries.c.kind, suppression_entries.c.listed_on).where(
                suppression_entries.c.list_name == ERASED_CUSTOMERS,
                suppression_entries.c.lookup_hash == keyring.lookup_hash("email", email),
            )
        ).all()
    assert [(kind, str(on)) for kind, on in kept] == [("email", str(datetime.now(UTC).date()))]
    listed = client.get("/v1/suppression-lists", headers=admin).json()
    assert any(entry["list"] == ERASED_CUSTOMERS and entry["entry_count"] >= 1 for entry in listed)
    for response in (
        client.put(
            f"/v1/suppression-lists/{ERASED_CUSTOMERS}",
            content=b"+12125550100\n",
            params={"source_date": datetime.now(UTC).date().isoformat()},
            headers={**admin, "Content-Type": "text/csv"},
        ),
        client.delete(f"/v1/suppression-lists/{ERASED_CUSTOMERS}", headers=admin),
    ):
        assert response.status_code == 409, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["type"] == "urn:consent-gate:problem:list-reserved"
    assert rules(check(client, crm, create(client, crm, email))) == ["customer.erased_contact"]


def test_a_second_erasure_of_the_address_dates_it_again(engine: Engine) -> None:
    contact = {"email": frozenset({uuid.uuid4().bytes * 2})}
    first = datetime(2026, 1, 5, 12, tzinfo=UTC)
    for at in (first, first + timedelta(days=30)):
        with transaction(engine) as conn:
            assert remember_erased(conn, contact, ACTOR, at) == 1
    with engine.connect() as conn:
        dates = conn.execute(
            select(suppression_entries.c.listed_on).where(
                suppression_entries.c.list_name == ERASED_CUSTOMERS,
                suppression_entries.c.lookup_hash == next(iter(contact["email"])),
            )
        ).scalars().all()  # fmt: skip
    assert [str(on) for on in dates] == ["2026-02-04"]


@pytest.mark.parametrize("callers", [8])
def test_first_additions_at_once_share_one_copy(engine: Engine, callers: int) -> None:
    name = f"test_kept_{uuid.uuid4().hex[:10]}"
    now = datetime.now(UTC)

    def add() -> None:
        entry = ListEntry("email", uuid.uuid4().bytes * 2, now.date())
        with transaction(engine) as conn:
            add_to_kept_list(conn, name, [entry], int(uuid.uuid4().int % 2**40), now, "test")

    run_together(callers, add)
    with engine.connect() as conn:
        copy_id, count = conn.execute(
            select(suppression_lists.c.copy_id, suppression_lists.c.entry_count).where(
                suppression_lists.c.name == name
            )
        ).one()
        copies = conn.execute(
            select(suppression_entries.c.copy_id).where(suppression_entries.c.list_name == name)
        ).scalars().all()  # fmt: skip
    assert count == callers
    assert copies == [copy_id] * callers


def test_an_addition_counts_without_reading_the_list_and_readers_hash_it(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recounting read every entry under the list's lock, so each erasure cost as much as
    the list was long (and held SQLite's one writer meanwhile). The count is kept as it
    goes; whoever reads the list hashes it."""
    name = f"test_kept_{uuid.uuid4().hex[:10]}"
    now = datetime.now(UTC)
    hashes = [uuid.uuid4().bytes * 2 for _ in range(4)]

    def add(*chosen: bytes) -> None:
        entries = [ListEntry("email", lookup_hash, now.date()) for lookup_hash in chosen]
        with transaction(engine) as conn:
            add_to_kept_list(conn, name, entries, int(uuid.uuid4().int % 2**40), now, "test")

    def no_full_read(*_: object) -> tuple[int, str]:
        raise AssertionError("an addition read the whole list")

    monkeypatch.setattr(kept_rows, "count_and_hash", no_full_read)
    add(*hashes[:3])
    add(hashes[2], hashes[3], hashes[3])  # one already on it, one twice in the addition
    monkeypatch.undo()
    with engine.connect() as conn:
        stored = next(copy for copy in kept_rows.read_copies(conn) if copy.name == name)
        read = kept_rows.kept_content(conn, stored)
    assert stored.entry_count == read.entry_count == 4
    assert read.content_hash == hashlib.sha256(b"".join(sorted(hashes))).hexdigest()


def test_the_erased_list_is_listed_with_its_own_count_and_hash(
    client: TestClient, crm: dict[str, str], admin: dict[str, str], engine: Engine
) -> None:
    erase(client, admin, create(client, crm, an_email()))
    [listed] = [
        entry
        for entry in client.get("/v1/suppression-lists", headers=admin).json()
        if entry["list"] == ERASED_CUSTOMERS
    ]
    with engine.connect() as conn:
        copy_id = kept_rows.current_copy_id(conn, ERASED_CUSTOMERS)
        assert copy_id is not None
        count, content_hash = kept_rows.count_and_hash(conn, ERASED_CUSTOMERS, copy_id)
    assert (listed["entry_count"], listed["content_hash"]) == (count, content_hash)
