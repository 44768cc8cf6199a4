"""The PostgreSQL gate in the event loop: races that the row lock and unique key settle."""

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text

from audit.entry import Actor
from consent.crypto import KeyRing
from consent.gate import CheckCommand, CheckResult, Gate, GateSettings
from policy.engine import PolicyEngine
from policy.vocabulary import Channel, Purpose, Source
from tests.conftest import CustomerFactory
from tests.stores import migrated_engine, postgres_url

ACTOR = Actor("crm", "crm_service")


@pytest.fixture(scope="module")
def pg_engine(postgres_schema: str) -> Iterator[Engine]:
    engine = migrated_engine(postgres_url(postgres_schema))
    yield engine
    engine.dispose()


def test_twins_waiting_on_the_lock_are_one_check(
    pg_engine: Engine, policy: PolicyEngine, keyring: KeyRing
) -> None:
    """Both twins start while the customer is locked, so both look up the key before the
    first commits: the second's insert meets the unique key, and its retry replays."""
    factory = CustomerFactory(pg_engine, keyring)
    customer_id = factory.create(("ES",))
    command = CheckCommand(
        customer_id=customer_id,
        channel=Channel.EMAIL,
        purpose=Purpose.SERVICE,
        source=Source.TRANSACTIONAL,
        idempotency_key=uuid.uuid4().hex,
    )

    async def twins() -> list[CheckResult]:
        gate = Gate(pg_engine, policy, keyring, GateSettings())
        try:
            await gate.open_async()
            with pg_engine.connect() as holder:  # another transaction holds the customer
                holder.execute(
                    text("SELECT pk FROM customers WHERE external_id = :c FOR UPDATE"),
                    {"c": customer_id},
                )
                pending = [
                    asyncio.ensure_future(gate.check_async(command, ACTOR, datetime.now(UTC)))
                    for _ in range(2)
                ]
                await asyncio.sleep(0.3)  # both are waiting for the lock
                assert not any(p.done() for p in pending)
                holder.rollback()
            return list(await asyncio.wait_for(asyncio.gather(*pending), 10))
        finally:
            await gate.close_async()

    first, second = asyncio.run(twins())
    assert first.answer.check_id == second.answer.check_id
    assert sorted([first.replayed, second.replayed]) == [False, True]


def test_a_connection_goes_back_to_the_pool_without_a_reset_round_trip(
    pg_engine: Engine, policy: PolicyEngine, keyring: KeyRing
) -> None:
    """Each check's connection returns to the pool as it is: asyncpg's default reset (four
    statements, a round trip before every answer) is not sent; the checks still run."""
    factory = CustomerFactory(pg_engine, keyring)
    customer_id = factory.create(("ES",))
    sent: list[str] = []

    async def checks() -> list[CheckResult]:
        gate = Gate(pg_engine, policy, keyring, GateSettings(store_connections=1))
        try:
            await gate.open_async()
            pool = gate._async_runner._pool  # the one connection the checks use
            assert pool is not None
            async with pool.acquire() as conn:
                conn.add_query_logger(lambda logged: sent.append(logged.query))
            sent.clear()
            return [
                await gate.check_async(
                    CheckCommand(
                        customer_id=customer_id,
                        channel=Channel.EMAIL,
                        purpose=Purpose.SERVICE,
                        source=Source.TRANSACTIONAL,
                        idempotency_key=uuid.uuid4().hex,
                    ),
                    ACTOR,
                    datetime.now(UTC),
                )
                for _ in range(2)
            ]
        finally:
            await gate.close_async()

    results = asyncio.run(checks())
    assert [r.answer.decision for r in results] == ["allow", "allow"]
    assert any("FROM customers" in query for query in sent)  # the logger saw the checks
    assert not any("RESET ALL" in query or "UNLISTEN" in query for query in sent)
