"""Checks decided while another worker holds the SQLite lock are confirmed before they count.

When the writers' lock is taken, the runner decides the waiting checks on a snapshot and,
once it has the lock, reads the same things again: a check whose inputs changed is decided
afresh. These tests hold the lock from "another worker" to force that path.
"""

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from audit.entry import Actor
from consent.crypto import KeyRing
from consent.errors import IdempotencyConflictError
from consent.gate import CheckCommand, CheckResult, Gate, GateSettings
from consent.preferences import PreferenceStatus
from consent.store.runners import WriterStore
from policy.engine import PolicyEngine
from policy.vocabulary import Channel, Decision, Purpose, Source
from tests.conftest import CustomerFactory, SuppressionLists
from tests.integration.test_gate import command
from tests.stores import migrated_engine

ACTOR = Actor("crm", "crm_service")
NOW = datetime(2026, 11, 26, 11, tzinfo=UTC)  # 12:00 in Madrid


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = migrated_engine(f"sqlite:///{tmp_path / 'prepared.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def factory(sqlite_engine: Engine, keyring: KeyRing) -> CustomerFactory:
    return CustomerFactory(sqlite_engine, keyring)


async def _while_locked(
    sqlite_engine: Engine, gate: Gate, commands: list[CheckCommand], meanwhile: object = None
) -> list[Decision]:
    """Submit the checks while another worker holds the lock; release it; their decisions."""
    other = WriterStore.open(str(sqlite_engine.url.database))
    assert other.try_lock()
    try:
        pending = [asyncio.ensure_future(gate.check_async(c, ACTOR, NOW)) for c in commands]
        for _ in range(5):  # the batch is prepared and waits for the lock
            await asyncio.sleep(0.01)
        assert not any(p.done() for p in pending)
        if callable(meanwhile):
            meanwhile()
        other.unlock()
        results = await asyncio.wait_for(asyncio.gather(*pending), 10)
    finally:
        other.close()
        await gate.close_async()
    return [r.answer.decision for r in results]


def test_checks_prepared_together_still_take_the_last_slot_once(
    sqlite_engine: Engine, policy: PolicyEngine, keyring: KeyRing, factory: CustomerFactory
) -> None:
    customer_id = factory.create(("ES",))
    factory.opted_in_marketing(customer_id)
    factory.one_email_a_day(customer_id)
    gate = Gate(sqlite_engine, policy, keyring, GateSettings())
    commands = [command(customer_id) for _ in range(8)]
    decisions = asyncio.run(_while_locked(sqlite_engine, gate, commands))
    assert decisions.count(Decision.ALLOW) == 1
    assert decisions.count(Decision.DENY) == 7


def test_an_opt_out_while_the_check_waited_for_the_lock_is_honoured(
    sqlite_engine: Engine, policy: PolicyEngine, keyring: KeyRing, factory: CustomerFactory
) -> None:
    customer_id = factory.create(("ES",))
    factory.opted_in_marketing(customer_id)
    gate = Gate(sqlite_engine, policy, keyring, GateSettings())

    def opt_out() -> None:  # the portal path, between the snapshot and the lock
        factory.prefer(customer_id, "email", status=PreferenceStatus.OPTED_OUT)

    decisions = asyncio.run(_while_locked(sqlite_engine, gate, [command(customer_id)], opt_out))
    assert decisions == [Decision.DENY]


def test_a_number_put_on_the_registry_while_the_check_waited_is_honoured(
    sqlite_engine: Engine, policy: PolicyEngine, keyring: KeyRing, factory: CustomerFactory
) -> None:
    number = "+12125550100"
    customer_id = factory.create(("US-NY",), time_zone="America/New_York", phone=number)
    factory.prefer(customer_id, "phone", status=PreferenceStatus.OPTED_IN)
    registry = SuppressionLists(sqlite_engine, keyring)
    registry.load("national_dnc", NOW.date(), phones=("+12125550101",))
    call = CheckCommand(
        customer_id=customer_id,
        channel=Channel.PHONE,
        purpose=Purpose.MARKETING,
        source=Source.TELEMARKETING,
        idempotency_key=uuid.uuid4().hex,
        send_at=datetime(2026, 11, 26, 17, tzinfo=UTC),  # noon in New York
        automated=False,
    )
    gate = Gate(sqlite_engine, policy, keyring, GateSettings())

    def listed() -> None:  # a new copy of the registry, between the snapshot and the lock
        registry.load("national_dnc", NOW.date(), phones=(number,))

    decisions = asyncio.run(_while_locked(sqlite_engine, gate, [call], listed))
    assert decisions == [Decision.DENY]


def test_a_prepared_check_with_nothing_changed_is_allowed(
    sqlite_engine: Engine, policy: PolicyEngine, keyring: KeyRing, factory: CustomerFactory
) -> None:
    customer_ids = [factory.create(("ES",)) for _ in range(3)]
    for customer_id in customer_ids:
        factory.opted_in_marketing(customer_id)
    gate = Gate(sqlite_engine, policy, keyring, GateSettings())
    commands = [command(customer_id) for customer_id in customer_ids]
    decisions = asyncio.run(_while_locked(sqlite_engine, gate, commands))
    assert decisions == [Decision.ALLOW] * 3


def test_retries_prepared_while_locked_replay_or_conflict_as_usual(
    sqlite_engine: Engine, policy: PolicyEngine, keyring: KeyRing, factory: CustomerFactory
) -> None:
    customer_id = factory.create(("ES",))
    factory.opted_in_marketing(customer_id)
    gate = Gate(sqlite_engine, policy, keyring, GateSettings())
    first = command(customer_id)
    asyncio.run(_checked(gate, first))  # on record before the contention
    other = WriterStore.open(str(sqlite_engine.url.database))
    assert other.try_lock()

    async def retries() -> list[object]:
        gate_again = Gate(sqlite_engine, policy, keyring, GateSettings())
        try:
            pending = [
                asyncio.ensure_future(gate_again.check_async(first, ACTOR, NOW)),
                asyncio.ensure_future(
                    gate_again.check_async(replace(first, channel=Channel.SMS), ACTOR, NOW)
                ),
            ]
            await asyncio.sleep(0.05)
            other.unlock()
            return await asyncio.gather(*pending, return_exceptions=True)
        finally:
            await gate_again.close_async()

    try:
        replayed, conflict = asyncio.run(retries())
    finally:
        other.close()
    assert isinstance(replayed, CheckResult)
    assert replayed.replayed
    assert isinstance(conflict, IdempotencyConflictError)


async def _checked(gate: Gate, command: CheckCommand) -> CheckResult:
    try:
        return await gate.check_async(command, ACTOR, NOW)
    finally:
        await gate.close_async()
