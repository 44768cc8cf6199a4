"""France's rules on telephone prospecting (france.toml, C. consom. art. D. 223-9): Monday to
Friday, 10:00-13:00 and 14:00-20:00 in the consumer's time zone, never on a public holiday;
at most four calls in 30 days.

Each edge one second before and at, in Paris time; rules from 1 March 2023.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from policy.engine import PolicyEngine
from policy.facts import Facts, PastContact
from policy.kinds.hours import LocalHoursParams
from policy.vocabulary import Channel, Purpose
from tests.policy.factories import granted, make_facts, reason_of

HOURS = "fr.d223_9.calling_hours"
CALLS = "fr.d223_9.calls_per_30_days"
PARIS = "Europe/Paris"
SECOND = timedelta(seconds=1)
WEDNESDAY = date(2026, 12, 2)
FRIDAY = date(2026, 12, 4)
MONDAY = date(2026, 12, 7)


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(PARIS))


def call(at: datetime, **facts: object) -> Facts:
    """A manual marketing call, on consent, to a consumer in France."""
    fields: dict[str, object] = {
        "jurisdictions": {"FR"},
        "channel": Channel.PHONE,
        "send_at": at.astimezone(UTC),
        "time_zones": (PARIS,),
        "automated": False,
        "consents": {Purpose.MARKETING: granted()},
    }
    fields.update(facts)
    return make_facts(**fields)


def french(policy: PolicyEngine, facts: Facts) -> list[str]:
    return [reason.rule for reason in policy.evaluate(facts) if reason.rule.startswith("fr.")]


def test_the_morning_and_afternoon_windows(policy: PolicyEngine) -> None:
    for opens, closes in ((10, 13), (14, 20)):
        start, end = paris(WEDNESDAY, opens), paris(WEDNESDAY, closes)
        assert french(policy, call(start - SECOND)) == [HOURS]
        assert french(policy, call(start)) == []
        assert french(policy, call(end - SECOND)) == []
        assert french(policy, call(end)) == [HOURS]


def test_a_call_in_the_lunch_break_waits_for_two_oclock(policy: PolicyEngine) -> None:
    reason = reason_of(policy, call(paris(WEDNESDAY, 13, 30)), HOURS)
    assert reason.earliest_allowed_at == paris(WEDNESDAY, 14)
    assert "It is Wednesday 13:30 in Europe/Paris, outside 10:00-13:00, 14:00-20:00" in (
        reason.message
    )


def test_an_allow_in_the_morning_holds_until_one_oclock(policy: PolicyEngine) -> None:
    at = paris(WEDNESDAY, 11)
    assert policy.holds_until(call(at), at + timedelta(days=2)) == paris(WEDNESDAY, 13)


def test_no_call_at_the_weekend(policy: PolicyEngine) -> None:
    for at in (paris(FRIDAY, 20), paris(FRIDAY + timedelta(days=1), 11), paris(MONDAY, 0)):
        assert reason_of(policy, call(at), HOURS).earliest_allowed_at == paris(MONDAY, 10)


@pytest.mark.parametrize(
    ("holiday", "name", "opens"),
    [
        (date(2026, 4, 6), "Easter Monday", date(2026, 4, 7)),  # "Lundi de Pâques"
        (date(2026, 5, 14), "Ascension", date(2026, 5, 15)),
        (date(2026, 7, 14), "National Day", date(2026, 7, 15)),
        (date(2026, 12, 25), "Christmas", date(2026, 12, 28)),  # a Friday
    ],
)
def test_no_call_on_a_public_holiday(
    policy: PolicyEngine, holiday: date, name: str, opens: date
) -> None:
    reason = reason_of(policy, call(paris(holiday, 11)), HOURS)
    assert name in reason.message
    assert "a legal holiday in FR" in reason.message
    assert reason.earliest_allowed_at == paris(opens, 10)
    assert french(policy, call(paris(opens, 10))) == []


def test_texts_email_and_service_calls_are_not_judged(policy: PolicyEngine) -> None:
    at = paris(FRIDAY + timedelta(days=1), 11)  # a Saturday
    assert french(policy, call(at, channel=Channel.SMS)) == []
    assert french(policy, call(at, channel=Channel.EMAIL)) == []
    assert french(policy, call(at, purpose=Purpose.SERVICE)) == []


def test_the_rules_apply_from_1_march_2023(policy: PolicyEngine) -> None:
    assert french(policy, call(paris(date(2023, 2, 28), 9))) == []
    assert french(policy, call(paris(date(2023, 3, 1), 9))) == [HOURS]


# At most four calls in 30 days


def earlier_calls(at: datetime, days_ago: list[float], **contact: object) -> tuple:
    channel = contact.get("channel", Channel.PHONE)
    purpose = contact.get("purpose", Purpose.MARKETING)
    reserved = contact.get("reserved", True)
    return tuple(
        PastContact(channel, purpose, at - timedelta(days=ago), reserved) for ago in days_ago
    )


def test_a_fifth_call_in_30_days_is_denied_until_the_first_leaves_the_window(
    policy: PolicyEngine,
) -> None:
    at = paris(WEDNESDAY, 11)
    three = earlier_calls(at, [29, 10, 2])
    assert french(policy, call(at, recent_contacts=three)) == []
    four = earlier_calls(at, [29, 10, 2, 1])
    reason = reason_of(policy, call(at, recent_contacts=four), CALLS)
    assert reason.earliest_allowed_at == at - timedelta(days=29) + timedelta(days=30)
    old = earlier_calls(at, [30, 10, 2, 1])  # the first is 30 days ago: out of the window
    assert french(policy, call(at, recent_contacts=old)) == []


def test_calls_reported_failed_are_attempts_and_count(policy: PolicyEngine) -> None:
    """The decree counts attempts: a call reported ``failed`` (``reserved`` false, its slot
    given back to the customer's own limits) was still made."""
    at = paris(WEDNESDAY, 11)
    unanswered = earlier_calls(at, [29, 10], reserved=False) + earlier_calls(at, [2, 1])
    assert french(policy, call(at, recent_contacts=unanswered)) == [CALLS]


def test_texts_and_service_calls_do_not_count(policy: PolicyEngine) -> None:
    at = paris(WEDNESDAY, 11)
    texts = earlier_calls(at, [5, 4, 3, 2], channel=Channel.SMS)
    service = earlier_calls(at, [5, 4, 3, 2], purpose=Purpose.SERVICE)
    assert french(policy, call(at, recent_contacts=texts + service)) == []


def test_breaks_must_leave_some_hours() -> None:
    with pytest.raises(ValueError, match="every day is closed"):
        LocalHoursParams.model_validate(
            {"start": "10:00", "end": "20:00", "breaks": [["09:00", "21:00"]]}
        )
    with pytest.raises(ValueError, match="start must be before end"):
        LocalHoursParams.model_validate(
            {"start": "10:00", "end": "20:00", "breaks": [["14:00", "13:00"]]}
        )
