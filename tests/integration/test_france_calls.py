"""France's calling hours and its four calls in 30 days through the gate, on both stores:
the counted calls are the customer's recorded checks, and a deny by the cap says when a
call is next allowed, on a day and at an hour the decree allows (C. consom. D. 223-9)."""

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from consent.answers import CheckAnswer
from consent.gate import CheckCommand, Gate
from consent.outcomes import record_outcome
from consent.preferences import Limit
from policy.periods import Period
from policy.vocabulary import Channel, PreferenceStatus, Purpose, Source
from tests.conftest import ACTOR, CustomerFactory

NOW = datetime(2026, 12, 7, 8, tzinfo=UTC)  # a Monday
PARIS = ZoneInfo("Europe/Paris")


def paris(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PARIS)


def call(customer_id: str, at: datetime) -> CheckCommand:
    return CheckCommand(
        customer_id=customer_id,
        purpose=Purpose.MARKETING,
        source=Source.TELEMARKETING,
        idempotency_key=uuid.uuid4().hex,
        channel=Channel.PHONE,
        send_at=at,
        automated=False,
    )


def french_customer(customers: CustomerFactory) -> str:
    """A consumer in France who consented to marketing calls."""
    phone = f"+3314567{uuid.uuid4().int % 10_000:04d}"
    customer_id = customers.create(("FR",), time_zone="Europe/Paris", email=None, phone=phone)
    customers.opted_in_marketing(customer_id, channel="phone")
    return customer_id


def test_a_fifth_call_in_30_days_waits_for_a_weekday_in_hours(
    gate: Gate, customers: CustomerFactory
) -> None:
    customer_id = french_customer(customers)
    # Thursday 10 December first: 30 days on is a Saturday.
    for day in (10, 11, 14, 15):
        answer = gate.check(call(customer_id, paris(date(2026, 12, day), 11)), ACTOR, NOW).answer
        assert answer.decision == "allow", answer.reasons
    fifth = gate.check(call(customer_id, paris(date(2026, 12, 16), 11)), ACTOR, NOW).answer
    assert [reason.rule for reason in fifth.reasons] == ["fr.d223_9.calls_per_30_days"]
    # The first call leaves the window on Saturday 9 January: the next call on Monday at 10.
    assert fifth.earliest_allowed_at == paris(date(2027, 1, 11), 10).astimezone(UTC)
    late = gate.check(call(customer_id, paris(date(2026, 12, 16), 21)), ACTOR, NOW).answer
    assert sorted(reason.rule for reason in late.reasons) == [
        "fr.d223_9.calling_hours",
        "fr.d223_9.calls_per_30_days",
    ]


@pytest.mark.parametrize(
    ("outcome", "fifth_call"), [("failed", ["fr.d223_9.calls_per_30_days"]), ("cancelled", [])]
)
def test_an_unanswered_call_reported_failed_is_still_an_attempt(
    gate: Gate, customers: CustomerFactory, engine: Engine, outcome: str, fifth_call: list[str]
) -> None:
    """The decree counts attempts: ``failed`` gives the slot back to the customer's own limits,
    not to the cap; only ``cancelled`` (never placed) frees it."""
    customer_id = french_customer(customers)
    first, *_ = [
        gate.check(call(customer_id, paris(date(2026, 12, day), 11)), ACTOR, NOW).answer
        for day in (10, 11, 14, 15)
    ]
    record_outcome(engine, first.check_id, outcome, ACTOR, NOW)
    fifth = gate.check(call(customer_id, paris(date(2026, 12, 16), 11)), ACTOR, NOW).answer
    assert [reason.rule for reason in fifth.reasons] == fifth_call


def in_a_thread(gate: Gate, command: CheckCommand) -> CheckAnswer:
    return gate.check(command, ACTOR, NOW).answer


def in_the_event_loop(gate: Gate, command: CheckCommand) -> CheckAnswer:
    """The service's own path: the async runner's statements (SQLite's or asyncpg's)."""

    async def once() -> CheckAnswer:
        await gate.open_async()
        try:
            return (await gate.check_async(command, ACTOR, NOW)).answer
        finally:
            await gate.close_async()

    return asyncio.run(once())


@pytest.mark.parametrize("decide", [in_a_thread, in_the_event_loop])
def test_a_failed_call_frees_the_customers_own_limit_but_not_the_cap(
    gate: Gate,
    customers: CustomerFactory,
    engine: Engine,
    decide: Callable[[Gate, CheckCommand], CheckAnswer],
) -> None:
    customer_id = french_customer(customers)
    one_a_day = (Limit(1, Period.parse("P1D")),)
    customers.prefer(customer_id, "phone", status=PreferenceStatus.OPTED_IN, limits=one_a_day)
    thursday = date(2026, 12, 10)
    morning = decide(gate, call(customer_id, paris(thursday, 11)))
    afternoon = paris(thursday, 15)
    held = decide(gate, replace(call(customer_id, afternoon), dry_run=True))
    assert [reason.rule for reason in held.reasons] == ["customer.frequency_limit"]
    record_outcome(engine, morning.check_id, "failed", ACTOR, NOW)
    assert decide(gate, call(customer_id, afternoon)).decision == "allow"
    # With the unanswered morning call, the third and the fourth, a day apart each.
    for day, hour in ((14, 11), (15, 12)):
        answer = decide(gate, call(customer_id, paris(date(2026, 12, day), hour)))
        assert answer.decision == "allow", answer.reasons
    fifth = decide(gate, call(customer_id, paris(date(2026, 12, 16), 15)))
    assert [reason.rule for reason in fifth.reasons] == ["fr.d223_9.calls_per_30_days"]
