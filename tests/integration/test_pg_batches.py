"""Checks that wait together on PostgreSQL run in one transaction, and decide as if alone.

A differential test: two identical sets of customers, the same checks; one set's checks run
one at a time, the other's pile up behind a locked customer and run as one batch. Every
decision, rule, replay and error must be the same.
"""

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from sqlalchemy import Engine, func, select, text

from audit.entry import Actor
from consent.crypto import KeyRing
from consent.errors import StoreUnavailableError
from consent.gate import CheckCommand, CheckResult, Gate, GateSettings
from consent.outcomes import record_outcome
from consent.store.async_postgres import AsyncPostgresRunner, connect_arguments
from consent.store.pg_batch import BatchPostgresTransaction
from consent.store.schema import checks
from consent.store.steps import Begin, Record
from consent.suppression import LISTA_ROBINSON, NATIONAL_DNC
from policy.engine import PolicyEngine
from policy.vocabulary import Channel, PreferenceStatus, Purpose, Source
from tests.conftest import CustomerFactory, SuppressionLists
from tests.stores import migrated_engine, postgres_url

ACTOR = Actor("crm", "crm_service")
ES_PHONE, ES_LISTED = "+34600000101", "+34600000102"
US_PHONE, US_LISTED = "+12145550101", "+12145550102"
FR_PHONE = "+33145670101"


@pytest.fixture(scope="module")
def pg_engine(postgres_schema: str) -> Iterator[Engine]:
    engine = migrated_engine(postgres_url(postgres_schema))
    yield engine
    engine.dispose()


@pytest.fixture
def one_batch_gate(pg_engine: Engine, policy: PolicyEngine, keyring: KeyRing) -> Gate:
    """A gate whose PostgreSQL runner keeps one transaction at a time: the rest wait."""
    gate = Gate(pg_engine, policy, keyring, GateSettings())
    gate._async_runner = AsyncPostgresRunner(pg_engine, max_batches=1)  # type: ignore[assignment]
    return gate


@dataclass
class World:
    """One set of customers, and the checks to run for them."""

    commands: list[CheckCommand]  # commands[-2]'s key is used once before they run
    holder: str  # a customer of its own, for locking


def _command(
    customer_id: str, channel: Channel | None, purpose: Purpose, **kw: Any
) -> CheckCommand:
    source = kw.pop("source", Source.CAMPAIGN)
    return CheckCommand(
        customer_id=customer_id, channel=channel, purpose=purpose, source=source,
        idempotency_key=kw.pop("key", uuid.uuid4().hex), **kw,
    )  # fmt: skip


def _called_in_france(factory: CustomerFactory, policy: PolicyEngine) -> str:
    """A consumer in France called four times in a week, the first call reported failed:
    an attempt that France's cap still counts, though the slot is given back."""
    customer_id = factory.create(("FR",), time_zone="Europe/Paris", email=None, phone=FR_PHONE)
    factory.opted_in_marketing(customer_id, channel="phone")
    gate = Gate(factory.engine, policy, factory.keyring, GateSettings())
    try:
        calls = [
            gate.check(_french_call(customer_id, day), ACTOR, datetime.now(UTC)).answer
            for day in (10, 11, 12, 13)
        ]
    finally:
        gate.close()
    assert all(answer.decision == "allow" for answer in calls)
    record_outcome(factory.engine, calls[0].check_id, "failed", ACTOR, datetime.now(UTC))
    return customer_id


def _french_call(customer_id: str, day: int) -> CheckCommand:
    """11:00 in Paris, Monday 10 to Friday 14 March 2031: inside France's calling hours."""
    at = datetime(2031, 3, day, 11, tzinfo=ZoneInfo("Europe/Paris"))
    return _command(
        customer_id, Channel.PHONE, Purpose.MARKETING, source=Source.TELEMARKETING,
        send_at=at, automated=False,
    )  # fmt: skip


def _world(factory: CustomerFactory, policy: PolicyEngine) -> World:
    """Customers with every kind of answer: consent missing, a limit of one, listed and not
    listed (Lista Robinson, the national do-not-call registry), opted out, unknown, a
    fifth call in France after four attempts."""
    no_consent = factory.create(("ES",))
    limited = factory.create(("ES",))
    factory.consent(limited, "marketing")
    factory.one_email_a_day(limited)
    es_clear = factory.create(("ES",), email=None, phone=ES_PHONE)
    es_listed = factory.create(("ES",), email=None, phone=ES_LISTED)
    us_clear = factory.create(("US-TX",), time_zone="America/Chicago", email=None, phone=US_PHONE)
    us_listed = factory.create(("US-TX",), time_zone="America/Chicago", email=None, phone=US_LISTED)
    for customer in (us_clear, us_listed):
        factory.written_marketing(customer)
    opted_out = factory.create(("ES",))
    factory.prefer(opted_out, "email", status=PreferenceStatus.OPTED_OUT)
    called_in_france = _called_in_france(factory, policy)
    replayed_key = uuid.uuid4().hex
    phone = Channel.PHONE
    commands = [
        _command(no_consent, Channel.EMAIL, Purpose.MARKETING),
        _command(limited, Channel.EMAIL, Purpose.MARKETING),
        _command(limited, Channel.EMAIL, Purpose.MARKETING),  # the second of the day
        _command(es_clear, phone, Purpose.MARKETING, source=Source.TELEMARKETING),
        _command(es_listed, phone, Purpose.MARKETING, source=Source.TELEMARKETING),
        _command(us_clear, phone, Purpose.MARKETING, source=Source.TELEMARKETING),
        _command(us_listed, phone, Purpose.MARKETING, source=Source.TELEMARKETING),
        _command(f"C-unknown-{uuid.uuid4().hex[:8]}", Channel.EMAIL, Purpose.MARKETING),
        _command(opted_out, Channel.EMAIL, Purpose.MARKETING),
        _command(opted_out, Channel.EMAIL, Purpose.SERVICE, source=Source.TRANSACTIONAL),
        _french_call(called_in_france, 14),
        _command(es_clear, Channel.SMS, Purpose.SERVICE, key=replayed_key),  # a retry
        _command(es_clear, Channel.SMS, Purpose.MARKETING, key=replayed_key),  # key reused: 409
    ]
    return World(commands, factory.create(("ES",)))


def _lists(suppression: SuppressionLists) -> None:
    today = datetime.now(UTC).date()
    suppression.load(LISTA_ROBINSON, today, phones=(ES_LISTED,))
    suppression.load(NATIONAL_DNC, today, phones=(US_LISTED,))


def _summary(outcome: CheckResult | BaseException) -> tuple[Any, ...]:
    if isinstance(outcome, BaseException):
        return ("error", type(outcome).__name__)
    answer = outcome.answer
    return (str(answer.decision), tuple(r.rule for r in answer.reasons), outcome.replayed)


async def _alone(gate: Gate, world: World, now: datetime) -> list[CheckResult | BaseException]:
    results: list[CheckResult | BaseException] = []
    for command in world.commands:
        try:
            results.append(await gate.check_async(command, ACTOR, now))
        except Exception as exc:
            results.append(exc)
    return results


async def _together(
    gate: Gate, engine: Engine, world: World, now: datetime
) -> list[CheckResult | BaseException]:
    """The checks queue behind a check whose customer another transaction holds."""
    holding = _command(world.holder, Channel.EMAIL, Purpose.SERVICE, source=Source.TRANSACTIONAL)
    with engine.connect() as holder:
        holder.execute(
            text("SELECT pk FROM customers WHERE external_id = :c FOR UPDATE"),
            {"c": world.holder},
        )
        first = asyncio.ensure_future(gate.check_async(holding, ACTOR, now))
        await asyncio.sleep(0.2)  # the one transaction waits for the lock
        pending = [
            asyncio.ensure_future(gate.check_async(command, ACTOR, now))
            for command in world.commands
        ]
        await asyncio.sleep(0.2)
        assert not any(p.done() for p in (first, *pending))
        holder.rollback()
    await first
    return list(await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), 30))


def _batch_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sizes: list[int] = []
    recorded = BatchPostgresTransaction.record_many

    async def counted(self: BatchPostgresTransaction, steps: list[Record]) -> list[int]:
        sizes.append(len(steps))
        return await recorded(self, steps)

    monkeypatch.setattr(BatchPostgresTransaction, "record_many", counted)
    return sizes


def test_checks_run_together_decide_as_they_would_alone(
    pg_engine: Engine,
    one_batch_gate: Gate,
    keyring: KeyRing,
    policy: PolicyEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    factory = CustomerFactory(pg_engine, keyring)
    _lists(SuppressionLists(pg_engine, keyring))
    alone, together = _world(factory, policy), _world(factory, policy)
    sizes = _batch_sizes(monkeypatch)
    now = datetime.now(UTC)

    async def scenario() -> tuple[list[Any], list[Any]]:
        await one_batch_gate.open_async()
        try:
            for world in (alone, together):  # the key that the retry reuses, used once
                await one_batch_gate.check_async(world.commands[-2], ACTOR, now)
            first = await _alone(one_batch_gate, alone, now)
            return first, await _together(one_batch_gate, pg_engine, together, now)
        finally:
            await one_batch_gate.close_async()

    one_by_one, batched = asyncio.run(scenario())
    assert [_summary(r) for r in batched] == [_summary(r) for r in one_by_one]
    assert max(sizes) >= 8  # most of them went in one transaction
    decisions = [_summary(r)[0] for r in one_by_one]
    assert "allow" in decisions
    assert "deny" in decisions
    assert _summary(one_by_one[-3]) == ("deny", ("fr.d223_9.calls_per_30_days",), False)
    assert _summary(one_by_one[-2])[2] is True  # the retry was replayed
    assert _summary(one_by_one[-1]) == ("error", "IdempotencyConflictError")


def test_a_batch_that_fails_on_a_constraint_runs_its_checks_one_by_one(
    pg_engine: Engine,
    one_batch_gate: Gate,
    keyring: KeyRing,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As when a twin in another transaction took a key first: nothing is counted twice."""
    factory = CustomerFactory(pg_engine, keyring)
    world = World(
        [
            _command(factory.create(("ES",)), Channel.EMAIL, Purpose.SERVICE,
                     source=Source.TRANSACTIONAL)
            for _ in range(6)
        ],
        factory.create(("ES",)),
    )  # fmt: skip
    recorded = BatchPostgresTransaction.record_many
    failures: list[int] = []

    async def fails_once(self: BatchPostgresTransaction, steps: list[Record]) -> list[int]:
        if not failures:
            failures.append(len(steps))
            await recorded(self, steps)  # written, then refused: the batch must roll back
            raise asyncpg.UniqueViolationError("a twin took the key")
        return await recorded(self, steps)

    monkeypatch.setattr(BatchPostgresTransaction, "record_many", fails_once)

    async def scenario() -> list[CheckResult | BaseException]:
        await one_batch_gate.open_async()
        try:
            return await _together(one_batch_gate, pg_engine, world, datetime.now(UTC))
        finally:
            await one_batch_gate.close_async()

    results = asyncio.run(scenario())
    assert failures == [6]
    assert all(isinstance(r, CheckResult) and not r.replayed for r in results)
    keys = [command.idempotency_key for command in world.commands]
    with pg_engine.connect() as conn:
        rows = conn.execute(
            select(func.count()).where(checks.c.idempotency_key.in_(keys))
        ).scalar_one()
    assert rows == len(keys)  # each once: the batch's own inserts were rolled back


def test_a_check_that_waits_past_the_store_timeout_for_a_transaction_fails_closed(
    pg_engine: Engine, policy: PolicyEngine, keyring: KeyRing
) -> None:
    """The one transaction is stuck (its customer held elsewhere): the next check is a 503
    after the store timeout, not a wait without end; the stuck one still finishes."""
    factory = CustomerFactory(pg_engine, keyring)
    held, other = factory.create(("ES",)), factory.create(("ES",))
    gate = Gate(pg_engine, policy, keyring, GateSettings())
    gate._async_runner = AsyncPostgresRunner(pg_engine, max_batches=1, timeout=0.5)  # type: ignore[assignment]
    now = datetime.now(UTC)

    def service(customer_id: str) -> CheckCommand:
        return _command(customer_id, Channel.EMAIL, Purpose.SERVICE, source=Source.TRANSACTIONAL)

    async def scenario() -> tuple[CheckResult, BaseException | None, float]:
        await gate.open_async()
        try:
            with pg_engine.connect() as holder:
                holder.execute(
                    text("SELECT pk FROM customers WHERE external_id = :c FOR UPDATE"), {"c": held}
                )
                stuck = asyncio.ensure_future(gate.check_async(service(held), ACTOR, now))
                await asyncio.sleep(0.1)
                started = asyncio.get_running_loop().time()
                try:  # bounded here too, so that a runner without the timeout fails, not hangs
                    await asyncio.wait_for(gate.check_async(service(other), ACTOR, now), 5)
                    error = None
                except (StoreUnavailableError, TimeoutError) as exc:
                    error = exc
                waited = asyncio.get_running_loop().time() - started
                assert not stuck.done()
                holder.rollback()
            return await asyncio.wait_for(stuck, 10), error, waited
        finally:
            await gate.close_async()

    finished, error, waited = asyncio.run(scenario())
    assert isinstance(error, StoreUnavailableError)
    assert 0.4 <= waited < 3.0
    assert str(finished.answer.decision) == "allow"


async def _until_waiting_for_a_lock(watch: "asyncpg.Connection[Any]", pid: int) -> None:
    for _ in range(200):
        waiting = await watch.fetchval(
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid
        )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"session {pid} never waited for a lock")


def test_two_batches_that_share_customers_lock_them_in_one_order(
    pg_engine: Engine, keyring: KeyRing
) -> None:
    """A batch locks its customers in one statement. Two batches taking the same two in
    opposite orders could each hold one and wait for the other: a deadlock, and a batch
    run again one by one. The moment is built here: two sessions hold the customers' rows,
    batch A (checks for `one`, `two`) and then batch B (for `two`, `one`) queue behind them,
    and the holders let go of `one`, then of `two`. Taking each batch's own order, A would
    hold `one` and B `two`, each waiting for the other."""
    factory = CustomerFactory(pg_engine, keyring)
    one, two = sorted(factory.create(("ES",)) for _ in range(2))

    async def begin(conn: "asyncpg.Connection[Any]", order: tuple[str, str]) -> list[Any]:
        async with conn.transaction():
            steps = [Begin(customer, "crm", uuid.uuid4().hex) for customer in order]
            return await BatchPostgresTransaction(conn).begin_many(steps)  # type: ignore[arg-type]

    async def scenario() -> list[Any]:
        arguments = connect_arguments(pg_engine.url)
        holders = [await asyncpg.connect(**arguments) for _ in range(2)]
        a, b, watch = [await asyncpg.connect(**arguments) for _ in range(3)]
        try:
            for holder, customer in zip(holders, (one, two), strict=True):
                await holder.execute("BEGIN")
                await holder.execute(
                    "SELECT 1 FROM customers WHERE external_id = $1 FOR UPDATE", customer
                )
            first = asyncio.ensure_future(begin(a, (one, two)))
            await _until_waiting_for_a_lock(watch, a.get_server_pid())
            second = asyncio.ensure_future(begin(b, (two, one)))
            await _until_waiting_for_a_lock(watch, b.get_server_pid())
            await holders[0].execute("ROLLBACK")
            await asyncio.sleep(0.1)  # A takes `one`, and waits for `two`
            await holders[1].execute("ROLLBACK")
            return list(
                await asyncio.wait_for(asyncio.gather(first, second, return_exceptions=True), 10)
            )
        finally:
            for conn in (*holders, a, b, watch):
                await conn.close()

    results = asyncio.run(scenario())
    assert not [r for r in results if isinstance(r, BaseException)], results
    for found in results:  # each batch found both customers
        assert all(state is not None for state, _ in found), found
