"""Quiet hours in the customer's local time, across DST changes."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from consent.preferences import QuietHours
from policy.local_days import local_instant


def _quiet_until(window: QuietHours, local: datetime) -> datetime | None:
    """If ``local`` falls in the window, the local instant it ends; else None."""
    clock, day = local.time().replace(tzinfo=None), local.weekday()
    today = local.date()
    if window.start < window.end:
        if day in window.days and window.start <= clock < window.end:
            return datetime.combine(today, window.end, tzinfo=local.tzinfo)
        return None
    # Crosses midnight: it starts on a listed day and ends the next morning.
    if day in window.days and clock >= window.start:
        return datetime.combine(today + timedelta(days=1), window.end, tzinfo=local.tzinfo)
    if (day - 1) % 7 in window.days and clock < window.end:
        return datetime.combine(today, window.end, tzinfo=local.tzinfo)
    return None


def quiet_until(
    windows: Iterable[QuietHours], zones: Iterable[str], at: datetime
) -> datetime | None:
    """The UTC instant the quiet period covering ``at`` ends, in whichever zone is latest.

    Where the customer's zone is uncertain (a number spanning zones) every candidate zone is
    honoured: the contact waits until it is outside quiet hours in all of them.
    """
    ends: list[datetime] = []
    for zone in zones:
        local = at.astimezone(ZoneInfo(zone))
        for window in windows:
            end = _quiet_until(window, local)
            if end is not None:
                ends.append(end.astimezone(UTC))
    return max(ends) if ends else None


def next_quiet_start(
    windows: Iterable[QuietHours], zones: Iterable[str], after: datetime, until: datetime
) -> datetime | None:
    """The first UTC instant after ``after``, up to ``until``, at which a window starts in
    any of the zones; None if none does. An allow holds no longer than that.

    A start the clock skips or repeats (a DST change) is read at its earlier reading, so
    the answer is never late: a start at 02:30 on a spring-forward night ends the allow at
    01:30 local time, half an hour before the window really begins (03:00).
    """
    windows = tuple(windows)
    if not windows:
        return None
    starts: list[datetime] = []
    for zone in zones:
        tz = ZoneInfo(zone)
        day, last = after.astimezone(tz).date(), until.astimezone(tz).date()
        while day <= last:
            for window in windows:
                if day.weekday() in window.days:
                    start = local_instant(day, window.start, zone)
                    if after < start <= until:
                        starts.append(start)
            day += timedelta(days=1)
    return min(starts) if starts else None
