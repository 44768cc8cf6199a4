"""France's calling hours and its four calls in 30 days through the gate, on both stores:
the counted calls are the customer's recorded checks, and a deny by the cap says when a
call is next allowed, on a day and at an hour the decree allows (C. consom. D. 223-9)."""

import uuid
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from consent.gate import CheckCommand, Gate
from policy.vocabulary import Channel, Purpose, Source
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


def test_a_fifth_call_in_30_days_waits_for_a_weekday_in_hours(
    gate: Gate, customers: CustomerFactory
) -> None:
    phone = f"+3314567{uuid.uuid4().int % 10_000:04d}"
    customer_id = customers.create(("FR",), time_zone="Europe/Paris", email=None, phone=phone)
    customers.opted_in_marketing(customer_id, channel="phone")
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
