"""State calling hours that depend on the day (us_states.toml): Texas 9-21, on Sundays
12-21 (Tex. Bus. & Com. Code 301.051); Mississippi 8-20 and never on a Sunday (Miss. Code
Ann. 77-3-723(1)).

Each edge one second before, at and after, in the called party's local time; the two
Sundays of 2026 on which clocks change; each rule at its effective date. 2026-12-06 is a
Sunday.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from policy.engine import PolicyEngine
from policy.facts import Facts
from policy.kinds.hours import LocalHoursParams
from policy.vocabulary import Channel, Purpose
from tests.policy.factories import make_facts

TEXAS = "us_tx.calling_hours"
MISSISSIPPI = "us_ms.calling_hours"
FEDERAL = "tcpa.calling_hours"
SECOND = timedelta(seconds=1)
CHICAGO = "America/Chicago"
DENVER = "America/Denver"  # El Paso keeps Mountain time
SUNDAY = date(2026, 12, 6)
SATURDAY = SUNDAY - timedelta(days=1)
MONDAY = SUNDAY + timedelta(days=1)
WEDNESDAY = SUNDAY - timedelta(days=4)


def local(day: date, hour: int, minute: int = 0, zone: str = CHICAGO) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone))


def call(state: str, at: datetime, **facts: object) -> Facts:
    """A manual marketing call (only the hours in question) to a customer in ``state``."""
    fields: dict[str, object] = {
        "jurisdictions": {state},
        "channel": Channel.PHONE,
        "send_at": at.astimezone(UTC),
        "time_zones": (CHICAGO,),
        "automated": False,
    }
    fields.update(facts)
    return make_facts(**fields)


def rule_ids(policy: PolicyEngine, facts: Facts) -> list[str]:
    return [reason.rule for reason in policy.evaluate(facts)]


def earliest(policy: PolicyEngine, facts: Facts, rule: str) -> datetime | None:
    (reason,) = [reason for reason in policy.evaluate(facts) if reason.rule == rule]
    return reason.earliest_allowed_at


# Texas: 9 a.m. to 9 p.m., on Sundays from noon


@pytest.mark.parametrize("day", [WEDNESDAY, SATURDAY], ids=["weekday", "saturday"])
def test_texas_calls_from_9_am_up_to_9_pm(policy: PolicyEngine, day: date) -> None:
    opens, closes = local(day, 9), local(day, 21)
    # Before 9 only Texas stands in the way: the federal window opens at 8.
    assert rule_ids(policy, call("US-TX", opens - SECOND)) == [TEXAS]
    assert earliest(policy, call("US-TX", opens - SECOND), TEXAS) == opens
    assert rule_ids(policy, call("US-TX", opens)) == []
    assert rule_ids(policy, call("US-TX", closes - SECOND)) == []
    assert rule_ids(policy, call("US-TX", closes)) == [FEDERAL, TEXAS]


@pytest.mark.parametrize(
    "sunday",
    [SUNDAY, date(2026, 3, 8), date(2026, 11, 1)],
    ids=["december", "spring DST change", "autumn DST change"],
)
def test_texas_calls_on_sunday_from_noon(policy: PolicyEngine, sunday: date) -> None:
    noon = local(sunday, 12)
    assert rule_ids(policy, call("US-TX", noon - SECOND)) == [TEXAS]
    assert earliest(policy, call("US-TX", local(sunday, 9)), TEXAS) == noon
    assert rule_ids(policy, call("US-TX", noon)) == []
    assert rule_ids(policy, call("US-TX", local(sunday, 21) - SECOND)) == []
    assert rule_ids(policy, call("US-TX", local(sunday, 21))) == [FEDERAL, TEXAS]


def test_a_saturday_night_call_in_texas_waits_for_sunday_noon(policy: PolicyEngine) -> None:
    (reason,) = [r for r in policy.evaluate(call("US-TX", local(SATURDAY, 22))) if r.rule == TEXAS]
    assert reason.earliest_allowed_at == local(SUNDAY, 12)
    assert "It is Saturday 22:00 in America/Chicago, outside 09:00-21:00" in reason.message
    assert reason.citation == "Tex. Bus. & Com. Code 301.051"


def test_a_texas_number_that_may_ring_in_el_paso_waits_for_noon_there(
    policy: PolicyEngine,
) -> None:
    both = {"time_zones": (CHICAGO, DENVER)}
    noon_in_el_paso = local(SUNDAY, 12, zone=DENVER)  # 13:00 in Dallas
    assert earliest(policy, call("US-TX", local(SUNDAY, 12), **both), TEXAS) == noon_in_el_paso
    assert rule_ids(policy, call("US-TX", noon_in_el_paso - SECOND, **both)) == [TEXAS]
    assert rule_ids(policy, call("US-TX", noon_in_el_paso, **both)) == []


def test_a_texas_allow_holds_until_9_pm(policy: PolicyEngine) -> None:
    horizon = local(SUNDAY, 12) + timedelta(days=2)
    assert policy.holds_until(call("US-TX", local(SUNDAY, 13)), horizon) == local(SUNDAY, 21)


# Mississippi: 8 a.m. to 8 p.m., never on a Sunday


def test_mississippi_calls_from_8_am_up_to_8_pm_on_saturday(policy: PolicyEngine) -> None:
    opens, closes = local(SATURDAY, 8), local(SATURDAY, 20)
    assert rule_ids(policy, call("US-MS", opens - SECOND)) == [FEDERAL, MISSISSIPPI]
    assert rule_ids(policy, call("US-MS", opens)) == []
    assert rule_ids(policy, call("US-MS", closes - SECOND)) == []
    assert rule_ids(policy, call("US-MS", closes)) == [MISSISSIPPI]


@pytest.mark.parametrize(
    "at",
    [local(SUNDAY, 0), local(SUNDAY, 8), local(SUNDAY, 12), local(SUNDAY, 19, 59)],
    ids=["midnight", "8 am", "noon", "19:59"],
)
def test_no_call_in_mississippi_on_a_sunday(policy: PolicyEngine, at: datetime) -> None:
    (reason,) = [r for r in policy.evaluate(call("US-MS", at)) if r.rule == MISSISSIPPI]
    assert reason.earliest_allowed_at == local(MONDAY, 8)
    assert f"It is Sunday {at:%H:%M} in America/Chicago, no hours that day" in reason.message


def test_sunday_in_mississippi_ends_at_local_midnight(policy: PolicyEngine) -> None:
    assert rule_ids(policy, call("US-MS", local(MONDAY, 0) - SECOND)) == [FEDERAL, MISSISSIPPI]
    # Monday has hours again: only the clock (both windows open at 8) stands in the way.
    assert earliest(policy, call("US-MS", local(MONDAY, 0)), MISSISSIPPI) == local(MONDAY, 8)
    assert rule_ids(policy, call("US-MS", local(MONDAY, 8))) == []


def test_a_saturday_evening_call_in_mississippi_waits_for_monday(policy: PolicyEngine) -> None:
    assert earliest(policy, call("US-MS", local(SATURDAY, 20)), MISSISSIPPI) == local(MONDAY, 8)


def test_a_mississippi_allow_holds_until_8_pm(policy: PolicyEngine) -> None:
    horizon = local(SATURDAY, 12) + timedelta(days=3)
    at = local(SATURDAY, 12)
    assert policy.holds_until(call("US-MS", at), horizon) == local(SATURDAY, 20)


@pytest.mark.parametrize("state", ["US-TX", "US-MS"])
def test_texts_are_judged_but_not_email_or_service_calls(policy: PolicyEngine, state: str) -> None:
    rule = {"US-TX": TEXAS, "US-MS": MISSISSIPPI}[state]
    at = local(SUNDAY, 11)
    assert rule in rule_ids(policy, call(state, at, channel=Channel.SMS))
    assert rule_ids(policy, call(state, at, channel=Channel.EMAIL)) == []
    assert rule_ids(policy, call(state, at, purpose=Purpose.SERVICE)) == []


@pytest.mark.parametrize(
    ("state", "rule", "sunday_before", "first_sunday"),
    [
        ("US-TX", TEXAS, date(2009, 3, 29), date(2009, 4, 5)),
        ("US-MS", MISSISSIPPI, date(2003, 6, 29), date(2003, 7, 6)),
    ],
)
def test_each_state_rule_applies_from_its_effective_date(
    policy: PolicyEngine, state: str, rule: str, sunday_before: date, first_sunday: date
) -> None:
    assert rule_ids(policy, call(state, local(sunday_before, 10))) == []
    assert rule_ids(policy, call(state, local(first_sunday, 10))) == [rule]


# The params: a day may be closed, but not every day


def test_a_closed_day_is_an_empty_window() -> None:
    params = LocalHoursParams.model_validate(
        {"start": "08:00", "end": "20:00", "on_days": {"sunday": []}}
    )
    assert params.window(SUNDAY) is None
    assert params.window(MONDAY) == (local(MONDAY, 8).time(), local(MONDAY, 20).time())


def test_hours_that_never_open_are_refused() -> None:
    week = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    with pytest.raises(ValidationError, match="every day is closed"):
        LocalHoursParams.model_validate(
            {"start": "08:00", "end": "20:00", "on_days": {day: [] for day in week}}
        )
    with pytest.raises(ValidationError, match="sunday"):
        LocalHoursParams.model_validate(
            {"start": "08:00", "end": "20:00", "on_days": {"sunday": ["08:00"]}}
        )
