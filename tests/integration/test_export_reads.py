"""The export (GDPR Art 15, 20) reads without the write transaction, and audits after.

It held SQLite's one write transaction while it read every check (95 ms for 5,000), so
the gate waited behind it. It now reads a snapshot and writes its audit entry in a short
transaction of its own, and gives nothing out if the customer was erased in between.
"""

import sqlite3
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, Engine, func, select

from audit.schema import audit_entries
from consent import exports
from consent.crypto import KeyRing
from consent.customers import erase_customer
from consent.errors import CustomerErasedError
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
    gate = Gate(engine, policy, keyring, GateSettings())
    try:
        for _ in range(count):
            command = CheckCommand(
                customer_id=customer_id, channel=Channel.SMS, purpose=Purpose.SERVICE,
                source=Source.TRANSACTIONAL, idempotency_key=uuid.uuid4().hex,
            )  # fmt: skip
            gate.check(command, ACTOR, NOW)
    finally:
        gate.close()
    return customer_id


def exports_of(engine: Engine, customer_id: str) -> int:
    with engine.connect() as conn:
        found = select(func.count()).where(
            audit_entries.c.action == "customer.exported",
            audit_entries.c.subject == f"customer:{customer_id}",
        )
        return int(conn.execute(found).scalar_one())


def test_another_writer_commits_while_the_export_reads(
    sqlite_engine: Engine,
    keyring: KeyRing,
    policy: PolicyEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    customer_id = with_checks(sqlite_engine, keyring, policy, 3)
    read = exports.check_rows.of_customer
    writes: list[str] = []

    def read_while_another_writes(conn: Connection, customer_pk: int) -> list:
        other = sqlite3.connect(str(sqlite_engine.url.database), timeout=0.2)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" if the export holds it
            other.execute("COMMIT")
            writes.append("committed")
        finally:
            other.close()
        return read(conn, customer_pk)

    monkeypatch.setattr(exports.check_rows, "of_customer", read_while_another_writes)
    export = exports.export_customer(sqlite_engine, keyring, customer_id, ACTOR, NOW)
    assert writes == ["committed"]
    assert len(export.checks) == 3
    assert exports_of(sqlite_engine, customer_id) == 1


def test_a_customer_erased_while_the_export_reads_is_not_given_out(
    engine: Engine,
    store_url: str,
    keyring: KeyRing,
    policy: PolicyEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    customer_id = with_checks(engine, keyring, policy, 1)
    read = exports.check_rows.of_customer
    eraser = make_engine(store_url)

    def erased_meanwhile(conn: Connection, customer_pk: int) -> list:
        with transaction(eraser) as other:
            erase_customer(other, customer_id, ACTOR, NOW)
        return read(conn, customer_pk)

    monkeypatch.setattr(exports.check_rows, "of_customer", erased_meanwhile)
    try:
        with pytest.raises(CustomerErasedError):
            exports.export_customer(engine, keyring, customer_id, ACTOR, NOW)
    finally:
        eraser.dispose()
    assert exports_of(engine, customer_id) == 0
