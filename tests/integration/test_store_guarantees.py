"""What the store guarantees whatever the code above it does."""

import itertools
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from audit.schema import audit_entries
from consent.crypto import KeyRing
from consent.customers import CustomerProfile, read_profile, upsert_customer
from consent.errors import StoreUnavailableError
from consent.gate import CheckCommand, Gate, GateSettings
from consent.preferences import Limit
from consent.store.database import make_engine, read_transaction, transaction
from consent.store.schema import customers as customer_rows
from policy.engine import PolicyEngine
from policy.periods import Period
from policy.vocabulary import Channel, PreferenceStatus, Purpose, Source
from tests.concurrency import run_together
from tests.conftest import ACTOR, CustomerFactory

NOW = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)


def test_audit_entries_cannot_be_updated(
    gate: Gate, customers: CustomerFactory, engine: Engine
) -> None:
    customers.create()
    with pytest.raises(DBAPIError, match="append-only"), transaction(engine) as conn:
        conn.execute(text("UPDATE audit_entries SET action = 'forged'"))


def test_audit_entries_cannot_be_deleted(
    gate: Gate, customers: CustomerFactory, engine: Engine
) -> None:
    customers.create()
    with pytest.raises(DBAPIError, match="append-only"), transaction(engine) as conn:
        conn.execute(text("DELETE FROM audit_entries"))


def test_no_clear_text_contact_details_in_the_database(
    customers: CustomerFactory, engine: Engine
) -> None:
    email, phone = f"{uuid.uuid4().hex[:10]}@example.org", "+34611223344"
    customers.create(email=email, phone=phone)
    local_phone = phone[3:]
    with transaction(engine) as conn:
        tables = [row[0] for row in conn.execute(text(_TABLES[engine.dialect.name]))]
        for table in tables:
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                blob = " ".join(_as_text(value) for value in row)
                assert email not in blob, table
                assert email.split("@", maxsplit=1)[0] not in blob, table
                assert local_phone not in blob, table


_TABLES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
    "postgresql": "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
}


def _as_text(value: object) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("latin-1")
    return str(value)


def test_32_concurrent_callers_and_a_limit_of_one_allow_exactly_one(
    gate: Gate, customers: CustomerFactory
) -> None:
    customer_id = customers.create()
    customers.opted_in_marketing(customer_id)
    one_a_day = (Limit(1, Period.parse("P1D")),)
    customers.prefer(customer_id, "email", status=PreferenceStatus.OPTED_IN, limits=one_a_day)

    def call() -> str:
        key = uuid.uuid4().hex
        cmd = CheckCommand(customer_id, Purpose.MARKETING, Source.CAMPAIGN, key, Channel.EMAIL)
        return gate.check(cmd, ACTOR, NOW).answer.decision

    assert sorted(run_together(32, call)) == ["allow"] + ["deny"] * 31


def test_32_concurrent_retries_with_one_key_are_counted_once(
    gate: Gate, customers: CustomerFactory
) -> None:
    customer_id = customers.create()
    customers.opted_in_marketing(customer_id)
    cmd = CheckCommand(
        customer_id, Purpose.MARKETING, Source.CAMPAIGN, "one-key", Channel.EMAIL, campaign_id="c"
    )
    check_ids = run_together(32, lambda: gate.check(cmd, ACTOR, NOW).answer.check_id)
    assert len(set(check_ids)) == 1


def test_32_concurrent_first_puts_of_one_customer_create_it_once(
    engine: Engine, keyring: KeyRing
) -> None:
    """Each finds no row to lock; one creates it, the others replace it in turn (no error)."""
    customer_id = f"C-{uuid.uuid4().hex[:8]}"
    callers = itertools.count()

    def put() -> tuple[bool, str]:
        email = f"caller{next(callers)}@example.com"
        profile = CustomerProfile(frozenset({"ES"}), contact_points={"email": (email,)})
        with transaction(engine) as conn:
            return upsert_customer(conn, keyring, customer_id, profile, ACTOR, NOW).created, email

    results = run_together(32, put)
    assert sorted(created for created, _ in results) == [False] * 31 + [True]
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(func.count()).where(customer_rows.c.external_id == customer_id)
        ).scalar_one()
        entries = conn.execute(
            select(func.count()).where(
                audit_entries.c.action == "customer.upserted",
                audit_entries.c.subject.contains(customer_id),
            )
        ).scalar_one()
        emails = read_profile(conn, keyring, customer_id).contact_points["email"]
    assert rows == 1
    assert entries == 32
    assert len(emails) == 1
    assert emails[0] in {email for _, email in results}


def test_an_unreachable_store_is_unavailable_not_allow(
    policy: PolicyEngine, keyring: KeyRing
) -> None:
    down = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    gate = Gate(down, policy, keyring, GateSettings())
    cmd = CheckCommand("C-1", Purpose.MARKETING, Source.CAMPAIGN, "k", Channel.EMAIL)
    try:
        with pytest.raises(StoreUnavailableError):
            gate.check(cmd, ACTOR, NOW)
    finally:
        gate.close()
