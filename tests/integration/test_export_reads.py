"""The export (GDPR Art 15, 20) reads without the write transaction, and audits after.

It held SQLite's one write transaction while it read every check (95 ms for 5,000), so
the gate waited behind it. It now reads in read-only transactions and writes its audit
entry in a short transaction of its own, gives nothing out if the customer was erased in
between, and reads the checks a page at a time as they are sent.
"""

import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, func, select

from audit.schema import audit_entries
from consent import exports
from consent.crypto import KeyRing
from consent.customers import erase_customer
from consent.errors import CustomerErasedError, StoreUnavailableError
from consent.gate import CheckCommand, Gate, GateSettings
from consent.store.database import make_engine, transaction
from policy.engine import PolicyEngine
from policy.vocabulary import Channel, Purpose, Source
from tests.conftest import ACTOR, CustomerFactory

NOW = datetime(2026, 12, 8, 10, tzinfo=UTC)


def with_checks(engine: Engine, keyring: KeyRing, policy: PolicyEngine, count: int) -> str:
    """A customer with addresses of their own (the store is the session's, and an erasure
    keeps its addresses suppressed) and ``count`` service texts decided."""
    own = uuid.uuid4()
    customer_id = CustomerFactory(engine, keyring).create(
        ("ES",), email=f"export.{own.hex[:10]}@example.com", phone=f"+3460{own.int % 10**7:07d}"
    )
    with_checks_for(engine, keyring, policy, customer_id, count)
    return customer_id


def with_checks_for(
    engine: Engine, keyring: KeyRing, policy: PolicyEngine, customer_id: str, count: int
) -> str:
    """``count`` service texts decided for the customer, an hour apart; the last's id."""
    gate = Gate(engine, policy, keyring, GateSettings())
    try:
        for n in range(count):
            command = CheckCommand(
                customer_id=customer_id, channel=Channel.SMS, purpose=Purpose.SERVICE,
                source=Source.TRANSACTIONAL, idempotency_key=uuid.uuid4().hex,
                send_at=NOW + timedelta(hours=count - n),
            )  # fmt: skip
            last = gate.check(command, ACTOR, NOW).answer.check_id
    finally:
        gate.close()
    return last


def exports_of(engine: Engine, customer_id: str) -> int:
    with engine.connect() as conn:
        found = select(func.count()).where(
            audit_entries.c.action == "customer.exported",
            audit_entries.c.subject == f"customer:{customer_id}",
        )
        return int(conn.execute(found).scalar_one())


def another_writer_commits(path: str) -> None:
    """Take SQLite's write lock from another connection: "database is locked" if held."""
    other = sqlite3.connect(path, timeout=0.2)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("COMMIT")
    finally:
        other.close()


def test_another_writer_commits_while_the_export_reads(
    sqlite_engine: Engine,
    keyring: KeyRing,
    policy: PolicyEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    customer_id = with_checks(sqlite_engine, keyring, policy, 3)
    path = str(sqlite_engine.url.database)
    reads: list[str] = []

    def writing_meanwhile(read: Callable[..., Any]) -> Callable[..., Any]:
        def read_while_another_writes(conn: Connection, *args: Any) -> Any:
            another_writer_commits(path)
            reads.append(read.__name__)
            return read(conn, *args)

        return read_while_another_writes

    for name in ("recorded_for", "page_of_customer"):
        read = getattr(exports.check_rows, name)
        monkeypatch.setattr(exports.check_rows, name, writing_meanwhile(read))
    export = exports.export_customer(sqlite_engine, keyring, customer_id, ACTOR, NOW)
    assert len(list(export.checks)) == export.check_count == 3
    assert reads == ["recorded_for", "page_of_customer"]
    assert exports_of(sqlite_engine, customer_id) == 1


def test_a_customer_erased_while_the_export_reads_is_not_given_out(
    engine: Engine,
    store_url: str,
    keyring: KeyRing,
    policy: PolicyEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    customer_id = with_checks(engine, keyring, policy, 1)
    read = exports.check_rows.recorded_for
    eraser = make_engine(store_url)

    def erased_meanwhile(conn: Connection, customer_pk: int) -> tuple[int, int | None]:
        with transaction(eraser) as other:
            erase_customer(other, customer_id, ACTOR, NOW)
        return read(conn, customer_pk)

    monkeypatch.setattr(exports.check_rows, "recorded_for", erased_meanwhile)
    try:
        with pytest.raises(CustomerErasedError):
            exports.export_customer(engine, keyring, customer_id, ACTOR, NOW)
    finally:
        eraser.dispose()
    assert exports_of(engine, customer_id) == 0


def test_the_checks_are_read_a_page_at_a_time_up_to_the_export(
    engine: Engine, keyring: KeyRing, policy: PolicyEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five checks in pages of two, by send time; one recorded after the export was read
    is not in it, though the pages are read later."""
    customer_id = with_checks(engine, keyring, policy, 5)
    monkeypatch.setattr(exports, "PAGE", 2)
    pages: list[int] = []
    read = exports.check_rows.page_of_customer

    def counted(*args: Any) -> list:
        page = read(*args)
        pages.append(len(page))
        return page

    monkeypatch.setattr(exports.check_rows, "page_of_customer", counted)
    export = exports.export_customer(engine, keyring, customer_id, ACTOR, NOW)
    later = with_checks_for(engine, keyring, policy, customer_id, 1)
    exported = list(export.checks)
    assert pages == [2, 2, 1]
    assert export.check_count == len(exported) == 5
    assert later not in {check["check_id"] for check in exported}
    send_times = [(check["send_at"], check["check_id"]) for check in exported]
    assert send_times == sorted(send_times)


def test_a_store_failing_on_the_first_page_is_a_503_before_anything_is_sent(
    client: TestClient,
    crm: dict[str, str],
    admin: dict[str, str],
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first page is read with the profile: a failure there is a problem answer, not a
    document cut short, and no export is audited."""
    customer_id = f"E-{uuid.uuid4().hex[:10]}"
    body = {"jurisdictions": ["ES"], "contact_points": {}}
    assert client.put(f"/v1/customers/{customer_id}", json=body, headers=crm).status_code == 201
    check = {"customer_id": customer_id, "channel": "email", "purpose": "marketing",
             "source": "campaign"}  # fmt: skip
    headers = {**crm, "Idempotency-Key": uuid.uuid4().hex}
    assert client.post("/v1/checks", json=check, headers=headers).status_code == 200

    def store_down(*_: object) -> list:
        raise StoreUnavailableError("the consent store is unavailable")

    monkeypatch.setattr(exports.check_rows, "page_of_customer", store_down)
    response = client.get(f"/v1/customers/{customer_id}/export", headers=admin)
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert exports_of(engine, customer_id) == 0
