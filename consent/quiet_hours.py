"""Quiet hours in the customer's local time, across DST changes."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from consent.preferences import QuietHours


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
