"""State calling hours closed on Sundays and legal holidays (us_states.toml): Utah 8-21
and never on a Sunday or legal holiday (Utah Code 13-25a-103(3)); Rhode Island 9-18 on
weekdays, 10-17 on Saturdays, never on a Sunday or a state or federal holiday (R.I. Gen.
Laws 5-61-3.6, 5-61-2); Louisiana 8-20, Monday to Saturday, never on a state holiday
(La. R.S. 45:811, 1:55); Alabama 8-20, never on a Sunday or a holiday (Ala. Admin. Code
r. 770-X-5-.17). And the states whose hours are only narrower: Washington and
Massachusetts 8-20, Connecticut 9-20.

Each edge one second before and at, in the called party's local time; each holiday from
its local midnight; each rule at its effective date.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from policy.engine import PolicyEngine
from policy.facts import Facts
from policy.kinds.hours import LocalHoursParams
from policy.vocabulary import Channel, Purpose
from tests.policy.factories import make_facts, reason_of, rule_ids

UTAH = "us_ut.calling_hours"
RHODE_ISLAND = "us_ri.calling_hours"
LOUISIANA = "us_la.calling_hours"
ALABAMA = "us_al.calling_hours"
WASHINGTON = "us_wa.calling_hours"
MASSACHUSETTS = "us_ma.calling_hours"
CONNECTICUT = "us_ct.calling_hours"
OREGON = "us_or.calling_hours"
FEDERAL = "tcpa.calling_hours"
SECOND = timedelta(seconds=1)
ZONES = {
    "US-UT": "America/Denver",
    "US-RI": "America/New_York",
    "US-LA": "America/Chicago",
    "US-AL": "America/Chicago",
    "US-WA": "America/Los_Angeles",
    "US-MA": "America/New_York",
    "US-CT": "America/New_York",
    "US-OR": "America/Los_Angeles",
}
WEDNESDAY = date(2026, 12, 2)
SATURDAY = date(2026, 12, 5)
SUNDAY = date(2026, 12, 6)


def local(state: str, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(ZONES[state]))


def call(state: str, at: datetime, **facts: object) -> Facts:
    """A manual marketing call (only the hours in question) to a customer in ``state``."""
    fields: dict[str, object] = {
        "jurisdictions": {state},
        "channel": Channel.PHONE,
        "send_at": at.astimezone(UTC),
        "time_zones": (ZONES[state],),
        "automated": False,
    }
    fields.update(facts)
    return make_facts(**fields)


# Utah: the federal hours, and no call on a Sunday or a legal holiday


def test_pioneer_day_closes_utah_from_midnight_to_midnight(policy: PolicyEngine) -> None:
    pioneer_day = date(2026, 7, 24)  # a Friday
    before, after = pioneer_day - timedelta(days=1), pioneer_day + timedelta(days=1)
    assert rule_ids(policy, call("US-UT", local("US-UT", before, 20, 59))) == []
    for hour in (8, 12, 20):
        reason = reason_of(policy, call("US-UT", local("US-UT", pioneer_day, hour)), UTAH)
        assert reason.earliest_allowed_at == local("US-UT", after, 8)
    assert rule_ids(policy, call("US-UT", local("US-UT", after, 8) - SECOND)) == [FEDERAL, UTAH]
    assert rule_ids(policy, call("US-UT", local("US-UT", after, 8))) == []


def test_the_reason_names_the_holiday(policy: PolicyEngine) -> None:
    reason = reason_of(policy, call("US-UT", local("US-UT", date(2026, 7, 24), 12)), UTAH)
    assert (
        "It is Friday 12:00 in America/Denver, Pioneer Day, a legal holiday in US-UT: no hours "
        "that day; allowed from 2026-07-25T14:00:00+00:00" in reason.message
    )
    assert reason.citation == "Utah Code 13-25a-103(3)"


def test_a_holiday_weekend_in_utah_waits_for_monday(policy: PolicyEngine) -> None:
    # 4 July 2026 is a Saturday: observed on Friday the 3rd, then a Sunday.
    monday = local("US-UT", date(2026, 7, 6), 8)
    for at in (local("US-UT", date(2026, 7, 2), 21), local("US-UT", date(2026, 7, 3), 10)):
        assert reason_of(policy, call("US-UT", at), UTAH).earliest_allowed_at == monday
    assert rule_ids(policy, call("US-UT", local("US-UT", date(2026, 7, 5), 12))) == [UTAH]
    assert rule_ids(policy, call("US-UT", monday)) == []


def test_a_utah_allow_on_the_eve_of_a_holiday_holds_until_9_pm(policy: PolicyEngine) -> None:
    at = local("US-UT", date(2026, 7, 23), 12)
    horizon = at + timedelta(days=3)
    assert policy.holds_until(call("US-UT", at), horizon) == local("US-UT", date(2026, 7, 23), 21)


# Rhode Island: 9-18 on weekdays, 10-17 on Saturdays, never on a Sunday or a holiday


@pytest.mark.parametrize(
    ("day", "opens", "closes"),
    [(WEDNESDAY, 9, 18), (SATURDAY, 10, 17)],
    ids=["weekday", "saturday"],
)
def test_rhode_island_hours(policy: PolicyEngine, day: date, opens: int, closes: int) -> None:
    start, end = local("US-RI", day, opens), local("US-RI", day, closes)
    assert rule_ids(policy, call("US-RI", start - SECOND)) == [RHODE_ISLAND]
    assert rule_ids(policy, call("US-RI", start)) == []
    assert rule_ids(policy, call("US-RI", end - SECOND)) == []
    assert rule_ids(policy, call("US-RI", end)) == [RHODE_ISLAND]


def test_a_friday_evening_call_in_rhode_island_waits_for_saturday_at_10(
    policy: PolicyEngine,
) -> None:
    friday_evening = local("US-RI", SATURDAY - timedelta(days=1), 18)
    reason = reason_of(policy, call("US-RI", friday_evening), RHODE_ISLAND)
    assert reason.earliest_allowed_at == local("US-RI", SATURDAY, 10)


def test_no_call_in_rhode_island_on_a_sunday(policy: PolicyEngine) -> None:
    reason = reason_of(policy, call("US-RI", local("US-RI", SUNDAY, 12)), RHODE_ISLAND)
    assert reason.earliest_allowed_at == local("US-RI", SUNDAY + timedelta(days=1), 9)


def test_victory_day_closes_rhode_island(policy: PolicyEngine) -> None:
    victory_day = date(2026, 8, 10)  # the second Monday of August: Rhode Island's own
    reason = reason_of(policy, call("US-RI", local("US-RI", victory_day, 12)), RHODE_ISLAND)
    assert "Victory Day, a legal holiday in US-RI" in reason.message
    assert reason.earliest_allowed_at == local("US-RI", victory_day + timedelta(days=1), 9)
    # Not a holiday elsewhere: Massachusetts, next door, calls that day.
    assert rule_ids(policy, call("US-MA", local("US-MA", victory_day, 12))) == []


def test_a_saturday_holiday_closes_rhode_island_too(policy: PolicyEngine) -> None:
    # The definition names holidays for weekdays only; the gate takes the stricter reading.
    assert rule_ids(policy, call("US-RI", local("US-RI", date(2026, 7, 4), 12))) == [RHODE_ISLAND]


# Louisiana and Alabama: 8-20, never on a Sunday or a state holiday


@pytest.mark.parametrize(
    ("state", "rule", "holiday", "name"),
    [
        ("US-LA", LOUISIANA, date(2026, 2, 17), "Mardi Gras"),
        ("US-LA", LOUISIANA, date(2026, 4, 3), "Good Friday"),
        # A date the package's calendar lacks.
        ("US-LA", LOUISIANA, date(2027, 1, 8), "Battle of New Orleans"),
        ("US-LA", LOUISIANA, date(2027, 11, 1), "All Saints' Day"),
        ("US-AL", ALABAMA, date(2027, 4, 26), "Confederate Memorial Day"),
        ("US-AL", ALABAMA, date(2027, 6, 7), "Jefferson Davis Birthday"),
    ],
)
def test_state_holidays(
    policy: PolicyEngine, state: str, rule: str, holiday: date, name: str
) -> None:
    reason = reason_of(policy, call(state, local(state, holiday, 12)), rule)
    assert f"{name}, a legal holiday in {state}" in reason.message
    assert reason.earliest_allowed_at == local(state, holiday + timedelta(days=1), 8)
    assert rule_ids(policy, call(state, local(state, holiday, 0) - SECOND)) == [FEDERAL, rule]
    assert rule_ids(policy, call(state, local(state, holiday + timedelta(days=1), 12))) == []


@pytest.mark.parametrize(("state", "rule"), [("US-LA", LOUISIANA), ("US-AL", ALABAMA)])
def test_8_to_8_and_never_on_a_sunday(policy: PolicyEngine, state: str, rule: str) -> None:
    monday_at_8 = local(state, SUNDAY + timedelta(days=1), 8)
    assert rule_ids(policy, call(state, local(state, SATURDAY, 8))) == []
    assert rule_ids(policy, call(state, local(state, SATURDAY, 20) - SECOND)) == []
    assert rule_ids(policy, call(state, local(state, SATURDAY, 20))) == [rule]
    for at in (local(state, SATURDAY, 20), local(state, SUNDAY, 12)):
        assert reason_of(policy, call(state, at), rule).earliest_allowed_at == monday_at_8


# Washington, Massachusetts, Connecticut, Oregon: narrower hours every day


@pytest.mark.parametrize(
    ("state", "rule", "opens", "closes"),
    [
        ("US-WA", WASHINGTON, 8, 20),
        ("US-MA", MASSACHUSETTS, 8, 20),
        ("US-CT", CONNECTICUT, 9, 20),
        ("US-OR", OREGON, 8, 20),
    ],
)
def test_narrower_state_hours(
    policy: PolicyEngine, state: str, rule: str, opens: int, closes: int
) -> None:
    for day in (WEDNESDAY, SUNDAY):
        start, end = local(state, day, opens), local(state, day, closes)
        assert rule in rule_ids(policy, call(state, start - SECOND))
        assert rule_ids(policy, call(state, start)) == []
        assert rule_ids(policy, call(state, end - SECOND)) == []
        assert rule_ids(policy, call(state, end)) == [rule]
        assert reason_of(policy, call(state, end), rule).earliest_allowed_at == local(
            state, day + timedelta(days=1), opens
        )


# Scope and effective dates


@pytest.mark.parametrize("state", ["US-UT", "US-RI", "US-LA", "US-AL"])
def test_texts_are_judged_but_not_email_or_service_calls(policy: PolicyEngine, state: str) -> None:
    rule = {"US-UT": UTAH, "US-RI": RHODE_ISLAND, "US-LA": LOUISIANA, "US-AL": ALABAMA}[state]
    at = local(state, SUNDAY, 12)
    assert rule in rule_ids(policy, call(state, at, channel=Channel.SMS))
    assert rule_ids(policy, call(state, at, channel=Channel.EMAIL)) == []
    assert rule_ids(policy, call(state, at, purpose=Purpose.SERVICE)) == []


@pytest.mark.parametrize(
    ("state", "rule", "before", "first", "hour"),
    [
        ("US-UT", UTAH, date(2004, 5, 2), date(2004, 5, 9), 12),  # Sundays
        ("US-RI", RHODE_ISLAND, date(1998, 12, 30), date(1999, 1, 6), 8),  # Wednesdays
        ("US-LA", LOUISIANA, date(1990, 12, 30), date(1991, 1, 6), 12),  # Sundays
        ("US-WA", WASHINGTON, date(2022, 6, 8), date(2022, 6, 9), 20),
        ("US-MA", MASSACHUSETTS, date(2002, 12, 31), date(2003, 1, 1), 20),
        ("US-CT", CONNECTICUT, date(2023, 9, 30), date(2023, 10, 1), 8),
        ("US-AL", ALABAMA, date(2024, 11, 26), date(2024, 11, 27), 20),
        ("US-OR", OREGON, date(2025, 12, 31), date(2026, 1, 1), 20),
    ],
)
def test_each_state_rule_applies_from_its_effective_date(
    policy: PolicyEngine, state: str, rule: str, before: date, first: date, hour: int
) -> None:
    assert rule not in rule_ids(policy, call(state, local(state, before, hour, 30)))
    assert rule in rule_ids(policy, call(state, local(state, first, hour, 30)))


# The params: a holiday calendar the package knows, and well-formed added dates


def test_a_closing_calendar_must_be_the_places_own() -> None:
    with pytest.raises(ValidationError, match="no holiday calendar for 'US-XX'"):
        LocalHoursParams.model_validate(
            {"start": "08:00", "end": "20:00", "closed_on_holidays_of": "US-XX"}
        )


@pytest.mark.parametrize(
    ("added", "problem"),
    [({"02-30": "x"}, "out of range"), ({"1-8": "x"}, "pattern"), ({"13-01": "x"}, "pattern")],
)
def test_added_holidays_are_checked_when_the_pack_loads(
    added: dict[str, str], problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem):
        LocalHoursParams.model_validate(
            {
                "start": "08:00",
                "end": "20:00",
                "closed_on_holidays_of": "US-LA",
                "also_closed_on": added,
            }
        )
    with pytest.raises(ValidationError, match="closed_on_holidays_of, which is missing"):
        LocalHoursParams.model_validate(
            {"start": "08:00", "end": "20:00", "also_closed_on": {"01-08": "x"}}
        )
