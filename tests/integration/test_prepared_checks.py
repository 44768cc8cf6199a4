"""Checks decided while another worker holds the SQLite lock are confirmed before they count.

When the writers' lock is taken, the runner decides the waiting checks on a snapshot and,
once it has the lock, asks what other writers committed since (``snapshot_changes.py``):
a check whose customer or key was touched, or any check after another audited change,
reads its rows again and is decided afresh if they differ. These tests hold the lock from
"another worker", and write as that worker or as the portal meanwhile, to force that path.
"""

import asyncio
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from datetime import UTC, datetime
from typing import TypeVar

import pytest
from sqlalchemy import Engine

from audit.entry import Actor
from consent.crypto import KeyRing
from consent.errors import IdempotencyConflictError
from consent.gate import CheckCommand, CheckResult, Gate, GateSettings
from consent.preferences import PreferenceStatus
from consent.store.runners import Work, WriterStore, commit_or_roll_back, run_begun
from consent.store.snapshot_changes import SnapshotChanges, watermark
from consent.store.steps import Begin
from policy.engine import PolicyEngine
from policy.vocabulary import Channel, Decision, Purpose, Source
from tests.conftest import CustomerFactory, SuppressionLists
from tests.integration.test_gate import command

T = TypeVar("T")
ACTOR = Actor("crm", "crm_service")
NOW = datetime(2026, 11, 26, 11, tzinfo=UTC)  # 12:00 in Madrid


@pytest.fixture
def factory(sqlite_engine: Engine, keyring: KeyRing) -> CustomerFactory:
    return CustomerFactory(sqlite_engine, keyring)


@pytest.fixture
def gate(sqlite_engine: Engine, policy: PolicyEngine, keyring: KeyRing) -> Gate:
    return Gate(sqlite_engine, policy, keyring, GateSettings())


async def _while_locked(
    sqlite_engine: Engine,
    gate: Gate,
    commands: list[CheckCommand],
    meanwhile: Callable[[WriterStore], object] | None = None,
) -> list[CheckResult]:
    """Submit the checks while another worker holds the lock (``meanwhile`` writes as that
    worker, or as the portal); release it; the answers."""
    other = WriterStore.open(str(sqlite_engine.url.database))
    assert other.try_lock()
    try:
        pending = [asyncio.ensure_future(gate.check_async(c, ACTOR, NOW)) for c in commands]
        for _ in range(5):  # the batch is prepared and waits for the lock
            await asyncio.sleep(0.01)
        assert not any(p.done() for p in pending)
        if meanwhile is not None:
            meanwhile(other)
        other.unlock()
        return await asyncio.wait_for(asyncio.gather(*pending), 10)
    finally:
        other.close()
        await gate.close_async()


def _decisions(results: list[CheckResult]) -> list[str]:
    return [r.answer.decision for r in results]


class _OtherWorker:
    """Another worker's gate, writing on the connection that holds the writers' lock."""

    def __init__(self, store: WriterStore) -> None:
        self._conn = store.conn

    def submit(self, work: Work[T]) -> "Future[T]":
        self._conn.execute("BEGIN IMMEDIATE")
        [(result, error)] = run_begun(self._conn, [work])
        commit_or_roll_back(self._conn)
        future: Future[T] = Future()
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
        return future

    def close(self) -> None:
        """The connection is the test's."""


OtherWorker = Callable[[CheckCommand], Callable[[WriterStore], CheckResult]]


@pytest.fixture
def other_worker(sqlite_engine: Engine, policy: PolicyEngine, keyring: KeyRing) -> OtherWorker:
    """``other_worker(command)``: a ``meanwhile`` that checks it as the lock's holder."""

    def meanwhile(command: CheckCommand) -> Callable[[WriterStore], CheckResult]:
        def check(store: WriterStore) -> CheckResult:
            runner = _OtherWorker(store)
            return Gate(sqlite_engine, policy, keyring, GateSettings(), runner).check(
                command, ACTOR, NOW
            )

        return check

    return meanwhile


def _willing(factory: CustomerFactory, *, one_a_day: bool = False) -> str:
    """A Spanish customer who takes marketing email (at most one a day, if so)."""
    customer_id = factory.create(("ES",))
    factory.opted_in_marketing(customer_id)
    if one_a_day:
        factory.one_email_a_day(customer_id)
    return customer_id


def test_checks_prepared_together_still_take_the_last_slot_once(
    sqlite_engine: Engine, gate: Gate, factory: CustomerFactory
) -> None:
    customer_id = _willing(factory, one_a_day=True)
    commands = [command(customer_id) for _ in range(8)]
    decisions = _decisions(asyncio.run(_while_locked(sqlite_engine, gate, commands)))
    assert decisions.count(Decision.ALLOW) == 1
    assert decisions.count(Decision.DENY) == 7


def test_an_opt_out_while_the_check_waited_for_the_lock_is_honoured(
    sqlite_engine: Engine, gate: Gate, factory: CustomerFactory
) -> None:
    customer_id = _willing(factory)

    def opt_out(_: WriterStore) -> None:  # the portal path, between the snapshot and the lock
        factory.prefer(customer_id, "email", status=PreferenceStatus.OPTED_OUT)

    results = asyncio.run(_while_locked(sqlite_engine, gate, [command(customer_id)], opt_out))
    assert _decisions(results) == [Decision.DENY]


def test_a_number_put_on_the_registry_while_the_check_waited_is_honoured(
    sqlite_engine: Engine, keyring: KeyRing, gate: Gate, factory: CustomerFactory
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

    def listed(_: WriterStore) -> None:  # a new copy of the registry, meanwhile
        registry.load("national_dnc", NOW.date(), phones=(number,))

    results = asyncio.run(_while_locked(sqlite_engine, gate, [call], listed))
    assert _decisions(results) == [Decision.DENY]


def test_a_prepared_check_with_nothing_changed_is_allowed(
    sqlite_engine: Engine, gate: Gate, factory: CustomerFactory
) -> None:
    customer_ids = [_willing(factory) for _ in range(3)]
    commands = [command(customer_id) for customer_id in customer_ids]
    decisions = _decisions(asyncio.run(_while_locked(sqlite_engine, gate, commands)))
    assert decisions == [Decision.ALLOW] * 3


def test_the_other_workers_check_of_the_same_customer_takes_the_last_slot_first(
    sqlite_engine: Engine, gate: Gate, factory: CustomerFactory, other_worker: OtherWorker
) -> None:
    customer_id = _willing(factory, one_a_day=True)
    bystander = _willing(factory)
    theirs = other_worker(command(customer_id))
    ours = [command(bystander), command(customer_id)]
    results = asyncio.run(_while_locked(sqlite_engine, gate, ours, theirs))
    assert _decisions(results) == [Decision.ALLOW, Decision.DENY]
    assert "frequency" in results[1].answer.reasons[0].rule


def test_the_other_workers_checks_of_other_customers_leave_the_decisions_standing(
    sqlite_engine: Engine, gate: Gate, factory: CustomerFactory, other_worker: OtherWorker
) -> None:
    ours_ids = [_willing(factory, one_a_day=True) for _ in range(3)]
    theirs_id = _willing(factory, one_a_day=True)
    theirs = other_worker(command(theirs_id))
    ours = [command(customer_id) for customer_id in ours_ids]
    results = asyncio.run(_while_locked(sqlite_engine, gate, ours, theirs))
    assert _decisions(results) == [Decision.ALLOW] * 3


def test_a_retry_the_other_worker_answered_meanwhile_is_replayed(
    sqlite_engine: Engine, gate: Gate, factory: CustomerFactory, other_worker: OtherWorker
) -> None:
    customer_id = _willing(factory)
    retried = command(customer_id)
    answered: list[CheckResult] = []

    def first_try(store: WriterStore) -> None:
        answered.append(other_worker(retried)(store))

    [result] = asyncio.run(_while_locked(sqlite_engine, gate, [retried], first_try))
    assert result.replayed
    assert result.document == answered[0].document


def test_retries_prepared_while_locked_replay_or_conflict_as_usual(
    sqlite_engine: Engine,
    policy: PolicyEngine,
    keyring: KeyRing,
    gate: Gate,
    factory: CustomerFactory,
) -> None:
    customer_id = _willing(factory)
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


def test_a_key_the_other_worker_used_meanwhile_for_another_customer_is_a_conflict(
    sqlite_engine: Engine, gate: Gate, factory: CustomerFactory, other_worker: OtherWorker
) -> None:
    first, second = _willing(factory), _willing(factory)
    theirs = command(first)
    ours = replace(theirs, customer_id=second)  # the same key, another body
    meanwhile = other_worker(theirs)
    with pytest.raises(IdempotencyConflictError):
        asyncio.run(_while_locked(sqlite_engine, gate, [ours], meanwhile))


def test_what_changed_since_a_snapshot_names_the_checks_that_must_read_again(
    sqlite_engine: Engine, factory: CustomerFactory, other_worker: OtherWorker
) -> None:
    touched, untouched = _willing(factory), factory.create(("ES",))
    store = WriterStore.open(str(sqlite_engine.url.database))
    try:
        since = watermark(store.conn.cursor())
        theirs = command(touched)
        other_worker(theirs)(store)
        changes = SnapshotChanges()
        changes.read(store.conn.cursor(), since)
        assert changes.holds(Begin(untouched, ACTOR.name, "a-new-key"))
        assert not changes.holds(Begin(touched, ACTOR.name, "a-new-key"))
        assert not changes.holds(Begin(untouched, ACTOR.name, theirs.idempotency_key))
        assert changes.holds(Begin(untouched, "another-caller", theirs.idempotency_key))
        changes.wrote(Begin(untouched, ACTOR.name, "a-new-key"))
        assert not changes.holds(Begin(untouched, ACTOR.name, "another-new-key"))

        factory.opted_in_marketing(untouched)  # any other audited change: all read again
        changes = SnapshotChanges()
        changes.read(store.conn.cursor(), since)
        assert not changes.holds(Begin("nobody-touched", ACTOR.name, "a-third-key"))
    finally:
        store.close()


def test_nothing_holds_until_the_changes_are_read() -> None:
    assert not SnapshotChanges().holds(Begin("anyone", ACTOR.name, "any-key"))
