"""Business days: weekdays that are not public holidays where the customer is.

Deadlines such as "honour an opt-out within 10 business days" (47 CFR 64.1200(d)(3),
15 USC 7704(a)(4), CASL s.11(3)) count these. Holidays come from the ``holidays`` package,
by country and, where the code names one, subdivision (``US-FL`` adds Florida's days).
"""

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays

_SATURDAY = 5


def _own_calendar(code: str, year: int | None = None) -> holidays.HolidayBase | None:
    """The package's calendar of exactly this country or subdivision (filled for ``year``
    if given); None where it has none."""
    country, _, subdivision = code.partition("-")
    try:
        return holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    except NotImplementedError:  # the package raises it for unknown countries and subdivisions
        return None


@lru_cache(maxsize=1024)
def _year(code: str, year: int) -> dict[date, str] | None:
    """One year of the holiday calendar of an ISO 3166 code, built whole and kept as a
    plain dict: the package fills a calendar's years lazily on lookup, and a lookup racing
    that fill in another thread could miss a holiday. None where the package has none."""
    calendar = _own_calendar(code, year)
    if calendar is None:
        # A subdivision the package does not know still has its country's days.
        country, _, subdivision = code.partition("-")
        return _year(country, year) if subdivision else None
    return dict(calendar)


def has_own_calendar(code: str) -> bool:
    """Whether the package knows this exact country or subdivision (not its country's
    days only): a rule closed on a state's holidays must have that state's calendar."""
    return _own_calendar(code) is not None


def holiday_name(day: date, code: str) -> str | None:
    """The public holiday ``day`` is where ``code`` is (observed days included), if any."""
    calendar = _year(code, day.year)
    return None if calendar is None else calendar.get(day)


def is_business_day(day: date, code: str) -> bool:
    return day.weekday() < _SATURDAY and holiday_name(day, code) is None


def add_business_days(start: date, days: int, code: str) -> date:
    """The ``days``-th business day after ``start`` (the day of receipt does not count)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        counted += is_business_day(day, code)
    return day


def deadline(start: date, days: int, codes: Iterable[str]) -> date:
    """The earliest of the deadlines in each jurisdiction: where calendars differ, the
    stricter reading (fewer holidays, an earlier date) holds. Weekends only if none."""
    found = [add_business_days(start, days, code) for code in codes]
    return min(found) if found else add_business_days(start, days, "ZZ")
