"""What a check reads of the customer's history, on every store's transaction.

The live reservations inside the window its limits look back over, and the live ones of its
own campaign however old (the duplicate rule reaches back without limit); never the rest of
a history that only grows. The query once read "send_at > since OR campaign_id IS NOT
NULL", and so scanned every check the customer ever had, on every check.
"""

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy import Engine, select

from consent.decide import Reservation
from consent.gate import Gate
from consent.store.async_postgres import AsyncPostgresTransaction, connect_arguments
from consent.store.database import transaction
from consent.store.gate_sql import (
    SQLITE_RESERVATIONS_SQL,
    SqliteTransaction,
    postgres_transaction,
)
from consent.store.pg_batch import BatchPostgresTransaction
from consent.store.schema import customers as customers_table
from consent.store.steps import LoadHistory
from policy.vocabulary import Channel, PreferenceStatus, Purpose, Source
from tests.conftest import ACTOR, CustomerFactory
from tests.integration.test_gate import command
from tests.stores import migrated_engine

NOW = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=400)
SINCE = NOW - timedelta(days=1)


SERVICE = {"purpose": Purpose.SERVICE, "source": Source.TRANSACTIONAL}


def _check(
    gate: Gate, customer_id: str, at: datetime, campaign_id: str | None, **fields: object
) -> None:
    answer = gate.check(command(customer_id, campaign_id=campaign_id, **fields), ACTOR, at).answer
    assert answer.decision == "allow"


@pytest.fixture
def customer_pk(gate: Gate, customers: CustomerFactory, engine: Engine) -> int:
    """A customer with two campaigns and a plain contact long ago, and one an hour ago; and
    two service messages (which count toward no limit) within the hour, one a campaign's."""
    customer_id = customers.create(("ES",))
    customers.consent(customer_id, "marketing", captured_at=LONG_AGO - timedelta(days=1))
    customers.prefer(customer_id, "email", status=PreferenceStatus.OPTED_IN)
    _check(gate, customer_id, LONG_AGO, "spring")
    _check(gate, customer_id, LONG_AGO, "summer")
    _check(gate, customer_id, LONG_AGO, None)
    _check(gate, customer_id, NOW - timedelta(hours=1), None)
    _check(gate, customer_id, NOW - timedelta(minutes=30), None, **SERVICE)
    _check(gate, customer_id, NOW - timedelta(minutes=20), "notice", **SERVICE)
    with transaction(engine) as conn:
        found = select(customers_table.c.pk).where(customers_table.c.external_id == customer_id)
        return int(conn.execute(found).scalar_one())


def _read_everywhere(
    engine: Engine, pk: int, campaign_id: str | None
) -> dict[str, list[Reservation]]:
    """The same read through each transaction the store has: the writer's on SQLite; psycopg,
    asyncpg alone and asyncpg batched on PostgreSQL."""
    if engine.dialect.name == "sqlite":
        conn = sqlite3.connect(str(engine.url.database))
        try:
            return {"sqlite": SqliteTransaction(conn.cursor()).reservations(pk, SINCE, campaign_id)}
        finally:
            conn.close()
    with postgres_transaction(engine) as tx:
        read = {"psycopg": tx.reservations(pk, SINCE, campaign_id)}
    return read | asyncio.run(_read_async(engine, LoadHistory(pk, SINCE, campaign_id, None)))


async def _read_async(engine: Engine, step: LoadHistory) -> dict[str, list[Reservation]]:
    conn = await asyncpg.connect(**connect_arguments(engine.url))
    try:
        alone, _ = await AsyncPostgresTransaction(conn).history(step)  # type: ignore[arg-type]
        batched = await BatchPostgresTransaction(conn).history_many([step])  # type: ignore[arg-type]
        return {"asyncpg": alone, "asyncpg batch": batched[0][0]}
    finally:
        await conn.close()


def _seen(read: dict[str, list[Reservation]]) -> dict[str, list[tuple[datetime, str | None, bool]]]:
    return {
        where: sorted(((r.send_at, r.campaign_id, r.counts) for r in found), key=str)
        for where, found in read.items()
    }


def test_a_plain_check_reads_only_what_counts_in_its_window(
    engine: Engine, customer_pk: int
) -> None:
    """Service messages were read too, though they count toward nothing: with a yearly
    limit, a customer's thousands of one-time-code SMS on every check."""
    for where, found in _seen(_read_everywhere(engine, customer_pk, None)).items():
        assert found == [(NOW - timedelta(hours=1), None, True)], where


def test_a_campaign_check_reads_its_own_service_messages_in_the_window(
    engine: Engine, customer_pk: int
) -> None:
    expected = sorted(
        [(NOW - timedelta(hours=1), None, True), (NOW - timedelta(minutes=20), "notice", False)],
        key=str,
    )
    for where, found in _seen(_read_everywhere(engine, customer_pk, "notice")).items():
        assert found == expected, where


def test_a_service_campaign_in_the_window_is_still_a_duplicate(
    gate: Gate, engine: Engine, customer_pk: int
) -> None:
    assert _rules_again(gate, engine, customer_pk, "notice", **SERVICE) == ["gate.duplicate"]


def test_each_store_reads_reservations_with_the_vocabularys_members(
    engine: Engine, customer_pk: int
) -> None:
    """Built a row at a time without Reservation's own __new__: still Reservations, with
    enum members (not the column's text) and aware UTC times."""
    for where, found in _read_everywhere(engine, customer_pk, "spring").items():
        assert found, where
        for booked in found:
            assert type(booked) is Reservation, where
            assert len(booked) == len(Reservation._fields), "a field added but not read"
            assert booked.channel is Channel.EMAIL, where
            assert booked.purpose is Purpose.MARKETING, where
            assert booked.send_at.utcoffset() == timedelta(0), where


def test_a_campaign_check_also_reads_its_own_campaign_however_old(
    engine: Engine, customer_pk: int
) -> None:
    expected = sorted(
        [(LONG_AGO, "spring", False), (NOW - timedelta(hours=1), None, True)], key=str
    )
    for where, found in _seen(_read_everywhere(engine, customer_pk, "spring")).items():
        assert found == expected, where


def test_a_campaign_that_reached_the_customer_long_ago_is_still_a_duplicate(
    gate: Gate, engine: Engine, customer_pk: int
) -> None:
    assert _rules_again(gate, engine, customer_pk, "spring") == ["gate.duplicate"]


def _rules_again(
    gate: Gate, engine: Engine, customer_pk: int, campaign_id: str, **fields: object
) -> list[str]:
    """The rules against the customer's campaign sent once more, now."""
    with transaction(engine) as conn:
        found = select(customers_table.c.external_id).where(customers_table.c.pk == customer_pk)
        customer_id = str(conn.execute(found).scalar_one())
    again = command(customer_id, campaign_id=campaign_id, **fields)
    return [reason.rule for reason in gate.check(again, ACTOR, NOW).answer.reasons]


def test_sqlite_reads_two_index_ranges_and_scans_nothing(sqlite_url: str) -> None:
    """The window from the history index alone; the campaign's entry by its own key."""
    migrated_engine(sqlite_url).dispose()
    conn = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    try:
        explain = f"EXPLAIN QUERY PLAN {SQLITE_RESERVATIONS_SQL}"
        plan = [row[3] for row in conn.execute(explain, (1, "2026-11-25 11:00:00", "spring"))]
    finally:
        conn.close()
    searches = [step for step in plan if step.startswith(("SEARCH", "SCAN"))]
    assert len(searches) == 2, plan
    window = "COVERING INDEX ix_checks_customer_history (customer_pk=? AND send_at>?)"
    assert window in searches[0], plan
    assert "uq_checks_live_campaign (customer_pk=? AND campaign_id=?)" in searches[1], plan
