"""Rolling frequency windows at their edges."""

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from consent.frequency import exceeds, next_free_slot
from consent.preferences import Limit
from policy.periods import Period

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
ONE_SECOND = timedelta(seconds=1)
ONE_PER_DAY = Limit(1, Period.parse("P1D"))
TWO_PER_WEEK = Limit(2, Period.parse("P7D"))


def test_second_contact_one_second_before_the_window_ends_is_over_the_limit() -> None:
    assert exceeds(ONE_PER_DAY, [T0], T0 + timedelta(days=1) - ONE_SECOND)


def test_contact_exactly_one_period_later_fits() -> None:
    assert not exceeds(ONE_PER_DAY, [T0], T0 + timedelta(days=1))


def test_no_earlier_contacts_fits() -> None:
    assert not exceeds(ONE_PER_DAY, [], T0)


def test_scheduled_later_contact_counts_in_the_same_window() -> None:
    assert exceeds(ONE_PER_DAY, [T0 + timedelta(hours=5)], T0)
    assert not exceeds(ONE_PER_DAY, [T0 + timedelta(days=1)], T0)


def test_two_per_week_counts_both_sides_of_a_window() -> None:
    existing = [T0 - timedelta(days=3), T0 + timedelta(days=3)]
    assert exceeds(TWO_PER_WEEK, existing, T0)
    assert not exceeds(TWO_PER_WEEK, [T0 - timedelta(days=8), T0 + timedelta(days=8)], T0)


def test_next_free_slot_is_when_the_oldest_contact_leaves_the_window() -> None:
    existing = [T0 - timedelta(days=5), T0 - timedelta(days=1)]
    assert next_free_slot(TWO_PER_WEEK, existing, T0) == T0 + timedelta(days=2)


def test_calendar_month_window_follows_the_calendar() -> None:
    per_month = Limit(1, Period.parse("P1M"))
    jan_31 = datetime(2026, 1, 31, 12, tzinfo=UTC)
    feb_28 = datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert exceeds(per_month, [jan_31], feb_28 - ONE_SECOND)
    assert not exceeds(per_month, [jan_31], feb_28)


def _brute_force_busiest(limit: Limit, existing: list[datetime], at: datetime) -> int:
    """Every window [a, a + P) holding ``at`` whose start is a contact or ``at`` itself."""
    starts = [x for x in [*existing, at] if x <= at < limit.period.add_to(x)]
    return max(sum(1 for x in existing if s <= x < limit.period.add_to(s)) for s in starts)


@pytest.mark.parametrize("seed", range(20))
def test_window_count_agrees_with_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    limit = Limit(rng.randint(1, 4), Period.parse(rng.choice(["PT6H", "P1D", "P7D", "P1M"])))
    existing = [
        T0 + timedelta(hours=rng.randint(-24 * 40, 24 * 40)) for _ in range(rng.randint(0, 30))
    ]
    at = T0 + timedelta(hours=rng.randint(-48, 48))
    expected = _brute_force_busiest(limit, existing, at) >= limit.count
    assert exceeds(limit, existing, at) is expected


def test_a_day_is_24_hours_across_the_autumn_clock_change_in_local_times() -> None:
    """Times in the customer's zone: Madrid leaves summer time on 25 October 2026, so 12:00
    CEST on the 24th and 11:00 CET on the 25th are exactly 24 hours apart (10:00 UTC)."""
    madrid = ZoneInfo("Europe/Madrid")
    sent = datetime(2026, 10, 24, 12, 0, tzinfo=madrid)
    assert exceeds(ONE_PER_DAY, [sent], datetime(2026, 10, 25, 10, 59, 59, tzinfo=madrid))
    assert not exceeds(ONE_PER_DAY, [sent], datetime(2026, 10, 25, 11, 0, tzinfo=madrid))
