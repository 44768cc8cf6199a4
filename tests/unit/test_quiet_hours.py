"""Quiet hours at their edges, in the customer's local time, across DST changes."""

from datetime import UTC, datetime, time, timedelta

from consent.preferences import QuietHours
from consent.quiet_hours import next_quiet_start, quiet_until

SAT = 5
MADRID = ("Europe/Madrid",)
# No calls on Saturday 09:00-14:00 Madrid time (the example).
SATURDAY_MORNING = QuietHours(days=frozenset({SAT}), start=time(9), end=time(14))
ONE_SECOND = timedelta(seconds=1)


def madrid(*args: int) -> datetime:
    """A Madrid wall-clock time in November (CET, UTC+1) as a UTC instant."""
    return datetime(*args, tzinfo=UTC) - timedelta(hours=1)


def test_one_second_before_quiet_hours_start_is_not_quiet() -> None:
    assert quiet_until([SATURDAY_MORNING], MADRID, madrid(2026, 11, 28, 9) - ONE_SECOND) is None


def test_quiet_hours_start_is_quiet_and_ends_at_local_end() -> None:
    assert quiet_until([SATURDAY_MORNING], MADRID, madrid(2026, 11, 28, 9)) == madrid(
        2026, 11, 28, 14
    )


def test_one_second_before_quiet_hours_end_is_quiet() -> None:
    at = madrid(2026, 11, 28, 14) - ONE_SECOND
    assert quiet_until([SATURDAY_MORNING], MADRID, at) == madrid(2026, 11, 28, 14)


def test_quiet_hours_end_is_not_quiet() -> None:
    assert quiet_until([SATURDAY_MORNING], MADRID, madrid(2026, 11, 28, 14)) is None


def test_other_weekdays_are_not_quiet() -> None:
    assert quiet_until([SATURDAY_MORNING], MADRID, madrid(2026, 11, 27, 10)) is None


def test_overnight_window_covers_the_next_morning() -> None:
    fri_night = QuietHours(days=frozenset({4}), start=time(21), end=time(8))
    saturday_early = madrid(2026, 11, 28, 7, 59, 59)
    assert quiet_until([fri_night], MADRID, saturday_early) == madrid(2026, 11, 28, 8)
    assert quiet_until([fri_night], MADRID, madrid(2026, 11, 28, 8)) is None
    assert quiet_until([fri_night], MADRID, madrid(2026, 11, 27, 21)) == madrid(2026, 11, 28, 8)


def test_quiet_hours_follow_local_time_across_spring_dst_change() -> None:
    # Sunday 2026-03-29 Madrid moves from UTC+1 to UTC+2 at 02:00 local.
    sunday_morning = QuietHours(days=frozenset({6}), start=time(9), end=time(14))
    nine_local_summer = datetime(2026, 3, 29, 7, tzinfo=UTC)  # 09:00 CEST
    assert quiet_until([sunday_morning], MADRID, nine_local_summer - ONE_SECOND) is None
    assert quiet_until([sunday_morning], MADRID, nine_local_summer) == datetime(
        2026, 3, 29, 12, tzinfo=UTC
    )


def test_quiet_hours_follow_local_time_across_autumn_dst_change() -> None:
    # Sunday 2026-10-25 Madrid moves back from UTC+2 to UTC+1 at 03:00 local.
    sunday_morning = QuietHours(days=frozenset({6}), start=time(9), end=time(14))
    nine_local_winter = datetime(2026, 10, 25, 8, tzinfo=UTC)  # 09:00 CET
    assert quiet_until([sunday_morning], MADRID, nine_local_winter - ONE_SECOND) is None
    assert quiet_until([sunday_morning], MADRID, nine_local_winter) == datetime(
        2026, 10, 25, 13, tzinfo=UTC
    )


def test_every_possible_zone_is_honoured_when_the_zone_is_uncertain() -> None:
    evening = QuietHours(days=frozenset(range(7)), start=time(20), end=time(23))
    zones = ("America/New_York", "America/Chicago")
    # 20:30 in New York is 19:30 in Chicago: quiet in one zone is quiet.
    at = datetime(2026, 11, 26, 1, 30, tzinfo=UTC)
    assert quiet_until([evening], zones, at) == datetime(2026, 11, 26, 4, tzinfo=UTC)
    # Quiet in both: it ends when the later (Chicago) window ends.
    later = datetime(2026, 11, 26, 3, 30, tzinfo=UTC)
    assert quiet_until([evening], zones, later) == datetime(2026, 11, 26, 5, tzinfo=UTC)


# How long an allow holds: the next start of a window (consent/decide.py allow_holds_until).
SUN = 6
SUNDAY_SMALL_HOURS = QuietHours(days=frozenset({SUN}), start=time(2, 30), end=time(6))


def test_the_next_start_is_the_window_s_local_start_and_within_the_limit() -> None:
    friday_noon = madrid(2026, 11, 27, 12)
    saturday_nine = madrid(2026, 11, 28, 9)
    assert next_quiet_start([SATURDAY_MORNING], MADRID, friday_noon, saturday_nine) == saturday_nine
    assert (
        next_quiet_start([SATURDAY_MORNING], MADRID, friday_noon, saturday_nine - ONE_SECOND)
        is None
    )
    assert next_quiet_start([], MADRID, friday_noon, saturday_nine) is None


def test_a_start_at_the_very_instant_asked_about_is_not_next() -> None:
    saturday_nine = madrid(2026, 11, 28, 9)
    week_later = saturday_nine + timedelta(days=7)
    assert next_quiet_start([SATURDAY_MORNING], MADRID, saturday_nine, week_later) == week_later


def test_a_start_the_clock_skips_is_read_early_never_late() -> None:
    """28 March 2027, Madrid: 02:00 CET jumps to 03:00 CEST; 02:30 never happens."""
    saturday_noon = datetime(2027, 3, 27, 11, tzinfo=UTC)
    found = next_quiet_start(
        [SUNDAY_SMALL_HOURS], MADRID, saturday_noon, saturday_noon + timedelta(days=1)
    )
    assert found == datetime(2027, 3, 28, 0, 30, tzinfo=UTC)  # 01:30 CET, before 03:00 CEST


def test_a_start_the_clock_repeats_is_its_first_reading() -> None:
    """31 October 2027, Madrid: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice."""
    saturday_noon = datetime(2027, 10, 30, 10, tzinfo=UTC)
    found = next_quiet_start(
        [SUNDAY_SMALL_HOURS], MADRID, saturday_noon, saturday_noon + timedelta(days=1)
    )
    assert found == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 02:30 CEST, the first
